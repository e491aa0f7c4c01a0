"""pytest plugin of tractor-diag: a verdict on a test's processes at its deadline."""

__version__ = "0.1.0"
