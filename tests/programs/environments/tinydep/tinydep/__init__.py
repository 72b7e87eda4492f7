"""A dependency the venv test installs from a wheel: library code, not the project's."""

from tinydep.stats import mean, spread

__version__ = "1.2.0"
__all__ = ["mean", "spread"]
