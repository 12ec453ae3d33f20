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
