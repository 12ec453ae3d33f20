"""Request bodies, uploads and workbooks have limits, checked before anything is parsed."""

from __future__ import annotations

import io
import resource
import stat
import zipfile
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook

from connectors.base import ConnectorError
from connectors.csv_upload import CsvUploadConnector, check_workbook
from models.scope import Viewer
from tests.helpers import dash_post, login, make_org
from web.security import MAX_BODY
from web.uploads import UploadError, store_upload

ADMIN = Viewer(1, "a@example.com", 1, "org_admin")


def _big_callback(client, size: int):
    """An upload callback whose body is `size` bytes."""
    client.get("/_dash-layout")
    return dash_post(
        client,
        "..sources-add-file-path.data...sources-add-file-note.children..",
        [{"id": "sources-add-file", "property": "contents", "value": "x" * size}],
    )


def test_an_agent_cannot_post_a_huge_callback_body(client, world):
    login(client, "agent_a1@example.com")
    response = _big_callback(client, 3 * MAX_BODY)
    assert response.status_code == 413
    assert response.get_json() == {"error": "The request is larger than 2 MB."}


def test_an_org_admin_may_post_an_upload_sized_callback(client, world):
    login(client, "admin_a@example.com")
    response = _big_callback(client, 3 * MAX_BODY)
    assert response.status_code != 413


def test_api_bodies_are_limited_before_parsing(client, world, db):
    from models.orgs import User
    from models.users import create_token

    with db.session() as s:
        token = create_token(s, s.get(User, world.users["agent_a1"])).token
        s.commit()
    response = client.post(
        "/api/v1/syncs",
        data=b"{" + b" " * (3 * MAX_BODY) + b"}",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert "larger than" in response.get_json()["error"]


def test_a_chunked_body_without_length_is_cut_at_the_limit(tmp_path):
    """Under gunicorn (which terminates chunked input) the limit holds without a length too."""
    import os
    import re
    import subprocess

    from tests.web.test_served import SYNCBOARD, serve

    env = {
        "SYNCBOARD_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "ADMIN_EMAIL": "boss@example.com",
        "ADMIN_PASSWORD": "boss-password",
    }
    proc, base = serve(tmp_path, env)
    agent = [SYNCBOARD, "create-user", "agent@example.com", "--password", "agent-password"]
    subprocess.run(
        [*agent, "--org", "Acme", "--role", "agent"], env={**os.environ, **env}, check=True
    )
    try:
        session = requests.Session()
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', session.get(base + "/login").text
        ).group(1)
        session.post(
            base + "/login",
            data={"csrf_token": token, "email": "agent@example.com", "password": "agent-password"},
        )
        session.get(base + "/_dash-layout")
        chunk = b"x" * 65536

        def body():
            yield b'{"output": "a.b", "inputs": [{"value": "'
            for _ in range(3 * MAX_BODY // len(chunk)):
                yield chunk
            yield b'"}]}'

        try:
            response = session.post(
                base + "/_dash-update-component",
                data=body(),
                headers={
                    "Content-Type": "application/json",
                    "X-CSRFToken": session.cookies.get("_csrf_token"),
                },
            )
        except requests.ConnectionError:
            return  # werkzeug's documented alternative: the server stops reading and resets
        assert response.status_code == 413
        assert requests.get(base + "/healthz").ok
    finally:
        proc.terminate()
        proc.wait(10)


def _bomb(shared_strings_mb: int) -> bytes:
    """A real workbook whose shared-strings part inflates to `shared_strings_mb` MB."""
    workbook = Workbook()
    workbook.active.append(["id", "name"])
    workbook.active.append([1, "x"])
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    filler = b"<si><t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</t></si>" * 16384
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/sharedStrings.xml":
                dst.writestr(item, src.read(item))
        with dst.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(shared_strings_mb):
                part.write(filler)
            part.write(b"</sst>")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb(160)


def test_a_zip_bomb_workbook_is_refused_at_upload(bomb):
    assert len(bomb) < 1024 * 1024
    with pytest.raises(UploadError, match="would unpack to 1[0-9]{2} MB"):
        store_upload(ADMIN, "report.xlsx", bomb)


def test_a_zip_bomb_workbook_fails_the_sync_without_inflating(db, bomb, app_settings):
    from tests.helpers import make_connection, run_sync

    folder = app_settings.instance_dir / "uploads" / "bombs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bomb.xlsx"
    path.write_bytes(bomb)
    org = make_org(db)
    conn = make_connection(db, org, "csv", settings={"path": str(path), "model": "contacts"})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = run_sync(conn, "contacts")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert run.status == "failed"
    assert "xl/sharedStrings.xml would unpack to" in run.error
    assert grown_mb < 50


def test_an_ordinary_workbook_passes_the_check(tmp_path):
    workbook = Workbook()
    for n in range(20_000):
        workbook.active.append([n, f"name {n}", "same text in every row"])
    path = tmp_path / "fine.xlsx"
    workbook.save(path)
    with path.open("rb") as handle:
        check_workbook(handle, "fine.xlsx")


def test_a_file_longer_than_a_sheet_is_refused_before_loading(db, monkeypatch, app_settings):
    import connectors.tabular as tabular

    monkeypatch.setattr(tabular, "MAX_ROWS", 100)
    folder = app_settings.instance_dir / "uploads" / "long"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "long.csv"
    path.write_text("id,name,email\n" + "".join(f"{n},n{n},n{n}@x.io\n" for n in range(150)))
    with pytest.raises(ConnectorError, match="more than (the )?100 (rows|a sheet)"):
        CsvUploadConnector(settings={"path": str(path), "model": "contacts"}).test_connection()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_uploads_are_private_files_in_private_folders(app_settings):
    relative = store_upload(ADMIN, "calls.csv", b"id\n1\n")
    path = app_settings.instance_dir / relative
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700


def test_a_new_sqlite_database_and_secret_are_private(tmp_path):
    from models.db import make_engine
    from settings import load_settings

    settings = load_settings({"SYNCBOARD_INSTANCE_DIR": str(tmp_path / "inst")})
    assert _mode(settings.instance_dir) == 0o700
    assert _mode(settings.instance_dir / "secret_key") == 0o600
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x int)")
    engine.dispose()
    for name in ("syncboard.db",):
        assert _mode(settings.instance_dir / name) == 0o600
