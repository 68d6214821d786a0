"""Use cases: orchestrate the pure domain and the data layer. Handlers call these."""
