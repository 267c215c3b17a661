"""The checklist definition a version holds (docs/audits-api.md, "Checklist definitions").

Validation happens here, once, so scoring, answer validation and export can trust a definition:
names are unique, each type carries only its own fields (with defaults filled in), a ``show_if``
points at an earlier item with a value that item can take, and a critical item can be scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
CHOICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)

MAX_SECTIONS = 50
MAX_ITEMS_PER_SECTION = 200
MAX_ITEMS = 500
MAX_CHOICES = 100
MAX_PHOTOS = 10
MAX_TEXT_LENGTH = 2000
MAX_DURATION_S = 7 * 24 * 3600
NUMBER_LIMIT = 1e15  # keeps every number exact enough to compare and to store as JSON


def _printable(value: str) -> str:
    # Control characters, lone surrogates and U+FFFE/FFFF can't be stored in an .xlsx (XML) cell.
    for ch in value:
        code = ord(ch)
        if (
            (code < 0x20 and ch not in "\t\n")
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xDFFF
            or code in (0xFFFE, 0xFFFF)
        ):
            raise ValueError(f"contains the control character U+{code:04X}; remove it")
    return value


def _not_bool(value: Any) -> Any:
    # Lax pydantic turns true into 1; in a definition that is always a mistake.
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


def _text(max_length: int) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
        AfterValidator(_printable),
    ]


Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
ChoiceName = Annotated[str, StringConstraints(pattern=CHOICE_NAME_PATTERN)]
LabelText = _text(1000)
StandardCode = _text(64)
Weight = Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1000, allow_inf_nan=False)]
Points = Annotated[float, BeforeValidator(_not_bool), Field(ge=-1000, le=1000, allow_inf_nan=False)]
Number = Annotated[
    float,
    BeforeValidator(_not_bool),
    Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT, allow_inf_nan=False),
]
Percent = Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=100, allow_inf_nan=False)]
ScaleBound = Annotated[int, BeforeValidator(_not_bool), Field(ge=-100, le=100)]
Seconds = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=MAX_DURATION_S)]
PhotoCount = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_PHOTOS)]


def _scalar(value: Any) -> Any:
    # Checked first so that a list or object gets one clear message, not one per union member.
    if value is not None and not isinstance(value, bool | int | float | str):
        raise ValueError("a show_if value is true/false, a number or a text (a choice name)")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and not abs(value) <= NUMBER_LIMIT:  # "not <=" also catches NaN; no overflow
        raise ValueError(f"a show_if number must be finite and within ±{NUMBER_LIMIT:g}")
    return value


ShowValue = Annotated[
    StrictBool
    | Annotated[int, Field(strict=True)]
    | Annotated[float, Field(strict=True, allow_inf_nan=False)]
    | Annotated[str, StringConstraints(min_length=1, max_length=64)]
    | None,
    BeforeValidator(_scalar),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Labels(_Model):
    """A text in both languages the product ships (Chinese first: it is the field language)."""

    zh: LabelText
    en: LabelText


class Choice(_Model):
    name: ChoiceName
    label: Labels
    points: Points = 0.0


class ShowIf(_Model):
    """Show an item only when an earlier answer has (``equals``) or hasn't (``not_equals``) a
    value. For a multi choice, ``equals`` means "is among the chosen"."""

    item: Name
    equals: ShowValue = None
    not_equals: ShowValue = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.equals is None) == (self.not_equals is None):
            raise ValueError(
                f"show_if on '{self.item}' needs exactly one of equals / not_equals (not null)"
            )
        return self

    @property
    def value(self) -> bool | int | float | str:
        return self.equals if self.equals is not None else self.not_equals  # type: ignore[return-value]

    @property
    def negated(self) -> bool:
        return self.equals is None


class ItemType(StrEnum):
    yes_no = "yes_no"
    scale = "scale"
    single_choice = "single_choice"
    multi_choice = "multi_choice"
    number = "number"
    duration = "duration"
    text = "text"
    photo = "photo"
    time_of_day = "time_of_day"


class MeasuredRole(StrEnum):
    """The staff role an item measures (used to attribute findings via the roster)."""

    lobby_manager = "lobby_manager"
    counter_clerk = "counter_clerk"
    outlet = "outlet"


class Observed(StrEnum):
    """What the cameras can measure too: an item that ``observes`` one of these is compared with
    the cameras at the visit (the cross-check, docs/performance.md)."""

    wait_s = "wait_s"  # the shopper's wait until served, in seconds
    counter_staffed = "counter_staffed"  # whether the counter was staffed on arrival
    queue_length = "queue_length"  # people queueing on arrival


# The one item type that can report each observed quantity.
OBSERVED_TYPES: dict[Observed, ItemType] = {
    Observed.wait_s: ItemType.duration,
    Observed.counter_staffed: ItemType.yes_no,
    Observed.queue_length: ItemType.number,
}


class CriticalRule(StrEnum):
    fail = "fail"  # a failed critical item fails the audit with score 0
    cap = "cap"  # a failed critical item caps the score at critical_cap


# The type-specific fields each type may carry, with the defaults filled in when absent.
TYPE_FIELDS: dict[ItemType, dict[str, Any]] = {
    ItemType.yes_no: {},
    ItemType.scale: {"scale_min": 1, "scale_max": 5},
    ItemType.single_choice: {"choices": None},
    ItemType.multi_choice: {"choices": None},
    ItemType.number: {"min": None, "max": None, "pass_min": None, "pass_max": None},
    ItemType.duration: {"max_s": None, "target_s": None},
    ItemType.text: {"max_length": MAX_TEXT_LENGTH},
    ItemType.photo: {"min_photos": 1, "max_photos": 5},
    ItemType.time_of_day: {},
}
ALL_TYPE_FIELDS = frozenset(field for fields in TYPE_FIELDS.values() for field in fields)
CHOICE_TYPES = frozenset({ItemType.single_choice, ItemType.multi_choice})
# Conditions on free text or photos would never be reliable, so show_if can't refer to them.
SHOW_IF_TYPES = frozenset(ItemType) - {ItemType.text, ItemType.photo}


class ChecklistItem(_Model):
    name: Name
    type: ItemType
    label: Labels
    help: Labels | None = None
    required: StrictBool = True
    weight: Weight = 1.0
    critical: StrictBool = False
    allow_na: StrictBool = False
    role: MeasuredRole | None = None
    standard: StandardCode | None = None
    # What the cameras measure too (cross-check); only on the matching type, once per checklist.
    observes: Observed | None = None
    show_if: ShowIf | None = None
    # scale
    scale_min: ScaleBound | None = None
    scale_max: ScaleBound | None = None
    # single_choice / multi_choice
    choices: Annotated[list[Choice], Field(max_length=MAX_CHOICES)] | None = None
    # number
    min: Number | None = None
    max: Number | None = None
    pass_min: Number | None = None
    pass_max: Number | None = None
    # duration (whole seconds)
    max_s: Seconds | None = None
    target_s: Seconds | None = None
    # text
    max_length: (
        Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_TEXT_LENGTH)] | None
    ) = None
    # photo
    min_photos: PhotoCount | None = None
    max_photos: PhotoCount | None = None

    @model_validator(mode="after")
    def _type_fields(self) -> Self:
        own = TYPE_FIELDS[self.type]
        for field in sorted(ALL_TYPE_FIELDS - own.keys()):
            if getattr(self, field) is not None:
                users = ", ".join(t.value for t, fs in TYPE_FIELDS.items() if field in fs)
                raise ValueError(
                    f"item '{self.name}': {field} applies only to {users} items; "
                    f"remove it from this {self.type.value} item"
                )
        for field, default in own.items():
            if getattr(self, field) is None and default is not None:
                setattr(self, field, default)
        match self.type:
            case ItemType.scale:
                self._check_scale()
            case ItemType.single_choice | ItemType.multi_choice:
                self._check_choices()
            case ItemType.number:
                self._check_number()
            case ItemType.duration:
                self._check_duration()
            case ItemType.photo:
                self._check_photo()
        if self.critical:
            self._check_critical()
        if self.observes is not None:
            self._check_observes()
        return self

    def _check_scale(self) -> None:
        if self.scale_min >= self.scale_max:  # type: ignore[operator]
            raise ValueError(
                f"item '{self.name}': scale_min ({self.scale_min}) must be below "
                f"scale_max ({self.scale_max})"
            )

    def _check_choices(self) -> None:
        if not self.choices or len(self.choices) < 2:
            raise ValueError(
                f"item '{self.name}': a {self.type.value} item needs at least 2 choices"
            )
        seen: set[str] = set()
        for choice in self.choices:
            if choice.name in seen:
                raise ValueError(
                    f"item '{self.name}': choice name '{choice.name}' is used twice; "
                    "give each choice its own name"
                )
            seen.add(choice.name)

    def _check_number(self) -> None:
        # (low, high) pairs that must be in order; the last two would make the item unpassable.
        pairs = (("min", "max"), ("pass_min", "pass_max"), ("min", "pass_max"), ("pass_min", "max"))
        for low, high in pairs:
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(
                    f"item '{self.name}': {low} ({lo:g}) is above {high} ({hi:g}); swap or fix them"
                )

    def _check_duration(self) -> None:
        if self.max_s is not None and self.target_s is not None and self.target_s > self.max_s:
            raise ValueError(
                f"item '{self.name}': target_s ({self.target_s}) is above max_s ({self.max_s})"
            )

    def _check_photo(self) -> None:
        if self.min_photos > self.max_photos:  # type: ignore[operator]
            raise ValueError(
                f"item '{self.name}': min_photos ({self.min_photos}) is above "
                f"max_photos ({self.max_photos})"
            )

    def _check_observes(self) -> None:
        needed = OBSERVED_TYPES[self.observes]  # type: ignore[index]
        if self.type is not needed:
            raise ValueError(
                f"observes '{self.observes}' on item '{self.name}' needs a {needed.value} item, "
                f"not {self.type.value}; remove observes from this item or put it on a "
                f"{needed.value} item"
            )

    def _check_critical(self) -> None:
        if not self.is_scored:
            hint = {
                ItemType.number: "give it a pass range (pass_min and/or pass_max)",
                ItemType.duration: "give it a target_s",
                ItemType.single_choice: "give at least one choice positive points",
                ItemType.multi_choice: "give at least one choice positive points",
            }.get(self.type, f"a {self.type.value} item is never scored; make it not critical")
            raise ValueError(f"item '{self.name}' is critical but can't be scored: {hint}")
        if self.weight <= 0:
            raise ValueError(
                f"item '{self.name}' is critical but has weight 0; give it a positive weight"
            )

    @property
    def is_scored(self) -> bool:
        """Whether an answer to this item can earn points (the weight still has to be > 0)."""
        match self.type:
            case ItemType.yes_no | ItemType.scale:
                return True
            case ItemType.single_choice | ItemType.multi_choice:
                return any(c.points > 0 for c in self.choices or ())
            case ItemType.number:
                return self.pass_min is not None or self.pass_max is not None
            case ItemType.duration:
                return self.target_s is not None
        return False

    def choice(self, name: str) -> Choice | None:
        return next((c for c in self.choices or () if c.name == name), None)


class Section(_Model):
    name: Name
    label: Labels
    weight: Weight = 1.0
    items: Annotated[list[ChecklistItem], Field(min_length=1, max_length=MAX_ITEMS_PER_SECTION)]


class ChecklistDefinition(_Model):
    name: Labels
    description: Labels | None = None
    critical_rule: CriticalRule = CriticalRule.fail
    critical_cap: Percent = 60.0
    pass_score: Percent = 80.0
    action_below: Annotated[
        float, BeforeValidator(_not_bool), Field(ge=0, le=1, allow_inf_nan=False)
    ] = 0.5
    action_due_days: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=365)] = 7
    sections: Annotated[list[Section], Field(min_length=1, max_length=MAX_SECTIONS)]

    @model_validator(mode="after")
    def _whole_checklist(self) -> Self:
        section_names: set[str] = set()
        for section in self.sections:
            if section.name in section_names:
                raise ValueError(
                    f"section name '{section.name}' is used twice; give each section its own name"
                )
            section_names.add(section.name)
        seen: dict[str, ChecklistItem] = {}
        observers: dict[Observed, str] = {}
        for section in self.sections:
            for item in section.items:
                if item.name in seen:
                    raise ValueError(
                        f"item name '{item.name}' is used twice; item names must be unique "
                        "across the whole checklist"
                    )
                if item.name in section_names:
                    raise ValueError(
                        f"item name '{item.name}' is also a section name; names must be unique "
                        "across sections and items (XLSForm needs this)"
                    )
                if item.show_if is not None:
                    _check_show_if(item, seen)
                if item.observes is not None:
                    if item.observes in observers:
                        raise ValueError(
                            f"observes '{item.observes}' is on item '{observers[item.observes]}' "
                            f"and on item '{item.name}'; at most one item per checklist may "
                            "observe it: remove observes from one of them"
                        )
                    observers[item.observes] = item.name
                seen[item.name] = item
        if len(seen) > MAX_ITEMS:
            raise ValueError(f"the checklist has {len(seen)} items; the limit is {MAX_ITEMS}")
        return self

    def items(self) -> Iterator[tuple[Section, ChecklistItem]]:
        """Every (section, item) in checklist order."""
        for section in self.sections:
            for item in section.items:
                yield section, item

    def observers(self) -> dict[Observed, ChecklistItem]:
        """The item that observes each quantity the cameras measure too (if any)."""
        return {item.observes: item for _, item in self.items() if item.observes is not None}

    def item(self, name: str) -> ChecklistItem:
        for _, item in self.items():
            if item.name == name:
                return item
        raise KeyError(f"the checklist has no item '{name}'")


def _check_show_if(item: ChecklistItem, earlier: dict[str, ChecklistItem]) -> None:
    show_if = item.show_if
    assert show_if is not None
    target = earlier.get(show_if.item)
    if target is None:
        where = "is this item itself" if show_if.item == item.name else "is not an earlier item"
        raise ValueError(
            f"item '{item.name}': show_if refers to '{show_if.item}', which {where}; "
            "show_if can only depend on an item above it"
        )
    if target.type not in SHOW_IF_TYPES:
        raise ValueError(
            f"item '{item.name}': show_if can't depend on '{target.name}', a {target.type.value} "
            "item; use a yes/no or choice item as the condition"
        )
    problem = show_value_problem(target, show_if.value)
    if problem:
        raise ValueError(f"item '{item.name}': show_if value for '{target.name}' {problem}")


def number_range(low: float | None, high: float | None) -> str:
    """A range for messages: "0 to 100", "at least 0", "at most 100"."""
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else "any number"


def show_value_problem(target: ChecklistItem, value: Any) -> str | None:
    """Why ``value`` is not something ``target`` can be answered with (None when it is)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    match target.type:
        case ItemType.yes_no:
            return None if isinstance(value, bool) else "must be true or false"
        case ItemType.scale:
            low, high = target.scale_min, target.scale_max
            if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:  # type: ignore[operator]
                return None
            return f"must be a whole number from {target.scale_min} to {target.scale_max}"
        case ItemType.single_choice | ItemType.multi_choice:
            if isinstance(value, str) and target.choice(value) is not None:
                return None
            names = ", ".join(c.name for c in target.choices or ())
            return f"must be one of its choice names ({names})"
        case ItemType.number:
            if not is_number or not abs(value) <= NUMBER_LIMIT:
                return f"must be a number within ±{NUMBER_LIMIT:g}"
            if (target.min is not None and value < target.min) or (
                target.max is not None and value > target.max
            ):
                return f"must be within the item's range {number_range(target.min, target.max)}"
            return None
        case ItemType.duration:
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return None
            return "must be a whole number of seconds"
        case ItemType.time_of_day:
            if isinstance(value, str) and TIME_OF_DAY.fullmatch(value):
                return None
            return 'must be a time "HH:MM"'
    return "is not allowed: this item type can't be a condition"
