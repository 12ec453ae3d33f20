"""The app's edges: requests refused before any view runs, and error answers without a trace.

- A URL longer than `MAX_URL` characters is refused with 414; a NUL character in the
  path, the query or a form field with 400 (PostgreSQL cannot store one, nobody types one).
- JSON bodies are read by `json_body`: too deeply nested, or holding text no database
  stores, is a 400 (`ParamError`) rather than a RecursionError or a driver's error.
- A Dash callback request must have the shape of a registered server callback: the same
  outputs, inputs and states (ids, properties, pattern-matching keys), changed properties
  among its inputs, and a string for the page router's `pathname` and `search`. Anything
  else is a 400 before Dash dispatches it, because Dash answers a body it cannot map with
  an exception (a 500). The *values* are the callbacks' to parse (`models.params`).
- A page address that no registered page (path or path template) matches is answered with
  the app's page and status 404, so the browser shows the not-found page and crawlers,
  monitors and scripts see the truth. Dash answers every unknown path with its index and
  200; `_page_status` corrects that for Dash's catch-all route only (the API, assets and
  Dash's own `_dash-*` routes are left alone).
- Every HTTP error is JSON `{"error": ...}` under the API root and on Dash's endpoints,
  and a short page elsewhere; an unexpected exception is logged by Flask and answered
  500 with a sentence, never a stack trace.

`init_edges(server)` wires it; app.py calls it once Dash is set up, so these checks run
after Dash has registered its page router.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import dash
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestURITooLarge

from models.params import ParamError, check_text
from settings import get_settings

API_ROOT = "api/v1"
MAX_URL = 4096
CALLBACK_PATH = "_dash-update-component"
ROUTER_LOCATION = "_pages_location"  # dash._pages: the page router's dcc.Location
MAX_PATTERN_MATCHES = 10_000  # components one ALL pattern matches (a team of thousands)
SERVER_ERROR = "Something went wrong on the server; it has been logged."
_WILDCARDS = (["ALL"], ["ALLSMALLER"], ["MATCH"])
_MANY = (["ALL"], ["ALLSMALLER"])


class BadCallback(ValueError):
    """A callback request that no registered callback can take, in words."""


def is_api_path(path: str) -> bool:
    """Whether `path` lies under the API root (there every answer, errors too, is JSON)."""
    root = get_settings().url_prefix + API_ROOT
    return path == root or path.startswith(root + "/")


def json_body() -> Any:
    """The request's JSON body, None when it has none or it is not JSON.

    ParamError for nesting past `models.params.MAX_DEPTH` (the parser would overflow the
    stack) and for text no database stores.
    """
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ParamError("A value nests too deeply.") from None
    check_text(body)
    return body


def _wants_json() -> bool:
    return is_api_path(request.path) or "/_dash-" in request.path


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_json():
        response = jsonify(error=message)
    else:
        title = escape(f"{status} · syncboard")
        page = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body><h1>{status}</h1><p>{escape(message)}</p></body></html>"
        )
        response = Response(page, mimetype="text/html")
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = SERVER_ERROR if status >= 500 else (exc.description or exc.name)
    allowed = getattr(exc, "valid_methods", None)
    return _error(status, message, {"Allow": ", ".join(allowed)} if allowed else None)


def _url_checks():
    if len(request.path) + len(request.query_string) > MAX_URL:
        raise RequestURITooLarge(f"A URL is at most {MAX_URL:,} characters long.")
    values = [request.path, *(v for pair in request.args.items(multi=True) for v in pair)]
    if request.mimetype == "application/x-www-form-urlencoded":
        values += [v for pair in request.form.items(multi=True) for v in pair]
    if any("\x00" in value for value in values):
        return _error(400, "A URL or form value must not hold a NUL character.")
    return None


# --- the shape of a Dash callback request ---------------------------------------------------


def _outputs_of(key: str) -> tuple[list[tuple[Any, str]], bool]:
    """The (id, property) outputs a callback_map key names, and whether it names several."""
    many = key.startswith("..")
    parts = key[2:-2].split("...") if many else [key]
    return [(_spec_id(cid), prop) for cid, prop in (p.rsplit(".", 1) for p in parts)], many


def _spec_id(text: str) -> Any:
    """A registered id: a string, or a pattern-matching dict such as {"run": ["ALL"], ...}."""
    return json.loads(text) if text.startswith("{") else text


def _is_many(spec_id: Any) -> bool:
    return isinstance(spec_id, dict) and any(v in _MANY for v in spec_id.values())


def _id_fits(spec_id: Any, given: Any) -> bool:
    if isinstance(spec_id, str):
        return given == spec_id
    if not isinstance(given, dict) or given.keys() != spec_id.keys():
        return False
    for key, wanted in spec_id.items():
        if wanted in _WILDCARDS:  # Dash ids hold strings, numbers and booleans
            if not isinstance(given[key], str | int | float):
                return False
        elif given[key] != wanted:
            return False
    return True


def _prop(name: Any) -> Any:
    """A property without the `@hash` Dash adds to outputs that allow duplicates."""
    return name.split("@")[0] if isinstance(name, str) else name


def _item_fits(spec_id: Any, prop: str, item: Any) -> bool:
    return (
        isinstance(item, dict)
        and _prop(item.get("property")) == _prop(prop)
        and _id_fits(spec_id, item.get("id"))
    )


def _slots_fit(specs: list[tuple[Any, str]], given: Any, what: str) -> None:
    if not isinstance(given, list) or len(given) != len(specs):
        raise BadCallback(f"This callback takes {len(specs)} {what}.")
    for (spec_id, prop), item in zip(specs, given, strict=True):
        if _is_many(spec_id):
            fits = (
                isinstance(item, list)
                and len(item) <= MAX_PATTERN_MATCHES
                and all(_item_fits(spec_id, prop, one) for one in item)
            )
        else:
            fits = _item_fits(spec_id, prop, item)
        if not fits:
            raise BadCallback(f"These {what} do not match the callback.")


def _changed_id(text: Any) -> tuple[Any, str]:
    if not isinstance(text, str) or "." not in text:
        raise BadCallback("changedPropIds must be the ids of inputs.")
    cid, prop = text.rsplit(".", 1)
    if cid.startswith("{"):
        try:
            cid = json.loads(cid)
        except ValueError:
            raise BadCallback("changedPropIds must be the ids of inputs.") from None
    return cid, prop


def check_callback(body: Any, callback_map: dict[str, Any], prefix: str = "/") -> None:
    """Raise BadCallback unless `body` has the shape of the server callback it names
    (`prefix`: the app's path, under which every page's pathname lies)."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise BadCallback("Send a Dash callback request.")
    spec = callback_map.get(body["output"])
    if spec is None or "callback" not in spec:  # clientside callbacks run in the browser
        raise BadCallback("There is no such callback.")
    wanted, many = _outputs_of(body["output"])
    given = body.get("outputs")
    _slots_fit(wanted, given if many else [given], "outputs")
    inputs = [(_spec_id(i["id"]), i["property"]) for i in spec["inputs"]]
    states = [(_spec_id(s["id"]), s["property"]) for s in spec["state"]]
    _slots_fit(inputs, body.get("inputs"), "inputs")
    _slots_fit(states, body.get("state", []), "states")
    flat = [one for item in body["inputs"] for one in (item if isinstance(item, list) else [item])]
    sent = [(one["id"], one["property"]) for one in flat]
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or any(_changed_id(c) not in sent for c in changed):
        raise BadCallback("changedPropIds must be the ids of inputs.")
    for one in flat:
        if one["id"] != ROUTER_LOCATION:
            continue
        prop, value = one["property"], one.get("value")
        if not isinstance(value, str):
            raise BadCallback(f"The page's {prop} must be text.")
        if prop == "pathname" and not value.startswith(prefix.rstrip("/") or "/"):
            raise BadCallback(f"The page's pathname must lie under {prefix}.")


def _callback_guard():
    if request.method != "POST" or not request.path.endswith("/" + CALLBACK_PATH):
        return None
    try:
        app = dash.get_app()
        check_callback(json_body(), app.callback_map, app.config.requests_pathname_prefix)
    except (BadCallback, ParamError) as exc:
        return _error(400, str(exc))
    return None


# --- pages that do not exist ----------------------------------------------------------------

NOT_FOUND_MODULE = "not_found_404"  # Dash's page router shows this module's page for unknown paths
_UNTOUCHED = ("_dash-", "assets/", "_reload-hash", "_favicon")


def page_for(path: str) -> dict[str, Any] | None:
    """The registered page that `path` (relative to the app, e.g. "/sources/3") opens.

    A page's path template (`/sources/<source_id>`) matches one non-empty segment per
    variable, as Dash's router does; None when no page matches.
    """
    wanted = [part for part in path.strip("/").split("/") if part]
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            parts = template.strip("/").split("/")
            if len(parts) == len(wanted) and all(
                part == given or (part.startswith("<") and part.endswith(">"))
                for part, given in zip(parts, wanted, strict=True)
            ):
                return page
        elif page["path"].strip("/") == "/".join(wanted):
            return page
    return None


def is_missing_page(page: dict[str, Any] | None) -> bool:
    return page is None or page["module"].rsplit(".", 1)[-1] == NOT_FOUND_MODULE


def _page_status(response: Response) -> Response:
    """404 for Dash's index served at a path that no page has (see the module docstring)."""
    rule = request.url_rule
    if request.method != "GET" or rule is None or response.status_code != 200:
        return response
    app = dash.get_app()
    if rule.rule != app.config.routes_pathname_prefix + "<path:path>":
        return response
    path = (request.view_args or {}).get("path", "")
    if not path.startswith(_UNTOUCHED) and is_missing_page(page_for("/" + path)):
        response.status_code = 404
    return response


def init_edges(app: Flask) -> None:
    """Refuse over-long URLs and malformed callback requests; answer every error plainly;
    answer unknown page addresses with 404."""
    # The URL checks come first, before sign-in and routing look at the URL at all; the
    # callback guard comes last, once Dash has registered its page router.
    app.before_request_funcs.setdefault(None, []).insert(0, _url_checks)
    app.before_request(_callback_guard)
    app.after_request(_page_status)
    app.register_error_handler(HTTPException, _http_error)
