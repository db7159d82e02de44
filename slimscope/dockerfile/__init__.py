"""Dockerfile generation and lint: multi-stage split, in-place fixes, measured bytes."""
