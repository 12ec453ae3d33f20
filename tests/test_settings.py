"""Settings fail fast on nonsense, and every setting is documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from settings import DOCUMENTED, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z_]+)=", example, flags=re.M))
    assert listed == set(DOCUMENTED)


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in DOCUMENTED if f"`{name}`" not in readme]
    assert not missing


def test_defaults(tmp_path):
    s = load_settings({"SYNCBOARD_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'syncboard.db'}"
    assert s.redis_url is None and s.url_prefix == "/" and s.frame_ancestors == "'self'"
    assert (tmp_path / "secret_key").exists()
    assert load_settings({"SYNCBOARD_INSTANCE_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_postgres_urls_use_psycopg3(tmp_path):
    s = load_settings(
        {"SYNCBOARD_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@h/db"}
    )
    assert s.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "mysql://x"},
        {"REDIS_URL": "http://x"},
        {"SYNCBOARD_URL_PREFIX": "analytics"},
        {"SECRET_KEY": "short"},
        {"SYNCBOARD_COOKIE_SAMESITE": "sometimes"},
        {"SYNCBOARD_PROXY_HOPS": "two"},
        {"SYNCBOARD_CONNECTOR_ALLOW_HOSTS": "10.0.0.0/33"},
        {"SYNCBOARD_CONNECTOR_ALLOW_HOSTS": "http://crm.internal"},
        {"SYNCBOARD_CONNECTOR_ALLOW_HOSTS": "crm.internal:0"},
        {"SYNCBOARD_PUBLIC_URL": "analytics.example.com"},
        {"SYNCBOARD_PUBLIC_URL": "https://example.com/analytics"},
        {"SYNCBOARD_PUBLIC_URL": "https://user:pw@example.com"},
        {"SYNCBOARD_PUBLIC_URL": "ftp://example.com"},
        {"SYNCBOARD_PUBLIC_URL": "https://example.com:99999"},
    ],
)
def test_nonsense_fails_fast(tmp_path, env):
    with pytest.raises(SettingsError):
        load_settings({"SYNCBOARD_INSTANCE_DIR": str(tmp_path), **env})


def test_public_url_is_an_origin(tmp_path):
    def public(value: str) -> str | None:
        env = {"SYNCBOARD_INSTANCE_DIR": str(tmp_path), "SYNCBOARD_PUBLIC_URL": value}
        return load_settings(env).public_url

    assert public("https://Analytics.Example.com/") == "https://analytics.example.com"
    assert public("http://10.0.0.5:8050") == "http://10.0.0.5:8050"
    assert public("") is None


def test_prefix_gets_a_trailing_slash(tmp_path):
    assert (
        load_settings(
            {"SYNCBOARD_INSTANCE_DIR": str(tmp_path), "SYNCBOARD_URL_PREFIX": "/analytics"}
        ).url_prefix
        == "/analytics/"
    )


def test_connector_allow_list_takes_names_addresses_networks_and_ports(tmp_path):
    raw = " crm.Internal. , 10.0.0.5, 10.1.0.0/16:8443, [fd00::1]:443, mynaga:8080, ,::1 "
    allowed = load_settings(
        {"SYNCBOARD_INSTANCE_DIR": str(tmp_path), "SYNCBOARD_CONNECTOR_ALLOW_HOSTS": raw}
    ).connector_allow_hosts
    assert [(a.name, str(a.network) if a.network else None, a.port) for a in allowed] == [
        ("crm.internal", None, None),
        (None, "10.0.0.5/32", None),
        (None, "10.1.0.0/16", 8443),
        (None, "fd00::1/128", 443),
        ("mynaga", None, 8080),
        (None, "::1/128", None),
    ]
    assert load_settings({"SYNCBOARD_INSTANCE_DIR": str(tmp_path)}).connector_allow_hosts == ()
