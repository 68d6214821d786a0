"""Personal data: normalisation, encryption at rest, keyed look-up hashes, masking for display."""
