"""A real HTTP server on 127.0.0.1 for vendor fakes, with faults that tests switch on.

A fake subclasses `FakeApi`, implements `handle(request)` following the vendor's
documented protocol, and calls `self.require_auth(request, expected_header_value)`.
Faults (`fail_next`, `delay`, `truncate_next`, `drop_next`, `reject_auth`) are applied
before `handle`, so every fake gets 429 storms, 500s, slow, truncated and dropped
responses and auth failures for free.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class Unauthorized(Exception):
    pass


@dataclass
class Faults:
    statuses: list[tuple[int, float | None]] = field(default_factory=list)
    delay: float = 0.0
    truncate: int = 0
    drop: int = 0
    reject_auth: bool = False


class FakeApi:
    """Subclass per vendor; `start()` serves it on a free port, `url` is its base URL."""

    def __init__(self):
        self.faults = Faults()
        self.lock = threading.Lock()
        self.log: list[Request] = []
        self.served = 0
        self._server: ThreadingHTTPServer | None = None

    # vendor behaviour --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def require_auth(self, request: Request, expected: str, header: str = "Authorization") -> None:
        if self.faults.reject_auth or request.headers.get(header.lower()) != expected:
            raise Unauthorized()

    def unauthorized(self) -> Response:
        return Response(401, {"message": "Authentication credentials not found or invalid."})

    # faults ------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 429, retry_after: float | None = None) -> None:
        """The next `count` requests answer `status` (with Retry-After when given)."""
        with self.lock:
            self.faults.statuses.extend([(status, retry_after)] * count)

    def truncate_next(self, count: int = 1) -> None:
        with self.lock:
            self.faults.truncate += count

    def drop_next(self, count: int = 1) -> None:
        """Close the connection without answering (a connection error for the client)."""
        with self.lock:
            self.faults.drop += count

    # server ------------------------------------------------------------------------------
    def start(self) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *args):
                pass

            def _serve(self):
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                request = Request(
                    self.command,
                    parsed.path,
                    {k: v[-1] for k, v in parse_qs(parsed.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with api.lock:
                    api.log.append(request)
                    fault = api.faults.statuses.pop(0) if api.faults.statuses else None
                    drop = api.faults.drop > 0
                    api.faults.drop -= 1 if drop else 0
                    truncate = api.faults.truncate > 0 and not drop and fault is None
                    api.faults.truncate -= 1 if truncate else 0
                if api.faults.delay:
                    time.sleep(api.faults.delay)
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault is not None:
                    status, retry_after = fault
                    response = Response(status, {"message": f"injected {status}"})
                    if retry_after is not None:
                        response.headers["Retry-After"] = str(retry_after)
                else:
                    try:
                        response = api.handle(request)
                    except Unauthorized:
                        response = api.unauthorized()
                payload = response.encoded()
                if truncate:
                    payload = payload[: max(len(payload) // 2, 1)]
                self.send_response(response.status)
                self.send_header(
                    "Content-Type", response.headers.pop("Content-Type", "application/json")
                )
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                with api.lock:
                    api.served += 1

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
