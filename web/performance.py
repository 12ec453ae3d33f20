"""What makes a page fast to load: compressed answers and static files cached for good.

- **Compression** (flask-compress): HTML, JSON (Dash's layout, dependencies and callback
  answers, the API), JS, CSS, SVG and icons, in brotli or gzip as the browser's
  `Accept-Encoding` asks; never for types that are compressed already (fonts, images),
  for bodies under `MIN_SIZE` bytes, or for streamed answers (the CSV exports stream row
  by row and must not be buffered). Static files, which Flask sends as file streams, are
  read into memory first (they are small) so they are compressed too. The compressed body
  of a fingerprinted URL is kept, because its content can never change: in memory, and in
  its best encoding (brotli 11) under `instance/compressed/`, made once in the background.
- **Caching**: a URL that carries its version — Dash's component bundles
  (`name.v4_4_1m1700000000.js`) and every `/assets/...?m=<mtime>` link Dash writes into
  the page — is `public, max-age=31536000, immutable`, so a reload asks for none of them.
  Unversioned static URLs are `no-cache` (revalidate with the ETag), except the bundles
  Dash's renderer asks for without a version: plotly.min.js (a day) and dcc's async chunks
  (an hour). Pages, callbacks and
  the API stay `no-store` (web/security.py).

Static requests also skip the session and the user lookup altogether (web/security.py's
session interface asks `is_static`), so serving them costs no database or cookie work.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from pathlib import Path

import brotli
from flask import Flask, Request, Response, current_app, g, has_app_context, request
from flask_compress import Compress

from settings import get_settings

log = logging.getLogger("syncboard")

ONE_YEAR = 31536000
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
REVALIDATE = "no-cache"
PACKAGE_DAY = "public, max-age=86400"
PACKAGE_HOUR = "public, max-age=3600"
PLOTLY_BUNDLE = "/plotly/package_data/plotly.min.js"
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
#: A `.part` file older than this (seconds) was left by a process that died making it.
STALE_PART = 600

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


def _best(algorithm: str, data: bytes) -> bytes:
    """The smallest encoding we can make of `data`, however slow (run in the background)."""
    if algorithm == "br":
        return brotli.compress(data, quality=11)
    return gzip.compress(data, 9, mtime=0)


def _decode(algorithm: str, body: bytes) -> bytes:
    return brotli.decompress(body) if algorithm == "br" else gzip.decompress(body)


class _FingerprintedBodies:
    """flask-compress's cache backend: the compressed bodies of versioned static URLs only.

    A miss is compressed quickly while the request waits (brotli 5, gzip 6: plotly's 4.8 MB
    in 0.2 s); a background thread then makes the best encoding (brotli 11: 1.11 MB instead
    of 1.29 MB for plotly, but 18 s of CPU) and keeps it under `instance/compressed/`, so
    every worker and every restart of the same release serves it from then on. Only one
    process makes each file (an exclusive `.part` file), and brotli releases the GIL while
    it works, so requests keep being served meanwhile.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._bodies: OrderedDict[str, tuple[bytes, bool]] = OrderedDict()
        self._folder = folder or get_settings().instance_dir / "compressed"
        self._queue: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self._folder / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        kept = self._bodies.get(key)
        if kept is not None and kept[1]:
            return kept[0]
        path = self._path(key)
        if path.exists():
            body = path.read_bytes()
            self._keep(key, body, best=True)
            return body
        return kept[0] if kept is not None else None

    def set(self, key: str, value: bytes) -> None:
        if not key.split(";", 1)[1].startswith("keep:") or key in self._bodies:
            return
        self._keep(key, value, best=False)
        if has_app_context() and current_app.testing:
            return  # the suite would spend minutes of CPU on brotli 11 in every worker
        self._queue.put((key, value))
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._make_best, name="best-compression", daemon=True
                )
                self._worker.start()

    def _keep(self, key: str, body: bytes, *, best: bool) -> None:
        self._bodies[key] = (body, best)
        while len(self._bodies) > CACHE_ENTRIES:
            self._bodies.popitem(last=False)

    def _make_best(self) -> None:
        while True:
            try:
                key, quick = self._queue.get(timeout=5)
            except queue.Empty:
                return
            try:
                self._store_best(key, quick)
            except Exception:  # noqa: BLE001  (the quick encoding stays; nothing is lost)
                log.warning("could not precompress %s", key, exc_info=True)

    def _store_best(self, key: str, quick: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        with contextlib.suppress(FileNotFoundError):
            if time.time() - part.stat().st_mtime > STALE_PART:
                part.unlink()  # left by a process that died while making it
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return  # another process is making it
        try:
            algorithm = key.split(";", 1)[0]
            with os.fdopen(fd, "wb") as fh:
                fh.write(_best(algorithm, _decode(algorithm, quick)))
            os.replace(part, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)


_PASS = "pass:"
STATIC_ETAG = "_static_etag"


def _cache_key(req: Request) -> str:
    # flask-compress asks every non-streamed answer for a key; only static files are worth
    # keeping, the rest get a key the backend never stores. A versioned URL names its content;
    # an unversioned one (plotly.min.js, dcc's async chunks) is named by its ETag too.
    if req.method in ("GET", "HEAD"):
        if is_fingerprinted(req):
            return "keep:" + req.full_path
        etag = g.get(STATIC_ETAG)
        if etag:
            return f"keep:{req.full_path}#{etag}"
    return _PASS + str(id(req))


def _read_static_file(response: Response) -> Response:
    """Load a static file's stream so flask-compress, which leaves streams alone, takes it,
    and note its ETag for the compressed-body cache."""
    if response.status_code == 200 and is_static(request.path):
        etag = response.get_etag()[0]
        if etag:
            g.setdefault(STATIC_ETAG, etag)
        if response.is_streamed and response.mimetype in compress.compress_mimetypes_set:
            response.direct_passthrough = False
            response.make_sequence()
    return response


def _cache_headers(response: Response) -> Response:
    if not is_static(request.path) or response.status_code not in (200, 304):
        return response
    if is_fingerprinted(request):
        control = IMMUTABLE
    elif request.path.endswith(PLOTLY_BUNDLE):
        # dash-renderer asks for plotly.min.js without a version in the URL. It changes only
        # when a deploy upgrades plotly and stands alone, so a day of caching costs at most
        # a day of the old plotly, and saves a conditional GET of it on every page load.
        control = PACKAGE_DAY
    elif request.path.startswith(get_settings().url_prefix + "_dash-component-suites/"):
        # dcc's async chunks (async-graph.js, ...) are loaded without a version too, but must
        # match the main dcc bundle: after a Dash upgrade an old chunk may pair with the new
        # bundle for at most this hour.
        control = PACKAGE_HOUR
    else:
        control = REVALIDATE
    response.headers["Cache-Control"] = control
    return response


def init_performance(server: Flask) -> None:
    """Compress answers and cache versioned static files on `server` (app.py calls this)."""
    server.config.update(
        COMPRESS_REGISTER=False,
        COMPRESS_MIMETYPES=COMPRESSIBLE,
        COMPRESS_ALGORITHM=["br", "gzip"],
        # Quick levels for answers made per request; static files get the best in the
        # background (_FingerprintedBodies).
        COMPRESS_BR_LEVEL=5,
        COMPRESS_LEVEL=6,
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
