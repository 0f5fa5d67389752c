"""Carrier adapters: each source turns its own format into NormalizedEvent."""
