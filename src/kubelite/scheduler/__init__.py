"""The scheduler: the Kubernetes framework over a vectorised node table."""
