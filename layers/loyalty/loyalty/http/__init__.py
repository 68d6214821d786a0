"""The HTTP edge on Chalice: app factory, authorizers, error mapping, request parsing."""
