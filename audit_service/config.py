"""Typed settings for audit_service (env prefix ``AUDITLENS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside development
MIN_SECRET_KEY_LENGTH = 32


class ServiceSettings(BaseSettings):
    """Every setting of the API. Each one is read from ``AUDITLENS_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="AUDITLENS_", env_file=".env", extra="ignore", validate_default=True
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development | test | production"
    )
    database_url: str = Field(
        "sqlite:///./var/auditlens.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY),
        description="Signs tokens and encrypts camera stream URLs. Required outside development.",
    )
    api_host: str = Field("127.0.0.1", description="Interface the API binds to")
    api_port: int = Field(8000, description="Port the API listens on")
    public_url: str = Field(
        "", description="Base URL clients reach the API at; used in local presigned URLs"
    )

    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted to set X-Forwarded-For (comma-separated IPs, or *); the "
        "client address drives login rate limits and the evidence access log",
    )

    access_token_ttl_s: int = Field(900, ge=60, le=1800, description="Access token life (s)")
    refresh_token_ttl_s: int = Field(14 * 24 * 3600, ge=300, description="Refresh session life (s)")
    login_max_failures_per_user: int = Field(
        5, ge=1, description="Failed logins per username within the window before lock-out"
    )
    login_max_failures_per_ip: int = Field(
        20, ge=1, description="Failed logins per client IP within the window before lock-out"
    )
    login_window_s: int = Field(900, ge=10, description="Login rate-limit window (s)")

    evidence_backend: Literal["local", "s3"] = Field(
        "local", description="local folder (embedded) or s3 (MinIO / any S3 API)"
    )
    evidence_dir: Path = Field(Path("./var/evidence"), description="Folder of the local backend")
    s3_endpoint: str = Field("127.0.0.1:9000", description="S3 host:port for the s3 backend")
    s3_access_key: SecretStr = Field(SecretStr(""), description="S3 access key")
    s3_secret_key: SecretStr = Field(SecretStr(""), description="S3 secret key")
    s3_bucket: str = Field("auditlens-evidence", description="Bucket holding evidence")
    s3_secure: bool = Field(False, description="Use HTTPS to reach S3")
    s3_region: str = Field("us-east-1", description="S3 region")
    s3_public_endpoint: str = Field(
        "",
        description="Where clients reach S3 for presigned URLs, e.g. https://evidence.example.com "
        "(empty: same as s3_endpoint)",
    )
    presign_ttl_s: int = Field(300, ge=10, le=3600, description="Life of presigned URLs (s)")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest evidence upload accepted (bytes)"
    )

    log_level: str = Field("INFO", description="Python log level")
    log_json: bool = Field(True, description="Structured JSON logs (false: plain text)")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> ServiceSettings:
        if self.environment == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if not secret.strip() or secret.strip() == DEV_SECRET_KEY:
            raise ValueError(
                "AUDITLENS_SECRET_KEY must be set to a long random value outside development "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if len(secret) < MIN_SECRET_KEY_LENGTH:
            # HS256 tokens are signed with this key: RFC 7518 asks for at least 256 bits.
            raise ValueError(
                f"AUDITLENS_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> ServiceSettings:
    return ServiceSettings()
