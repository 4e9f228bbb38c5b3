"""Maintenance scripts of the project (not installed with unmask)."""
