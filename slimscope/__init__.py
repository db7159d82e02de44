"""slimscope: where the bytes of a container image go, and how to make it smaller."""

__version__ = "0.1.0"
