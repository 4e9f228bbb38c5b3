"""Fuzzing that stays: named targets with seed corpora built in code, a time-bounded mutation
fuzzer (``python -m tests.fuzz.fuzz``) and the crashes it found, kept as regression cases."""
