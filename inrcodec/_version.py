"""The package version, in one place (pyproject reads it; the encoder writes it into headers)."""

__version__ = "0.1.0"
