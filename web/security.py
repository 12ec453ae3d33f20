"""Response headers and cookie flags that every response gets."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import get_settings


class _SessionInterface(SecureCookieSessionInterface):
    """Mark the cookie Secure whenever the request came over https (directly or via a proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_security(app: Flask) -> None:
    settings = get_settings()
    app.config.update(
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
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    ancestors = settings.frame_ancestors

    @app.after_request
    def _headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            f"frame-ancestors {ancestors}; object-src 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
