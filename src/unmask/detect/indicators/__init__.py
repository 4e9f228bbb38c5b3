"""Indicators: STIX 2 loading, the per-type index and the generic matching loop."""
