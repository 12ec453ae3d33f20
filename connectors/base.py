"""The base every connector stands on: HTTP with retries, paginators, streams, errors, a registry.

A connector module describes its vendor's API (streams, paging, mapping); everything
about talking HTTP — auth headers, timeouts, retries with backoff and jitter on 429,
5xx and connection errors, Retry-After, redirects, which addresses may be reached
(connectors/egress.py), and the four paging styles — is written here once. Errors say what
happened in our words; nothing the remote server wrote is put into them, since a message
reaches the UI and the server may be one the admin should not be able to read.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar, Protocol
from urllib.parse import urljoin, urlsplit

import requests

from connectors import egress
from models.url_origin import origin  # one definition, shared with the console's settings

log = logging.getLogger("syncboard.connectors")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
#: Headers that may follow a request to another origin (a redirect, a next-page link).
PLAIN_HEADERS = frozenset({"accept", "accept-encoding", "user-agent", "connection"})


# --- errors, in words a person understands ----------------------------------------------


class ConnectorError(Exception):
    """A sync-stopping problem with the remote system, phrased for the person who runs it."""


class AuthError(ConnectorError):
    """The remote system rejected our credentials."""


class UnreachableError(ConnectorError):
    """The remote system could not be reached at all."""


class BlockedAddressError(UnreachableError):
    """The address is one connectors may not reach (internal, not http(s)); never retried."""


class HttpError(ConnectorError):
    """The remote system answered with an HTTP error status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


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
    """A requests.Session with a base URL, auth headers, timeouts, retries and checked hops.

    Redirects are followed here, not by requests, so that every hop's address is checked
    (connectors/egress.py) and credentials are only ever sent to the base URL's origin.
    """

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
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.origin = origin(self.base_url)
        self.session = requests.Session()
        # No proxies or ~/.netrc from the environment: through a proxy the destination
        # cannot be checked, and netrc would hand a password to whatever host is typed.
        self.session.trust_env = False
        self.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        adapter = egress.CheckedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "syncboard/0.1"})
        self.session.headers.update(headers or {})
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.stats = stats or HttpStats()
        self._sleep = sleep
        self._debug = debug
        self._checked: set[tuple[str, str, int]] = set()

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
                response = self._follow(method, url, **kwargs)
            except egress.Refused as exc:
                self.stats.http_seconds += time.perf_counter() - started
                raise BlockedAddressError(str(exc)) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                self.stats.http_seconds += time.perf_counter() - started
                if attempt >= self.retry.max_retries:
                    raise UnreachableError(describe_connection_error(self.host, exc)) from exc
                self._wait(attempt, None, f"{method} {url}: {type(exc).__name__}")
                attempt += 1
                continue
            except requests.RequestException as exc:
                self.stats.http_seconds += time.perf_counter() - started
                raise ConnectorError(describe_request_error(self.host, exc)) from exc
            self.stats.http_seconds += time.perf_counter() - started
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
                raise HttpError(
                    f"{self.host} answered HTTP {status_text(response.status_code)}"
                    + (f" after {attempt} retries" if attempt else ""),
                    response.status_code,
                )
            return response

    def _follow(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request and its redirects, each hop's address checked before it is asked."""
        headers = dict(kwargs.pop("headers", None) or {})
        for hop in range(MAX_REDIRECTS + 1):
            self._check(url)
            response = self.session.request(
                method,
                url,
                headers=self._headers_for(url, headers),
                allow_redirects=False,
                **kwargs,
            )
            response.content  # noqa: B018  (read the body inside the timing and error handling)
            self.stats.requests += 1
            self.stats.bytes += len(response.content)
            if self._debug:
                self._debug(
                    f"{method} {response.url} -> {response.status_code} ({len(response.content)} bytes)"
                )
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            if hop == MAX_REDIRECTS:
                break
            url = urljoin(response.url, location)
            kwargs.pop("params", None)  # the Location carries its own query
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method = "GET" if method != "HEAD" else method
                for body in ("data", "json", "files"):
                    kwargs.pop(body, None)
            response.close()
        raise ConnectorError(f"{self.host} redirected more than {MAX_REDIRECTS} times")

    def _check(self, url: str) -> None:
        """Refuse a destination connectors may not reach (egress.Refused), once per origin."""
        where = origin(url)
        if where not in self._checked:
            egress.check(url)
            self._checked.add(where)

    def _headers_for(self, url: str, headers: dict[str, str]) -> dict[str, str | None]:
        """Credentials go to the base URL's origin only; elsewhere the plain headers are sent."""
        if origin(url) == self.origin:
            return dict[str, str | None](headers)
        hidden: dict[str, str | None] = {
            name: None for name in self.session.headers if name.lower() not in PLAIN_HEADERS
        }
        return hidden | {k: v for k, v in headers.items() if k.lower() in PLAIN_HEADERS}

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


def status_text(code: int) -> str:
    """ "404 Not Found": the status with its standard phrase (never the server's own words)."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def describe_connection_error(host: str, exc: Exception) -> str:
    """A fixed phrase for a failed connection; the exception's text may hold server bytes."""
    text = str(exc).lower()
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return f"cannot reach {host}: timed out"
    if "refused" in text:
        return f"cannot reach {host}: connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return f"cannot reach {host}: unknown host name"
    if isinstance(exc, requests.exceptions.SSLError) or "certificate" in text:
        return f"cannot reach {host}: its TLS certificate could not be verified"
    if "remote end closed" in text or "connection aborted" in text or "reset" in text:
        return f"cannot reach {host}: the connection was dropped"
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return f"cannot reach {host}: the answer was cut off or garbled"
    return f"cannot reach {host}: {type(exc).__name__}"


def describe_request_error(host: str, exc: requests.RequestException) -> str:
    """A request that could not even be sent (a malformed URL or header), in words."""
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return f"a header for {host} is not valid (a token with a line break?)"
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return "connectors only use http:// and https:// addresses"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return f"the address of {host} is not a valid web address"
    return f"the request to {host} failed: {type(exc).__name__}"


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


class MappingContext(Protocol):
    """Lookups a mapper needs that touch our database (numbers, agents, offices, tags).

    The worker supplies the real one (models/mapping_context.py, which may not import
    connectors/, hence a Protocol); connectors only call it.
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


#: The kinds of setting a connector may declare; each is drawn as one form control.
FIELD_KINDS = ("text", "secret", "number", "integer", "choice", "date", "json")
TEXT_LIMIT = 1000
SECRET_LIMIT = 4096
JSON_LIMIT = 20_000


class DeclarationError(TypeError):
    """A connector declares something the app cannot honour (raised when connectors load)."""


@dataclass(frozen=True)
class ConfigField:
    """One setting of a connector, declared once: it draws its form field and checks its value.

    `secret` fields (API keys, passwords) are stored encrypted with the connection's
    credentials and are never sent back to a browser; every other kind is a plain setting.
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    help: str = ""
    #: choice: the allowed values, or (value, label) pairs
    choices: tuple = ()
    #: number / integer: the allowed range
    minimum: float | None = None
    maximum: float | None = None
    placeholder: str = ""

    @property
    def secret(self) -> bool:
        return self.kind == "secret"

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, label) of each choice."""
        return [c if isinstance(c, tuple) else (c, c) for c in self.choices]

    def check(self) -> None:
        """DeclarationError when the declaration itself cannot be drawn or checked."""
        if self.kind not in FIELD_KINDS:
            raise DeclarationError(f"field {self.name!r} has unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise DeclarationError(f"choice field {self.name!r} declares no choices")
        if not self.name.isidentifier():
            raise DeclarationError(f"field name {self.name!r} is not an identifier")

    def clean(self, raw: Any) -> Any:
        """The typed value of what was typed (None: left empty); ValueError says why not."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if self.kind in ("text", "secret"):
            text = raw.strip() if isinstance(raw, str) else str(raw)
            limit = SECRET_LIMIT if self.secret else TEXT_LIMIT
            if len(text) > limit:
                raise ValueError(f"{self.label} is too long (at most {limit:,} characters).")
            if any(not ch.isprintable() for ch in text):
                # a line break in a secret would be sent as a broken HTTP header
                raise ValueError(f"{self.label} has a line break or a control character.")
            return text
        if self.kind in ("number", "integer"):
            return self._number(raw)
        if self.kind == "choice":
            value = str(raw)
            allowed = [v for v, _label in self.options]
            if value not in allowed:
                raise ValueError(f"{self.label} must be one of: {', '.join(allowed)}.")
            return value
        if self.kind == "date":
            try:
                return date.fromisoformat(str(raw).strip()[:10]).isoformat()
            except ValueError:
                raise ValueError(f"{self.label} must be a date (YYYY-MM-DD).") from None
        # json: an object such as a column mapping
        if isinstance(raw, dict):
            return raw
        text = str(raw)
        if len(text) > JSON_LIMIT:
            raise ValueError(f"{self.label} is too long (at most {JSON_LIMIT:,} characters).")
        try:
            value = json.loads(text)
        except ValueError:
            raise ValueError(f'{self.label} must be a JSON object like {{"a": "b"}}.') from None
        if not isinstance(value, dict):
            raise ValueError(f'{self.label} must be a JSON object like {{"a": "b"}}.')
        return value

    def _number(self, raw: Any) -> int | float:
        word = "a whole number" if self.kind == "integer" else "a number"
        if isinstance(raw, bool):
            raise ValueError(f"{self.label} must be {word}.")
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.label} must be {word}.") from None
        if not math.isfinite(number) or (self.kind == "integer" and not number.is_integer()):
            raise ValueError(f"{self.label} must be {word}.")
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{self.label} must be at least {self.minimum:g}.")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"{self.label} must be at most {self.maximum:g}.")
        return int(number) if self.kind == "integer" or number.is_integer() else number

    def shown(self, value: Any) -> Any:
        """A saved (non-secret) value as its form control holds it."""
        if value is None:
            return None if self.kind in ("number", "integer") else ""
        if self.kind == "json":
            return (
                json.dumps(value, indent=1, ensure_ascii=False)
                if isinstance(value, dict)
                else str(value)
            )
        return value


@dataclass
class CleanConfig:
    """A form's values checked against a connector's fields.

    `settings` holds every non-secret field that has a value, `credentials` every secret
    that was typed (an empty secret keeps the saved one), `errors` a message per field.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


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
        ConfigField("token", "API token", "secret"),
    )
    docs: ClassVar[str] = ""
    #: The connection reads a file the admin uploads (the form shows an upload box).
    uploads_file: ClassVar[bool] = False

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

    def require_credentials(self) -> None:
        """AuthError naming the required secrets that are not saved, before anything is asked.

        Saved secrets are dropped when a connection's address changes (models/source_admin.py),
        so this is what a Test or a sync says until they are entered again.
        """
        missing = [
            f.label
            for f in self.config_fields
            if f.secret and f.required and not self.credentials.get(f.name)
        ]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise AuthError(
                f"The {' and '.join(missing)} {verb} missing: enter it in the connection's "
                "settings (changing the address clears saved credentials)."
            )

    @classmethod
    def clean_config(
        cls, values: Mapping[str, Any], *, saved_secrets: Collection[str] = ()
    ) -> CleanConfig:
        """Check a form's values against `config_fields`: typed settings, secrets, errors.

        A required secret may be left empty when one is already saved (`saved_secrets`);
        names the connector does not declare are ignored.
        """
        result = CleanConfig()
        for spec in cls.config_fields:
            try:
                value = spec.clean(values.get(spec.name))
            except ValueError as exc:
                result.errors[spec.name] = str(exc)
                continue
            if value is None:
                if spec.required and not (spec.secret and spec.name in saved_secrets):
                    verb = "Enter" if spec.kind != "choice" else "Choose"
                    result.errors[spec.name] = f"{verb} the {spec.label}."
                continue
            if spec.secret:
                result.credentials[spec.name] = value
            else:
                result.settings[spec.name] = value
        return result

    @classmethod
    def merged_settings(cls, saved: Mapping[str, Any], cleaned: Mapping[str, Any]) -> dict:
        """Saved settings with every declared field replaced by the form's (an empty one removed).

        Settings no field declares (set with `syncboard connect --setting`, or the uploaded
        file's path) are kept as they were.
        """
        declared = {f.name for f in cls.config_fields if not f.secret}
        kept = {k: v for k, v in saved.items() if k not in declared}
        return kept | dict(cleaned)

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
    """Class decorator: make a connector available by its key (its declarations checked)."""
    check_declarations(cls)
    if cls.key in REGISTRY and REGISTRY[cls.key] is not cls:
        raise DeclarationError(f"two connectors use the key {cls.key!r}")
    REGISTRY[cls.key] = cls
    return cls


def check_declarations(cls: type[Connector]) -> None:
    """DeclarationError naming the connector when its fields or streams make no sense."""
    where = f"{cls.__module__}.{cls.__qualname__}"
    names = [f.name for f in cls.config_fields]
    if len(set(names)) != len(names):
        raise DeclarationError(f"{where}: a config field name is declared twice: {names}")
    try:
        for spec in cls.config_fields:
            spec.check()
    except DeclarationError as exc:
        raise DeclarationError(f"{where}: {exc}") from None
    streams = [s.name for s in cls.streams]
    if len(set(streams)) != len(streams):
        raise DeclarationError(f"{where}: a stream name is declared twice: {streams}")


def check_targets(classes: Iterable[type[Connector]], writable: Collection[str]) -> None:
    """DeclarationError unless every stream lands in a table the sync engine can write."""
    for cls in classes:
        for stream in cls.streams:
            if stream.model not in writable:
                raise DeclarationError(
                    f"{cls.__module__}.{cls.__qualname__}: stream {stream.name!r} targets "
                    f"model {stream.model!r}, which the sync engine cannot write "
                    f"(it writes: {', '.join(sorted(writable))})"
                )


def registry() -> Mapping[str, type[Connector]]:
    """Every connector by key. The connectors package imports and checks them all, once."""
    import connectors  # noqa: F401  (the package's import registers every connector module)

    return MappingProxyType(REGISTRY)


def get_connector(key: str) -> type[Connector]:
    known = registry()
    try:
        return known[key]
    except KeyError as exc:
        raise ConnectorError(
            f"unknown connector {key!r}; known: {', '.join(sorted(known))}"
        ) from exc


# --- value helpers mappers share ----------------------------------------------------------


def short_label(value: Any, limit: int = 80) -> str:
    """A name from a vendor's answer fit for one line of a message: printable, short.

    Success messages name the account a token belongs to; that is the one thing from an
    answer a message may carry, and only as a short plain label.
    """
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value or "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
