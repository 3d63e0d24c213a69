"""defdip: an observatory of defence diplomacy."""

__version__ = "0.1.0"
