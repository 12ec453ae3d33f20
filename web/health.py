"""GET /healthz: is the database reachable, and which job queue is in use."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from models.db import get_engine
from settings import get_settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    queue = "redis" if get_settings().redis_url else "inline"
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return jsonify(status="error", db="unreachable", queue=queue), 503
    return jsonify(status="ok", db="ok", queue=queue)
