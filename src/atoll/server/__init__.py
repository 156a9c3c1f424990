"""The HTTP server: Starlette app, one route table, one auth front door."""
