"""Callbacks of every page; importing this package registers them with Dash.

Every module in this folder is imported, so a new page's callbacks cannot be forgotten
(tests/callbacks/test_every_page.py checks each callback's ids against the layouts).
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = sorted(
    info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
)
for _name in __all__:
    importlib.import_module(f"{__name__}.{_name}")
