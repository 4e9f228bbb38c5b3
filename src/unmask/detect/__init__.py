"""Detectors: consume records, emit findings."""
