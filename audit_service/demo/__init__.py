"""The demo: a seeded organisation and the processes ``make demo`` runs."""
