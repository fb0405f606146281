"""What gradient descent does, and whether the theory holds."""

__version__ = "0.1.0"
