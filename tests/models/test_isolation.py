"""No query function shows one organisation's data to another, whatever the role.

Every public function of models/ whose first parameters are (session, viewer) is found by
inspection and called as every role of org A (and org B's admin), with the other
organisation's ids wherever it takes an id. Each organisation's rows carry a marker
string (MARK-A, MARK-B); no answer may contain the other's marker or its org id.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

import models
from connectors.catalog import connector_facts
from models.base import utcnow
from models.calls import CallFilters
from models.connections import get_connection
from models.kpis import Period
from models.orgs import User
from models.records import Call
from models.reports import parse_definition
from models.runs import finish_run, request_run
from models.scope import build_viewer
from models.sync import Connection
from models.sync_options import parse_options
from models.upserts import upsert_batch
from tests.helpers import make_connection

#: Functions this test cannot drive with made-up arguments (they take SQL expressions).
NOT_DRIVEN = {"models.kpis.count_by", "models.kpis.call_kpis_by"}
ALLOWED_ERRORS = (LookupError, PermissionError, ValueError)


def viewer_functions() -> dict[str, Any]:
    found = {}
    for info in pkgutil.iter_modules(models.__path__):
        if info.name == "migrations":
            continue
        module = importlib.import_module(f"models.{info.name}")
        for name, func in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(func):
                continue
            if func.__module__ != module.__name__:
                continue
            params = list(inspect.signature(func).parameters)
            if params[:2] == ["session", "viewer"]:
                found[f"{module.__name__}.{name}"] = func
    return found


@dataclasses.dataclass
class Org:
    id: int
    mark: str
    connection: int
    run: int
    number: int
    user: int


def _fill(db, world, org_id: int, mark: str, number: int, user: int) -> Org:
    now = utcnow()
    conn = make_connection(db, org_id, "demo", name=f"Source {mark}")
    with db.session() as s:
        batches = {
            "contacts": [{"external_id": f"{mark}-c", "first_name": mark, "email": f"{mark}@x.io"}],
            "cases": [{"external_id": f"{mark}-k", "title": mark, "reported_at": now}],
            "tickets": [{"external_id": f"{mark}-t", "subject": mark}],
            "sms_messages": [
                {
                    "external_id": f"{mark}-s",
                    "phone_number_id": number,
                    "direction": "inbound",
                    "from_number": mark,
                    "body": mark,
                    "sent_at": now - timedelta(hours=1),
                }
            ],
        }
        for table, rows in batches.items():
            upsert_batch(s, table, org_id, "demo", rows, connection_id=conn.id)
        s.execute(
            update(Call)
            .where(Call.org_id == org_id)
            .values(connection_id=conn.id, from_number=mark, to_number=mark)
        )
        owner = build_viewer(s, s.get(User, world.users["platform"]), org_id)
        run = request_run(
            s,
            get_connection(s, owner, conn.id),
            stream=None,
            options=parse_options({}),
            trigger="cli",
        )
        finish_run(s, run.id, "failed", error=f"{mark} went wrong")
        s.commit()
        return Org(org_id, mark, conn.id, run.id, number, user)


@pytest.fixture
def two_orgs(db, world):
    a = _fill(db, world, world.org_a, "MARK-A", world.numbers["a1"], world.users["agent_a1"])
    b = _fill(db, world, world.org_b, "MARK-B", world.numbers["b1"], world.users["admin_b"])
    return a, b


def _spec():
    from models.reports import METRICS

    return parse_definition({"metrics": [next(iter(METRICS))], "group": "day"})


def _arguments(func, foreign: Org, session) -> dict[str, Any]:
    """Keyword arguments for the function's required parameters, naming the other org's ids."""
    now = utcnow()
    values: dict[str, Any] = {
        "filters": CallFilters(),
        "period": Period.of(now - timedelta(days=30), now + timedelta(days=1)),
        "connection_id": foreign.connection,
        "connection_ids": [foreign.connection],
        "run_id": foreign.run,
        "run_ids": [foreign.run],
        "model_name": "calls",
        "conn": session.get(Connection, foreign.connection),
        "stream": "contacts",
        "report_id": 10**6,
        "spec": _spec(),
        "name": "isolation",
        "user_id": foreign.user,
        "role": "agent",
        "number_ids": [foreign.number],
        "email": "newcomer@example.com",
        "invitation_id": 10**6,
        "connector": "demo",
        "minutes": 30,
        "catalogue": connector_facts(),
    }
    kwargs = {}
    for param in list(inspect.signature(func).parameters.values())[2:]:
        if param.default is param.empty and param.kind in (
            param.POSITIONAL_OR_KEYWORD,
            param.KEYWORD_ONLY,
        ):
            kwargs[param.name] = values[param.name]
    return kwargs


def _plain(value: Any, depth: int = 0) -> Any:
    """Anything a query returns, as nested builtins (ORM rows by their columns)."""
    if depth > 6:
        return repr(value)
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return _plain(value.to_dict("records"), depth + 1)
    if hasattr(value, "__table__"):
        return {c.key: getattr(value, c.key) for c in value.__table__.columns}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    if hasattr(value, "_mapping"):  # a Row
        return _plain(dict(value._mapping), depth + 1)
    if inspect.isgenerator(value) or type(value).__name__.endswith("iterator"):
        return [_plain(v, depth + 1) for v in value]
    return value


def _org_ids(value: Any) -> set:
    if isinstance(value, dict):
        own = {value["org_id"]} if "org_id" in value else set()
        return own.union(*(_org_ids(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_org_ids(v) for v in value)) if value else set()
    return set()


#: How many calls each viewer's own scope holds (world: 9 in A, 4 on a1, 5 on a2+a3, 5 in B).
OWN_CALLS = {
    ("admin_a", "A"): 9,
    ("manager_a", "A"): 9,
    ("agent_a1", "A"): 4,
    ("agent_a2", "A"): 5,
    ("platform", "A"): 9,
    ("admin_b", "B"): 5,
    ("platform", "B"): 5,
}
VIEWERS = [
    ("admin_a", "A"),
    ("manager_a", "A"),
    ("agent_a1", "A"),
    ("agent_a2", "A"),
    ("platform", "A"),
    ("admin_b", "B"),
    ("platform", "B"),
]


@pytest.mark.parametrize(("user", "org"), VIEWERS)
def test_no_query_answers_with_another_orgs_data(db, world, two_orgs, user, org):
    a, b = two_orgs
    own, foreign = (a, b) if org == "A" else (b, a)
    functions = viewer_functions()
    assert len(functions) > 40 and set(functions) >= NOT_DRIVEN
    leaks, saw_own = [], []
    for qualified, func in sorted(functions.items()):
        if qualified in NOT_DRIVEN:
            continue
        with db.session() as s:
            viewer = build_viewer(s, s.get(User, world.users[user]), own.id)
            assert viewer.org_id == own.id
            try:
                answer = _plain(func(s, viewer, **_arguments(func, foreign, s)))
            except ALLOWED_ERRORS:
                continue
            finally:
                s.rollback()
        text = repr(answer)
        if qualified == "models.calls.count_calls":
            assert answer == OWN_CALLS[user, org], (user, org, answer)
        if foreign.mark in text or foreign.id in _org_ids(answer):
            leaks.append(f"{qualified}: {text[:300]}")
        if own.mark in text:
            saw_own.append(qualified)
    assert not leaks, f"{user} in org {org} saw the other organisation's data:\n" + "\n".join(leaks)
    # the markers are really read back, so an empty answer everywhere would not pass silently
    assert len(saw_own) >= 3, saw_own
