"""The origin of a URL (scheme, host, port): what a saved credential is bound to.

The sync console drops a connection's secrets when its address moves to another origin
(models/source_admin.py), and the connectors' HTTP client never forwards them across one
(connectors/base.py): both read this one definition.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the default port filled in: what a credential is bound to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ("", url.strip().lower(), 0)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    return (scheme, host, port or {"http": 80, "https": 443}.get(scheme, 0))
