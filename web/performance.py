"""What makes a page fast to load: compressed answers and static files cached for good.

- **Compression** (flask-compress): HTML, JSON (Dash's layout, dependencies and callback
  answers, the API), JS, CSS, SVG and icons, in brotli or gzip as the browser's
  `Accept-Encoding` asks; never for types that are compressed already (fonts, images),
  for bodies under `MIN_SIZE` bytes, or for streamed answers (the CSV exports stream row
  by row and must not be buffered). Static files, which Flask sends as file streams, are
  read into memory first (they are small) so they are compressed too; the compressed body
  of a fingerprinted URL is kept per process, because its content can never change.
- **Caching**: a URL that carries its version — Dash's component bundles
  (`name.v4_4_1m1700000000.js`) and every `/assets/...?m=<mtime>` link Dash writes into
  the page — is `public, max-age=31536000, immutable`, so a reload asks for none of them.
  Unversioned static URLs are `no-cache` (revalidate with the ETag). Pages, callbacks and
  the API stay `no-store` (web/security.py).

Static requests also skip the session and the user lookup altogether (web/security.py's
session interface asks `is_static`), so serving them costs no database or cookie work.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from flask import Flask, Request, Response, request
from flask_compress import Compress

from settings import get_settings

ONE_YEAR = 31536000
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
REVALIDATE = "no-cache"
#: Smaller bodies gain less than the compression header costs.
MIN_SIZE = 500
#: Only text-like types: fonts (woff2), images and archives are compressed already.
COMPRESSIBLE = [
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
]
STATIC_PARTS = ("assets/", "_dash-component-suites/", "_favicon.ico")
#: Compressed bodies of fingerprinted URLs kept per process (Dash's bundles and the assets
#: are ~30 URLs; the cap only guards against someone inventing query strings).
CACHE_ENTRIES = 256

ASSETS = Path(__file__).resolve().parents[1] / "assets"

compress = Compress()


def is_static(path: str) -> bool:
    """Whether `path` is a static file: an asset, a Dash bundle or the favicon."""
    prefix = get_settings().url_prefix
    return path.startswith(tuple(prefix + part for part in STATIC_PARTS))


def is_fingerprinted(req: Request) -> bool:
    """Whether the URL names one version of a static file, so its content never changes.

    Dash's bundles carry the version in the file name (`dash.fingerprint`); assets carry
    it in the query (`?m=<mtime>` from Dash, `?<hash>` in the icon font's CSS).
    """
    from dash.fingerprint import check_fingerprint

    prefix = get_settings().url_prefix
    path = req.path
    if path.startswith(prefix + "_dash-component-suites/"):
        return check_fingerprint(path)[1]
    if path.startswith((prefix + "assets/", prefix + "_favicon.ico")):
        return bool(req.query_string)
    return False


def asset_url(name: str) -> str:
    """The fingerprinted URL of `assets/<name>` (for pages Dash does not render, e.g. /login)."""
    modified = os.path.getmtime(ASSETS / name)  # what Dash writes: ?m=<mtime>
    return f"{get_settings().url_prefix}assets/{name}?m={modified}"


class _FingerprintedBodies:
    """flask-compress's cache backend: keeps the compressed bodies of versioned URLs only."""

    def __init__(self) -> None:
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        return self._bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.split(";", 1)[1].startswith("keep:"):
            return
        self._bodies[key] = value
        while len(self._bodies) > CACHE_ENTRIES:
            self._bodies.popitem(last=False)


_PASS = "pass:"


def _cache_key(req: Request) -> str:
    # flask-compress asks every non-streamed answer for a key; only versioned static files
    # are worth keeping, the rest get a key the backend never stores.
    if is_fingerprinted(req) and req.method in ("GET", "HEAD"):
        return "keep:" + req.full_path
    return _PASS + str(id(req))


def _read_static_file(response: Response) -> Response:
    """Load a static file's stream so flask-compress, which leaves streams alone, takes it."""
    if (
        response.status_code == 200
        and response.is_streamed
        and response.mimetype in compress.compress_mimetypes_set
        and is_static(request.path)
    ):
        response.direct_passthrough = False
        response.make_sequence()
    return response


def _cache_headers(response: Response) -> Response:
    if not is_static(request.path) or response.status_code not in (200, 304):
        return response
    response.headers["Cache-Control"] = IMMUTABLE if is_fingerprinted(request) else REVALIDATE
    return response


def init_performance(server: Flask) -> None:
    """Compress answers and cache versioned static files on `server` (app.py calls this)."""
    server.config.update(
        COMPRESS_REGISTER=False,
        COMPRESS_MIMETYPES=COMPRESSIBLE,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIN_SIZE=MIN_SIZE,
        # Streamed answers (CSV exports) pass through untouched: row by row, no buffering.
        COMPRESS_STREAMS=False,
        COMPRESS_CACHE_BACKEND=_FingerprintedBodies,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    compress.init_app(server)
    # Flask runs after_request hooks last-registered first: read the file, compress, then
    # set the cache headers (which the 304s answered by flask-compress get too).
    server.after_request(_cache_headers)
    server.after_request(compress.after_request)
    server.after_request(_read_static_file)
