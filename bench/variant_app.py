"""The app as gunicorn serves it, optionally with this issue's speed fixes taken out again.

`gunicorn bench.variant_app:server` with `BENCH_VARIANT`:

- `fixed` (default): the app exactly as shipped (`app.server`).
- `nocompress`: as shipped, but nothing is compressed (web/performance.py's hooks removed),
  for the first-load benchmark's "compression off" column.
- `naive`: the app as it was before issue 11's speed work, rebuilt from the shipped one:
  no compression; static files without long-lived caching (Dash's defaults: assets
  `no-cache` + ETag, bundles `max-age`); the session cookie opened, verified and re-signed
  on every request, static files included; the Dash CSRF cookie hook reading `current_user`
  (a database read through flask-login's user_loader) before it looks at the response.

Only the benchmarks import this; the naive variant is a baseline, never a way to run.
"""

from __future__ import annotations

import os

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app import server
from settings import get_settings
from web.auth import DASH_CSRF_COOKIE

VARIANTS = ("fixed", "nocompress", "naive")


class _EverySessionInterface(SecureCookieSessionInterface):
    """The session interface before the fix: Secure over https, otherwise Flask's own."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _naive_csrf_cookie(response):
    settings = get_settings()
    if current_user.is_authenticated and response.mimetype in ("text/html", "application/json"):
        response.set_cookie(
            DASH_CSRF_COOKIE,
            generate_csrf(),
            secure=request.is_secure,
            samesite="Strict" if settings.cookie_samesite != "None" else "None",
            path=settings.url_prefix,
        )
    return response


def _strip(app: Flask, variant: str) -> None:
    from web.performance import compress

    hooks = app.after_request_funcs.setdefault(None, [])
    drop = {"_read_static_file"}
    if variant == "naive":
        drop.add("_cache_headers")
    kept = []
    for hook in hooks:
        name = getattr(hook, "__name__", "")
        if name in drop or getattr(hook, "__self__", None) is compress:
            continue
        if variant == "naive" and name == "_dash_csrf_cookie":
            hook = _naive_csrf_cookie
        kept.append(hook)
    hooks[:] = kept
    if variant == "naive":
        app.session_interface = _EverySessionInterface()


VARIANT = os.environ.get("BENCH_VARIANT", "fixed")
if VARIANT not in VARIANTS:
    raise SystemExit(f"BENCH_VARIANT must be one of {', '.join(VARIANTS)}, not {VARIANT!r}")
if VARIANT != "fixed":
    _strip(server, VARIANT)

__all__ = ["server"]
