"""Connection credentials at rest: encrypted with a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from settings import get_settings


def _fernet() -> Fernet:
    """A Fernet key derived from SECRET_KEY: every process that can sign sessions can decrypt."""
    digest = hashlib.sha256(
        ("syncboard-credentials:" + get_settings().secret_key).encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_credentials(credentials: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(credentials).encode()).decode() if credentials else ""


def decrypt_credentials(blob: str) -> dict[str, str]:
    if not blob:
        return {}
    try:
        return json.loads(_fernet().decrypt(blob.encode()))
    except InvalidToken as exc:
        raise ValueError(
            "Stored credentials cannot be decrypted (was SECRET_KEY changed?). Enter the token again."
        ) from exc
