"""Trace replay: drive the autoscalers through a recorded load in virtual time and score them."""
