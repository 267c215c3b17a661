"""Widgets several pages share: sidebar, error guard, evidence viewer, charts, tables."""
