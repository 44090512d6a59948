"""The kubelite command line."""
