"""Typed settings of the vision worker (env prefix ``AUDITLENS_VISION_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    """Every setting of ``python -m vision run``; each is read from ``AUDITLENS_VISION_<NAME>``
    (command-line options override them)."""

    model_config = SettingsConfigDict(
        env_prefix="AUDITLENS_VISION_", env_file=".env", extra="ignore", validate_default=True
    )

    api_url: str = Field("http://127.0.0.1:8000", description="Base URL of the AuditLens API")
    token: SecretStr = Field(SecretStr(""), description="This worker's API token (alw_...)")
    outbox_path: Path = Field(
        Path("./var/vision-outbox.db"), description="SQLite outbox; snapshots go beside it"
    )
    health_every_s: float = Field(10.0, gt=0, description="Health record per camera every (s)")
    config_refresh_s: float = Field(
        60.0, gt=0, description="Refetch the camera configs from the API every (s)"
    )
    reconnect_base_s: float = Field(1.0, gt=0, description="First reconnect delay (s)")
    reconnect_max_s: float = Field(60.0, gt=0, description="Longest reconnect delay (s)")
    open_timeout_s: float = Field(10.0, gt=0, description="Opening a stream gives up after (s)")
    read_timeout_s: float = Field(
        10.0, gt=0, description="A stream that sends no frame for this long has dropped (s)"
    )
    http_timeout_s: float = Field(10.0, gt=0, description="Each API request gives up after (s)")
    delivery_batch_size: int = Field(200, ge=1, le=1000, description="Records per POST")
    delivery_max_backoff_s: float = Field(
        60.0, gt=0, description="Longest wait between delivery retries (s)"
    )
    shutdown_flush_s: float = Field(
        10.0, ge=0, description="At shutdown, try to deliver what is left for up to (s)"
    )
    log_level: str = Field("INFO", description="Python log level")
