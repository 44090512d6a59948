"""Simulation: fake nodes, a virtual clock, traces and chaos."""
