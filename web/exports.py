"""CSV downloads of the calls table and of reports, streamed and scoped on the server.

`GET /export/calls.csv?<filters>&bom=1` and `GET /export/report.csv?<definition>&bom=1`.
The viewer is rebuilt from the session (`current_viewer`), so the query string can only
narrow what the signed-in user may see; an agent's export holds their numbers' calls.
The response builders take the viewer and the parameters, so tests can call them directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from models.base import utcnow
from models.calls import (
    CALL_EXPORT_HEADER,
    CallFilters,
    FilterError,
    export_name_parts,
    iter_calls,
    org_slug,
)
from models.db import session_scope
from models.reports import ReportError, parse_definition, run_report
from models.scope import SEE_ORG, AccessDenied, Viewer
from settings import get_settings
from web.csv_export import csv_response, safe_filename
from web.viewer import current_viewer

bp = Blueprint("exports", __name__)

CALLS_PATH = "export/calls.csv"
REPORT_PATH = "export/report.csv"


def export_href(path: str, params: Mapping[str, str], *, bom: bool = True) -> str:
    """The link a page puts on its "Export CSV" button (under the URL prefix)."""
    query = dict(params)
    if bom:
        query["bom"] = "1"
    return get_settings().url_prefix + path + ("?" + urlencode(query) if query else "")


def _bom(params: Mapping[str, Any]) -> bool:
    return str(params.get("bom", "")).lower() in ("1", "true", "yes")


def _bad_request(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response


def _stream_calls(viewer: Viewer, filters: CallFilters) -> Iterator[tuple]:
    """Rows straight from a server-side cursor, in a session that lives as long as the download."""
    with session_scope() as session:
        yield from iter_calls(session, viewer, filters)


def calls_export(viewer: Viewer, params: Mapping[str, Any]) -> Response:
    """Every call the viewer may see that matches `params` (the calls page's filters)."""
    if viewer.org_id is None:
        raise AccessDenied("Your account belongs to no organisation.")
    try:
        filters = CallFilters.from_params(params)
    except FilterError as exc:
        return _bad_request(str(exc))
    with session_scope() as session:
        name = safe_filename(*export_name_parts(session, viewer, filters, utcnow().date()))
    return csv_response(CALL_EXPORT_HEADER, _stream_calls(viewer, filters), name, bom=_bom(params))


def report_params(args) -> dict[str, Any]:
    """A report definition from a query string (`metrics` may repeat or be comma-separated)."""
    return {
        "metrics": args.getlist("metrics") if hasattr(args, "getlist") else args.get("metrics"),
        "group": args.get("group"),
        "range": args.get("range"),
        "start": args.get("start"),
        "end": args.get("end"),
    }


def report_export(viewer: Viewer, params: Mapping[str, Any]) -> Response:
    """Exactly the table the reports page shows for the same definition."""
    viewer.require_to(SEE_ORG)
    try:
        spec = parse_definition(report_params(params))
    except ReportError as exc:
        return _bad_request(str(exc))
    with session_scope() as session:
        result = run_report(session, viewer, spec)
        slug = org_slug(session, viewer)
    name = safe_filename("report", slug, f"{result.start.isoformat()}-to-{result.end.isoformat()}")
    return csv_response(result.header, result.table(), name, bom=_bom(params))


@bp.get("/" + CALLS_PATH)
def calls_csv():
    return calls_export(current_viewer(), request.args)


@bp.get("/" + REPORT_PATH)
def report_csv():
    return report_export(current_viewer(), request.args)
