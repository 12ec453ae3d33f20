"""Fuzz every API route and every Dash callback: bad input is a 4xx with a message, never a 500.

Routes come from /api/v1/openapi.json and the app's URL map (each method, path parameter,
query parameter and JSON body); callbacks from `dash.get_app().callback_map`, forged as the
browser posts them with inputs and states replaced by malformed, huge, negative,
wrong-typed, empty and nested values, signed in as each role. No answer may be a 500 or
carry a traceback. Hypothesis draws with a fixed seed (`derandomize`) and a bounded number
of examples: some 2,000 requests per backend, the file about a minute on two cores.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from models.orgs import User
from models.users import create_token
from tests.helpers import PASSWORD, login, make_connection, run_sync

ROLES = ("platform", "admin_a", "manager_a", "agent_a1", "admin_b")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "OPTIONS", "HEAD")
TRACE_MARKERS = ("Traceback", 'File "')
API = "/api/v1"


def fuzz_settings(examples: int):
    """Bounded and repeatable: the same examples every run, no example database on disk."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


# --- values -------------------------------------------------------------------------------

HUGE = [2**31, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
NASTY_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e400",
    "abc",
    "true",
    "null",
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "2024-05-31T25:99",
    "²",
    "١٢",
    "%",
    "_",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "a" * 5000,
    "99999999999999999999",
    "9" * 5000,
]
NASTY_JSON: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    1.5,
    -0.0,
    float("inf"),
    float("-inf"),
    float("nan"),
    *HUGE,
    *NASTY_TEXT,
    "\x00",
    "a\ud800b",
    [],
    {},
    [None],
    [[[]]],
    {"a": {"b": []}},
    ["1", 2, None],
    {"points": "x"},
    {"points": [{"customdata": 2**64, "x": "y", "y": None}]},
    {"points": [{"customdata": "9999-12-31", "x": 2**64, "y": "Mon"}]},
    [{"column_id": 2**64, "direction": "desc"}],
    [{"column_id": "time", "direction": []}],
    {"active": ["x", 2**64, None], "done": [{}]},
    {"source": 2**64, "stream": ["x"]},
    {"connection": True, "stream": 5},
    {"run": "x", "clicks": 2**64},
    list(range(300)),
]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(NASTY_JSON),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def id_values(ids: list[int]) -> st.SearchStrategy:
    """Real ids (so the code gets past "not found"), their strings, and every nasty number."""
    known = ids + [str(i) for i in ids]
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from([0, -1, 1.5, True, False, "", "x", *HUGE, str(2**64)]),
        st.integers(),
    )


def text_values(ids: list[int]) -> st.SearchStrategy:
    """What a query string can hold: text only."""
    return st.one_of(
        st.sampled_from([str(i) for i in ids] + [str(h) for h in HUGE] + NASTY_TEXT),
        st.integers().map(str),
        st.text(max_size=20),
    )


# --- the world the fuzzer pokes at --------------------------------------------------------


@pytest.fixture
def fuzz_world(db, world):
    """The two-org world plus a demo connection with a finished run, and every role's token."""
    conn = make_connection(db, world.org_a, "demo", settings={"records": 3, "delay_ms": 0})
    run = run_sync(conn, "contacts")
    with db.session() as s:
        tokens = {key: create_token(s, s.get(User, uid)).token for key, uid in world.users.items()}
        s.commit()
    ids = sorted(
        {conn.id, run.id, world.org_a, world.org_b, *world.users.values(), *world.numbers.values()}
    )
    return {"world": world, "tokens": tokens, "ids": ids, "connection": conn.id, "run": run.id}


def assert_no_crash(response, what: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code < 500 or response.status_code == 503, (
        f"{what} -> {response.status_code}: {body[:300]}"
    )
    for marker in TRACE_MARKERS:
        assert marker not in body, f"{what} -> a traceback: {body[:300]}"
    return body


def signed_in(server, roles: tuple[str, ...] = ROLES) -> dict[str, Any]:
    """A browser (test client) per role, signed in through the real form."""
    clients = {}
    for role in roles:
        browser = server.test_client()
        email = "platform@example.com" if role == "platform" else f"{role}@example.com"
        assert login(browser, email, PASSWORD).status_code == 302
        browser.get("/")  # the page sets the CSRF cookie Dash copies into its header
        clients[role] = browser
    return clients


# --- the API -----------------------------------------------------------------------------


def api_operations(server, client) -> dict[str, dict[str, dict[str, str]]]:
    """{path template: {method: {query parameter: schema type}}}, from the OpenAPI document
    and from the URL map (a route missing from the document is fuzzed too)."""
    spec = client.get(API + "/openapi.json").get_json()
    ops: dict[str, dict[str, dict[str, str]]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            params = {
                p["name"]: p["schema"].get("type", "string")
                for p in op.get("parameters", [])
                if p["in"] == "query"
            }
            ops.setdefault(path, {})[method.upper()] = params
    for rule in server.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", rule.rule.removeprefix(API))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                ops.setdefault(path, {}).setdefault(method, {"org": "string"})
    return ops


UNKNOWN_PATHS = ["", "/", "/nothing", "/syncs/{id}/{id}", "/syncs/{id}/cancel/x", "/" + "x" * 5000]


def body_for(data, ids: list[int]) -> dict[str, Any]:
    """Keyword arguments for the test client: no body, some JSON, or bytes that are not JSON."""
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "connection": id_values(ids),
            "stream": st.one_of(st.sampled_from([None, "contacts", "calls", "nope"]), json_value),
            "options": st.one_of(
                st.dictionaries(
                    st.sampled_from(
                        ["full", "force", "since", "dry_run", "max_records", "batch_size", "debug"]
                    ),
                    json_value,
                    max_size=3,
                ),
                json_value,
            ),
        },
    )
    kind = data.draw(st.sampled_from(["none", "shaped", "shaped", "json", "bytes"]), label="body")
    if kind == "none":
        return {}
    if kind == "shaped":
        return {"json": data.draw(shaped, label="json")}
    if kind == "json":
        return {"json": data.draw(json_value, label="json")}
    raw = data.draw(
        st.sampled_from([b"{", b"\xff\xfe", b"[" * 100_000, b'{"connection": 1', b"null"]),
        label="bytes",
    )
    return {"data": raw, "content_type": "application/json"}


def test_api_routes_never_crash(server, client, fuzz_world):
    """Each route of the document and the URL map, and paths that are none, 40 requests each."""
    ops = api_operations(server, client)
    ids = fuzz_world["ids"]
    tokens = fuzz_world["tokens"]
    statuses: list[int] = []

    @fuzz_settings(40)
    @given(data=st.data())
    def fuzz(template: str, data):
        documented = sorted(ops.get(template, {})) or ["GET"]
        method = data.draw(st.sampled_from(documented * 3 + list(METHODS)), label="method")
        path = template
        while "{id}" in path:
            segment = data.draw(
                st.one_of(st.sampled_from([str(i) for i in ids]), text_values(ids)), label="id"
            )
            path = path.replace("{id}", quote(segment, safe="") or "1", 1)
        names = sorted(ops.get(template, {}).get(method, {}) or {"org": "string"})
        names += ["format", "limit", "offset", "from", "to", "x"]
        query = data.draw(
            st.lists(st.tuples(st.sampled_from(names), text_values(ids)), max_size=5),
            label="query",
        )
        if data.draw(st.booleans(), label="csv"):
            query.append(("format", "csv"))
        qs = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query)
        who = data.draw(st.sampled_from([*ROLES, None, "bad"]), label="token")
        token = tokens.get(who, "sb_not-a-token") if who else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs = body_for(data, ids) if method in ("POST", "PUT", "PATCH") else {}
        what = f"{method} {API}{path[:200]}?{qs[:200]} as {who} with {str(kwargs)[:200]}"
        note(what)
        response = client.open(
            API + path, method=method, query_string=qs, headers=headers, **kwargs
        )
        statuses.append(response.status_code)
        assert_no_crash(response, what)
        if response.status_code >= 400 and method != "HEAD":
            assert response.is_json, what
            assert isinstance(response.get_json().get("error"), str), what
        if response.status_code == 405:
            assert response.headers.get("Allow"), what

    for template in sorted(ops) + UNKNOWN_PATHS:
        fuzz(template)
    assert {200, 400, 401, 403, 404, 405, 414} <= set(statuses), sorted(set(statuses))


# --- CSV downloads ------------------------------------------------------------------------

EXPORT_PARAMS = ["q", "from", "to", "phone", "agent", "direction", "status", "sort", "desc"]
EXPORT_PARAMS += ["bom", "metrics", "group", "range", "start", "end"]


def test_csv_downloads_never_crash(server, fuzz_world):
    """The pages' CSV routes (signed-in sessions, every role), 40 requests each."""
    browsers = signed_in(server)
    ids = fuzz_world["ids"]
    rules = sorted(
        rule.rule
        for rule in server.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("exports", "stream_export")
    )
    assert len(rules) >= 3, rules
    statuses: list[int] = []

    @fuzz_settings(40)
    @given(data=st.data())
    def fuzz(rule: str, data):
        path = rule
        for name in re.findall(r"<(?:\w+:)?(\w+)>", rule):
            segment = data.draw(
                st.one_of(st.sampled_from([str(i) for i in ids] + ["contacts"]), text_values(ids)),
                label=name,
            )
            path = re.sub(r"<(?:\w+:)?" + name + ">", quote(segment, safe="") or "1", path)
        query = data.draw(
            st.lists(st.tuples(st.sampled_from(EXPORT_PARAMS), text_values(ids)), max_size=5),
            label="query",
        )
        qs = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query)
        role = data.draw(st.sampled_from(ROLES), label="role")
        what = f"GET {path[:200]}?{qs[:300]} as {role}"
        note(what)
        response = browsers[role].get(path, query_string=qs)
        statuses.append(response.status_code)
        assert_no_crash(response, what)

    for rule in rules:
        fuzz(rule)
    assert 200 in statuses and 400 in statuses, sorted(set(statuses))


# --- Dash callbacks ------------------------------------------------------------------------


def server_callbacks() -> dict[str, dict]:
    import dash

    return {k: v for k, v in dash.get_app().callback_map.items() if "callback" in v}


def _spec_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _is_many(spec_id: Any) -> bool:
    return isinstance(spec_id, dict) and any(
        v in (["ALL"], ["ALLSMALLER"]) for v in spec_id.values()
    )


def _concrete(data, spec_id: dict, ids: list[int]) -> dict:
    """A pattern id with its wildcards filled in: real ids, nasty numbers or text."""
    wildcard = st.one_of(id_values(ids), st.text(max_size=10))
    return {
        k: data.draw(wildcard, label=k) if isinstance(v, list) else v for k, v in spec_id.items()
    }


def _slot(data, spec_id: Any, prop: str, values, ids: list[int], with_value: bool = True):
    """One output, input or state as the renderer sends it (a list for an ALL pattern)."""
    if _is_many(spec_id):
        count = data.draw(st.integers(0, 3), label="matches")
        return [
            {"id": _concrete(data, spec_id, ids), "property": prop}
            | ({"value": data.draw(values, label=prop)} if with_value else {})
            for _ in range(count)
        ]
    return {"id": spec_id, "property": prop} | (
        {"value": data.draw(values, label=prop)} if with_value else {}
    )


def _id_text(cid: Any) -> str:
    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid


PAGE_PATHS = [
    "/",
    "/calls",
    "/recordings",
    "/sms",
    "/reports",
    "/sources",
    "/sources/{id}",
    "/sources/{id}/contacts",
    "/sources/{id}/{id}",
    "/syncs",
    "/syncs/{id}",
    "/team",
    "/404",
    "/nothing/at/all",
]


def router_values(data, ids: list[int]) -> tuple[Any, Any]:
    """The page router's pathname and search: real pages with forged parts, or non-text."""
    if data.draw(st.integers(0, 9), label="router-kind") == 0:
        return data.draw(json_value, label="pathname"), data.draw(json_value, label="search")
    path = data.draw(st.sampled_from(PAGE_PATHS), label="page")
    while "{id}" in path:
        path = path.replace("{id}", quote(data.draw(text_values(ids), label="id"), safe=""), 1)
    keys = ["range", "from", "to", "phone", "agent", "direction", "weekday", "hour", "page"]
    keys += ["q", "status", "connection", "stream", "source_id", "run_id", "sort", "embed"]
    pairs = data.draw(
        st.lists(st.tuples(st.sampled_from(keys), text_values(ids)), max_size=4), label="query"
    )
    search = "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs) if pairs else ""
    return path, search


def forge(data, key: str, spec: dict, ids: list[int]) -> dict:
    """A callback request as the renderer builds it, with forged values and pattern ids."""
    values = st.one_of(st.sampled_from(NASTY_JSON), id_values(ids), json_value)
    many = key.startswith("..")
    parts = key[2:-2].split("...") if many else [key]
    outputs = [
        _slot(data, _spec_id(cid), prop, values, ids, False)
        for cid, prop in (p.rsplit(".", 1) for p in parts)
    ]
    inputs = [_slot(data, _spec_id(i["id"]), i["property"], values, ids) for i in spec["inputs"]]
    state = [_slot(data, _spec_id(s["id"]), s["property"], values, ids) for s in spec["state"]]
    if any(i["id"] == "_pages_location" for i in spec["inputs"]):
        pathname, search = router_values(data, ids)
        inputs[0]["value"], inputs[1]["value"] = pathname, search
    flat = [one for item in inputs for one in (item if isinstance(item, list) else [item])]
    changed = [f"{_id_text(i['id'])}.{i['property']}" for i in flat]
    if changed:
        changed = data.draw(
            st.lists(st.sampled_from(changed), min_size=1, max_size=len(changed), unique=True),
            label="changed",
        )
    return {
        "output": key,
        "outputs": outputs if many else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }


def broken(data, key: str, body: dict) -> Any:
    """A request whose shape no registered callback has (the guard's 400s)."""
    how = data.draw(st.integers(0, 7), label="broken")
    if how == 0:
        return data.draw(json_value, label="body")
    if how == 1:
        missing = data.draw(st.sampled_from(sorted(body)), label="missing")
        return {k: v for k, v in body.items() if k != missing}
    if how == 2:
        return body | {
            "output": data.draw(
                st.sampled_from(
                    ["nope.children", "_pages_dummy.children", "overview-interval.disabled"]
                )
            )
        }
    if how == 3:
        return body | {"inputs": body["inputs"][:-1] or [{"id": "x", "property": "y"}]}
    if how == 4:
        return body | {"inputs": [data.draw(json_value) for _ in body["inputs"]]}
    if how == 5:
        return body | {"changedPropIds": [data.draw(json_value, label="changed")]}
    if how == 6:
        return body | {"outputs": data.draw(json_value, label="outputs")}
    return body | {"state": data.draw(json_value, label="state")}


def post_callback(browser, body: Any, raw: bytes | None = None):
    token = browser.get_cookie("_csrf_token")
    headers = {"X-CSRFToken": token.value} if token else {}
    if raw is not None:
        return browser.post(
            "/_dash-update-component", data=raw, headers=headers, content_type="application/json"
        )
    return browser.post("/_dash-update-component", json=body, headers=headers)


def test_dash_callbacks_never_crash(server, fuzz_world):
    """Each registered server callback, 20 forged requests each, as every role."""
    browsers = signed_in(server)
    callbacks = server_callbacks()
    ids = fuzz_world["ids"]
    statuses: list[int] = []

    @fuzz_settings(20)
    @given(data=st.data())
    def fuzz(key: str, data):
        role = data.draw(st.sampled_from(ROLES), label="role")
        body = forge(data, key, callbacks[key], ids)
        raw = None
        shape = data.draw(st.sampled_from(["forged"] * 8 + ["broken", "raw"]), label="shape")
        if shape == "broken":
            body = broken(data, key, body)
        elif shape == "raw":
            raw = data.draw(st.sampled_from([b"{", b"[" * 100_000, b"\xff", b""]), label="raw")
        what = f"{key[:120]} as {role}: {json.dumps(body, default=str)[:600]}"
        note(what)
        response = post_callback(browsers[role], body, raw)
        statuses.append(response.status_code)
        assert_no_crash(response, what)
        if response.status_code >= 400:
            assert response.is_json, what

    for key in sorted(callbacks):
        fuzz(key)
    assert statuses.count(200) > len(statuses) / 2, "most forged requests should get through"
