"""The Kubernetes API client: a sans-I/O core with HTTP and in-process transports."""
