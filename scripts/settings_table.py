"""Print the README's configuration table: every ServiceSettings field as its AUDITLENS_ variable.

    .venv/bin/python scripts/settings_table.py

Paste the output into README.md (tests/audit_service/test_readme.py checks that it is there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from audit_service.config import ServiceSettings


def env_var(field_name: str) -> str:
    prefix = ServiceSettings.model_config.get("env_prefix", "")
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


def settings_table() -> str:
    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    for name, field in ServiceSettings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{env_var(name)}` | {_default(field.default)} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
