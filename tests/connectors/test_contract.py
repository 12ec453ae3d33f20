"""The contract every connector keeps: declared settings that check themselves, writable streams."""

from __future__ import annotations

import pytest

from connectors.base import (
    ConfigField,
    Connector,
    DeclarationError,
    Stream,
    check_declarations,
    check_targets,
    registry,
)
from models.upserts import TARGETS


def test_every_registered_connector_streams_into_a_table_the_engine_writes():
    known = registry()
    assert {"callrail", "csv", "demo", "gsheet", "hubspot", "mightycall", "mynaga"} <= set(known)
    check_targets(known.values(), TARGETS)
    for cls in known.values():
        check_declarations(cls)


def test_a_stream_into_an_unknown_table_fails_naming_the_connector_and_the_table():
    class Typo(Connector):
        key = "typo"
        label = "Typo"
        streams = (Stream("people", "contactz"),)

    with pytest.raises(DeclarationError) as raised:
        check_targets([Typo], TARGETS)
    message = str(raised.value)
    assert "Typo" in message and "'people'" in message and "'contactz'" in message
    assert "cannot write" in message and "contacts" in message


def test_a_malformed_declaration_is_refused_when_it_registers():
    class Odd(Connector):
        key = "odd"
        label = "Odd"
        config_fields = (ConfigField("level", "Level", "choice"),)

    with pytest.raises(DeclarationError, match="declares no choices"):
        check_declarations(Odd)
    Odd.config_fields = (ConfigField("a", "A"), ConfigField("a", "Again"))
    with pytest.raises(DeclarationError, match="declared twice"):
        check_declarations(Odd)
    Odd.config_fields = (ConfigField("a", "A", "colour"),)
    with pytest.raises(DeclarationError, match="unknown kind 'colour'"):
        check_declarations(Odd)


class Sample(Connector):
    key = "sample"
    label = "Sample"
    config_fields = (
        ConfigField("api_key", "API key", "secret"),
        ConfigField("user_key", "User key", "secret", required=False),
        ConfigField("account", "Account"),
        ConfigField("hours", "Look-back hours", "number", required=False, minimum=0, maximum=48),
        ConfigField("pages", "Pages", "integer", required=False, minimum=1),
        ConfigField("model", "Model", "choice", required=False, choices=("calls", "contacts")),
        ConfigField("start", "Start", "date", required=False),
        ConfigField("mapping", "Mapping", "json", required=False),
    )


def test_values_are_typed_and_blank_optional_ones_left_out():
    clean = Sample.clean_config(
        {
            "api_key": " k-1 ",
            "account": "ACC1",
            "hours": "1.5",
            "pages": "3",
            "model": "calls",
            "start": "2024-02-01",
            "mapping": '{"started_at": "Start"}',
            "user_key": "",
            "stray": "ignored",
        }
    )
    assert clean.ok, clean.errors
    assert clean.credentials == {"api_key": "k-1"}
    assert clean.settings == {
        "account": "ACC1",
        "hours": 1.5,
        "pages": 3,
        "model": "calls",
        "start": "2024-02-01",
        "mapping": {"started_at": "Start"},
    }


def test_each_bad_value_gets_its_own_message():
    clean = Sample.clean_config(
        {
            "api_key": "line\nbreak",
            "hours": "99",
            "pages": "2.5",
            "model": "sms",
            "start": "31/01/2024",
            "mapping": "[1, 2]",
        }
    )
    assert clean.errors == {
        "api_key": "API key has a line break or a control character.",
        "account": "Enter the Account.",
        "hours": "Look-back hours must be at most 48.",
        "pages": "Pages must be a whole number.",
        "model": "Model must be one of: calls, contacts.",
        "start": "Start must be a date (YYYY-MM-DD).",
        "mapping": 'Mapping must be a JSON object like {"a": "b"}.',
    }
    assert Sample.clean_config({"hours": "nan", "account": "A"}).errors["hours"] == (
        "Look-back hours must be a number."
    )


def test_a_saved_secret_may_be_left_empty_and_undeclared_settings_survive_a_save():
    clean = Sample.clean_config({"account": "ACC2"}, saved_secrets={"api_key"})
    assert clean.ok and clean.credentials == {}
    merged = Sample.merged_settings(
        {"account": "ACC1", "hours": 4, "max_retries": 2}, clean.settings
    )
    assert merged == {"account": "ACC2", "max_retries": 2}
