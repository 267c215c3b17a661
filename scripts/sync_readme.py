"""Rewrite README.md's generated tables (settings, roles) from the code. Run after changing either."""

from __future__ import annotations

import subprocess
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


def main() -> int:
    from audit_service.authz import permission_table

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    settings = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py")],
                              check=True, capture_output=True, text=True).stdout
    text = _replace_table(text, "| variable | default |", settings)
    text = _replace_table(text, "| permission | what it allows |", permission_table())
    readme.write_text(text, encoding="utf-8")
    print("README.md tables rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
