"""Parsers of iOS artefacts (backups and full-filesystem dumps share device paths)."""
