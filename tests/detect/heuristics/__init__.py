"""Tests of the heuristic rules."""
