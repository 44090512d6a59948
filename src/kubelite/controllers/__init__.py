"""Controllers: ReplicaSet, Deployment, garbage collection, namespaces, node lifecycle."""
