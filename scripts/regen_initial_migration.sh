#!/usr/bin/env bash
# Regenerate migration 0001 from the ORM models (before the first release only: once a database
# in the field has 0001 applied, add new migrations instead).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f audit_service/migrations/versions/0001_foundation.py
# Later, hand-written migrations step aside while 0001 is generated from an empty database.
mkdir -p "$tmp/later"
for f in audit_service/migrations/versions/0[0-9][0-9][0-9]_*.py; do
  [ -e "$f" ] && mv "$f" "$tmp/later/"
done
trap 'mv "$tmp"/later/*.py audit_service/migrations/versions/ 2>/dev/null; rm -rf "$tmp"' EXIT
AUDITLENS_DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/python - <<'PY'
from alembic import command
from audit_service.core.migrate import alembic_config
from audit_service.config import get_settings

cfg = alembic_config(get_settings().database_url)
command.revision(cfg, message="foundation", autogenerate=True, rev_id="0001_foundation",
                 head="base")
PY
f=$(ls audit_service/migrations/versions/0001_foundation*.py)
[ "$f" = audit_service/migrations/versions/0001_foundation.py ] || mv "$f" audit_service/migrations/versions/0001_foundation.py
.venv/bin/ruff format -q audit_service/migrations/versions/0001_foundation.py || true
echo "wrote audit_service/migrations/versions/0001_foundation.py"
