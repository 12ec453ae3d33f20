"""No callback shows one organisation's data to another, whatever ids a forged request carries.

Every registered server callback is posted as each role of org A, with org B's ids
(connection, run, phone number, user, organisation) in its inputs, states and pattern ids,
and with org B's pages in the router. Org B's rows carry the marker MARK-B (see
tests/models/test_isolation.py); no answer may contain it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.models.test_isolation import two_orgs  # noqa: F401  (the fixture)
from tests.web.test_fuzz import forge, fuzz_settings, post_callback, server_callbacks, signed_in

ROLES = ("admin_a", "manager_a", "agent_a1")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_no_callback_answers_with_another_orgs_data(server, db, world, two_orgs):  # noqa: F811
    _a, b = two_orgs
    foreign = [b.connection, b.run, b.number, b.user, world.org_b]
    browsers = signed_in(server, ROLES)
    callbacks = server_callbacks()
    seen: list[int] = []
    own: set[str] = set()

    @fuzz_settings(8)
    @given(data=st.data())
    def probe(key: str, data):
        role = data.draw(st.sampled_from(ROLES), label="role")
        body = forge(data, key, callbacks[key], foreign)
        response = post_callback(browsers[role], body)
        seen.append(response.status_code)
        text = response.get_data(as_text=True)
        assert "MARK-B" not in text, f"{key} as {role}: {json.dumps(body)[:400]} -> {text[:400]}"
        if "MARK-A" in text:
            own.add(key)

    for key in sorted(callbacks):
        probe(key)
    assert seen.count(200) > len(callbacks), "most forged requests should reach the callback"
    # The probe has teeth: the same callbacks do show org A's own marked rows.
    assert len(own) >= 3, sorted(own)
