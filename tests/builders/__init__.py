"""Builders of test evidence from the real device schemas in tests/schemas (no opaque blobs)."""
