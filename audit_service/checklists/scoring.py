"""Score an audit's answers against its checklist definition (pure; docs/audits-api.md).

- An item earns ``fraction * weight`` points out of ``weight`` possible, but only when it is
  scored (its type can score), visible (``show_if`` holds), answered and not N/A. Anything else
  has 0 possible, so it moves no percentage: N/A is the same as the item not being there.
- A section's percent is its points / possible (None when nothing in it was possible).
- The total is the section-weighted mean of the section percents that exist, 0-100, rounded to
  2 decimals here (the one place); None when no section has a percent.
- A critical item fails when it is visible, answered, not N/A and under ``action_below``:
  ``critical_rule=fail`` makes the score 0 and the audit failed; ``cap`` caps the score at
  ``critical_cap``.
- ``passed`` is ``score >= pass_score`` (None when the score is None), and False whenever a
  critical item failed under ``fail``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from audit_service.checklists.answers import Answer
from audit_service.checklists.definition import (
    ChecklistDefinition,
    ChecklistItem,
    CriticalRule,
    ItemType,
    ShowIf,
)


@dataclass(frozen=True, slots=True)
class ItemScore:
    name: str
    section: str
    points: float
    possible: float
    fraction: float | None  # None: not scored (unscored type, unanswered, N/A or hidden)
    na: bool
    hidden: bool
    failed: bool  # fraction < action_below
    critical: bool  # the item is a critical one (see ScoreResult.critical_failed for failures)


@dataclass(frozen=True, slots=True)
class SectionScore:
    name: str
    points: float
    possible: float
    percent: float | None  # 0-100, 2 decimals; None when nothing was possible
    weight: float


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: float | None  # 0-100, 2 decimals, after the critical rule
    raw_score: float | None  # before the critical rule (unrounded)
    points: float
    possible: float
    passed: bool | None
    critical_failed: tuple[str, ...]
    capped: bool  # a critical item failed under critical_rule=cap
    sections: tuple[SectionScore, ...]
    items: tuple[ItemScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able breakdown for storage."""
        data = asdict(self)
        data["raw_score"] = _round(self.raw_score, 4)
        data["critical_failed"] = list(self.critical_failed)
        data["sections"] = list(data["sections"])
        data["items"] = list(data["items"])
        for key in ("points", "possible"):
            data[key] = _round(data[key], 4)
        for row in (*data["sections"], *data["items"]):
            for key in ("points", "possible", "fraction"):
                if key in row:
                    row[key] = _round(row[key], 4)
        return data


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)  # isfinite(10**400) would overflow


def _same(a: Any, b: Any) -> bool:
    # true must not equal 1, nor "1" equal 1: compare like with like.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def show_if_met(show_if: ShowIf, value: Any) -> bool:
    """Whether ``show_if`` holds when its item's effective value is ``value``.

    The effective value is None when that item is unanswered, N/A or itself hidden; like in ODK,
    "equals" is then false and "not equals" true. For a multi choice (a list), "equals" means
    "is among the chosen".
    """
    if isinstance(value, list | tuple):
        hit = any(_same(v, show_if.value) for v in value)
    else:
        hit = value is not None and _same(value, show_if.value)
    return not hit if show_if.negated else hit


def item_fraction(item: ChecklistItem, value: Any) -> float | None:
    """The 0-1 score of one answer value; None when the item or the value can't be scored."""
    match item.type:
        case ItemType.yes_no:
            return 1.0 if value is True else 0.0 if value is False else None
        case ItemType.scale:
            low, high = item.scale_min, item.scale_max
            assert low is not None and high is not None
            if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
                return (value - low) / (high - low)
        case ItemType.single_choice:
            best = max((c.points for c in item.choices or ()), default=0.0)
            choice = item.choice(value) if isinstance(value, str) else None
            if best > 0 and choice is not None:
                return _clamp(choice.points / best)
        case ItemType.multi_choice:
            total = sum(c.points for c in item.choices or () if c.points > 0)
            if total > 0 and isinstance(value, list | tuple):
                chosen = {v for v in value if isinstance(v, str)}
                earned = sum(c.points for c in item.choices or () if c.name in chosen)
                return _clamp(earned / total)
        case ItemType.number:
            if item.is_scored and _is_number(value):
                low_ok = item.pass_min is None or value >= item.pass_min
                high_ok = item.pass_max is None or value <= item.pass_max
                return 1.0 if low_ok and high_ok else 0.0
        case ItemType.duration:
            if item.target_s is not None and _is_number(value) and value >= 0:
                return 1.0 if value <= item.target_s else 0.0
    return None


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def score_audit(definition: ChecklistDefinition, answers: Mapping[str, Answer]) -> ScoreResult:
    """Score ``answers`` (normally the output of ``validate_answers``); never raises on values
    of the wrong type: they count as unanswered."""
    effective: dict[str, Any] = {}  # item -> value as seen by later show_if conditions
    item_scores: list[ItemScore] = []
    section_scores: list[SectionScore] = []
    critical_failed: list[str] = []
    for section in definition.sections:
        points = possible = 0.0
        for item in section.items:
            answer = answers.get(item.name)
            hidden = item.show_if is not None and not show_if_met(
                item.show_if, effective.get(item.show_if.item)
            )
            na = bool(answer is not None and answer.na and not hidden)
            value = None if answer is None or hidden or na else answer.value
            effective[item.name] = value
            fraction = None if value is None else item_fraction(item, value)
            item_possible = item.weight if fraction is not None else 0.0
            item_points = fraction * item.weight if fraction is not None else 0.0
            failed = fraction is not None and fraction < definition.action_below
            if failed and item.critical:
                critical_failed.append(item.name)
            points += item_points
            possible += item_possible
            item_scores.append(
                ItemScore(
                    name=item.name,
                    section=section.name,
                    points=item_points,
                    possible=item_possible,
                    fraction=fraction,
                    na=na,
                    hidden=hidden,
                    failed=failed,
                    critical=item.critical,
                )
            )
        percent = 100 * points / possible if possible > 0 else None
        section_scores.append(
            SectionScore(
                name=section.name,
                points=points,
                possible=possible,
                percent=_round(percent, 2),
                weight=section.weight,
            )
        )

    weights = sum(s.weight for s in section_scores if s.possible > 0)
    raw = None
    if weights > 0:
        weighted = sum(s.weight * s.points / s.possible for s in section_scores if s.possible > 0)
        raw = min(100.0, max(0.0, 100 * weighted / weights))
    score = _round(raw, 2)
    capped = False
    if critical_failed and definition.critical_rule is CriticalRule.fail:
        score = 0.0
    elif critical_failed and definition.critical_rule is CriticalRule.cap:
        capped = True
        score = None if score is None else min(score, definition.critical_cap)
    passed = None if score is None else score >= definition.pass_score
    if critical_failed and definition.critical_rule is CriticalRule.fail:
        passed = False
    return ScoreResult(
        score=score,
        raw_score=raw,
        points=sum(s.points for s in section_scores),
        possible=sum(s.possible for s in section_scores),
        passed=passed,
        critical_failed=tuple(critical_failed),
        capped=capped,
        sections=tuple(section_scores),
        items=tuple(item_scores),
    )
