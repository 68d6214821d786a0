"""Process-wide plumbing: AWS clients, observability, secrets."""
