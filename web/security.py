"""Response headers and cookie flags that every response gets.

The Content-Security-Policy allows scripts from our own origin plus the hashes of the
inline scripts Dash writes (its renderer start-up and any clientside callbacks), so an
injected `<script>` never runs. Styles keep 'unsafe-inline' because Plotly and the Dash
components set style attributes and inject <style> elements at run time. Recordings play
from the phone vendor's https host, hence `media-src https:`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from flask import Flask, Request, abort, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import get_settings
from web.performance import is_static
from web.uploads import MAX_BYTES as MAX_UPLOAD_BYTES

#: A permanent session's cookie is re-signed and re-sent at most this often (seconds) when
#: nothing in it changed, instead of on every answer: its 12-hour lifetime then counts from
#: at most this long after the last request.
SESSION_REFRESH_AFTER = 300


class _SignedSession(SecureCookieSession):
    """A cookie session that remembers when its cookie was signed."""

    signed_at: float | None = None


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions that cost nothing on static files and are re-sent sparingly.

    - The cookie is Secure whenever the request came over https (directly or via a proxy).
    - Static files (assets, Dash bundles, the favicon) get no session at all: the cookie is
      neither verified nor re-signed nor sent back, and with no session flask-login sees no
      user, so its user_loader (a database read) never runs for them.
    - An unchanged permanent session is re-sent only when its cookie is older than
      `SESSION_REFRESH_AFTER`, not on every callback.
    """

    session_class = _SignedSession

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app: Flask, request: Request) -> _SignedSession | None:
        if is_static(request.path):
            return None  # Flask substitutes its read-only null session, never saved
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or serializer is None:
            return _SignedSession()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return _SignedSession()
        session = _SignedSession(data)
        session.signed_at = signed.timestamp()
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= SESSION_REFRESH_AFTER


#: Any request body: forms, callbacks and API calls are small.
MAX_BODY = 2 * 1024 * 1024
#: A callback that carries an upload (base64 inflates by 4/3), allowed to org admins only.
MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024


def _limit_bodies() -> None:
    """Raise the body limit for an org admin's callbacks, and refuse any longer body: 413.

    Werkzeug refuses a larger Content-Length before anything is read. A chunked body has
    no length: werkzeug reads it only up to the limit and would hand on the truncated
    part, so it is read here (at most the limit, then cached) and refused when it fills it.
    """
    if request.path.endswith("/_dash-update-component") and (
        request.content_length is None or request.content_length > MAX_BODY
    ):
        from models.scope import AccessDenied
        from web.viewer import current_viewer

        try:
            if current_viewer().can_manage_syncs:
                request.max_content_length = MAX_UPLOAD_BODY
        except AccessDenied:
            pass
    if (
        request.content_length is None
        and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    ):
        limit = request.max_content_length or MAX_BODY
        if len(request.get_data(cache=True)) >= limit:
            abort(413)


def init_security(app: Flask) -> None:
    settings = get_settings()
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="syncboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE=settings.cookie_samesite,
        SESSION_COOKIE_SECURE=settings.cookie_samesite == "None",
        SESSION_COOKIE_PATH=settings.url_prefix,
        PERMANENT_SESSION_LIFETIME=60 * 60 * 12,
    )
    app.session_interface = _SessionInterface()
    if settings.proxy_hops:
        hops = settings.proxy_hops
        # Flask's documented way to wrap its WSGI app, though typed as a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    app.before_request(_limit_bodies)

    @app.errorhandler(413)
    def _too_large(_exc):
        limit = request.max_content_length or MAX_BODY
        return jsonify(error=f"The request is larger than {limit // (1024 * 1024)} MB."), 413

    ancestors = settings.frame_ancestors

    @app.after_request
    def _headers(response):
        hashes = " ".join(_script_hashes())
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "media-src 'self' https:; worker-src 'self' blob:; "
            f"frame-ancestors {ancestors}; object-src 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not is_static(request.path):
            # Static files' caching is web/performance.py's. Pages, callbacks and API answers carry one organisation's data: never keep them.
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


_hash_source: Callable[[], Sequence[str]] = lambda: ()  # noqa: E731


def _script_hashes() -> Sequence[str]:
    return _hash_source()


def allow_inline_scripts_of(dash_app) -> None:
    """Put the hashes of `dash_app`'s inline scripts into the policy (app.py calls this).

    Read per response: Dash adds the inline scripts of clientside callbacks while it sets
    itself up on the first request.
    """
    global _hash_source
    _hash_source = dash_app.csp_hashes
