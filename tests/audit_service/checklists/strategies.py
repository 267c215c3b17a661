"""Hypothesis strategies: random valid checklist definitions and answers for them."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from audit_service.checklists.answers import Answer
from audit_service.checklists.definition import (
    OBSERVED_TYPES,
    SHOW_IF_TYPES,
    ChecklistDefinition,
    ChecklistItem,
    CriticalRule,
    ItemType,
    Labels,
    MeasuredRole,
    Section,
    ShowIf,
)

# Printable text, both scripts; whitespace-only strings are no label at all.
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Cn")) | st.sampled_from("网点柜面 \n="),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip())
# Names worth trying as well as random ones: "yes_no" collides with the XLSForm yes/no list.
NAMES = st.sampled_from(["yes_no", "selected", "true", "q", "name"]) | st.from_regex(
    r"[a-z][a-z0-9_]{0,8}", fullmatch=True
)
CHOICE_NAMES = st.sampled_from(["yes", "no", "1", "A-b.c"]) | st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,6}", fullmatch=True
)
WEIGHTS = st.sampled_from([0.0, 1.0, 2.0, 3.0]) | st.floats(0, 10)
NUMBERS = st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-1000, 1000).map(float)
TIMES = st.from_regex(r"([01][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True)


@st.composite
def labels(draw: st.DrawFn) -> Labels:
    return Labels(zh=draw(TEXT), en=draw(TEXT))


def _unique(draw: st.DrawFn, names: st.SearchStrategy[str], used: set[str]) -> str:
    name = draw(names)
    while name in used:
        name = (name + "_")[:64] if len(name) < 64 else name[:-2] + "x"
    used.add(name)
    return name


def show_values(target: ChecklistItem) -> st.SearchStrategy[Any]:
    """A value ``target`` can be answered with (what a show_if may compare)."""
    match target.type:
        case ItemType.yes_no:
            return st.booleans()
        case ItemType.scale:
            return st.integers(target.scale_min, target.scale_max)
        case ItemType.single_choice | ItemType.multi_choice:
            return st.sampled_from([c.name for c in target.choices or ()])
        case ItemType.number:
            low = target.min if target.min is not None else -1e6
            high = target.max if target.max is not None else 1e6
            return st.floats(low, high, allow_nan=False)
        case ItemType.duration:
            return st.integers(0, target.max_s if target.max_s is not None else 10_000)
        case ItemType.time_of_day:
            return TIMES
    raise AssertionError(target.type)


@st.composite
def items(
    draw: st.DrawFn,
    name: str,
    earlier: list[ChecklistItem],
    *,
    show_if: bool = True,
    critical: bool = True,
) -> ChecklistItem:
    kind = draw(st.sampled_from(list(ItemType)))
    data: dict[str, Any] = {
        "name": name,
        "type": kind,
        "label": draw(labels()),
        "help": draw(st.none() | labels()),
        "required": draw(st.booleans()),
        "weight": draw(WEIGHTS),
        "allow_na": draw(st.booleans()),
        "role": draw(st.none() | st.sampled_from(list(MeasuredRole))),
        "standard": draw(st.none() | st.from_regex(r"SV-[A-Z]{1,8}-[0-9]{2}", fullmatch=True)),
    }
    match kind:
        case ItemType.scale:
            if draw(st.booleans()):
                low = draw(st.integers(-100, 99))
                data |= {"scale_min": low, "scale_max": draw(st.integers(low + 1, 100))}
        case ItemType.single_choice | ItemType.multi_choice:
            names = draw(st.lists(CHOICE_NAMES, min_size=2, max_size=5, unique=True))
            points = st.sampled_from([0.0, 1.0, 2.0, -1.0]) | st.floats(-5, 5)
            data["choices"] = [
                {"name": n, "label": draw(labels()), "points": draw(points)} for n in names
            ]
        case ItemType.number:
            bounds = sorted(draw(st.lists(NUMBERS, min_size=4, max_size=4)))
            for key, value in zip(("min", "pass_min", "pass_max", "max"), bounds, strict=True):
                data[key] = draw(st.none() | st.just(value))
        case ItemType.duration:
            target = draw(st.integers(0, 10_000))
            data["target_s"] = draw(st.none() | st.just(target))
            data["max_s"] = draw(st.none() | st.integers(target, 20_000))
        case ItemType.text:
            data["max_length"] = draw(st.none() | st.integers(1, 2000))
        case ItemType.photo:
            if draw(st.booleans()):
                low = draw(st.integers(1, 10))
                data |= {"min_photos": low, "max_photos": draw(st.integers(low, 10))}
    # At most one item per observed quantity, on the item type that reports it.
    taken = {i.observes for i in earlier}
    free = [o for o, t in OBSERVED_TYPES.items() if t is kind and o not in taken]
    if free and draw(st.booleans()):
        data["observes"] = free[0]
    conditions = [i for i in earlier if i.type in SHOW_IF_TYPES]
    if show_if and conditions and draw(st.booleans()):
        target = draw(st.sampled_from(conditions))
        key = draw(st.sampled_from(["equals", "not_equals"]))
        data["show_if"] = ShowIf(item=target.name, **{key: draw(show_values(target))})
    item = ChecklistItem.model_validate(data)
    if critical and item.is_scored and item.weight > 0 and draw(st.booleans()):
        item = ChecklistItem.model_validate({**item.model_dump(), "critical": True})
    return item


@st.composite
def definitions(
    draw: st.DrawFn,
    *,
    max_sections: int = 4,
    max_items: int = 5,
    show_if: bool = True,
    critical: bool = True,
) -> ChecklistDefinition:
    used: set[str] = set()
    earlier: list[ChecklistItem] = []
    sections: list[Section] = []
    for _ in range(draw(st.integers(1, max_sections))):
        section_name = _unique(draw, NAMES, used)
        section_items = []
        for _ in range(draw(st.integers(1, max_items))):
            item = draw(
                items(_unique(draw, NAMES, used), earlier, show_if=show_if, critical=critical)
            )
            section_items.append(item)
            earlier.append(item)
        sections.append(
            Section(
                name=section_name,
                label=draw(labels()),
                weight=draw(WEIGHTS),
                items=section_items,
            )
        )
    return ChecklistDefinition(
        name=draw(labels()),
        description=draw(st.none() | labels()),
        critical_rule=draw(st.sampled_from(list(CriticalRule))),
        critical_cap=draw(st.floats(0, 100)),
        pass_score=draw(st.floats(0, 100)),
        action_below=draw(st.floats(0, 1)),
        action_due_days=draw(st.integers(1, 365)),
        sections=sections,
    )


def values(item: ChecklistItem) -> st.SearchStrategy[Any]:
    """A valid, normalised answer value for ``item``."""
    match item.type:
        case ItemType.multi_choice:
            order = [c.name for c in item.choices or ()]
            return st.sets(st.sampled_from(order)).map(lambda s: [n for n in order if n in s])
        case ItemType.text:
            return TEXT
        case ItemType.photo:
            return st.none()
    return show_values(item)


@st.composite
def answer_sets(draw: st.DrawFn, definition: ChecklistDefinition) -> dict[str, Answer]:
    """Answers as scoring sees them: each item missing, N/A or answered."""
    answers: dict[str, Answer] = {}
    for _, item in definition.items():
        mode = draw(st.sampled_from(["missing", "na", "value", "value", "value"]))
        if mode == "na":
            answers[item.name] = Answer(na=True)
        elif mode == "value":
            photos = tuple(str(uuid.UUID(int=i)) for i in range(draw(st.integers(0, 2))))
            answers[item.name] = Answer(value=draw(values(item)), photos=photos)
    return answers


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**400), 10**400)
    | st.floats()
    | st.text(max_size=30)
)
JSON_LIKE = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
