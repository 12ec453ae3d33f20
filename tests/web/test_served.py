"""`syncboard serve` as a real process: URL prefix, sign-in and the auth gate over real HTTP."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, unavailable

SYNCBOARD = str(Path(sys.executable).with_name("syncboard"))


def serve(folder: Path, extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Start `syncboard serve` on a free port and wait until /healthz answers."""
    port = free_port()
    env = {**os.environ, **extra}
    if "REDIS_URL" not in extra:
        env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [SYNCBOARD, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    prefix = extra.get("SYNCBOARD_URL_PREFIX", "/")
    for _ in range(300):
        try:
            if requests.get(base + prefix + "healthz", timeout=2).ok:
                return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(proc.stdout.read())


def fail_login(base: str, email: str) -> int:
    browser = requests.Session()
    page = browser.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return browser.post(
        base + "/login",
        data={"csrf_token": token, "email": email, "password": "wrong-password"},
        allow_redirects=False,
    ).status_code


def test_login_limit_holds_across_processes_with_redis(tmp_path, redis_url):
    shared = {
        "SYNCBOARD_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "REDIS_URL": redis_url,
        "SYNCBOARD_LOGIN_LIMIT": "3 per minute",
        "ADMIN_EMAIL": "boss@example.com",
        "ADMIN_PASSWORD": "boss-password",
    }
    first, base_one = serve(tmp_path, shared)
    try:
        second, base_two = serve(tmp_path, shared)
        try:
            email = f"someone-{secrets.token_hex(4)}@example.com"
            statuses = [fail_login(base_one, email) for _ in range(3)]
            assert statuses == [401, 401, 401]
            assert fail_login(base_two, email) == 429
            assert requests.get(base_two + "/healthz").json()["queue"] == "redis"
        finally:
            second.terminate()
            second.wait(10)
    finally:
        first.terminate()
        first.wait(10)


@pytest.fixture(scope="module")
def prefixed_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    proc, base = serve(
        folder,
        {
            "SYNCBOARD_INSTANCE_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'app.db'}",
            "SYNCBOARD_URL_PREFIX": "/analytics/",
            "ADMIN_EMAIL": "boss@example.com",
            "ADMIN_PASSWORD": "boss-password",
            "SYNCBOARD_FRAME_ANCESTORS": "'self' https://intranet.example.com",
        },
    )
    yield base
    proc.terminate()
    proc.wait(10)


def test_two_servers_on_one_machine_leave_no_control_socket(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "SYNCBOARD_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "HOME": str(home),
        "XDG_RUNTIME_DIR": "",
    }
    first, base_one = serve(tmp_path, env)
    try:
        second, base_two = serve(tmp_path, env)
        try:
            assert list(home.rglob("*.ctl")) == []
            assert requests.get(base_one + "/healthz").ok and requests.get(base_two + "/healthz").ok
        finally:
            second.terminate()
            second.wait(10)
        assert requests.get(base_one + "/healthz").ok
    finally:
        first.terminate()
        first.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, so the test can kill it."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server", "the binary is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        time.sleep(0.05)
    yield proc, f"redis://127.0.0.1:{port}/0"
    proc.kill()
    proc.wait(10)


def test_sign_in_limit_holds_when_redis_goes_down(tmp_path, own_redis):
    redis_proc, url = own_redis
    app, base = serve(
        tmp_path,
        {
            "SYNCBOARD_INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
            "REDIS_URL": url,
            "SYNCBOARD_LOGIN_LIMIT": "3 per minute",
        },
    )
    try:
        email = f"victim-{secrets.token_hex(4)}@example.com"
        assert [fail_login(base, email) for _ in range(2)] == [401, 401]
        assert requests.get(base + "/healthz").json()["limiter"] == "redis"
        redis_proc.kill()
        redis_proc.wait(10)
        statuses = [fail_login(base, email) for _ in range(25)]
        assert statuses[:3] == [401, 401, 401], statuses
        assert set(statuses[3:]) == {429}, statuses
        health = requests.get(base + "/healthz")
        assert health.status_code == 200
        assert health.json() == {
            "status": "degraded",
            "db": "ok",
            "queue": "redis",
            "redis": "unreachable",
            "limiter": "memory (redis unreachable)",
        }
    finally:
        app.terminate()
        app.wait(10)


def test_health_under_the_prefix(prefixed_app):
    assert requests.get(prefixed_app + "/analytics/healthz").json() == {
        "status": "ok",
        "db": "ok",
        "queue": "inline",
        "limiter": "memory",
    }


def test_anonymous_callback_under_prefix_is_401(prefixed_app):
    response = requests.post(
        prefixed_app + "/analytics/_dash-update-component", json={"output": "x.y", "inputs": []}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "Sign in required."}


def test_sign_in_under_prefix_and_embed_headers(prefixed_app):
    browser = requests.Session()
    first = browser.get(prefixed_app + "/analytics/", allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"].endswith(
        "/analytics/login?next=/analytics/"
    )
    page = browser.get(prefixed_app + "/analytics/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = browser.post(
        prefixed_app + "/analytics/login",
        allow_redirects=False,
        data={
            "csrf_token": token,
            "email": "boss@example.com",
            "password": "boss-password",
            "next": "/analytics/",
        },
    )
    assert signed.status_code == 302
    cookie = next(c for c in browser.cookies if c.name == "syncboard_session")
    assert cookie.path == "/analytics/"
    layout = browser.get(prefixed_app + "/analytics/_dash-layout")
    assert layout.status_code == 200
    assert (
        "frame-ancestors 'self' https://intranet.example.com"
        in layout.headers["Content-Security-Policy"]
    )
