"""What the sync console's queries know about connectors, as plain data given by the caller.

models/ never imports connectors: the layers above read the catalogue (connectors/catalog.py)
and pass these facts in, so a query knows a connector's label, address and streams without
loading any connector code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.sync import Connection
from models.sync_errors import NotFound


@dataclass(frozen=True)
class StreamFacts:
    """One stream of a connector: its name and the model (table) its records land in."""

    name: str
    model: str
    description: str = ""


@dataclass(frozen=True)
class ConnectorFacts:
    """A connector as the queries see it: metadata only, nothing that runs."""

    key: str
    label: str
    icon: str = "plug"
    docs: str = ""
    default_base_url: str = ""
    needs_token: bool = False
    streams: tuple[StreamFacts, ...] = ()


#: Every installed connector by key (connectors/catalog.py `connector_facts()` builds it).
Catalogue = Mapping[str, ConnectorFacts]


def connection_streams(conn: Connection, catalogue: Catalogue) -> list[StreamFacts]:
    """The streams a connection fills: a table connection set to one model has just that one."""
    facts = catalogue.get(conn.connector)
    streams = list(facts.streams) if facts else []
    chosen = (conn.settings or {}).get("model")
    only = [s for s in streams if s.name == chosen]
    return only or streams


def stream_of(conn: Connection, stream: Any, catalogue: Catalogue) -> StreamFacts:
    """The connection's stream by name; NotFound for a name it does not have."""
    for candidate in connection_streams(conn, catalogue):
        if candidate.name == stream:
            return candidate
    raise NotFound(f"{conn.name} has no stream {stream!r}.")
