"""Typed settings of the dashboard (env prefix ``AUDITLENS_``, like the API's).

The dashboard needs only where the API is and how fresh its reads must be; it never sees the
database or the service secret.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["zh-CN", "en"]


class DashboardSettings(BaseSettings):
    """Every setting of the dashboard. Each one is read from ``AUDITLENS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="AUDITLENS_", env_file=".env", extra="ignore")

    api_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL the dashboard reaches the API at"
    )
    dashboard_host: str = Field("127.0.0.1", description="Interface the dashboard binds to")
    dashboard_port: int = Field(8501, ge=1, le=65535, description="Port the dashboard listens on")
    dashboard_language: Language = Field("en", description="Language before the user picks one")
    dashboard_cache_ttl_s: float = Field(
        60.0, gt=0, le=3600, description="How long API reads are reused (s)"
    )
    dashboard_live_ttl_s: float = Field(
        5.0, gt=0, le=300, description="How long live reads (counters, queues) are reused (s)"
    )
    dashboard_live_refresh_s: float = Field(
        10.0, ge=1, le=600, description="The live overview refreshes itself every (s)"
    )
    dashboard_http_timeout_s: float = Field(
        15.0, gt=0, le=300, description="Each API request gives up after (s)"
    )
    dashboard_timezone: str = Field(
        "Asia/Shanghai",
        description="Time zone of dates picked across outlets (each outlet's own times are "
        "shown in its time zone)",
    )


def current() -> DashboardSettings:
    """The settings as the environment gives them now: read again whenever an ``AUDITLENS_``
    variable changes, so one process can talk to several APIs (the tests do)."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AUDITLENS_")))
    return _load(env)


@lru_cache(maxsize=8)
def _load(env: tuple[tuple[str, str], ...]) -> DashboardSettings:
    return DashboardSettings()
