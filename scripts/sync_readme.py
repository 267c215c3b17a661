"""Rewrite README.md's generated tables (settings, roles) from the code."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _replace_table(text: str, header: str, table: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join([*lines[:start], *table.strip().splitlines(), *lines[end:]]) + "\n"


ROUTES_START = "<!-- routes:start (scripts/sync_readme.py) -->"
ROUTES_END = "<!-- routes:end -->"


def route_table() -> str:
    """Every operation of the OpenAPI schema with its summary."""
    from audit_service.app import create_app
    from audit_service.config import ServiceSettings

    app = create_app(ServiceSettings(database_url="sqlite://"), configure_logs=False)
    rows = ["| method | path | what it does |", "|---|---|---|"]
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            summary = (op.get("summary") or "").replace("|", "\\|")
            rows.append(f"| {method.upper()} | `{path}` | {summary} |")
    app.state.engine.dispose()
    return "\n".join(rows)


def _replace_block(text: str, block: str) -> str:
    start = text.index(ROUTES_START) + len(ROUTES_START)
    end = text.index(ROUTES_END)
    return text[:start] + "\n" + block + "\n" + text[end:]


def main() -> int:
    from audit_service.authz import permission_table

    sys.path.insert(0, str(ROOT / "scripts"))
    from settings_table import settings_table, vision_settings_table

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    settings = settings_table()
    text = _replace_table(text, "| variable | default |", settings)
    text = _replace_table(text, "| worker variable | default |", vision_settings_table())
    text = _replace_table(text, "| permission | what it allows |", permission_table())
    text = _replace_block(text, route_table())
    readme.write_text(text, encoding="utf-8")
    print("README.md tables rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
