"""A user's package with two hand-derived hitting-time bounds (see claims.py)."""
