"""Heuristic rules, one per file (see base.py)."""
