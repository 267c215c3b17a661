"""Corrective actions: what an outlet must fix after a failed audit item, until verified."""
