"""Connectors to external systems; importing this package registers and checks every one of them.

Each module registers its connector (connectors.base.register checks its fields and
streams); once all are loaded, every stream's target model is checked against the tables
the sync engine writes, so a connector naming a table nobody can write fails here, at
import, instead of in the middle of somebody's sync.
"""

import importlib
import pkgutil

from connectors.base import REGISTRY, check_targets

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def _check_targets() -> None:
    from models.upserts import TARGETS  # the engine's writable tables, by model name

    check_targets(REGISTRY.values(), TARGETS)


_check_targets()
