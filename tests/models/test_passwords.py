"""Password hashing: the suite runs on cheap argon2 costs, production keeps argon2-cffi's."""

from __future__ import annotations

import pytest

from models import users
from models.orgs import User


@pytest.fixture
def production_hashes():
    cheap = users._hasher
    users.use_hasher(users.PRODUCTION_HASHER)
    yield
    users.use_hasher(cheap)


def test_production_parameters_hash_and_verify(db, production_hashes):
    with db.session() as s:
        user = users.create_user(s, "prod@example.com", "correct-horse-1")
        s.commit()
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert users.authenticate(s, "prod@example.com", "correct-horse-1") is not None
        assert users.authenticate(s, "prod@example.com", "wrong-password") is None


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in(db):
    with db.session() as s:
        user = users.create_user(s, "old@example.com", "correct-horse-1")
        s.commit()
        assert "m=65536" not in user.password_hash
        cheap = users._hasher
        users.use_hasher(users.PRODUCTION_HASHER)
        try:
            assert users.authenticate(s, "old@example.com", "correct-horse-1") is not None
            s.commit()
            assert s.get(User, user.id).password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        finally:
            users.use_hasher(cheap)
