"""Page addresses over HTTP: every registered page answers 200, an unknown one 404 (with the
app's not-found page), and the API, assets and Dash's own routes keep their answers."""

from __future__ import annotations

import subprocess

import dash
import pytest
import requests

from tests.helpers import login

FILLED = {"<source_id>": "1", "<stream>": "contacts", "<run_id>": "1"}


def page_paths() -> list[str]:
    paths = []
    for page in dash.page_registry.values():
        path = page.get("path_template") or page["path"]
        for variable, value in FILLED.items():
            path = path.replace(variable, value)
        if not page["module"].endswith("not_found_404"):
            paths.append(path)
    return paths


def test_every_registered_page_answers_200(client, world):
    login(client, "admin_a@example.com")
    paths = page_paths()
    assert {"/", "/calls", "/sources/1", "/sources/1/contacts", "/syncs/1"} <= set(paths)
    for path in paths + ["/calls/", "/calls?direction=inbound"]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert 'id="react-entry-point"' in answer.get_data(as_text=True), path


@pytest.mark.parametrize(
    "path", ["/admin", "/404", "/calls/extra", "/sources/1/contacts/more", "/no/such/page"]
)
def test_an_unknown_page_answers_404_with_the_app(client, world, path):
    login(client, "admin_a@example.com")
    answer = client.get(path)
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert 'id="react-entry-point"' in page and '<html lang="en">' in page


def test_other_routes_keep_their_answers(client, world):
    login(client, "admin_a@example.com")
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and "error" in api.get_json()
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200
    assert client.get("/assets/syncboard.css").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin", headers={"Accept": "application/json"}).status_code == 404


def test_signed_out_an_unknown_page_still_goes_to_sign_in(client, world):
    answer = client.get("/admin")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_under_a_url_prefix(tmp_path):
    from tests.web.test_served import serve

    proc, base = serve(
        tmp_path,
        {
            "SYNCBOARD_INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
            "SYNCBOARD_URL_PREFIX": "/analytics/",
            "ADMIN_EMAIL": "boss@example.com",
            "ADMIN_PASSWORD": "boss-password",
        },
    )
    try:
        import re

        browser = requests.Session()
        form = browser.get(base + "/analytics/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        browser.post(
            base + "/analytics/login",
            data={"csrf_token": token, "email": "boss@example.com", "password": "boss-password"},
        )
        assert browser.get(base + "/analytics/").status_code == 200
        assert browser.get(base + "/analytics/calls").status_code == 200
        assert browser.get(base + "/analytics/admin").status_code == 404
        assert browser.get(base + "/analytics/_dash-layout").status_code == 200
        assert browser.get(base + "/analytics/assets/syncboard.css").status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # a busy machine: do not leave it running
            proc.kill()
            proc.wait(10)
