"""The scoring engine: hand-computed tables and properties over random checklists."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audit_service.checklists.answers import Answer
from audit_service.checklists.definition import ChecklistDefinition, ChecklistItem, CriticalRule
from audit_service.checklists.scoring import ScoreResult, item_fraction, score_audit
from tests.audit_service.checklists.strategies import answer_sets, definitions

PROPERTIES = settings(max_examples=150, deadline=None)
L = {"zh": "项", "en": "item"}


def item(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": L, **extra}


def checklist(*sections: tuple[str, float, list[dict[str, Any]]], **top: Any) -> Any:
    return ChecklistDefinition.model_validate(
        {
            "name": L,
            **top,
            "sections": [
                {"name": name, "label": L, "weight": weight, "items": items}
                for name, weight, items in sections
            ],
        }
    )


def choices(**points: float) -> list[dict[str, Any]]:
    return [{"name": n, "label": L, "points": p} for n, p in points.items()]


# ---------------------------------------------------------------- tables

FRACTIONS = [
    (item("q", "yes_no"), True, 1.0),
    (item("q", "yes_no"), False, 0.0),
    (item("q", "scale"), 4, 0.75),
    (item("q", "scale"), 1, 0.0),
    (item("q", "scale", scale_min=0, scale_max=10), 7, 0.7),
    (item("q", "scale", scale_min=-2, scale_max=2), 0, 0.5),
    (item("q", "single_choice", choices=choices(a=3, b=1, c=0)), "b", 1 / 3),
    (item("q", "single_choice", choices=choices(a=3, b=1, c=0)), "a", 1.0),
    (item("q", "single_choice", choices=choices(a=2, b=-1)), "b", 0.0),
    (item("q", "single_choice", choices=choices(a=0, b=0)), "a", None),
    (item("q", "multi_choice", choices=choices(a=2, b=1, c=-1)), ["a", "c"], 1 / 3),
    (item("q", "multi_choice", choices=choices(a=2, b=1, c=-1)), ["a", "b"], 1.0),
    (item("q", "multi_choice", choices=choices(a=2, b=1, c=-1)), [], 0.0),
    (item("q", "multi_choice", choices=choices(a=2, b=1, c=-1)), ["c"], 0.0),
    (item("q", "multi_choice", choices=choices(a=0, b=-1)), ["a"], None),
    (item("q", "number", pass_min=0, pass_max=30), 30, 1.0),
    (item("q", "number", pass_min=0, pass_max=30), 30.5, 0.0),
    (item("q", "number", pass_min=10), 9.99, 0.0),
    (item("q", "number", min=0, max=100), 50, None),
    (item("q", "duration", target_s=300), 300, 1.0),
    (item("q", "duration", target_s=300), 301, 0.0),
    (item("q", "duration", max_s=600), 10, None),
    (item("q", "text"), "fine", None),
    (item("q", "photo"), None, None),
    (item("q", "time_of_day"), "09:30", None),
    # Wrong types (scoring is robust even without validation): unanswered.
    (item("q", "yes_no"), 1, None),
    (item("q", "scale"), 9, None),
    (item("q", "scale"), True, None),
    (item("q", "single_choice", choices=choices(a=1, b=0)), "zzz", None),
    (item("q", "number", pass_max=1), float("nan"), None),
    (item("q", "number", pass_max=1), 10**400, 0.0),
    (item("q", "duration", target_s=1), 10**400, 0.0),
]


@pytest.mark.parametrize(("spec", "value", "expected"), FRACTIONS)
def test_item_fraction_table(spec: dict[str, Any], value: Any, expected: float | None) -> None:
    fraction = item_fraction(ChecklistItem.model_validate(spec), value)
    if expected is None:
        assert fraction is None
    else:
        assert fraction == pytest.approx(expected)


@pytest.mark.parametrize(("spec", "value", "expected"), FRACTIONS)
def test_each_type_in_an_audit(spec: dict[str, Any], value: Any, expected: float | None) -> None:
    """One scored yes_no item (answered yes) plus the item under test, weight 3."""
    defn = checklist(("s", 1, [item("base", "yes_no"), {**spec, "weight": 3}]))
    result = score_audit(defn, {"base": Answer(value=True), "q": Answer(value=value)})
    if expected is None:
        assert (result.points, result.possible, result.score) == (1, 1, 100)
    else:
        assert result.possible == 4
        assert result.points == pytest.approx(1 + 3 * expected)
        assert result.score == round(100 * (1 + 3 * expected) / 4, 2)


def worked_example(**top: Any) -> ChecklistDefinition:
    return checklist(
        (
            "reception",
            1,
            [
                item("greeted", "yes_no", weight=2),
                item("accuracy", "scale", weight=1),
                item("note", "text", required=False),
            ],
        ),
        (
            "counter",
            3,
            [
                item("docs", "single_choice", choices=choices(full=3, part=1, none=0)),
                item("queue", "number", pass_max=5, critical=True),
                item("vip", "yes_no", allow_na=True, weight=5),
            ],
        ),
        **top,
    )


WORKED_ANSWERS = {
    "greeted": Answer(value=True),  # 2 / 2
    "accuracy": Answer(value=3),  # 0.5 / 1
    "note": Answer(value="ok"),  # unscored
    "docs": Answer(value="part"),  # 1/3 / 1
    "queue": Answer(value=9),  # 0 / 1, critical and failed
    "vip": Answer(na=True),  # nothing possible
}


def test_worked_example_by_hand() -> None:
    # reception 2.5/3 = 83.333 %, counter (1/3)/2 = 16.667 %;
    # total (1 * 0.83333 + 3 * 0.16667) / 4 = 33.33 %.
    result = score_audit(worked_example(critical_rule="cap", critical_cap=90), WORKED_ANSWERS)
    assert [(s.name, s.percent) for s in result.sections] == [
        ("reception", 83.33),
        ("counter", 16.67),
    ]
    assert result.score == 33.33
    assert result.points == pytest.approx(2.5 + 1 / 3)
    assert result.possible == 5
    assert result.critical_failed == ("queue",)
    assert result.capped and result.passed is False
    by_name = {i.name: i for i in result.items}
    assert by_name["vip"].na and by_name["vip"].possible == 0
    assert by_name["docs"].failed and by_name["queue"].failed and by_name["queue"].critical
    assert not by_name["accuracy"].failed  # 0.5 is not below action_below 0.5
    json.dumps(result.to_dict())  # storable


def test_worked_example_fail_rule_and_cap() -> None:
    assert score_audit(worked_example(), WORKED_ANSWERS).score == 0.0
    assert score_audit(worked_example(), WORKED_ANSWERS).passed is False
    fixed = {**WORKED_ANSWERS, "queue": Answer(value=5)}
    # counter now (1/3 + 1)/2 = 66.67 %; total (0.83333 + 3 * 0.66667) / 4 = 70.83 %.
    result = score_audit(worked_example(pass_score=70), fixed)
    assert (result.score, result.passed, result.critical_failed) == (70.83, True, ())
    capped = score_audit(
        worked_example(critical_rule="cap", critical_cap=20, pass_score=10), WORKED_ANSWERS
    )
    assert capped.score == 20 and capped.passed is True  # the cap still passes a low bar


def test_nothing_scorable_gives_no_score() -> None:
    defn = checklist(("s", 1, [item("a", "yes_no", allow_na=True), item("t", "text")]))
    result = score_audit(defn, {"a": Answer(na=True), "t": Answer(value="x")})
    assert (result.score, result.passed, result.possible) == (None, None, 0)
    assert result.sections[0].percent is None
    zero_weight = checklist(("s", 0, [item("a", "yes_no")]))
    assert score_audit(zero_weight, {"a": Answer(value=True)}).score is None


def test_hidden_items_neither_score_nor_fail() -> None:
    defn = checklist(
        (
            "s",
            1,
            [
                item("tested", "yes_no", weight=0),
                item(
                    "handled", "yes_no", critical=True, show_if={"item": "tested", "equals": True}
                ),
                item("callback", "yes_no", show_if={"item": "handled", "not_equals": True}),
                item("ok", "yes_no"),
            ],
        )
    )
    answers = {
        "tested": Answer(value=False),
        "handled": Answer(value=False),
        "callback": Answer(value=False),
        "ok": Answer(value=True),
    }
    result = score_audit(defn, answers)
    hidden = {i.name for i in result.items if i.hidden}
    # "handled" is hidden, so its effective value is empty and "not_equals" shows "callback".
    assert hidden == {"handled"}
    assert result.critical_failed == ()
    assert result.score == 50.0  # tested 0/0, callback 0/1, ok 1/1


def test_multi_choice_show_if_means_among_the_chosen() -> None:
    defn = checklist(
        (
            "s",
            1,
            [
                item("seen", "multi_choice", choices=choices(a=1, b=1)),
                item("why", "yes_no", show_if={"item": "seen", "equals": "b"}),
            ],
        )
    )
    shown = score_audit(defn, {"seen": Answer(value=["a", "b"]), "why": Answer(value=True)})
    hidden = score_audit(defn, {"seen": Answer(value=["a"]), "why": Answer(value=True)})
    assert not shown.items[1].hidden and hidden.items[1].hidden


# ---------------------------------------------------------------- properties


def _scale_items(defn: ChecklistDefinition, section: int, k: float) -> ChecklistDefinition:
    data = defn.model_dump()
    for spec in data["sections"][section]["items"]:
        spec["weight"] *= k
    return ChecklistDefinition.model_validate(data)


def _close(a: ScoreResult, b: ScoreResult) -> None:
    """Equal up to float noise (the 2-decimal rounding may then differ by one step)."""
    assert (a.raw_score is None) == (b.raw_score is None)
    if a.raw_score is not None:
        assert math.isclose(a.raw_score, b.raw_score, rel_tol=1e-9, abs_tol=1e-9)
    assert (a.score is None) == (b.score is None)
    if a.score is not None:
        assert abs(a.score - b.score) <= 0.011
    assert sorted(a.critical_failed) == sorted(b.critical_failed)


@PROPERTIES
@given(data=st.data(), defn=definitions())
def test_na_is_the_same_as_deleting_the_item(data: st.DataObject, defn: Any) -> None:
    names = [i.name for _, i in defn.items()]
    assume(len(names) > 1)
    referenced = {i.show_if.item for _, i in defn.items() if i.show_if}
    candidates = [n for n in names if n not in referenced]
    assume(candidates)
    victim = data.draw(st.sampled_from(candidates))
    answers = data.draw(answer_sets(defn))

    marked = score_audit(defn, {**answers, victim: Answer(na=True)})

    spec = defn.model_dump()
    for section in spec["sections"]:
        section["items"] = [i for i in section["items"] if i["name"] != victim]
    spec["sections"] = [s for s in spec["sections"] if s["items"]]
    without = ChecklistDefinition.model_validate(spec)
    deleted = score_audit(without, {k: v for k, v in answers.items() if k != victim})

    assert (marked.score, marked.raw_score, marked.passed) == (
        deleted.score,
        deleted.raw_score,
        deleted.passed,
    )
    assert marked.critical_failed == deleted.critical_failed
    assert victim not in marked.critical_failed


@PROPERTIES
@given(data=st.data(), defn=definitions(), k=st.floats(0.1, 100))
def test_scaling_weights_changes_nothing(data: st.DataObject, defn: Any, k: float) -> None:
    answers = data.draw(answer_sets(defn))
    base = score_audit(defn, answers)
    section = data.draw(st.integers(0, len(defn.sections) - 1))
    _close(base, score_audit(_scale_items(defn, section, k), answers))

    spec = defn.model_dump()
    for s in spec["sections"]:
        s["weight"] *= k
    _close(base, score_audit(ChecklistDefinition.model_validate(spec), answers))


def reference_score(defn: ChecklistDefinition, answers: dict[str, Answer]) -> float | None:
    """The doc's formula, written out plainly (definitions without show_if)."""
    numerator = denominator = 0.0
    for section in defn.sections:
        points = possible = 0.0
        for it in section.items:
            answer = answers.get(it.name)
            if answer is None or answer.na or answer.value is None:
                continue
            fraction = item_fraction(it, answer.value)
            if fraction is not None:
                points += fraction * it.weight
                possible += it.weight
        if possible > 0:
            numerator += section.weight * points / possible
            denominator += section.weight
    return None if denominator == 0 else 100 * numerator / denominator


@PROPERTIES
@given(data=st.data(), defn=definitions(show_if=False), factor=st.floats(0, 10))
def test_one_weight_change_matches_the_formula_and_direction(
    data: st.DataObject, defn: Any, factor: float
) -> None:
    answers = data.draw(answer_sets(defn))
    before = score_audit(defn, answers)
    expected = reference_score(defn, answers)
    assert (before.raw_score is None) == (expected is None)
    if expected is not None:
        assert math.isclose(before.raw_score, expected, rel_tol=1e-9, abs_tol=1e-9)

    s_index = data.draw(st.integers(0, len(defn.sections) - 1))
    i_index = data.draw(st.integers(0, len(defn.sections[s_index].items) - 1))
    spec = defn.model_dump()
    target = spec["sections"][s_index]["items"][i_index]
    target["weight"] = min(1000.0, target["weight"] * factor)
    assume(not (target["critical"] and target["weight"] == 0))
    changed = ChecklistDefinition.model_validate(spec)
    after = score_audit(changed, answers)
    new_expected = reference_score(changed, answers)
    if new_expected is not None:
        assert math.isclose(after.raw_score, new_expected, rel_tol=1e-9, abs_tol=1e-9)

    # Direction: more weight pulls the section towards the item's fraction.
    fraction = before.items[sum(len(s.items) for s in defn.sections[:s_index]) + i_index].fraction
    section = before.sections[s_index]
    if fraction is None or before.raw_score is None or after.raw_score is None:
        return
    if section.possible == 0 or defn.sections[s_index].weight == 0:
        return
    others = section.points / section.possible
    grew = target["weight"] > defn.sections[s_index].items[i_index].weight
    if fraction > others and grew or fraction < others and not grew:
        assert after.raw_score >= before.raw_score - 1e-9
    elif fraction < others and grew or fraction > others and not grew:
        assert after.raw_score <= before.raw_score + 1e-9


@PROPERTIES
@given(data=st.data(), defn=definitions())
def test_critical_rule_and_range(data: st.DataObject, defn: Any) -> None:
    answers = data.draw(answer_sets(defn))
    result = score_audit(defn, answers)
    assert result.score is None or 0 <= result.score <= 100
    assert result.raw_score is None or 0 <= result.raw_score <= 100
    expected_failures = tuple(
        i.name
        for i in result.items
        if i.critical and not i.hidden and not i.na and i.fraction is not None and i.failed
    )
    assert result.critical_failed == expected_failures
    assert all(i.fraction < defn.action_below for i in result.items if i.failed)
    if result.critical_failed and defn.critical_rule is CriticalRule.fail:
        assert (result.score, result.passed) == (0.0, False)
    elif result.critical_failed:
        assert result.capped
        assert result.score is None or result.score <= defn.critical_cap
    else:
        assert not result.capped
        assert result.passed == (None if result.score is None else result.score >= defn.pass_score)
    for it in result.items:
        assert it.possible == 0 or it.fraction is not None
        assert 0 <= it.points <= it.possible + 1e-12


@PROPERTIES
@given(data=st.data(), defn=definitions(show_if=False))
def test_order_of_items_and_sections_does_not_matter(data: st.DataObject, defn: Any) -> None:
    answers = data.draw(answer_sets(defn))
    spec = defn.model_dump()
    for section in spec["sections"]:
        section["items"] = data.draw(st.permutations(section["items"]))
    spec["sections"] = data.draw(st.permutations(spec["sections"]))
    _close(
        score_audit(defn, answers), score_audit(ChecklistDefinition.model_validate(spec), answers)
    )
