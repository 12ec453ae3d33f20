"""The base every connector stands on: HTTP with retries, paginators, streams, errors, a registry.

A connector module describes its vendor's API (streams, paging, mapping); everything
about talking HTTP — auth headers, timeouts, retries with backoff and jitter on 429,
5xx and connection errors, Retry-After, and the four paging styles — is written here once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlparse

import requests

log = logging.getLogger("syncboard.connectors")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# --- errors, in words a person understands ----------------------------------------------


class ConnectorError(Exception):
    """A sync-stopping problem with the remote system, phrased for the person who runs it."""


class AuthError(ConnectorError):
    """The remote system rejected our credentials."""


class UnreachableError(ConnectorError):
    """The remote system could not be reached at all."""


class RecordError(ValueError):
    """One record could not be validated or mapped; the run goes on without it."""

    def __init__(self, reason: str, external_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.external_id = external_id


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class HttpStats:
    """What the HTTP layer did during a run (kept with the run's performance figures)."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    http_seconds: float = 0.0
    bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "pages": self.pages,
            "http_seconds": round(self.http_seconds, 3),
            "bytes": self.bytes,
        }


@dataclass
class RetryPolicy:
    max_retries: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter; Retry-After wins when the server gives it."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        base = min(self.backoff * (2**attempt), self.max_backoff)
        return base * (1 + random.uniform(-self.jitter, self.jitter))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class HttpClient:
    """A requests.Session with a base URL, auth headers, timeouts and retries."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        stats: HttpStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        debug: Callable[[str], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.host = urlparse(self.base_url).netloc or self.base_url
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "syncboard/0.1"})
        self.session.headers.update(headers or {})
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.stats = stats or HttpStats()
        self._sleep = sleep
        self._debug = debug

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send with retries; raise AuthError, UnreachableError or ConnectorError when it fails."""
        url = self.url(path)
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        self._backoff_step = 0
        while True:
            started = time.perf_counter()
            try:
                response = self.session.request(method, url, **kwargs)
                response.content  # noqa: B018  (read the body inside the timing and error handling)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.stats.http_seconds += time.perf_counter() - started
                if attempt >= self.retry.max_retries:
                    raise UnreachableError(describe_connection_error(self.host, exc)) from exc
                self._wait(attempt, None, f"{method} {url}: {type(exc).__name__}")
                attempt += 1
                continue
            self.stats.http_seconds += time.perf_counter() - started
            self.stats.requests += 1
            self.stats.bytes += len(response.content)
            if self._debug:
                self._debug(
                    f"{method} {response.url} -> {response.status_code} ({len(response.content)} bytes)"
                )
            if response.status_code in RETRY_STATUSES and attempt < self.retry.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._wait(attempt, retry_after, f"{method} {url}: HTTP {response.status_code}")
                attempt += 1
                continue
            if response.status_code in (401, 403):
                raise AuthError(
                    f"token rejected ({response.status_code})"
                    if response.status_code == 401
                    else f"access denied ({response.status_code}): the token lacks permission"
                )
            if response.status_code >= 400:
                raise ConnectorError(
                    f"{self.host} answered HTTP {response.status_code}"
                    + (f" after {attempt} retries" if attempt else "")
                    + _error_detail(response)
                )
            return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json_call("GET", path, params=params)

    def post_json(self, path: str, body: Any) -> Any:
        return self._json_call("POST", path, json=body)

    def post_form(self, path: str, data: Mapping[str, Any]) -> Any:
        """POST form fields (OAuth token endpoints) and read the JSON answer."""
        return self._json_call("POST", path, data=data)

    def _json_call(self, method: str, path: str, **kwargs) -> Any:
        """A garbled or truncated body is retried like a 5xx: it is usually a dropped transfer."""
        attempt = 0
        while True:
            response = self.request(method, path, **kwargs)
            try:
                return response.json()
            except ValueError as exc:
                if attempt >= self.retry.max_retries:
                    raise ConnectorError(
                        f"{self.host} sent a response that is not valid JSON (truncated or garbled)"
                    ) from exc
                self._wait(attempt, None, f"{method} {path}: invalid JSON body")
                attempt += 1

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(
                f"{self.host} sent a response that is not valid JSON (truncated or garbled)"
            ) from exc

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        """Back off; waits the server prescribed with Retry-After do not grow the next backoff."""
        step = getattr(self, "_backoff_step", attempt)
        delay = self.retry.delay(step, retry_after)
        if retry_after is None:
            self._backoff_step = step + 1
        self.stats.retries += 1
        if self._debug:
            self._debug(f"retry {attempt + 1} in {delay:.2f}s: {why}")
        self._sleep(delay)

    def close(self) -> None:
        self.session.close()


def describe_connection_error(host: str, exc: Exception) -> str:
    text = str(exc).lower()
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return f"cannot reach {host}: timed out"
    if "refused" in text:
        return f"cannot reach {host}: connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return f"cannot reach {host}: unknown host name"
    if "remote end closed" in text or "connection aborted" in text or "reset" in text:
        return f"cannot reach {host}: the connection was dropped"
    return f"cannot reach {host}: {type(exc).__name__}"


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errors"):
            value = body.get(key)
            if isinstance(value, dict) and value.get("message"):
                value = value["message"]
            if value:
                return f": {str(value)[:200]}"
    return ""


# --- paging -------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of raw vendor records and, when the API says so, the total to expect."""

    records: list[dict]
    total: int | None = None


def _records(body: Any, key: str | None) -> list[dict]:
    items = body if key is None else (body or {}).get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConnectorError(f"expected a list under {key!r}, got {type(items).__name__}")
    return items


def cursor_pages(
    client: HttpClient,
    path: str,
    params: dict[str, Any],
    *,
    records_key: str,
    next_cursor: Callable[[Any], str | None],
    cursor_param: str = "after",
    method: str = "GET",
    total: Callable[[Any], int | None] | None = None,
) -> Iterator[Page]:
    """Cursor paging: each response names the cursor of the next page (HubSpot's `after`)."""
    params = dict(params)
    while True:
        body = client.get_json(path, params) if method == "GET" else client.post_json(path, params)
        client.stats.pages += 1
        yield Page(_records(body, records_key), total(body) if total else None)
        cursor = next_cursor(body)
        if not cursor:
            return
        params[cursor_param] = cursor


def page_number_pages(
    client: HttpClient,
    path: str,
    params: dict[str, Any],
    *,
    records_key: str | None,
    per_page: int = 100,
    page_param: str = "page",
    per_page_param: str = "per_page",
    first_page: int = 1,
    total_pages: Callable[[Any], int | None] | None = None,
    total: Callable[[Any], int | None] | None = None,
) -> Iterator[Page]:
    """Page-number paging (CallRail's page/per_page): stop at total_pages or a short page."""
    page = first_page
    while True:
        body = client.get_json(path, {**params, page_param: page, per_page_param: per_page})
        client.stats.pages += 1
        records = _records(body, records_key)
        yield Page(records, total(body) if total else None)
        pages = total_pages(body) if total_pages else None
        if (pages is not None and page - first_page + 1 >= pages) or len(records) < per_page:
            return
        page += 1


def offset_pages(
    client: HttpClient,
    path: str,
    params: dict[str, Any],
    *,
    records_key: str | None,
    limit: int = 100,
    offset_param: str = "offset",
    limit_param: str = "limit",
    total: Callable[[Any], int | None] | None = None,
) -> Iterator[Page]:
    """Offset/limit paging: stop on a short page or when the total is reached."""
    offset = 0
    while True:
        body = client.get_json(path, {**params, offset_param: offset, limit_param: limit})
        client.stats.pages += 1
        records = _records(body, records_key)
        count = total(body) if total else None
        yield Page(records, count)
        offset += len(records)
        if len(records) < limit or (count is not None and offset >= count):
            return


def link_header_pages(
    client: HttpClient, path: str, params: dict[str, Any], *, records_key: str | None
) -> Iterator[Page]:
    """RFC 8288 `Link: <...>; rel="next"` paging."""
    url: str | None = path
    first = True
    while url:
        response = client.request("GET", url, params=params if first else None)
        first = False
        client.stats.pages += 1
        yield Page(_records(client.json(response), records_key))
        url = response.links.get("next", {}).get("url")


# --- streams and connectors ---------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One kind of record a connector brings in ("model" in the UI)."""

    name: str
    model: str  # our table: contacts, calls, sms_messages, cases, tickets, phone_numbers
    primary_key: str = "id"
    cursor_field: str | None = None
    #: True when the API returns records in ascending cursor order, so the cursor may move
    #: after every committed batch; otherwise it moves only when the stream finishes.
    sorted_by_cursor: bool = False
    description: str = ""


class MappingContext:
    """Lookups a mapper needs that touch our database (numbers, agents, offices, tags).

    The worker supplies the real one (models/sync_store.py); connectors only call it.
    """

    org_id: int

    def phone_number_id(self, number: str | None, *, label: str = "") -> int | None:
        raise NotImplementedError

    def agent_id(self, email: str | None) -> int | None:
        raise NotImplementedError

    def office_id(self, name: str | None, *, cluster: str | None = None) -> int | None:
        raise NotImplementedError

    def cluster_id(self, name: str | None) -> int | None:
        raise NotImplementedError

    def tag_ids(self, names: list[str]) -> list[int]:
        raise NotImplementedError


@dataclass
class ReadRequest:
    """What the engine asks a connector to read."""

    stream: Stream
    since: datetime | None = None
    max_records: int | None = None
    page_size: int = 100


@dataclass
class ConfigField:
    name: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""


class Connector:
    """Subclass per vendor: declare streams and paging, map records, test the connection."""

    key: ClassVar[str]
    label: ClassVar[str]
    icon: ClassVar[str] = "plug"
    default_base_url: ClassVar[str] = ""
    #: The most records the vendor's API returns in one page.
    max_page_size: ClassVar[int] = 100
    streams: ClassVar[tuple[Stream, ...]] = ()
    config_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("token", "API token", secret=True),
    )
    docs: ClassVar[str] = ""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: HttpStats | None = None,
        retry: RetryPolicy | None = None,
        debug: Callable[[str], None] | None = None,
    ):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.credentials = dict(credentials or {})
        self.settings = dict(settings or {})
        self.stats = stats or HttpStats()
        self.debug = debug
        self.client = HttpClient(
            self.base_url or "http://invalid.local",
            headers=self.auth_headers(),
            stats=self.stats,
            retry=retry or self.retry_policy(),
            debug=debug,
        )

    def retry_policy(self) -> RetryPolicy:
        """Retries from the connection's settings (`max_retries`, `retry_backoff` seconds)."""
        try:
            return RetryPolicy(
                max_retries=int(self.settings.get("max_retries", 6)),
                backoff=float(self.settings.get("retry_backoff", 0.5)),
            )
        except (TypeError, ValueError) as exc:
            raise ConnectorError("max_retries and retry_backoff must be numbers") from exc

    # vendor specifics --------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        token = self.credentials.get("token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def test_connection(self) -> str:
        """A short success message, or a ConnectorError saying what is wrong."""
        raise NotImplementedError

    def read(self, request: ReadRequest) -> Iterator[Page]:
        raise NotImplementedError

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        """Columns of our model for one vendor record; raise RecordError when it is unusable."""
        raise NotImplementedError

    # shared ------------------------------------------------------------------------------
    @classmethod
    def stream(cls, name: str | None) -> Stream:
        for stream in cls.streams:
            if stream.name == name:
                return stream
        known = ", ".join(s.name for s in cls.streams)
        raise ConnectorError(f"{cls.label} has no stream {name!r}; it has {known}")

    def external_id(self, stream: Stream, raw: dict) -> str:
        value = raw.get(stream.primary_key) if isinstance(raw, dict) else None
        if value in (None, ""):
            raise RecordError(f"missing {stream.primary_key!r}")
        return str(value)

    def close(self) -> None:
        self.client.close()


REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available by its key."""
    REGISTRY[cls.key] = cls
    return cls


def get_connector(key: str) -> type[Connector]:
    import connectors  # noqa: F401  (imports every connector module so they register)

    try:
        return REGISTRY[key]
    except KeyError as exc:
        raise ConnectorError(
            f"unknown connector {key!r}; known: {', '.join(sorted(REGISTRY))}"
        ) from exc


# --- value helpers mappers share ----------------------------------------------------------


def parse_time(value: Any, *, field_name: str = "timestamp") -> datetime:
    """An aware UTC datetime from ISO-8601 text or epoch seconds/milliseconds."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        if text.isdigit():
            return parse_time(int(text), field_name=field_name)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise RecordError(f"{field_name} {value!r} is not a date") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise RecordError(f"{field_name} is missing")


def optional_time(value: Any, *, field_name: str = "timestamp") -> datetime | None:
    return None if value in (None, "") else parse_time(value, field_name=field_name)


@dataclass
class FieldSpec:
    """How one of our columns is read from a flat vendor record (CSV and sheet imports)."""

    column: str
    required: bool = False
    kind: str = "str"  # str, int, float, datetime, bool
    choices: tuple[str, ...] = field(default_factory=tuple)
