"""Response headers and cookie flags that every response gets.

The Content-Security-Policy allows scripts from our own origin plus the hashes of the
inline scripts Dash writes (its renderer start-up and any clientside callbacks), so an
injected `<script>` never runs. Styles keep 'unsafe-inline' because Plotly and the Dash
components set style attributes and inject <style> elements at run time. Recordings play
from the phone vendor's https host, hence `media-src https:`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, abort, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import get_settings
from web.uploads import MAX_BYTES as MAX_UPLOAD_BYTES


class _SessionInterface(SecureCookieSessionInterface):
    """Mark the cookie Secure whenever the request came over https (directly or via a proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


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
    cacheable = tuple(
        settings.url_prefix + p for p in ("assets/", "_dash-component-suites/", "_favicon.ico")
    )

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
        if not request.path.startswith(cacheable):
            # Pages, callbacks and API answers carry one organisation's data: never keep them.
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
