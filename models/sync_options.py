"""Sync options: one validated shape shared by the CLI, the API, the sync modal and the worker."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from models.params import FIRST_DAY, MAX_ID, ParamError, parse_int

MAX_BATCH = 10_000


class OptionsError(ValueError):
    """Options that make no sense, in words for a person; `field` names the option at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SyncOptions:
    full: bool = False  # ignore the stored cursor and read everything
    force: bool = False  # overwrite rows even when nothing changed
    since: str | None = None  # ISO date or datetime: read records changed since then
    dry_run: bool = False  # fetch and validate, write nothing, report what would change
    max_records: int | None = None
    batch_size: int = 500  # records per transaction
    debug: bool = False  # keep a verbose log with the run

    @property
    def since_datetime(self) -> datetime | None:
        return parse_since(self.since) if self.since else None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)} | {
            "batch_size": self.batch_size
        }

    def command(self, org: str, connection: str | int, stream: str | None) -> str:
        """The equivalent `syncboard sync …` command line."""
        parts = ["syncboard", "sync", str(org), str(connection)]
        if stream:
            parts.append(stream)
        for flag in ("full", "force", "dry_run", "debug"):
            if getattr(self, flag):
                parts.append("--" + flag.replace("_", "-"))
        if self.since:
            parts += ["--since", self.since]
        if self.max_records:
            parts += ["--max-records", str(self.max_records)]
        if self.batch_size != 500:
            parts += ["--batch-size", str(self.batch_size)]
        return shlex.join(parts)


def parse_since(value: str | date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise OptionsError(
            f"--since must be a date like 2024-05-31, not {value!r}", "since"
        ) from exc
    if parsed.date() < FIRST_DAY:  # a look-back from year 1 would overflow
        raise OptionsError(f"--since must be {FIRST_DAY.isoformat()} or later", "since")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _positive(name: str, value: Any, upper: int = MAX_ID) -> int | None:
    """A count of at least 1 (an empty box: not given); True and 2.5 are not counts."""
    if value is None or value == "":
        return None
    try:
        return parse_int(name, value, low=1, high=upper)
    except ParamError as exc:
        raise OptionsError(str(exc), name) from None


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", 0, "0", "false", "False", "no"):
        return False
    if value in (1, "1", "true", "True", "yes"):
        return True
    raise OptionsError(f"{name} must be true or false, not {value!r}")


KNOWN = {"full", "force", "since", "dry_run", "max_records", "batch_size", "debug"}


def parse_options(raw: dict[str, Any] | None) -> SyncOptions:
    """Validate options from any caller; unknown keys are an error, not silently dropped."""
    raw = dict(raw or {})
    raw = {k.replace("-", "_"): v for k, v in raw.items()}
    unknown = set(raw) - KNOWN
    if unknown:
        raise OptionsError(f"unknown sync option(s): {', '.join(sorted(unknown))}")
    since = raw.get("since")
    if since not in (None, ""):
        parsed = parse_since(since)
        if parsed > datetime.now(UTC):
            raise OptionsError("--since cannot be in the future", "since")
        since = parsed.date().isoformat() if len(str(since).strip()) <= 10 else parsed.isoformat()
    else:
        since = None
    options = SyncOptions(
        full=_flag("full", raw.get("full")),
        force=_flag("force", raw.get("force")),
        since=since,
        dry_run=_flag("dry_run", raw.get("dry_run")),
        max_records=_positive("max_records", raw.get("max_records")),
        batch_size=_positive("batch_size", raw.get("batch_size"), MAX_BATCH) or 500,
        debug=_flag("debug", raw.get("debug")),
    )
    if options.full and options.since:
        raise OptionsError("--full and --since contradict each other; choose one")
    return options


#: How the sync modal names each option beside its field.
FIELD_LABELS = {"since": "Since", "max_records": "Max records", "batch_size": "Batch size"}


def option_errors(raw: dict[str, Any] | None) -> dict[str, str]:
    """Every problem with a form's options, one message per field (`""` for the whole form).

    parse_options stops at the first problem, which suits the CLI and the API; a form shows
    them all at once, each beside its own field, in the words the field is labelled with.
    """
    raw = dict(raw or {})
    errors: dict[str, str] = {}
    for name, label in FIELD_LABELS.items():
        try:
            parse_options({name: raw.get(name)})
        except OptionsError as exc:
            text = str(exc).replace(f"--{name.replace('_', '-')}", label, 1)
            errors[name] = text.replace(name, label, 1) if text.startswith(name) else text
    if not errors:
        try:
            parse_options(raw)
        except OptionsError as exc:
            text = str(exc).replace("--full", "Full").replace("--since", "Since")
            errors[exc.field or ""] = text
    return errors
