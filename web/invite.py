"""GET|POST /invite/<token>: join an organisation from an invitation link."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template_string, request, session
from flask_login import login_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import select
from wtforms.validators import ValidationError

from models.db import session_scope
from models.orgs import Organization, User
from models.team import accept_invitation, find_invitation
from models.users import AccountError, verify_password
from settings import get_settings
from web.auth import signed_in_user
from web.viewer import ORG_KEY

bp = Blueprint("invite", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Join {{ org or "syncboard" }}</title>
<link rel="stylesheet" href="{{ prefix }}assets/00_bootstrap.min.css">
<link rel="stylesheet" href="{{ prefix }}assets/syncboard.css">
</head><body class="login-body">
<main class="login-card card shadow-sm"><div class="card-body p-4">
{% if not org %}
  <h1 class="h4">Invitation not valid</h1>
  <p class="text-muted">This link was used already, has expired, or was mistyped. Ask an admin for a new one.</p>
  <a href="{{ prefix }}login">Go to sign in</a>
{% else %}
  <h1 class="h4 mb-1">Join {{ org }}</h1>
  <p class="text-muted mb-4">as {{ role }}, with {{ email }}</p>
  {% if error %}<div class="alert alert-danger py-2" role="alert" id="invite-error">{{ error }}</div>{% endif %}
  <form method="post" novalidate>
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    {% if not existing %}
    <div class="mb-3"><label for="name" class="form-label">Your name</label>
      <input id="name" name="name" class="form-control" autocomplete="name" autofocus></div>
    <div class="mb-3"><label for="password" class="form-label">Choose a password (8+ characters)</label>
      <input id="password" name="password" type="password" class="form-control" autocomplete="new-password" required></div>
    {% else %}
    <div class="mb-3"><label for="password" class="form-label">Your syncboard password</label>
      <input id="password" name="password" type="password" class="form-control" autocomplete="current-password" required autofocus></div>
    {% endif %}
    <button id="invite-submit" type="submit" class="btn btn-primary w-100">Join</button>
  </form>
{% endif %}
</div></main></body></html>"""


def _render(token: str, error: str = "", status: int = 200):
    with session_scope() as db:
        invitation = find_invitation(db, token)
        context = {"org": None}
        if invitation is not None:
            org = db.get(Organization, invitation.org_id)
            existing = db.scalar(select(User.id).where(User.email == invitation.email)) is not None
            context = {
                "org": org.name,
                "role": invitation.role.value.replace("_", " "),
                "email": invitation.email,
                "existing": existing,
            }
    body = render_template_string(
        PAGE, prefix=get_settings().url_prefix, csrf=generate_csrf(), error=error, **context
    )
    return body, status if context["org"] else 404, {"Cache-Control": "no-store"}


@bp.get("/invite/<token>")
def show(token: str):
    return _render(token)


@bp.post("/invite/<token>")
def accept(token: str):
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return _render(token, "The form expired; please try again.", 400)
    password = request.form.get("password", "")
    with session_scope() as db:
        invitation = find_invitation(db, token)
        if invitation is None:
            return _render(token)
        existing = db.scalar(select(User).where(User.email == invitation.email))
        if existing is not None and not verify_password(existing, password):
            return _render(token, "Wrong password for that account.", 401)
        try:
            user = accept_invitation(
                db, token, password=password, name=request.form.get("name", "")
            )
        except AccountError as exc:
            db.rollback()
            return _render(token, str(exc), 422)
        org_id = invitation.org_id
        signed = signed_in_user(user)
    session.clear()
    login_user(signed)
    session[ORG_KEY] = org_id
    return redirect(get_settings().url_prefix)
