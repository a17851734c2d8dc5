"""The `/api/v1` routes, one module per resource; each only turns requests into service calls."""
