"""unmask: find traces of mercenary spyware and stalkerware on phones, from the defenders' side."""

# A literal, read by hatchling for the package metadata: asking importlib.metadata at import
# time would cost every command a tenth of a second.
__version__ = "0.1.0"

__all__ = ["__version__"]
