"""Parsers: one file per artefact (see base.py)."""
