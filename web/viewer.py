"""The viewer of the current request, built on the server from the session, never from inputs."""

from __future__ import annotations

from flask import g, has_request_context, session
from flask_login import current_user

from models.db import session_scope
from models.scope import AccessDenied, Viewer, build_viewer, orgs_for
from models.users import get_user

ORG_KEY = "org_id"


def current_viewer() -> Viewer:
    """The signed-in user in their chosen organisation; AccessDenied when nobody is signed in."""
    if not has_request_context() or not current_user.is_authenticated:
        raise AccessDenied("Sign in required.")
    cached = g.get("_viewer")
    if cached is not None:
        return cached
    with session_scope() as db:
        user = get_user(db, current_user.id)
        if user is None:
            raise AccessDenied("Sign in required.")
        viewer = build_viewer(db, user, session.get(ORG_KEY))
    g._viewer = viewer
    return viewer


def my_orgs() -> list[tuple[int, str, str]]:
    """(id, name, role) of the organisations the signed-in user may switch to (read once per
    request: the frame and the tab title both ask)."""
    cached = g.get("_my_orgs")
    if cached is not None and cached[0] == current_user.id:
        return cached[1]
    with session_scope() as db:
        user = get_user(db, current_user.id)
        orgs = orgs_for(db, user) if user else []
    g._my_orgs = (current_user.id, orgs)
    return orgs


def current_org_name() -> str | None:
    """The name of the viewer's current organisation; None when signed out or in none."""
    try:
        org_id = current_viewer().org_id
    except AccessDenied:
        return None
    return next((name for oid, name, _role in my_orgs() if oid == org_id), None)


def switch_org(org_id: int | None) -> Viewer:
    """Make `org_id` the current organisation if the user belongs to it."""
    if org_id not in {oid for oid, _name, _role in my_orgs()}:
        raise AccessDenied("You are not a member of that organisation.")
    session[ORG_KEY] = org_id
    g.pop("_viewer", None)
    return current_viewer()
