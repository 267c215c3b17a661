"""Print the README's configuration tables: every ServiceSettings field as its AUDITLENS_ variable,
then every vision WorkerSettings field as its AUDITLENS_VISION_ variable.

    .venv/bin/python scripts/settings_table.py

Paste the output into README.md (tests/audit_service/test_readme.py checks that it is there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from audit_service.config import ServiceSettings
from vision.settings import WorkerSettings


def env_var(field_name: str, settings_cls: type[BaseSettings] = ServiceSettings) -> str:
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field_name}".upper()


def _default(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, Path):
        value = value.as_posix()
        value = value if value.startswith((".", "/")) else f"./{value}"
    text = str(value)
    return f"`{text}`" if text else "(empty)"


def settings_table(
    settings_cls: type[BaseSettings] = ServiceSettings, first_column: str = "variable"
) -> str:
    rows = [f"| {first_column} | default | what it sets |", "|---|---|---|"]
    for name, field in settings_cls.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        var = env_var(name, settings_cls)
        rows.append(f"| `{var}` | {_default(field.default)} | {description} |")
    return "\n".join(rows)


def vision_settings_table() -> str:
    return settings_table(WorkerSettings, "worker variable")


if __name__ == "__main__":
    print(settings_table())
    print()
    print(vision_settings_table())
