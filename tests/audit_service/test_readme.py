"""README.md stays in step with the code: settings, the role table and the quick start."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from audit_service.authz import permission_table
from audit_service.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REGENERATE = "regenerate it with .venv/bin/python scripts/sync_readme.py"


def _settings_table() -> str:
    return runpy.run_path(str(ROOT / "scripts" / "settings_table.py"))["settings_table"]()


def test_every_setting_is_documented():
    missing = [
        f"AUDITLENS_{name.upper()}"
        for name in ServiceSettings.model_fields
        if f"`AUDITLENS_{name.upper()}`" not in README
    ]
    assert not missing, f"README.md lacks {missing}; {REGENERATE}"


def test_settings_table_is_current():
    assert _settings_table() in README, f"README.md's settings table is stale; {REGENERATE}"


def test_vision_worker_settings_table_is_current():
    table = runpy.run_path(str(ROOT / "scripts" / "settings_table.py"))["vision_settings_table"]()
    assert "AUDITLENS_VISION_TOKEN" in table
    assert table in README, f"README.md's vision worker settings table is stale; {REGENERATE}"


def test_role_table_is_current():
    assert permission_table() in README, (
        "README.md's role table differs from audit_service.authz: run scripts/sync_readme.py"
    )


def test_quick_start_comes_first():
    head = README.split("\n## ", 2)
    assert head[0].startswith("# AuditLens\n")
    assert head[1].startswith("Quick start")
    commands = re.findall(r"^(make \w+)", head[1], flags=re.MULTILINE)
    assert commands[:2] == ["make demo", "make test"]


def test_route_table_is_current():
    table = runpy.run_path(str(ROOT / "scripts" / "sync_readme.py"))["route_table"]()
    assert table in README, f"README.md's API route list is stale; {REGENERATE}"
