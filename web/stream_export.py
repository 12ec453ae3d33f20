"""CSV export of a stream's records: GET /export/sources/<id>/<stream>.csv (any signed-in role).

The viewer is rebuilt on the server and every row goes through the same scoped query as
the stream page's table; rows stream from a server-side cursor in constant memory.
"""

from __future__ import annotations

from flask import Blueprint, abort, request

from connectors.catalog import connector_facts
from models.db import session_scope
from models.stream_views import export_header, export_rows
from models.sync_errors import NotFound
from web.csv_export import csv_response, safe_filename
from web.viewer import current_viewer

bp = Blueprint("stream_export", __name__)


@bp.get("/export/sources/<int:source_id>/<stream>.csv")
def export_stream(source_id: int, stream: str):
    viewer = current_viewer()  # AccessDenied (403) when nobody is signed in
    search = (request.args.get("q") or "")[:200]
    catalogue = connector_facts()
    try:
        with session_scope() as db:
            export = export_header(db, viewer, source_id, stream, catalogue=catalogue)
    except NotFound as exc:
        abort(404, description=str(exc))

    def rows():
        with session_scope() as db:
            yield from export_rows(db, viewer, source_id, stream, search, catalogue=catalogue)

    return csv_response(export.header, rows(), safe_filename(*export.name_parts))
