"""GET|POST /invite/<token>: join an organisation from an invitation link.

The page looks the same whether or not the invited address already has an account: it
offers "create your account" and "sign in to accept". An existing account joins only
while signed in, so its password is checked by the sign-in form and its limiter, never
here. Refusing to create a second account for a taken address necessarily differs from
creating one; that answer is the same words for every refusal and is rate limited.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from flask import Blueprint, has_request_context, redirect, render_template_string, request, session
from flask_login import current_user, login_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from models.db import session_scope
from models.team import accept_invitation, invitation_summary
from models.users import AccountError
from settings import get_settings
from web.auth import TOO_MANY, limiter, prefixed, signed_in_user
from web.viewer import ORG_KEY

bp = Blueprint("invite", __name__)

#: host[:port] as a browser may send it: a DNS name, IPv4 or [IPv6], nothing else.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)


def _origin_of(url: str) -> str:
    """scheme://host[:port] of an http(s) URL whose host is well formed, else ""."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc or ""):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def public_origin() -> str:
    """The scheme://host[:port] that invitation links start with ("" when none is known).

    Decided in this order, because a link mailed to someone must name the address people
    really use, and a Host header is the classic way to poison such a link:
    1. SYNCBOARD_PUBLIC_URL, when it is set (mail sent by a worker or the CLI has no request
       to look at, and an operator knows the address best);
    2. the `Origin` header of the request: browsers set it on every POST a page makes and no
       page script can change it, so it names the address the admin's browser is at — right
       even behind a proxy that does not forward Host;
    3. the request's own scheme and Host (after ProxyFix for SYNCBOARD_PROXY_HOPS trusted
       proxies), when no usable Origin came (a script, not a browser; a sandboxed frame's
       "null"), if it is a well-formed host.
    Links are made only in callbacks that need the org admin's session cookie and CSRF token,
    so a forged Host or Origin can only come from that admin and poison only their own links.
    """
    configured = get_settings().public_url
    if configured:
        return configured
    if not has_request_context():
        return ""
    sent = _origin_of(request.headers.get("Origin") or "")  # "null" from sandboxed frames
    return sent or _origin_of(f"{request.scheme}://{request.host}")


def invite_url(token: str) -> str:
    """The absolute link of an invitation (scheme, host and SYNCBOARD_URL_PREFIX)."""
    return f"{public_origin()}{get_settings().url_prefix}invite/{token}"


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
  {% if signed_in_as == email %}
  <form method="post" novalidate>
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <input type="hidden" name="action" value="join">
    <button id="invite-join" type="submit" class="btn btn-primary w-100" autofocus>Join {{ org }}</button>
  </form>
  {% elif signed_in_as %}
  <p>You are signed in as {{ signed_in_as }}. This invitation is for {{ email }}:
     sign out, then open this link again.</p>
  <form method="post" action="{{ prefix }}logout">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <button id="invite-signout" type="submit" class="btn btn-outline-secondary w-100">Sign out</button>
  </form>
  {% else %}
  <form method="post" novalidate>
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <input type="hidden" name="action" value="create">
    <div class="mb-3"><label for="name" class="form-label">Your name</label>
      <input id="name" name="name" class="form-control" autocomplete="name" autofocus></div>
    <div class="mb-3"><label for="password" class="form-label">Choose a password (8+ characters)</label>
      <input id="password" name="password" type="password" class="form-control" autocomplete="new-password" required></div>
    <button id="invite-submit" type="submit" class="btn btn-primary w-100">Create account and join</button>
  </form>
  <p class="mt-3 mb-0 small text-center">Already use syncboard with {{ email }}?
    <a id="invite-signin" href="{{ login_url }}">Sign in to accept</a></p>
  {% endif %}
{% endif %}
</div></main></body></html>"""


def _render(token: str, error: str = "", status: int = 200):
    with session_scope() as db:
        found = invitation_summary(db, token)
        context: dict = {"org": None}
        if found is not None:
            invitation, org_name = found
            context = {
                "org": org_name,
                "role": invitation.role.value.replace("_", " "),
                "email": invitation.email,
            }
    signed_in_as = current_user.email if current_user.is_authenticated else ""
    body = render_template_string(
        PAGE,
        prefix=get_settings().url_prefix,
        csrf=generate_csrf(),
        error=error,
        signed_in_as=signed_in_as,
        login_url=prefixed("login") + "?next=" + quote(prefixed(f"invite/{token}"), safe="/"),
        **context,
    )
    return body, status if context["org"] else 404, {"Cache-Control": "no-store"}


@bp.get("/invite/<token>")
def show(token: str):
    return _render(token)


@bp.post("/invite/<token>")
@limiter.limit(lambda: get_settings().login_limit, error_message=TOO_MANY)
def accept(token: str):
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return _render(token, "The form expired; please try again.", 400)
    joining = request.form.get("action") == "join"
    if joining and not current_user.is_authenticated:
        return _render(token, "Sign in first, then accept the invitation.", 401)
    with session_scope() as db:
        found = invitation_summary(db, token)
        if found is None:
            return _render(token)
        org_id = found[0].org_id
        try:
            user = accept_invitation(
                db,
                token,
                password=str(request.form.get("password", "")),
                name=str(request.form.get("name", ""))[:200],
                user_id=current_user.id if joining else None,
            )
        except AccountError as exc:
            db.rollback()
            return _render(token, str(exc), 422)
        signed = signed_in_user(user)
    if not joining:
        session.clear()
        login_user(signed)
    session[ORG_KEY] = org_id
    return redirect(get_settings().url_prefix)
