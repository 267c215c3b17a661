"""AuditLens system of record: organisation, staff, rosters, cameras, accounts and evidence."""

__version__ = "0.1.0"
