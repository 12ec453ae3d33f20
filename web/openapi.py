"""The OpenAPI 3.1 description served at /api/v1/openapi.json (kept beside the routes it describes)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for c in codes
    }


def _ok(schema: dict, code: int = 200) -> dict[str, Any]:
    return {str(code): {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def _query(name: str, kind: str = "string", description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": kind},
        "description": description,
    }


ORG = _query("org", description="organisation id or slug (default: your first)")
LIMIT = _query("limit", "integer", "rows to answer, 0–500 (default 50; 0: the total alone)")
LIMIT["schema"] |= {"minimum": 0, "maximum": 500}
OFFSET = _query("offset", "integer", "rows to skip (default 0)")
OFFSET["schema"] |= {"minimum": 0}
RUN = {"$ref": "#/components/schemas/SyncRun"}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "syncboard API", "version": "1"},
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            },
            "SyncRun": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "connection": {"type": "integer"},
                    "stream": {"type": ["string", "null"]},
                    "status": {
                        "enum": ["queued", "running", "success", "partial", "failed", "cancelled"]
                    },
                    "trigger": {"enum": ["user", "schedule", "api", "cli"]},
                    "progress": {"type": "number", "minimum": 0, "maximum": 1},
                    "processed": {"type": "integer"},
                    "created": {"type": "integer"},
                    "updated": {"type": "integer"},
                    "unchanged": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "error": {"type": ["string", "null"]},
                    "options": {"type": "object"},
                    "stats": {"type": "object"},
                },
            },
        },
    },
    "paths": {
        "/sources": {
            "get": {
                "summary": "Connections of the organisation with their streams and last run",
                "parameters": [ORG],
                "responses": _ok({"type": "object"}) | _errors(401, 403),
            }
        },
        "/syncs": {
            "get": {
                "summary": "Sync runs, newest first",
                "parameters": [
                    ORG,
                    _query("connection", "integer"),
                    _query("status"),
                    _query("stream"),
                    LIMIT,
                    OFFSET,
                ],
                "responses": _ok(
                    {
                        "type": "object",
                        "properties": {
                            "total": {"type": "integer"},
                            "syncs": {"type": "array", "items": RUN},
                        },
                    }
                )
                | _errors(400, 401, 403),
            },
            "post": {
                "summary": "Start a sync (org admins)",
                "parameters": [ORG],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["connection"],
                                "properties": {
                                    "connection": {"type": "integer"},
                                    "stream": {"type": ["string", "null"]},
                                    "options": {
                                        "type": "object",
                                        "properties": {
                                            "full": {"type": "boolean"},
                                            "force": {"type": "boolean"},
                                            "since": {"type": "string", "format": "date"},
                                            "dry_run": {"type": "boolean"},
                                            "max_records": {"type": "integer"},
                                            "batch_size": {"type": "integer"},
                                            "debug": {"type": "boolean"},
                                        },
                                    },
                                },
                            }
                        }
                    }
                },
                "responses": _ok(RUN, 202) | _errors(400, 401, 403, 404, 409, 422, 503),
            },
        },
        "/syncs/{id}": {
            "get": {
                "summary": "One run: status, progress, counters, error",
                "parameters": [
                    ORG,
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "responses": _ok(RUN) | _errors(401, 403, 404),
            }
        },
        "/kpis": {
            "get": {
                "summary": "Call KPIs in the token user's scope (agents: their numbers)",
                "parameters": [
                    ORG,
                    _query("from", description="first day, YYYY-MM-DD (UTC)"),
                    _query("to", description="last day, inclusive"),
                    _query("phone", "integer"),
                    _query("agent", "integer"),
                    _query("direction"),
                ],
                "responses": _ok(
                    {
                        "type": "object",
                        "properties": {
                            "total_calls": {"type": "integer"},
                            "answered": {"type": "integer"},
                            "missed": {"type": "integer"},
                            "voicemail": {"type": "integer"},
                            "answer_rate": {"type": ["number", "null"]},
                            "average_handle_time": {"type": ["number", "null"]},
                            "total_duration": {"type": "integer"},
                        },
                    }
                )
                | _errors(400, 401, 403),
            }
        },
        "/calls": {
            "get": {
                "summary": "Calls, newest first; format=csv streams every matching call",
                "parameters": [
                    ORG,
                    _query("from"),
                    _query("to"),
                    _query("phone", "integer"),
                    _query("agent", "integer"),
                    _query("direction"),
                    _query("status"),
                    _query("q", description="search"),
                    LIMIT,
                    OFFSET,
                    _query("format", description="json or csv"),
                    _query("bom", description="1: UTF-8 BOM for Excel (csv)"),
                ],
                "responses": _ok({"type": "object"}) | _errors(400, 401, 403),
            }
        },
        "/syncs/{id}/cancel": {
            "post": {
                "summary": "Cancel a queued or running run (org admins)",
                "parameters": [
                    ORG,
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "responses": _ok(RUN, 202) | _errors(401, 403, 404, 409),
            }
        },
    },
}
