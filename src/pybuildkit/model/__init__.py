"""Typed, frozen Dockerfile instructions and stages (no I/O)."""
