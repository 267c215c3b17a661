"""Visits, audit submissions, review and the staff each checklist item is attributed to."""
