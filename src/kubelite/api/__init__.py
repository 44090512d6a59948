"""Typed Kubernetes resource models, quantities, selectors, defaulting and validation. Pure data, no I/O."""
