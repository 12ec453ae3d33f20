"""Every registered page renders for every role without an error (catches bad component props)."""

from __future__ import annotations

import json

import dash
import pytest
from flask import g
from flask_login import login_user

from models.orgs import User
from web.auth import signed_in_user

KWARGS = {"source_id": "1", "stream": "contacts", "run_id": "1"}


@pytest.mark.parametrize("who", ["admin_a", "manager_a", "agent_a1"])
def test_every_page_renders(server, world, db, who):
    with db.session() as s:
        user = signed_in_user(s.get(User, world.users[who]))
    rendered = []
    for page in dash.page_registry.values():
        with server.test_request_context(page["relative_path"]):
            login_user(user)
            layout = page["layout"]
            tree = (
                layout(
                    **{
                        k: v
                        for k, v in KWARGS.items()
                        if f"<{k}>" in (page.get("path_template") or "")
                    }
                )
                if callable(layout)
                else layout
            )
            text = json.dumps(
                tree.to_plotly_json(),
                default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o),
            )
            rendered.append((page["path"], len(text)))
    assert len(rendered) == len(dash.page_registry)
    assert all(size > 50 for _path, size in rendered)


def _ids(component, found: set) -> set:
    """Every id in a component tree (pattern-matching ids by their `type`)."""
    cid = getattr(component, "id", None)
    if cid is not None:
        found.add(cid["type"] if isinstance(cid, dict) else cid)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            _ids(child, found)
    for name in getattr(component, "_prop_names", []):
        value = getattr(component, name, None)
        if name != "children" and hasattr(value, "to_plotly_json"):
            _ids(value, found)
    return found


def _declared_ids() -> set:
    """Ids the view builders give components: `id=` arguments and `{"type": ...}` ids in
    pages/, following names to the string constants of the pages' `_ids` modules.

    Tables and cards that callbacks draw exist in no layout until data arrives; their ids
    are checked here, where they are written.
    """
    import ast
    from pathlib import Path

    from pages import _table

    root = Path(__file__).resolve().parents[2]
    constants: dict[str, str] = {}
    trees = [
        ast.parse(path.read_text())
        for folder in ("pages", "callbacks")
        for path in sorted((root / folder).glob("*.py"))
    ]
    for tree in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value

    def text(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        if isinstance(node, ast.JoinedStr) and node.values:  # f"{PREFIX}-table"
            parts = [
                text(v.value) if isinstance(v, ast.FormattedValue) else text(v) for v in node.values
            ]
            return "".join(parts) if all(p is not None for p in parts) else None
        return None

    found = set()
    for prefix in (v for k, v in constants.items() if k.endswith("PREFIX")):
        helpers = (
            _table.table_id,
            _table.search_id,
            _table.count_id,
            _table.export_id,
            _table.refresh_id,
        )
        found.update(helper(prefix) for helper in helpers)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "id":
                value = node.value
                if isinstance(value, ast.Dict):
                    for key, item in zip(value.keys, value.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "type":
                            value = item
                name = text(value)
                if name:
                    found.add(name)
    return found


def test_every_callback_id_is_in_some_layout(server, world, db):
    """A callback whose ids no layout holds never fires; Dash says nothing in production."""
    import pkgutil

    import callbacks
    from models.scope import build_viewer
    from models.team import invite
    from tests.helpers import login, make_connection, run_sync

    conn = make_connection(db, world.org_a, "demo", settings={"records": 5, "delay_ms": 0})
    run = run_sync(conn, "contacts")
    with db.session() as s:
        admin = build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a)
        invite(s, admin, "someone-new@example.com", "agent")
        s.commit()
    kwargs = {"source_id": str(conn.id), "stream": "contacts", "run_id": str(run.id)}
    client = server.test_client()
    login(client, "platform@example.com")
    client.get("/_dash-dependencies")  # Dash merges every registered callback on first use

    with db.session() as s:  # a platform admin: every control, and the org switcher
        user = signed_in_user(s.get(User, world.users["platform"]))
    found: set = set()
    app = dash.get_app()
    with server.test_request_context("/"):
        login_user(user)
        g.pop("_viewer", None)  # an app context another test left pushed keeps its g
        _ids(app.layout() if callable(app.layout) else app.layout, found)
        for page in dash.page_registry.values():
            layout = page["layout"]
            args = {
                k: v for k, v in kwargs.items() if f"<{k}>" in (page.get("path_template") or "")
            }
            _ids(layout(**args) if callable(layout) else layout, found)
    found |= _declared_ids()
    missing = set()
    for spec in app.callback_map.values():
        for dep in spec["inputs"] + spec["state"]:
            cid = json.loads(dep["id"])["type"] if dep["id"].startswith("{") else dep["id"]
            if cid not in found:
                missing.add(cid)
    outputs = {
        part.rsplit(".", 1)[0] for key in app.callback_map for part in key.strip(".").split("...")
    }
    for cid in outputs:
        cid = json.loads(cid)["type"] if cid.startswith("{") else cid
        if cid.split("@")[0] not in found:
            missing.add(cid)
    assert len(found) > 100 and "overview-chart-days" in found and "_pages_location" in found
    assert "no-such-id" not in found
    assert missing == set(), sorted(missing)
    # helpers shared by page callbacks (callbacks/_table.py) register nothing on import
    modules = {m.name for m in pkgutil.iter_modules(callbacks.__path__) if m.name[0] != "_"}
    assert modules <= set(callbacks.__all__)


def test_the_validation_layout_holds_every_callback_id(server, world, db):
    """The browser checks callbacks against the validation layout, built as nobody: a
    control only admins see must be in it too, or every page logs "ID not found"."""
    from pages._shell import validation_layout
    from tests.helpers import login

    client = server.test_client()
    login(client, "platform@example.com")
    client.get("/_dash-dependencies")
    app = dash.get_app()
    with server.test_request_context("/"):
        found = _ids(validation_layout(app), set())
    missing = set()
    for key, spec in app.callback_map.items():
        # pattern-matching ids (JSON) may match nothing; the renderer checks plain ones
        for dep in spec["inputs"] + spec["state"]:
            if not dep["id"].startswith("{"):
                missing |= {dep["id"]} - found
        for part in key.strip(".").split("..."):
            cid = part.rsplit(".", 1)[0]
            if not cid.startswith("{"):
                missing |= {cid.split("@")[0]} - found
    assert missing == set(), sorted(missing)
