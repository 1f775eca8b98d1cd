"""The package's version, in a module of its own so the core can read it cheaply."""

__version__ = "0.1.0"
