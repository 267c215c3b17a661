"""Settings: env prefix, defaults, and the refusal of weak secrets outside development."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from audit_service.config import DEV_SECRET_KEY, ServiceSettings, get_settings

STRONG = "x9-" * 16  # 48 characters


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No AUDITLENS_* variable or .env file of the developer's leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("AUDITLENS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_are_development_with_sqlite_and_evidence_under_var():
    s = ServiceSettings()
    assert s.environment == "development"
    assert s.database_url == "sqlite:///./var/auditlens.db"
    assert s.is_sqlite is True
    assert s.evidence_backend == "local"
    assert s.evidence_dir == Path("./var/evidence")
    assert s.evidence_dir.parts[0] == "var"
    assert s.secret_key.get_secret_value() == DEV_SECRET_KEY
    # Login defaults: a short-lived access token and the documented lock-out thresholds.
    assert s.access_token_ttl_s == 900
    assert s.login_max_failures_per_user == 5
    assert s.login_max_failures_per_ip == 20
    assert s.login_window_s == 900


def test_development_accepts_the_default_secret():
    s = ServiceSettings(environment="development")
    assert s.secret_key.get_secret_value() == DEV_SECRET_KEY


def test_secret_is_hidden_in_repr():
    s = ServiceSettings(environment="production", secret_key=STRONG)
    assert STRONG not in repr(s)
    assert STRONG not in str(s.model_dump())


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("secret", ["", DEV_SECRET_KEY, "   " * 12])
def test_outside_development_an_empty_or_default_secret_is_refused(environment, secret):
    with pytest.raises(ValidationError) as info:
        ServiceSettings(environment=environment, secret_key=secret)
    message = str(info.value)
    assert "AUDITLENS_SECRET_KEY must be set" in message
    assert "secrets.token_urlsafe" in message  # the message tells how to make one


def test_outside_development_the_default_secret_from_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("AUDITLENS_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="AUDITLENS_SECRET_KEY must be set"):
        ServiceSettings()


def test_outside_development_a_short_secret_is_refused():
    with pytest.raises(ValidationError, match="at least 32 characters"):
        ServiceSettings(environment="production", secret_key="short-but-not-default")
    # 31 characters: still too short for HS256 (256-bit key).
    with pytest.raises(ValidationError, match="at least 32 characters"):
        ServiceSettings(environment="production", secret_key="a" * 31)
    assert ServiceSettings(environment="production", secret_key="a" * 32).environment == (
        "production"
    )


def test_env_prefix_auditlens_is_read(monkeypatch):
    monkeypatch.setenv("AUDITLENS_ENVIRONMENT", "production")
    monkeypatch.setenv("AUDITLENS_SECRET_KEY", STRONG)
    monkeypatch.setenv("AUDITLENS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("AUDITLENS_ACCESS_TOKEN_TTL_S", "600")
    monkeypatch.setenv("AUDITLENS_EVIDENCE_DIR", "/srv/evidence")
    s = ServiceSettings()
    assert s.environment == "production"
    assert s.secret_key.get_secret_value() == STRONG
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.is_sqlite is False
    assert s.access_token_ttl_s == 600
    assert s.evidence_dir == Path("/srv/evidence")


def test_unprefixed_variables_are_ignored(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/other")
    monkeypatch.setenv("ENVIRONMENT", "production")
    s = ServiceSettings()
    assert s.database_url == "sqlite:///./var/auditlens.db"
    assert s.environment == "development"


def test_env_file_in_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        f"AUDITLENS_ENVIRONMENT=test\nAUDITLENS_SECRET_KEY={STRONG}\n", encoding="utf-8"
    )
    s = ServiceSettings()
    assert s.environment == "test"
    assert s.secret_key.get_secret_value() == STRONG


def test_get_settings_is_cached_until_cleared(monkeypatch):
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("AUDITLENS_API_PORT", "8123")
    assert get_settings().api_port == 8000
    get_settings.cache_clear()
    assert get_settings().api_port == 8123


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("access_token_ttl_s", 30),  # below 60 s
        ("access_token_ttl_s", 7200),  # an access token must stay short-lived
        ("login_max_failures_per_user", 0),
        ("login_window_s", 1),
        ("environment", "staging"),
    ],
)
def test_out_of_range_values_are_refused(name, value):
    with pytest.raises(ValidationError) as info:
        ServiceSettings(**{name: value})
    assert name in str(info.value)
