"""Sign-in: flask-login sessions, the /login form, /logout, the login rate limit, the auth gate.

Sessions live in signed cookies. The cookie carries the user's `session_version`;
signing out or changing the password bumps it, so a copied cookie stops working on
every process at once (this signs the user out on all devices, on purpose).

A session is also bound to the browser's User-Agent: a cookie replayed from another
browser reads as signed out. It is not bound to the IP address, because phones and
offices behind changing NAT addresses would be signed out all day. (flask-login's
"strong" protection does not apply to permanent sessions, which ours are.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    g,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user, user_logged_in
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from models.db import session_scope
from models.scope import AccessDenied
from models.users import authenticate, load_user, revoke_sessions
from settings import get_settings
from web.performance import asset_url, is_static

login_manager = LoginManager()
login_manager.session_protection = None  # replaced by the User-Agent binding above
limiter = Limiter(key_func=get_remote_address)
bp = Blueprint("auth", __name__)

BAD_LOGIN = "Wrong email or password."
TOO_MANY = "Too many sign-in attempts. Wait a minute, then try again."


@dataclass
class SignedInUser:
    """What a request knows about its user; detached from any database session."""

    id: int
    email: str
    name: str
    is_platform_admin: bool
    session_version: int
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


def signed_in_user(user) -> SignedInUser:
    return SignedInUser(
        user.id, user.email, user.name, user.is_platform_admin, user.session_version
    )


AGENT_KEY = "_agent"


def _agent_fingerprint() -> str:
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha256(agent.encode("utf-8", "replace")).hexdigest()[:32]


@user_logged_in.connect
def _bind_to_agent(_app, **_extra) -> None:
    session[AGENT_KEY] = _agent_fingerprint()


@login_manager.user_loader
def _load(cookie_id: str) -> SignedInUser | None:
    if session.get(AGENT_KEY) != _agent_fingerprint():
        return None
    try:
        user_id, version = (int(part) for part in cookie_id.split(":"))
    except ValueError:
        return None
    with session_scope() as db:
        user = load_user(db, user_id, version)
        return signed_in_user(user) if user else None


def prefixed(path: str) -> str:
    """`path` under the configured URL prefix."""
    return get_settings().url_prefix + path.lstrip("/")


def _safe_next(target: str | None) -> str:
    prefix = get_settings().url_prefix
    if not target:
        return prefix
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith(prefix) or target.startswith("//"):
        return prefix
    return target


def _email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()


def _failed(response) -> bool:
    """Only failed attempts count against the limit."""
    return response.status_code != 302


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · syncboard</title>
<link rel="stylesheet" href="{{ asset('00_bootstrap.min.css') }}">
<link rel="stylesheet" href="{{ asset('syncboard.css') }}">
</head><body class="login-body">
<main class="login-card card shadow-sm">
  <div class="card-body p-4">
    <h1 class="h4 mb-1">syncboard</h1>
    <p class="text-muted mb-4">Sign in to your organisation's dashboard.</p>
    {% if error %}<div class="alert alert-danger py-2" role="alert" id="login-error">{{ error }}</div>{% endif %}
    {% if notice %}<div class="alert alert-info py-2" role="status">{{ notice }}</div>{% endif %}
    <form method="post" action="{{ prefix }}login" novalidate>
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <input type="hidden" name="next" value="{{ next }}">
      <div class="mb-3">
        <label for="email" class="form-label">Email</label>
        <input id="email" name="email" type="email" class="form-control" value="{{ email }}"
               autocomplete="username" required {% if not email %}autofocus{% endif %}
               {% if error %}aria-invalid="true" aria-describedby="login-error"{% endif %}>
      </div>
      <div class="mb-3">
        <label for="password" class="form-label">Password</label>
        <input id="password" name="password" type="password" class="form-control"
               autocomplete="current-password" required {% if email %}autofocus{% endif %}
               {% if error %}aria-invalid="true" aria-describedby="login-error"{% endif %}>
      </div>
      <button id="login-submit" type="submit" class="btn btn-primary w-100">Sign in</button>
    </form>
  </div>
</main></body></html>"""


def _form(error: str = "", status: int = 200, notice: str = ""):
    body = render_template_string(
        LOGIN_PAGE,
        prefix=get_settings().url_prefix,
        asset=asset_url,
        csrf=generate_csrf(),
        error=error,
        notice=notice,
        email=(request.form.get("email") or "").strip(),
        next=_safe_next(request.values.get("next")),
    )
    return body, status, {"Cache-Control": "no-store"}


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    notice = "You have been signed out." if request.args.get("signed_out") else ""
    return _form(notice=notice)


@bp.post("/login")
@limiter.limit(lambda: get_settings().login_limit, deduct_when=_failed, error_message=TOO_MANY)
@limiter.limit(
    lambda: get_settings().login_limit,
    key_func=_email_key,
    deduct_when=_failed,
    error_message=TOO_MANY,
)
def login_submit():
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return _form("Your sign-in form expired. Please try again.", 400)
    with session_scope() as db:
        user = authenticate(db, request.form.get("email", ""), request.form.get("password", ""))
        signed = signed_in_user(user) if user else None
    if signed is None:
        return _form(BAD_LOGIN, 401)
    session.clear()
    login_user(signed)
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")), 302)


@bp.post("/logout")
def logout():
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return jsonify(error="The sign-out form expired; reload the page and try again."), 400
    if current_user.is_authenticated:
        with session_scope() as db:
            revoke_sessions(db, current_user.id)
    logout_user()
    session.clear()
    return redirect(prefixed("login") + "?signed_out=1", 302)


def _public(path: str) -> bool:
    prefix = get_settings().url_prefix
    public = ("login", "logout", "healthz", "invite/", "assets/", "_dash-component-suites/", "api/")
    return path == prefix + "_favicon.ico" or any(path.startswith(prefix + p) for p in public)


DASH_CSRF_COOKIE = "_csrf_token"
#: Set on `g` when a callback's X-CSRFToken header validated and the cookie came with it.
CSRF_CHECKED = "_dash_csrf_checked"


def _gate():
    """Every page and every Dash endpoint needs a signed-in user; callbacks also a CSRF header."""
    if _public(request.path):
        return None
    if current_user.is_authenticated:
        if request.method == "POST" and request.path.endswith("/_dash-update-component"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (ValidationError, CSRFError):
                return jsonify(error="Your page is out of date. Reload it and try again."), 403
            g.setdefault(CSRF_CHECKED, request.cookies.get(DASH_CSRF_COOKIE) is not None)
        return None
    if "/_dash-" in request.path or "/_reload-hash" in request.path or request.method != "GET":
        return jsonify(error="Sign in required."), 401
    return redirect(prefixed("login") + "?next=" + request.full_path.rstrip("?"))


def limiter_state() -> str:
    """Where sign-in attempts are counted: "redis", "memory", or "memory (redis unreachable)"."""
    if not get_settings().redis_url:
        return "memory"
    return "memory (redis unreachable)" if limiter._storage_dead else "redis"


def init_auth(app: Flask) -> None:
    """Wire login, CSRF, the limiter and the gate into `app`."""
    settings = get_settings()
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX="syncboard-limits",
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis down must not open the door: the same limits move to this process's memory
        # (per process, so N processes allow up to N times the limit) until Redis answers.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1},
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp, url_prefix=settings.url_prefix.rstrip("/") or None)
    app.before_request(_gate)

    @app.after_request
    def _dash_csrf_cookie(response):
        """Dash's renderer copies this cookie into an X-CSRFToken header on every callback.

        Set on pages and Dash's JSON answers for a signed-in user, checked cheapest first:
        static files and other types never look up the user, and a callback whose header
        the gate just validated already holds a good token (no re-signing per callback).
        """
        if (
            response.mimetype not in ("text/html", "application/json")
            or is_static(request.path)
            or g.get(CSRF_CHECKED)
        ):
            return response
        if current_user.is_authenticated:
            response.set_cookie(
                DASH_CSRF_COOKIE,
                generate_csrf(),
                secure=request.is_secure,
                samesite="Strict" if settings.cookie_samesite != "None" else "None",
                path=settings.url_prefix,
            )
        return response

    @app.errorhandler(AccessDenied)
    def _denied(exc):
        return jsonify(error=str(exc) or "You do not have permission to do that."), 403

    @app.errorhandler(429)
    def _too_many(_exc):
        if request.path.endswith("/login"):
            return _form(TOO_MANY, 429)
        return jsonify(error=TOO_MANY), 429
