"""The Kubernetes-compatible API server: routes, admission, registry, watch cache."""
