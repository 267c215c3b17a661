"""The analytics stay pure: no model libraries, no I/O, no clock of their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ANALYTICS = Path(__file__).resolve().parents[2] / "vision" / "analytics"
FORBIDDEN_MODULES = {
    "cv2",
    "ultralytics",
    "torch",
    "onnxruntime",
    "time",
    "os",
    "io",
    "pathlib",
    "socket",
    "sqlite3",
    "requests",
    "httpx",
    "urllib",
    "subprocess",
    "logging",
}
FORBIDDEN_CALLS = {"open", "print", "input", "now", "utcnow", "today", "monotonic", "perf_counter"}


def problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        found += [f"imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in FORBIDDEN_CALLS:
                found.append(f"calls {name}()")
    return found


@pytest.mark.parametrize("path", sorted(ANALYTICS.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path):
    assert problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import cv2",
        "from ultralytics import YOLO",
        "import time",
        "x = datetime.now()",
        "open('f')",
    ],
)
def test_the_checker_catches_impurity(source):
    assert problems(source)


def test_the_modules_are_there():
    names = {p.stem for p in ANALYTICS.glob("*.py")}
    assert {"zones", "hours", "attendance", "queue", "events"} <= names
