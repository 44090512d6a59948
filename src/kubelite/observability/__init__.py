"""Observability: metrics and streaming anomaly detection."""
