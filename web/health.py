"""GET /healthz: can the app reach its database and Redis, and where sign-in attempts are counted.

200 while the app can serve (Redis down is "degraded": syncs cannot be queued, sign-in
limits fall back to this process); 503 when the database is down.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from models.db import ping
from settings import get_settings
from web.auth import limiter_state

bp = Blueprint("health", __name__)


def _redis_ok(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (RedisError, OSError):
        return False


@bp.get("/healthz")
def healthz():
    settings = get_settings()
    body = {"status": "ok", "db": "ok", "queue": "redis" if settings.redis_url else "inline"}
    if settings.redis_url:
        body["redis"] = "ok" if _redis_ok(settings.redis_url) else "unreachable"
        if body["redis"] != "ok":
            body["status"] = "degraded"
    body["limiter"] = limiter_state()
    try:
        ping()
    except Exception:
        body.update(status="error", db="unreachable")
        return jsonify(body), 503
    return jsonify(body)
