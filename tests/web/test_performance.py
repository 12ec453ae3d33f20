"""First-load speed and per-request cost: compression, long-lived caching of versioned static
files, and static answers that do no database or session work (web/performance.py)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from contextlib import contextmanager

import brotli
import pytest
from sqlalchemy import event

from tests.helpers import login
from web import security
from web.performance import IMMUTABLE

BR_GZIP = {"Accept-Encoding": "br, gzip, deflate"}


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def page_urls(client) -> list[str]:
    """Every script and stylesheet URL the signed-in page links to."""
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)


def signed_in(client, email: str = "manager_a@example.com"):
    login(client, email)
    client.get("/_dash-layout")
    return client


# --- compression ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_json_js_and_css_are_compressed_as_the_browser_asks(client, world, encoding):
    signed_in(client)
    headers = {"Accept-Encoding": encoding}
    plain = client.get("/_dash-dependencies").get_data()
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        response = client.get(path, headers=headers)
        assert response.headers.get("Content-Encoding") == encoding, path
        assert "Accept-Encoding" in response.headers["Vary"]
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        assert decoded(response).strip()[:1] in (b"<", b"{", b"[")
    dependencies = client.get("/_dash-dependencies", headers=headers)
    assert decoded(dependencies) == plain
    assert len(dependencies.get_data()) * 4 < len(plain)
    bundles = [u for u in page_urls(client) if u.endswith(".js") or ".css?" in u]
    assert any("_dash-component-suites" in u for u in bundles)
    assert any("/assets/00_bootstrap.min.css" in u for u in bundles)
    for url in bundles:
        response = client.get(url, headers=headers)
        body = decoded(response)
        if len(body) >= 500:
            assert response.headers.get("Content-Encoding") == encoding, url
        assert body == client.get(url).get_data(), url


def router_post(client, headers: dict | None = None):
    """The page router's callback for "/", as the renderer posts it."""
    token = client.get_cookie("_csrf_token").value
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    return client.post(
        "/_dash-update-component", json=body, headers={"X-CSRFToken": token, **(headers or {})}
    )


def test_callback_answers_are_compressed(client, world):
    signed_in(client)
    response = router_post(client, BR_GZIP)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "br"
    assert b'"_pages_content"' in decoded(response)


def test_no_compression_unasked_for_tiny_bodies_or_compressed_types(client, world):
    signed_in(client)
    assert "Content-Encoding" not in client.get("/").headers
    assert "Content-Encoding" not in client.get("/healthz", headers=BR_GZIP).headers
    font = client.get("/assets/fonts/bootstrap-icons.woff2?x", headers=BR_GZIP)
    assert font.status_code == 200 and "Content-Encoding" not in font.headers


def test_compressed_pages_keep_the_security_headers_and_script_hashes(client, world):
    signed_in(client)
    page = client.get("/", headers=BR_GZIP)
    assert page.headers["Content-Encoding"] == "br"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    policy = page.headers["Content-Security-Policy"]
    html = re.sub(r"<!--.*?-->", "", decoded(page).decode(), flags=re.S)
    inline = re.findall(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S
    )
    assert inline
    for code in inline:
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_csv_exports_still_stream_uncompressed(client, world):
    signed_in(client)
    response = client.get("/export/calls.csv", headers=BR_GZIP)
    assert response.status_code == 200
    assert response.is_streamed
    assert "Content-Encoding" not in response.headers
    assert b"".join(response.response).count(b"\n") >= 1 + world.calls_a


def test_body_limits_still_answer_413(client, world):
    signed_in(client)
    response = client.post(
        "/_dash-update-component",
        data=b"x" * (security.MAX_BODY + 1),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": client.get_cookie("_csrf_token").value,
            **BR_GZIP,
        },
    )
    assert response.status_code == 413


# --- caching -------------------------------------------------------------------------------


def test_every_bundle_and_asset_of_the_page_is_versioned_and_immutable(client, world):
    signed_in(client)
    urls = page_urls(client)
    assert len(urls) > 10
    for url in urls:
        assert ".v" in url.rsplit("/", 1)[-1] or "?m=" in url or "?v=" in url, url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == IMMUTABLE, url


def test_the_login_page_links_versioned_stylesheets(client):
    html = client.get("/login").get_data(as_text=True)
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert links and all("?m=" in link for link in links)
    for link in links:
        assert client.get(link).headers["Cache-Control"] == IMMUTABLE


def test_unversioned_static_urls_revalidate_and_data_is_never_stored(client, world):
    signed_in(client)
    assert client.get("/assets/syncboard.css").headers["Cache-Control"] == "no-cache"
    for path in ("/", "/_dash-layout", "/_dash-dependencies", "/api/v1/sources", "/login"):
        assert client.get(path, headers=BR_GZIP).headers["Cache-Control"] == "no-store", path
    assert router_post(client).headers["Cache-Control"] == "no-store"


# --- per-request overhead --------------------------------------------------------------------


@contextmanager
def counted_statements(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_static_answers_do_no_database_or_session_work(client, world, db):
    signed_in(client)
    urls = page_urls(client)
    asset = next(u for u in urls if "/assets/" in u)
    bundle = next(u for u in urls if "_dash-component-suites" in u)
    etag = client.get("/assets/syncboard.css").headers["ETag"]
    with counted_statements(db.engine) as statements:
        answers = [
            client.get(asset, headers=BR_GZIP),
            client.get(bundle, headers=BR_GZIP),
            client.get("/_favicon.ico?v=1"),
            client.get("/assets/syncboard.css", headers={"If-None-Match": etag}),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 304]
    assert statements == []
    for answer in answers:
        assert "Set-Cookie" not in answer.headers
        assert "Cookie" not in answer.headers.get("Vary", "")
    # ...and the user is still signed in for the pages.
    assert "manager_a@example.com" in client.get("/_dash-layout").get_data(as_text=True)


def test_callbacks_do_not_re_sign_cookies_on_every_answer(client, world, monkeypatch):
    signed_in(client)
    before = client.get_cookie("_csrf_token").value
    callback = router_post(client)
    assert callback.status_code == 200
    assert "Set-Cookie" not in callback.headers
    assert client.get_cookie("_csrf_token").value == before
    # Once the cookie is older than the refresh interval, the next answer renews it.
    monkeypatch.setattr(security, "SESSION_REFRESH_AFTER", 0)
    renewed = client.get("/_dash-layout")
    assert any(c.startswith("syncboard_session=") for c in renewed.headers.getlist("Set-Cookie"))


def test_a_session_from_another_browser_is_still_refused(server, world):
    browser = server.test_client()
    login(browser, "manager_a@example.com")
    cookie = browser.get_cookie("syncboard_session").value
    thief = server.test_client()
    thief.set_cookie("syncboard_session", cookie)
    response = thief.get("/_dash-layout", headers={"User-Agent": "curl/8"})
    assert response.status_code == 401


def test_versioned_static_files_get_their_best_encoding_in_the_background(tmp_path):
    from web.performance import _FingerprintedBodies

    data = b"function f(){return 1}\n" * 20_000
    quick = brotli.compress(data, quality=1)
    bodies = _FingerprintedBodies(tmp_path)
    bodies.set("br;pass:123", quick)
    assert bodies.get("br;pass:123") is None  # answers made per request are never kept
    key = "br;keep:/assets/app.js?m=1"
    bodies.set(key, quick)
    assert bodies.get(key) in (quick, None) or len(bodies.get(key)) < len(quick)
    bodies._worker.join(30)
    best = bodies.get(key)
    assert brotli.decompress(best) == data and len(best) < len(quick)
    # Another worker process (a new backend on the same folder) finds the file.
    assert _FingerprintedBodies(tmp_path).get(key) == best
    assert not list(tmp_path.glob("*.part"))


def test_the_plotly_bundle_the_renderer_asks_for_unversioned_is_cached_for_a_day(client, world):
    signed_in(client)
    # dash-renderer loads plotly from this fixed URL when serve_locally is on.
    plotly = client.get(
        "/_dash-component-suites/plotly/package_data/plotly.min.js", headers=BR_GZIP
    )
    assert plotly.status_code == 200
    assert plotly.headers["Cache-Control"] == "public, max-age=86400"
    assert plotly.headers["Content-Encoding"] == "br"
    chunk = client.get("/_dash-component-suites/dash/dcc/async-graph.js")
    assert chunk.status_code == 200
    assert chunk.headers["Cache-Control"] == "public, max-age=3600"


def test_the_unversioned_plotly_bundle_is_compressed_once_and_kept_by_its_etag(client):
    from web.performance import compress

    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    first = client.get(url, headers={"Accept-Encoding": "br"})
    kept = [k for k in compress.cache._bodies if "plotly.min.js" in k]
    assert kept and all("#" in k for k in kept)  # keyed by its ETag, which names the content
    again = client.get(url, headers={"Accept-Encoding": "br"})
    assert again.get_data() == first.get_data()
