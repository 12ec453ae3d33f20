"""Every registered page renders for every role without an error (catches bad component props)."""

from __future__ import annotations

import json

import dash
import pytest
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


def test_every_callback_id_is_in_some_layout(server, world, db):
    """A callback whose ids no layout holds never fires; Dash says nothing in production."""
    import pkgutil

    import callbacks

    with db.session() as s:
        user = signed_in_user(s.get(User, world.users["admin_a"]))
    found: set = set()
    app = dash.get_app()
    with server.test_request_context("/"):
        login_user(user)
        _ids(app.layout() if callable(app.layout) else app.layout, found)
        for page in dash.page_registry.values():
            layout = page["layout"]
            args = {
                k: v for k, v in KWARGS.items() if f"<{k}>" in (page.get("path_template") or "")
            }
            _ids(layout(**args) if callable(layout) else layout, found)
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
    assert missing == set()
    modules = {m.name for m in pkgutil.iter_modules(callbacks.__path__)}
    assert modules <= set(callbacks.__all__)
