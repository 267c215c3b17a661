"""Definition validation: the messages name the item and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from audit_service.checklists.definition import ChecklistDefinition, ItemType

L = {"zh": "项", "en": "item"}


def item(name: str, type_: str = "yes_no", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": L, **extra}


def choices(*names: str, points: float = 1) -> list[dict[str, Any]]:
    return [{"name": n, "label": L, "points": points} for n in names]


def build(*sections: list[dict[str, Any]], **top: Any) -> ChecklistDefinition:
    return ChecklistDefinition.model_validate(
        {
            "name": L,
            **top,
            "sections": [
                {"name": f"s{i}", "label": L, "items": items} for i, items in enumerate(sections)
            ],
        }
    )


def error_of(*sections: list[dict[str, Any]], **top: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        build(*sections, **top)
    return str(caught.value)


@pytest.mark.parametrize(
    ("sections", "words"),
    [
        (([item("a"), item("b")], [item("a")]), "item name 'a' is used twice"),
        (([item("s1")], [item("b")]), "'s1' is also a section name"),
        (
            ([item("b", show_if={"item": "a", "equals": True})], [item("a")]),
            "show_if refers to 'a', which is not an earlier item",
        ),
        (
            ([item("a", show_if={"item": "a", "equals": True})],),
            "show_if refers to 'a', which is this item itself",
        ),
        (
            ([item("a"), item("b", show_if={"item": "a", "equals": "yes"})],),
            "item 'b': show_if value for 'a' must be true or false",
        ),
        (
            (
                [
                    item("a", "single_choice", choices=choices("x", "y")),
                    item("b", show_if={"item": "a", "equals": "z"}),
                ],
            ),
            "item 'b': show_if value for 'a' must be one of its choice names (x, y)",
        ),
        (
            ([item("a", "scale"), item("b", show_if={"item": "a", "not_equals": 9})],),
            "must be a whole number from 1 to 5",
        ),
        (
            ([item("a", "text"), item("b", show_if={"item": "a", "equals": "x"})],),
            "show_if can't depend on 'a', a text item",
        ),
        (
            ([item("a"), item("b", show_if={"item": "a", "equals": True, "not_equals": False})],),
            "exactly one of equals / not_equals",
        ),
        (([item("a", "single_choice", choices=choices("x"))],), "item 'a': a single_choice item"),
        (([item("a", "multi_choice")],), "needs at least 2 choices"),
        (
            ([item("a", "single_choice", choices=choices("x", "x"))],),
            "choice name 'x' is used twice",
        ),
        (([item("a", choices=choices("x", "y"))],), "choices applies only to single_choice"),
        (([item("a", "scale", scale_min=5, scale_max=5)],), "scale_min (5) must be below"),
        (([item("a", "number", min=10, max=1)],), "min (10) is above max (1)"),
        (([item("a", "number", pass_min=10, max=5)],), "pass_min (10) is above max (5)"),
        (([item("a", "duration", target_s=100, max_s=10)],), "target_s (100) is above max_s"),
        (([item("a", "photo", min_photos=4, max_photos=2)],), "min_photos (4) is above"),
        (([item("a", "text", critical=True)],), "item 'a' is critical but can't be scored"),
        (([item("a", "number", critical=True)],), "give it a pass range"),
        (([item("a", weight=0, critical=True)],), "critical but has weight 0"),
        (
            ([item("a", "single_choice", choices=choices("x", "y", points=0), critical=True)],),
            "give at least one choice positive points",
        ),
        (([item("a", weight=-1)],), "greater than or equal to 0"),
        (([item("Bad Name")],), "should match pattern"),
        (([item("a", label={"zh": " ", "en": "x"})],), "at least 1 character"),
        (([item("a", label={"zh": "a\x01", "en": "x"})],), "control character U+0001"),
        (([item("a", required=1)],), "valid boolean"),
        (([item("a", surprise=1)],), "Extra inputs are not permitted"),
        (([],), "at least 1 item"),
    ],
)
def test_invalid_definitions_say_why(sections: tuple[Any, ...], words: str) -> None:
    assert words in error_of(*sections)


def test_duplicate_section_names() -> None:
    data = {
        "name": L,
        "sections": [
            {"name": "s", "label": L, "items": [item("a")]},
            {"name": "s", "label": L, "items": [item("b")]},
        ],
    }
    with pytest.raises(ValidationError, match="section name 's' is used twice"):
        ChecklistDefinition.model_validate(data)


@pytest.mark.parametrize(
    ("top", "words"),
    [
        ({"pass_score": 101}, "less than or equal to 100"),
        ({"action_below": 1.5}, "less than or equal to 1"),
        ({"action_due_days": 0}, "greater than or equal to 1"),
        ({"critical_rule": "warn"}, "'fail' or 'cap'"),
        ({"critical_cap": float("nan")}, "critical_cap\n  Input should be"),
    ],
)
def test_checklist_level_fields(top: dict[str, Any], words: str) -> None:
    assert words in error_of([item("a")], **top)


def test_defaults_are_filled_per_type_and_helpers() -> None:
    defn = build(
        [item("a", "scale"), item("b", "photo")],
        [item("c", "text"), item("d", "number", pass_max=3)],
    )
    a, b, c, d = (defn.item(n) for n in "abcd")
    assert (a.scale_min, a.scale_max, b.min_photos, b.max_photos, c.max_length) == (
        1,
        5,
        1,
        5,
        2000,
    )
    assert d.is_scored and not c.is_scored
    assert [(s.name, i.name) for s, i in defn.items()] == [
        ("s0", "a"),
        ("s0", "b"),
        ("s1", "c"),
        ("s1", "d"),
    ]
    assert defn.item("a").type is ItemType.scale
    with pytest.raises(KeyError):
        defn.item("zzz")
    # Defaults: the checklist-level values the doc gives.
    assert (defn.critical_rule, defn.critical_cap, defn.pass_score) == ("fail", 60, 80)
    assert (defn.action_below, defn.action_due_days) == (0.5, 7)


def test_show_if_on_a_later_section_item_is_fine_when_the_target_is_earlier() -> None:
    defn = build([item("a")], [item("b", show_if={"item": "a", "not_equals": False})])
    assert defn.item("b").show_if is not None
