"""Callbacks of every page; importing this package registers them with Dash."""

from callbacks import (
    calls,
    overview,
    recordings,
    reports,
    shell,
    sms,
    source_detail,
    sources,
    stream_detail,
    sync_detail,
    sync_modal,
    syncs,
    team,
)

__all__ = [
    "calls",
    "overview",
    "recordings",
    "reports",
    "shell",
    "sms",
    "source_detail",
    "sources",
    "stream_detail",
    "sync_detail",
    "sync_modal",
    "syncs",
    "team",
]
