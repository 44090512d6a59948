"""Predictive autoscaling: an online seasonal forecaster and the policy that scales ahead of it."""
