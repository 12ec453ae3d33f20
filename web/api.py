"""REST API under /api/v1: bearer tokens, JSON, scoped to the token user's organisations and role.

The organisation is chosen with `?org=` (id or slug) among the user's memberships;
without it, the user's first organisation. Errors are JSON `{"error": "..."}` for every
path and method under the API root: an unknown path is 404, a known path with another
method 405 (with `Allow`), a malformed parameter 400 and a malformed body field 422.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, overload

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from models.connections import connections_visible
from models.db import session_scope
from models.params import MAX_ID, MAX_OFFSET, ParamError, parse_int
from models.runs import get_run, latest_runs, runs_visible
from models.scope import AccessDenied, Viewer, build_viewer, org_by_ref
from models.sync import SyncRun
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import OptionsError
from models.users import user_for_token
from web.edges import API_ROOT, is_api_path, json_body
from workers import queue

bp = Blueprint("api", __name__)
MAX_LIMIT = 500


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _viewer() -> Viewer:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "Send an API token: Authorization: Bearer TOKEN (syncboard create-token)."
        )
    with session_scope() as db:
        user = user_for_token(db, token.strip())
        if user is None:
            raise ApiError(
                401, "That API token is not valid (revoked, mistyped or its user is inactive)."
            )
        wanted = request.args.get("org")
        org_id = None
        if wanted:
            org_id = org_by_ref(db, user, wanted)
            if org_id is None:
                raise ApiError(403, f"You are not a member of organisation {wanted!r}.")
        viewer = build_viewer(db, user, org_id)
    if viewer.org_id is None:
        raise ApiError(403, "Your account belongs to no organisation.")
    return viewer


def api_route(rule: str, **options):
    """A JSON endpoint that authenticates the token and turns our errors into JSON."""

    def decorate(func):
        @bp.route(rule, **options)
        @wraps(func)
        def wrapper(*args, **kwargs):
            g.api_viewer = _viewer()
            return func(g.api_viewer, *args, **kwargs)

        return wrapper

    return decorate


def run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "connection": run.connection_id,
        "stream": run.stream,
        "status": run.status,
        "trigger": run.trigger,
        "options": run.options,
        "progress": round(run.progress, 4),
        "total": run.total,
        "processed": run.processed,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "failed": run.failed,
        "error": run.error,
        "error_samples": run.error_samples,
        "stats": run.stats,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


@overload
def _int_arg(name: str, default: int, *, low: int = ..., high: int = ...) -> int: ...
@overload
def _int_arg(name: str, default: None = ..., *, low: int = ..., high: int = ...) -> int | None: ...
def _int_arg(
    name: str, default: int | None = None, *, low: int = 0, high: int = MAX_ID
) -> int | None:
    """A whole-number query parameter; a malformed or empty one is a 400 (`ParamError`)."""
    return parse_int(name, request.args.get(name), low=low, high=high, default=default)


def _paging() -> tuple[int, int]:
    """`limit` (0 counts without rows) and `offset`, exactly as asked: never rounded."""
    return _int_arg("limit", 50, high=MAX_LIMIT), _int_arg("offset", 0, high=MAX_OFFSET)


@api_route("/sources")
def sources(viewer: Viewer):
    """The viewer's connections, each stream counted as the sources page counts it."""
    from connectors.catalog import connector_facts
    from models.connector_facts import connection_streams
    from models.stream_views import records_visible

    catalogue = connector_facts()
    with session_scope() as db:
        conns = connections_visible(db, viewer)
        last = latest_runs(db, viewer, [c.id for c in conns])
        items = []
        for conn in conns:
            streams = [
                {
                    "name": s.name,
                    "model": s.model,
                    "records": records_visible(db, viewer, s.model, conn),
                }
                for s in connection_streams(conn, catalogue)
            ]
            run = last.get(conn.id)
            items.append(
                {
                    "id": conn.id,
                    "name": conn.name,
                    "connector": conn.connector,
                    "base_url": conn.base_url,
                    "schedule_minutes": conn.schedule_minutes if conn.schedule_enabled else None,
                    "streams": streams,
                    "last_run": run_json(run) if run else None,
                }
            )
    return jsonify(sources=items)


@api_route("/syncs")
def list_syncs(viewer: Viewer):
    connection = _int_arg("connection", low=1)
    limit, offset = _paging()
    with session_scope() as db:
        runs, total = runs_visible(
            db,
            viewer,
            connection_id=connection,
            status=request.args.get("status") or None,
            stream=request.args.get("stream") or None,
            limit=limit,
            offset=offset,
        )
        return jsonify(total=total, syncs=[run_json(r) for r in runs])


@api_route("/syncs", methods=["POST"])
def create_sync(viewer: Viewer):
    from workers.service import start_sync

    body = json_body()
    if not isinstance(body, dict) or "connection" not in body:
        raise ApiError(400, 'Send JSON like {"connection": 1, "stream": null, "options": {}}.')
    connection, stream = body["connection"], body.get("stream")
    # JSON true and 1.5 are not ids (Python would read both as connection 1).
    if isinstance(connection, bool) or not isinstance(connection, int):
        raise ApiError(422, "connection must be a connection id (a whole number)")
    if stream is not None and not isinstance(stream, str):
        raise ApiError(422, "stream must be a stream name or null")
    options = body.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ApiError(422, "options must be an object")
    run = start_sync(viewer, connection, stream or None, options, trigger="api")
    return jsonify(run_json(run)), 202


@api_route("/syncs/<int:run_id>")
def show_sync(viewer: Viewer, run_id: int):
    with session_scope() as db:
        return jsonify(run_json(get_run(db, viewer, run_id)))


@api_route("/syncs/<int:run_id>/cancel", methods=["POST"])
def cancel_sync(viewer: Viewer, run_id: int):
    from workers.service import cancel_sync as cancel

    run = cancel(viewer, run_id)
    return jsonify(run_json(run)), 202


def _filters():
    from models.calls import CallFilters

    return CallFilters.from_params(request.args)  # ParamError: 400


@api_route("/kpis")
def kpis(viewer: Viewer):
    """Call KPIs for the viewer's scope over `from`..`to` (inclusive UTC days)."""
    from models.kpis import call_kpis

    filters = _filters()
    with session_scope() as db:
        figures = call_kpis(
            db,
            viewer,
            start=filters.start_at,
            end=filters.end_before,
            phone=filters.phone,
            agent=filters.agent,
            direction=filters.direction,
        )
    return jsonify(
        org=viewer.org_id,
        **{"from": filters.start.isoformat() if filters.start else None},
        to=filters.end.isoformat() if filters.end else None,
        total_calls=figures.total,
        answered=figures.answered,
        missed=figures.missed,
        voicemail=figures.voicemail,
        answer_rate=round(figures.answer_rate, 4) if figures.answer_rate is not None else None,
        average_handle_time=round(figures.average_handle_time, 1)
        if figures.average_handle_time is not None
        else None,
        total_duration=figures.total_duration,
    )


@api_route("/calls")
def calls(viewer: Viewer):
    """A page of calls as JSON (`limit=0`: the count alone), or with format=csv every
    matching call, streamed."""
    from models.calls import call_page, count_calls
    from web.exports import calls_export

    if request.args.get("format") == "csv":
        return calls_export(viewer, request.args)
    filters = _filters()
    limit, offset = _paging()
    with session_scope() as db:
        if limit == 0:
            return jsonify(total=count_calls(db, viewer, filters), limit=0, offset=offset, calls=[])
        page = call_page(db, viewer, filters, page_size=limit, offset=offset)
    rows = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in page.rows
    ]
    return jsonify(total=page.total, limit=limit, offset=offset, calls=rows)


@bp.get("/openapi.json")
def openapi():
    from web.openapi import SPEC

    return jsonify(SPEC)


def _route_rules(app: Flask) -> Map:
    """The API's own rules, apart from the app's (Dash's catch-all page route matches
    every path, so the app's map cannot tell an unknown API path from a wrong method)."""
    rules = app.extensions.get("syncboard_api_rules")
    if rules is None:
        rules = Map(
            [
                Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods)
                for rule in app.url_map.iter_rules()
                if rule.endpoint.startswith(bp.name + ".")
            ]
        )
        app.extensions["syncboard_api_rules"] = rules
    return rules


def _unrouted(app: Flask):
    """404 for an unknown path under the API root, 405 (with Allow) for a wrong method."""
    if not is_api_path(request.path):
        return None
    rule = request.url_rule
    if rule is not None and rule.endpoint.startswith(bp.name + "."):
        return None
    allowed = sorted(_route_rules(app).bind("").allowed_methods(request.path))
    if not allowed:
        return jsonify(error=f"No API endpoint {request.path[:200]}."), 404
    message = f"{request.method} is not allowed here; use {', '.join(allowed)}."
    return jsonify(error=message), 405, {"Allow": ", ".join(allowed)}


def _errors(app: Flask) -> None:
    def as_json(status: int, message: str):
        return jsonify(error=message), status

    app.before_request(lambda: _unrouted(app))

    @bp.errorhandler(ApiError)
    def _api(exc: ApiError):
        return as_json(exc.status, exc.message)

    @bp.errorhandler(ParamError)
    def _param(exc: ParamError):
        return as_json(400, str(exc))

    @bp.errorhandler(AccessDenied)
    def _denied(exc):
        return as_json(403, str(exc))

    @bp.errorhandler(NotFound)
    def _missing(exc):
        return as_json(404, str(exc))

    @bp.errorhandler(SyncConflict)
    def _conflict(exc):
        return as_json(409, str(exc))

    @bp.errorhandler(OptionsError)
    def _options(exc):
        return as_json(422, str(exc))

    @bp.errorhandler(queue.QueueUnavailable)
    def _queue(exc):
        return as_json(503, str(exc))

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        response = as_json(exc.code or 500, exc.description or exc.name)
        allowed = getattr(exc, "valid_methods", None)
        return (*response, {"Allow": ", ".join(allowed)}) if allowed else response

    @bp.errorhandler(Exception)
    def _crash(exc):
        app.logger.exception("API error")
        return as_json(500, "Something went wrong on the server; it has been logged.")


def init_api(app: Flask, mount: str | None) -> None:
    from connectors.base import ConnectorError

    @bp.errorhandler(ConnectorError)
    def _connector(exc):
        return jsonify(error=str(exc)), 422

    _errors(app)
    app.register_blueprint(bp, url_prefix=(mount or "") + "/" + API_ROOT)
