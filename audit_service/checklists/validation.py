"""Check and normalise a submission's ``answers`` against a checklist definition (pure).

Never raises on what a client sends: every problem comes back as a :class:`FieldProblem` whose
path is ``answers.<item>[.<field>]`` and whose message names the item and says what to send.
Answers to hidden items (``show_if`` false) are dropped without complaint: the form hid them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_service.checklists.answers import Answer
from audit_service.checklists.definition import (
    MAX_DURATION_S,
    MAX_PHOTOS,
    NUMBER_LIMIT,
    TIME_OF_DAY,
    ChecklistDefinition,
    ChecklistItem,
    ItemType,
    number_range,
)
from audit_service.checklists.scoring import show_if_met

ANSWER_FIELDS = ("value", "na", "comment", "photos", "badge")
MAX_COMMENT = 2000
MAX_BADGE = 32
MAX_PHOTO_ID = 64
_MM_SS = re.compile(r"([0-9]{1,3}):([0-5][0-9])", re.ASCII)
_H_MM_SS = re.compile(r"([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])", re.ASCII)
_TIME_LOOSE = re.compile(r"([0-9]):([0-5][0-9])", re.ASCII)  # "9:05" -> "09:05"
# NUL and lone surrogates can't be stored (PostgreSQL JSON, UTF-8), other C0 controls are noise.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class FieldProblem:
    path: str
    message: str  # starts with the path, so it reads on its own

    def __str__(self) -> str:
        return self.message


def validate_answers(
    definition: ChecklistDefinition, raw_answers: Mapping[str, Any]
) -> tuple[dict[str, Answer], list[FieldProblem]]:
    """The normalised answers of visible items, and every problem found (empty when valid)."""
    if not isinstance(raw_answers, Mapping):
        return {}, [
            FieldProblem(
                "answers",
                'answers: send an object keyed by item name, e.g. {"greeted": {"value": true}}',
            )
        ]
    problems: list[FieldProblem] = []
    names = [item.name for _, item in definition.items()]
    known = set(names)
    for key in raw_answers:
        if not isinstance(key, str) or key not in known:
            path = f"answers.{_clip(str(key), 64)}"
            problems.append(
                FieldProblem(
                    path,
                    f"{path}: {_show(key)} is not an item of this checklist; remove it "
                    f"(items: {_listing(names)})",
                )
            )

    answers: dict[str, Answer] = {}
    effective: dict[str, Any] = {}  # what later show_if conditions see
    uncertain: set[str] = set()  # invalid or of unknown visibility: dependants aren't required
    for _, item in definition.items():
        visible: bool | None = True
        if item.show_if is not None:
            target = item.show_if.item
            if target in uncertain:
                visible = None
            else:
                visible = show_if_met(item.show_if, effective.get(target))
        effective[item.name] = None
        if visible is False:
            continue
        if visible is None:
            uncertain.add(item.name)
        raw = raw_answers.get(item.name, _MISSING)
        path = f"answers.{item.name}"
        if raw is _MISSING:
            if visible and item.required:
                problems.append(_missing(item, path))
            continue
        answer, found = _check_answer(item, raw, path)
        if found or answer is None:
            problems.extend(found)
            uncertain.add(item.name)
            continue
        if visible and item.required and not answer.na:
            if item.type is ItemType.photo and not answer.photos:
                problems.append(_missing(item, f"{path}.photos"))
            elif item.type is not ItemType.photo and answer.value is None:
                problems.append(_missing(item, f"{path}.value"))
        answers[item.name] = answer
        effective[item.name] = answer.value
    return answers, problems


def _missing(item: ChecklistItem, path: str) -> FieldProblem:
    if item.type is ItemType.photo:
        how = (
            f"needs at least {item.min_photos} photo(s): upload them with POST /api/v1/evidence "
            "and send their ids in photos"
        )
    else:
        how = f"is required; it {_expects(item)}"
    na = " (or send na: true if it doesn't apply)" if item.allow_na else ""
    return FieldProblem(path, f"{path}: '{item.name}' {how}{na}")


def _check_answer(
    item: ChecklistItem, raw: Any, path: str
) -> tuple[Answer | None, list[FieldProblem]]:
    if not isinstance(raw, Mapping):
        return None, [
            FieldProblem(
                path,
                f"{path}: send an object like {{\"value\": ...}} for '{item.name}'; "
                f"got {_show(raw)}",
            )
        ]
    problems: list[FieldProblem] = []

    def problem(field: str, text: str) -> None:
        problems.append(FieldProblem(f"{path}.{field}", f"{path}.{field}: {text}"))

    for key in raw:
        if key not in ANSWER_FIELDS:
            field = _clip(str(key), 64)
            problem(field, f"unknown answer field; send only {', '.join(ANSWER_FIELDS)}")

    na = raw.get("na")
    if na is None:
        na = False
    elif not isinstance(na, bool):
        problem("na", f"send true or false; got {_show(na)}")
        na = False
    elif na and not item.allow_na:
        problem("na", f"'{item.name}' can't be marked N/A; answer it instead")

    comment = _optional_text(raw.get("comment"), MAX_COMMENT, "comment", problem)
    badge = _optional_text(raw.get("badge"), MAX_BADGE, "badge", problem)
    if isinstance(badge, str):
        badge = badge.strip() or None
    photos = _photos(item, raw.get("photos"), problem)

    value = raw.get("value")
    if na and value is not None:
        problem(
            "value",
            f"'{item.name}' is marked N/A: send value null, or na false to answer it; "
            f"got {_show(value)}",
        )
        value = None
    elif value is not None:
        value, error = _check_value(item, value)
        if error:
            problem("value", f"'{item.name}' {_expects(item)}; got {error}")
    if problems:
        return None, problems
    return Answer(value=value, na=na, comment=comment, photos=photos, badge=badge), []


def _optional_text(value: Any, limit: int, field: str, problem: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problem(field, f"send text (at most {limit} characters) or null; got {_show(value)}")
    elif len(value) > limit:
        problem(field, f"at most {limit} characters; got {len(value)}")
    elif _BAD_CHARS.search(value):
        problem(field, "contains control characters; remove them")
    else:
        return value
    return None


def _photos(item: ChecklistItem, value: Any, problem: Any) -> tuple[str, ...]:
    limit = item.max_photos if item.type is ItemType.photo else MAX_PHOTOS
    assert limit is not None
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problem("photos", f"send a list of evidence ids; got {_show(value)}")
        return ()
    if len(value) > limit:
        problem("photos", f"'{item.name}' takes at most {limit} photo(s); got {len(value)}")
        return ()
    if item.type is ItemType.photo and value and len(value) < (item.min_photos or 1):
        problem(
            "photos", f"'{item.name}' needs at least {item.min_photos} photo(s); got {len(value)}"
        )
        return ()
    seen: list[str] = []
    for i, photo in enumerate(value):
        if (
            not isinstance(photo, str)
            or not photo.strip()
            or len(photo) > MAX_PHOTO_ID
            or _BAD_CHARS.search(photo)
        ):
            problem(f"photos.{i}", f"send an evidence id from POST /evidence; got {_show(photo)}")
        elif photo in seen:
            problem(f"photos.{i}", f"evidence {_show(photo)} is listed twice; send it once")
        else:
            seen.append(photo)
    return tuple(seen)


def _expects(item: ChecklistItem) -> str:
    """What an item's value must be, for messages."""
    names = _listing([c.name for c in item.choices or ()])
    match item.type:
        case ItemType.yes_no:
            return "is a yes/no question: send true or false"
        case ItemType.scale:
            low, high = item.scale_min, item.scale_max
            return f"is a {low}-{high} scale: send a whole number from {low} to {high}"
        case ItemType.single_choice:
            return f"is a single choice: send one of {names}"
        case ItemType.multi_choice:
            return f"is a multi choice: send a list of distinct choice names from {names}"
        case ItemType.number:
            return f"takes a number ({number_range(*_number_bounds(item))})"
        case ItemType.duration:
            return (
                'takes a duration in whole seconds, or "mm:ss" / "h:mm:ss" text '
                f"(0 to {item.max_s if item.max_s is not None else MAX_DURATION_S} s)"
            )
        case ItemType.text:
            return f"takes text of at most {item.max_length} characters"
        case ItemType.photo:
            return "is a photo item: send value null and the evidence ids in photos"
        case ItemType.time_of_day:
            return 'takes a time of day "HH:MM" (00:00 to 23:59)'
    return "has an unknown type"  # pragma: no cover - ItemType is closed


def _number_bounds(item: ChecklistItem) -> tuple[float, float]:
    low = item.min if item.min is not None else -NUMBER_LIMIT
    high = item.max if item.max is not None else NUMBER_LIMIT
    return low, high


def _whole(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (5 or 5.0), else None; never bools."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _check_value(item: ChecklistItem, value: Any) -> tuple[Any, str | None]:
    """The normalised value and None, or the original and what was wrong with it."""
    shown = _show(value)
    match item.type:
        case ItemType.yes_no:
            return (value, None) if isinstance(value, bool) else (value, shown)
        case ItemType.scale:
            whole = _whole(value)
            ok = whole is not None and item.scale_min <= whole <= item.scale_max  # type: ignore[operator]
            return (whole, None) if ok else (value, shown)
        case ItemType.single_choice:
            if isinstance(value, str) and item.choice(value) is not None:
                return value, None
            return value, shown
        case ItemType.multi_choice:
            return _check_multi(item, value)
        case ItemType.number:
            low, high = _number_bounds(item)
            number_ok = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and (isinstance(value, int) or math.isfinite(value))
                and low <= value <= high
            )
            return (value, None) if number_ok else (value, shown)
        case ItemType.duration:
            seconds = _seconds(value)
            limit = item.max_s if item.max_s is not None else MAX_DURATION_S
            if seconds is not None and 0 <= seconds <= limit:
                return seconds, None
            return value, shown
        case ItemType.text:
            if not isinstance(value, str):
                return value, shown
            if len(value) > (item.max_length or 0):
                return value, f"{len(value)} characters"
            if _BAD_CHARS.search(value):
                return value, "text with control characters"
            return (value if value.strip() else None), None
        case ItemType.photo:
            return value, shown
        case ItemType.time_of_day:
            if isinstance(value, str):
                if TIME_OF_DAY.fullmatch(value):
                    return value, None
                if _TIME_LOOSE.fullmatch(value):
                    return f"0{value}", None
            return value, shown
    return value, shown  # pragma: no cover - ItemType is closed


def _check_multi(item: ChecklistItem, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list | tuple):
        return value, _show(value)
    order = [c.name for c in item.choices or ()]
    chosen: set[str] = set()
    for name in value:
        if not isinstance(name, str) or name not in order:
            return value, f"unknown choice {_show(name)}"
        if name in chosen:
            return value, f"{_show(name)} twice"
        chosen.add(name)
    # Canonical order (the definition's), so equal selections store equally.
    return [name for name in order if name in chosen], None


def _seconds(value: Any) -> int | None:
    if isinstance(value, str):
        if match := _MM_SS.fullmatch(value):
            return int(match[1]) * 60 + int(match[2])
        if match := _H_MM_SS.fullmatch(value):
            return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
        return None
    return _whole(value)


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    """A short, safe rendering of a client value for messages (JSON spelling)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**30 else "a very large number"
        return text
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return repr(_clip(_BAD_CHARS.sub("?", value), 40))
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
