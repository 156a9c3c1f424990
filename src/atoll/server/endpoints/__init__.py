"""HTTP endpoints: parse the request, call a service, render with wire."""
