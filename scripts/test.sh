#!/usr/bin/env bash
# The whole suite. Database backends: AUDITLENS_TEST_BACKENDS (default "sqlite,postgresql").
set -euo pipefail
mkdir -p test-artifacts
exec .venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
