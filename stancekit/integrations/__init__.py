"""Integrations with other systems (optional extras)."""
