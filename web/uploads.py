"""Uploaded files for the CSV / Excel connector, kept per organisation under the instance dir.

A file is stored as `uploads/<org id>/<random>-<name>`; a connection may only point at a
file of its own organisation, so one org admin can never load another org's upload.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path

from connectors.base import ConnectorError
from connectors.csv_upload import check_workbook
from models.scope import AccessDenied, Viewer
from settings import get_settings

ALLOWED = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
MAX_BYTES = 50 * 1024 * 1024


class UploadError(ValueError):
    """An upload we refuse, in words for the person uploading."""


def _org_dir(viewer: Viewer) -> Path:
    if viewer.org_id is None:  # a platform admin outside any organisation
        raise UploadError("Choose an organisation before uploading a file.")
    return get_settings().instance_dir / "uploads" / str(int(viewer.org_id))


def store_upload(viewer: Viewer, filename: str, data: bytes) -> str:
    """Save the file for the viewer's org; returns its path relative to the instance dir."""
    if not viewer.can_manage_syncs:
        raise AccessDenied("Only org admins can upload files.")
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        raise UploadError(f"{name or 'That file'} is not a .csv or .xlsx file.")
    if not data:
        raise UploadError(f"{name} is empty.")
    if len(data) > MAX_BYTES:
        raise UploadError(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if suffix in (".xlsx", ".xlsm"):
        try:
            check_workbook(io.BytesIO(data), name)
        except ConnectorError as exc:
            raise UploadError(str(exc)) from exc
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip("-")[:80] or "upload"
    folder = _org_dir(viewer)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for part in (folder.parent, folder):
        part.chmod(0o700)
    target = folder / f"{secrets.token_hex(6)}-{safe}{suffix}"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return str(target.relative_to(get_settings().instance_dir))


def check_upload_path(viewer: Viewer, relative: str) -> str:
    """The path if it names an existing upload of the viewer's org, else UploadError."""
    instance = get_settings().instance_dir.resolve()
    path = (instance / (relative or "")).resolve()
    if not path.is_relative_to(_org_dir(viewer).resolve()) or not path.is_file():
        raise UploadError("Upload the file again: it is not one of this organisation's uploads.")
    return str(path.relative_to(instance))
