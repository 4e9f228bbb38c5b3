"""Hostile evidence: inputs shaped by someone who knows unmask will examine them."""
