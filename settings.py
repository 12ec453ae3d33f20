"""Settings: one object read from the environment (and an optional `.env`), checked at start."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent

#: Every setting with its meaning; `.env.example` must list each one (a test checks).
DOCUMENTED = {
    "DATABASE_URL": "SQLAlchemy URL; default a SQLite file under instance/",
    "REDIS_URL": "Redis for RQ jobs and rate limits; unset runs jobs in-process",
    "SECRET_KEY": "signs session cookies; generated and kept under instance/ when unset",
    "ADMIN_EMAIL": "first platform admin, created at start when no user exists",
    "ADMIN_PASSWORD": "password of that admin; unset prints a generated one once",
    "SYNCBOARD_FRAME_ANCESTORS": "origins allowed to embed the app in an iframe",
    "SYNCBOARD_URL_PREFIX": "mount the app under a path, e.g. /analytics/",
    "SYNCBOARD_PUBLIC_URL": "scheme://host[:port] people use to reach the app, for links in mails",
    "SMTP_URL": "smtp://user:pass@host:port for invitation mails; unset uses the outbox table",
    "SYNCBOARD_INSTANCE_DIR": "where the SQLite file and generated secret live",
    "SYNCBOARD_PROXY_HOPS": "number of trusted reverse proxies in front (X-Forwarded-*)",
    "SYNCBOARD_COOKIE_SAMESITE": "Lax (default), Strict, or None for cross-site iframes (needs https)",
    "SYNCBOARD_LOGIN_LIMIT": "sign-in attempts allowed per IP and per email",
    "SYNCBOARD_CONNECTOR_ALLOW_HOSTS": (
        "internal hosts, IPs or CIDRs (optionally :port) connectors may reach; others are refused"
    ),
}


class SettingsError(ValueError):
    """A setting has a value the app cannot run with."""


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class AllowedHost:
    """One entry of SYNCBOARD_CONNECTOR_ALLOW_HOSTS: a host name or a network, maybe one port."""

    text: str
    name: str | None = None
    network: IPNetwork | None = None
    port: int | None = None


def parse_allowed_host(entry: str) -> AllowedHost:
    """`name`, `IP`, `CIDR`, `name:port`, `IP:port` or `[IPv6]:port`; SettingsError otherwise."""
    text = entry.strip()
    host, port = text, None
    try:
        return AllowedHost(text, network=ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text)
    if bracketed:
        host, port = bracketed[1], bracketed[2]
    elif re.fullmatch(r"[^:]+:\d+", text):
        host, port = text.rsplit(":", 1)
    number = None
    if port is not None:
        number = int(port)
        if not 1 <= number <= 65535:
            raise SettingsError(f"SYNCBOARD_CONNECTOR_ALLOW_HOSTS: port {port} is not 1-65535")
    try:
        return AllowedHost(text, network=ipaddress.ip_network(host, strict=False), port=number)
    except ValueError:
        pass
    name = host.lower().rstrip(".")
    if not bracketed and HOST_NAME.match(name):
        return AllowedHost(text, name=name, port=number)
    raise SettingsError(
        f"SYNCBOARD_CONNECTOR_ALLOW_HOSTS: {text!r} is not a host name, IP address or CIDR "
        "(optionally with :port)"
    )


def _allowed_hosts(raw: str) -> tuple[AllowedHost, ...]:
    return tuple(parse_allowed_host(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    secret_key: str
    admin_email: str | None
    admin_password: str | None
    frame_ancestors: str
    url_prefix: str
    smtp_url: str | None
    instance_dir: Path
    proxy_hops: int
    cookie_samesite: str
    login_limit: str
    #: internal destinations connectors may reach (loopback, private... are refused otherwise)
    connector_allow_hosts: tuple[AllowedHost, ...] = ()
    #: the origin that links sent by mail start with (None: the browser's, see web/invite.py)
    public_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _prefix(raw: str) -> str:
    raw = raw.strip() or "/"
    if not raw.startswith("/"):
        raise SettingsError(f"SYNCBOARD_URL_PREFIX must start with '/': {raw!r}")
    return raw if raw.endswith("/") else raw + "/"


def _secret(instance_dir: Path, given: str | None) -> str:
    """Keep one generated key on disk so sessions survive restarts and agree across processes."""
    if given:
        if len(given) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters")
        return given
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment after `.env`)."""
    if env is None:
        load_dotenv(ROOT / ".env", override=False)
        env = dict(os.environ)
    instance_dir = Path(env.get("SYNCBOARD_INSTANCE_DIR") or ROOT / "instance").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'syncboard.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    scheme = urlparse(database_url).scheme
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise SettingsError(f"DATABASE_URL must be sqlite or postgresql, not {scheme!r}")
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        Path(database_url[len("sqlite:///") :]).parent.mkdir(
            mode=0o700, parents=True, exist_ok=True
        )
    redis_url = env.get("REDIS_URL") or None
    if redis_url and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"REDIS_URL must be a redis:// URL: {redis_url!r}")
    samesite = (env.get("SYNCBOARD_COOKIE_SAMESITE") or "Lax").capitalize()
    if samesite not in ("Lax", "Strict", "None"):
        raise SettingsError("SYNCBOARD_COOKIE_SAMESITE must be Lax, Strict or None")
    try:
        hops = int(env.get("SYNCBOARD_PROXY_HOPS") or 0)
    except ValueError as exc:
        raise SettingsError("SYNCBOARD_PROXY_HOPS must be a whole number") from exc
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key=_secret(instance_dir, env.get("SECRET_KEY")),
        admin_email=(env.get("ADMIN_EMAIL") or "").strip().lower() or None,
        admin_password=env.get("ADMIN_PASSWORD") or None,
        frame_ancestors=env.get("SYNCBOARD_FRAME_ANCESTORS") or "'self'",
        url_prefix=_prefix(env.get("SYNCBOARD_URL_PREFIX") or "/"),
        smtp_url=env.get("SMTP_URL") or None,
        instance_dir=instance_dir,
        proxy_hops=hops,
        cookie_samesite=samesite,
        login_limit=env.get("SYNCBOARD_LOGIN_LIMIT") or "10 per minute",
        connector_allow_hosts=_allowed_hosts(env.get("SYNCBOARD_CONNECTOR_ALLOW_HOSTS") or ""),
        public_url=_public_url(env.get("SYNCBOARD_PUBLIC_URL") or ""),
    )


def _public_url(text: str) -> str | None:
    """An http(s) origin, without path, query or credentials; the path prefix is
    SYNCBOARD_URL_PREFIX, so a second place to write it would only let the two disagree."""
    text = text.strip().rstrip("/")
    if not text:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        parts = parts._replace(netloc="")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(
            "SYNCBOARD_PUBLIC_URL must be like https://analytics.example.com (no path; "
            "the path goes in SYNCBOARD_URL_PREFIX)"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read once."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Replace the cached settings (tests and the CLI use this before building the app)."""
    global _settings
    _settings = settings
