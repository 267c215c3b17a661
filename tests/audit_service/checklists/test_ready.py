"""The shipped templates: they load, use every item type, and score as intended."""

from __future__ import annotations

from typing import Any

import pytest

from audit_service.checklists.definition import ChecklistDefinition, CriticalRule, ItemType
from audit_service.checklists.ready import READY_TEMPLATES
from audit_service.checklists.scoring import score_audit
from audit_service.checklists.validation import validate_answers

PHOTO = "6f1c0d52-0d1a-4c2e-9d55-0a4f1c1c2b11"


def perfect(defn: ChecklistDefinition) -> dict[str, Any]:
    """The best answer to every item (conditions then show or hide what they will)."""
    raw: dict[str, Any] = {}
    for _, item in defn.items():
        match item.type:
            case ItemType.yes_no:
                value: Any = True
            case ItemType.scale:
                value = item.scale_max
            case ItemType.single_choice:
                value = max(item.choices or (), key=lambda c: c.points).name
            case ItemType.multi_choice:
                value = [c.name for c in item.choices or () if c.points > 0]
            case ItemType.number:
                value = item.pass_max if item.pass_max is not None else item.min or 0
            case ItemType.duration:
                value = "1:30"
            case ItemType.text:
                value = "All as expected."
            case ItemType.photo:
                value = None
            case ItemType.time_of_day:
                value = "10:05"
        raw[item.name] = {"value": value, "photos": [PHOTO] if item.type == "photo" else []}
    return raw


def test_both_templates_are_there() -> None:
    assert set(READY_TEMPLATES) == {"counter-visit", "camera-spot-check"}
    assert READY_TEMPLATES["counter-visit"].name.en == "Outlet counter visit (mystery shopper)"
    assert READY_TEMPLATES["counter-visit"].name.zh == "网点柜面暗访（神秘顾客）"
    assert READY_TEMPLATES["camera-spot-check"].name.en == "Remote camera spot-check (supervisor)"
    assert READY_TEMPLATES["camera-spot-check"].name.zh == "远程视频抽查（督导）"


def test_together_they_use_every_item_type() -> None:
    used = {item.type for defn in READY_TEMPLATES.values() for _, item in defn.items()}
    assert used == set(ItemType)


@pytest.mark.parametrize("code", sorted(READY_TEMPLATES))
def test_template_shape(code: str) -> None:
    defn = READY_TEMPLATES[code]
    items = [item for _, item in defn.items()]
    assert 1 <= sum(item.critical for item in items) <= 3
    assert any(item.allow_na for item in items)
    assert any(item.show_if for item in items)
    assert all(item.help is None or (item.help.zh and item.help.en) for item in items)
    assert {item.role for item in items if item.role} >= {"counter_clerk", "outlet"}
    assert all(item.standard.startswith("SV-") for item in items if item.standard)


@pytest.mark.parametrize("code", sorted(READY_TEMPLATES))
def test_a_perfect_visit_scores_100(code: str) -> None:
    defn = READY_TEMPLATES[code]
    answers, problems = validate_answers(defn, perfect(defn))
    assert problems == []
    result = score_audit(defn, answers)
    assert (result.score, result.passed, result.critical_failed) == (100.0, True, ())


@pytest.mark.parametrize("code", sorted(READY_TEMPLATES))
def test_failing_a_critical_item_fails_or_caps(code: str) -> None:
    defn = READY_TEMPLATES[code]
    critical = next(item for _, item in defn.items() if item.critical)
    assert critical.type == ItemType.yes_no
    raw = {**perfect(defn), critical.name: {"value": False}}
    answers, problems = validate_answers(defn, raw)
    assert problems == []
    result = score_audit(defn, answers)
    assert result.critical_failed == (critical.name,)
    assert result.passed is False
    if defn.critical_rule is CriticalRule.fail:
        assert result.score == 0.0
    else:
        assert result.capped and result.score == defn.critical_cap


def test_counter_visit_conditions() -> None:
    defn = READY_TEMPLATES["counter-visit"]
    raw = perfect(defn)
    # No complaint scenario: its follow-up questions are hidden and dropped.
    raw["complaint_scenario"] = {"value": False}
    answers, problems = validate_answers(defn, raw)
    assert problems == []
    assert "complaint_taken_up" not in answers and "callback_minutes" not in answers
    # Underwriting not checked: the manager's approval question appears and is required.
    raw["underwriting_checked"] = {"value": False}
    raw.pop("exception_approved")
    _, problems = validate_answers(defn, raw)
    assert [p.path for p in problems] == ["answers.exception_approved"]
    # A wait over the 5-minute target fails that item only.
    raw = {**perfect(defn), "wait": {"value": "7:30"}}
    answers, _ = validate_answers(defn, raw)
    result = score_audit(defn, answers)
    assert answers["wait"].value == 450
    assert [i.name for i in result.items if i.failed] == ["wait"]
    assert result.passed is True and result.score < 100
