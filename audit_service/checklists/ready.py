"""Ready-made checklist templates shipped with the service (``checklists/ready/*.json``)."""

from __future__ import annotations

from importlib.resources import files

from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.transfer import definition_from_json

READY_CODES = ("counter-visit", "camera-spot-check")


def _load(code: str) -> ChecklistDefinition:
    return definition_from_json(files(__package__).joinpath("ready", f"{code}.json").read_bytes())


# Template code -> definition. Shared objects: model_copy(deep=True) before changing one.
READY_TEMPLATES: dict[str, ChecklistDefinition] = {code: _load(code) for code in READY_CODES}
