"""Pure builders shared by the sources pages: each connector's declared settings as form fields.

Every connector's fields are drawn once in the layout, grouped by connector and hidden; the
callbacks show the chosen connector's group, so every pattern-matching id a callback uses is
in the layout from the start (tests/callbacks/test_every_page.py). Secret fields are
password inputs whose value the server never fills: a saved secret shows as a placeholder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from connectors.base import JSON_LIMIT, SECRET_LIMIT, TEXT_LIMIT, ConfigField, Connector

HIDDEN = {"display": "none"}
SAVED_SECRET = "•••• unchanged — type a new one to replace it"
NEW_SECRET = "Stored encrypted; never shown again"


def field_id(kind: str, cls: type[Connector], spec: ConfigField) -> dict[str, str]:
    return {"type": kind, "connector": cls.key, "name": spec.name}


def field_ids(kind: str, classes: Iterable[type[Connector]]) -> Iterator[dict[str, str]]:
    """The ids of every field, in the order the layout draws them (and ALL matches them)."""
    for cls in classes:
        for spec in cls.config_fields:
            yield field_id(kind, cls, spec)


def empty_value(spec: ConfigField) -> Any:
    """What a field holds before anything is typed."""
    return None if spec.kind in ("number", "integer") else ""


def control(spec: ConfigField, cid: dict, *, size: str | None = None) -> Any:
    """The input a field is typed into."""
    common: dict[str, Any] = {"id": cid}
    if size:
        common["size"] = size
    if spec.kind == "choice":
        blank = "Choose…" if spec.required else "—"
        options = [{"label": blank, "value": ""}] + [
            {"label": label, "value": value} for value, label in spec.options
        ]
        return dbc.Select(options=options, value="", **common)
    if spec.kind == "json":
        return dbc.Textarea(
            rows=3, maxLength=JSON_LIMIT, placeholder=spec.placeholder, value="", **common
        )
    if spec.kind in ("number", "integer"):
        return dbc.Input(
            type="number",
            min=spec.minimum,
            max=spec.maximum,
            step=1 if spec.kind == "integer" else "any",
            placeholder=spec.placeholder,
            **common,
        )
    if spec.secret:
        return dbc.Input(
            type="password",
            autoComplete="new-password",
            maxLength=SECRET_LIMIT,
            placeholder=NEW_SECRET,
            value="",
            **common,
        )
    kind = "date" if spec.kind == "date" else "text"
    return dbc.Input(
        type=kind, maxLength=TEXT_LIMIT, placeholder=spec.placeholder, value="", **common
    )


def connector_fields(
    classes: Iterable[type[Connector]],
    *,
    group: str,
    field: str,
    feedback: str,
    small: bool = False,
) -> list[html.Div]:
    """One hidden group per connector holding a labelled control for each declared setting."""
    groups = []
    for cls in classes:
        rows = []
        for spec in cls.config_fields:
            label = spec.label if spec.required else f"{spec.label} (optional)"
            cid = field_id(field, cls, spec)
            rows.append(
                html.Div(
                    [
                        dbc.Label(
                            label,
                            html_for=_html_id(cid),
                            className="small mb-1" if small else None,
                        ),
                        control(spec, cid, size="sm" if small else None),
                        dbc.FormFeedback(id=field_id(feedback, cls, spec), type="invalid"),
                        dbc.FormText(spec.help) if spec.help else None,
                    ],
                    className="mb-2" if small else "mb-3",
                )
            )
        groups.append(
            html.Div(
                rows,
                id={"type": group, "connector": cls.key},
                style=HIDDEN,
                **{"data-connector": cls.key},
            )
        )
    return groups


def _html_id(cid: dict) -> str:
    """The DOM id Dash gives a pattern-matching component (so its label points at it)."""
    return json.dumps(cid, sort_keys=True, separators=(",", ":"))
