"""Uploads are kept per organisation, and only admins may upload."""

from __future__ import annotations

import pytest

from models.scope import AccessDenied, Viewer
from web.uploads import UploadError, check_upload_path, store_upload

ADMIN_A = Viewer(1, "a@example.com", 1, "org_admin")
ADMIN_B = Viewer(2, "b@example.com", 2, "org_admin")


def test_store_and_check(app_settings):
    path = store_upload(ADMIN_A, "../../Calls July.csv", b"id,started_at\n1,2024-01-01\n")
    assert path.startswith("uploads/1/") and path.endswith("-Calls-July.csv")
    assert (app_settings.instance_dir / path).read_bytes().startswith(b"id,")
    assert check_upload_path(ADMIN_A, path) == path
    with pytest.raises(UploadError):
        check_upload_path(ADMIN_B, path)
    with pytest.raises(UploadError):
        check_upload_path(ADMIN_A, "../secret_key")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [("x.exe", b"1", "not a .csv or .xlsx"), ("x.csv", b"", "is empty")],
)
def test_refusals(name, data, message):
    with pytest.raises(UploadError, match=message):
        store_upload(ADMIN_A, name, data)


def test_only_admins_upload():
    with pytest.raises(AccessDenied):
        store_upload(Viewer(3, "m@example.com", 1, "manager"), "x.csv", b"id\n1\n")
