"""Callbacks of every page; importing this package registers them with Dash."""

from callbacks import overview, shell

__all__ = ["overview", "shell"]
