"""Checklist definitions, answer validation, scoring and import/export (the pure core)."""
