"""atoll."""
