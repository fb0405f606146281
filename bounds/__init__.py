"""What the theory says: every claim of THEORY.md as a named symbolic object."""
