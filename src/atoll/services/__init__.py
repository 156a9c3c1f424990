"""Use cases, framework-free. Endpoints call these with a Principal and plain values."""
