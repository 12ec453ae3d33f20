"""The connector catalogue for the layers above models: which connectors exist, and their facts.

Pages, callbacks, the API and the CLI read connector metadata here (nothing runs); the
queries under models/ are given `connector_facts()` as plain data, since models/ never
imports connectors.
"""

from __future__ import annotations

from connectors.base import Connector, ConnectorError, get_connector, registry
from models.connector_facts import Catalogue, ConnectorFacts, StreamFacts


def catalog() -> list[type[Connector]]:
    """Every registered connector class, by label (metadata only; nothing runs)."""
    return sorted(registry().values(), key=lambda cls: cls.label.lower())


def connector_class(key: str) -> type[Connector] | None:
    """The connector class of a key, or None when no such connector is installed."""
    try:
        return get_connector(key)
    except ConnectorError:
        return None


def facts_of(cls: type[Connector]) -> ConnectorFacts:
    """What the queries need to know of one connector, as plain data."""
    return ConnectorFacts(
        key=cls.key,
        label=cls.label,
        icon=cls.icon or "plug",
        docs=cls.docs,
        default_base_url=cls.default_base_url,
        needs_token=any(f.secret for f in cls.config_fields),
        streams=tuple(StreamFacts(s.name, s.model, s.description) for s in cls.streams),
    )


def connector_facts() -> Catalogue:
    """Every installed connector's facts by key: what a console query is given."""
    return {cls.key: facts_of(cls) for cls in catalog()}
