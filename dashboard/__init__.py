"""Streamlit dashboard, a thin client of the audit_service API."""
