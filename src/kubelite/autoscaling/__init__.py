"""Autoscaling: the Kubernetes HPA algorithm and a predictive autoscaler."""
