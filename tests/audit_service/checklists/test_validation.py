"""Answer validation: exact paths for bad answers, normalisation, and no crash on any input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_service.checklists.answers import Answer
from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.scoring import score_audit
from audit_service.checklists.validation import validate_answers
from tests.audit_service.checklists.strategies import JSON_LIKE, definitions

L = {"zh": "项", "en": "item"}
PHOTO = "6f1c0d52-0d1a-4c2e-9d55-0a4f1c1c2b11"


def item(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": L, **extra}


def choices(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "label": L, "points": 1} for n in names]


DEFN = ChecklistDefinition.model_validate(
    {
        "name": L,
        "sections": [
            {
                "name": "s",
                "label": L,
                "items": [
                    item("greeted", "yes_no"),
                    item("rating", "scale"),
                    item("guided", "single_choice", choices=choices("desk", "none")),
                    item(
                        "seen", "multi_choice", choices=choices("uniform", "badge"), required=False
                    ),
                    item("queue", "number", min=0, max=50, pass_max=5),
                    item("wait", "duration", target_s=300, max_s=3600),
                    item("notes", "text", max_length=10, required=False),
                    item("docs_photo", "photo", min_photos=1, max_photos=2),
                    item("arrived", "time_of_day"),
                    item("vip_help", "yes_no", allow_na=True),
                    item("why", "text", show_if={"item": "greeted", "equals": False}),
                ],
            }
        ],
    }
)

GOOD: dict[str, Any] = {
    "greeted": {"value": True, "badge": "SH-0107"},
    "rating": {"value": 4},
    "guided": {"value": "desk"},
    "seen": {"value": ["badge", "uniform"]},
    "queue": {"value": 3.5},
    "wait": {"value": 135},
    "docs_photo": {"value": None, "photos": [PHOTO]},
    "arrived": {"value": "09:30"},
    "vip_help": {"na": True, "comment": "no VIP customer today"},
}


def with_answer(name: str, answer: Any) -> dict[str, Any]:
    return {**GOOD, name: answer}


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != name}


def test_good_answers_are_normalised() -> None:
    answers, problems = validate_answers(DEFN, GOOD)
    assert problems == []
    assert answers["seen"].value == ["uniform", "badge"]  # the definition's order
    assert answers["vip_help"] == Answer(na=True, comment="no VIP customer today")
    assert answers["docs_photo"].photos == (PHOTO,)
    assert answers["greeted"].badge == "SH-0107"
    assert "why" not in answers
    # Six scored items, all full except the scale (4 of 1-5 = 0.75): 5.75 / 6.
    assert score_audit(DEFN, answers).score == 95.83


@pytest.mark.parametrize(
    ("raw", "value"),
    [("02:15", 135), ("135:00", 8100), ("1:00:05", 3605), (90, 90), (90.0, 90)],
)
def test_durations_are_normalised_to_seconds(raw: Any, value: int) -> None:
    defn = ChecklistDefinition.model_validate(
        {"name": L, "sections": [{"name": "s", "label": L, "items": [item("wait", "duration")]}]}
    )
    answers, problems = validate_answers(defn, {"wait": {"value": raw}})
    assert problems == []
    assert answers["wait"].value == value


BAD = [
    (with_answer("rating", {"value": 7}), "answers.rating.value", "1-5 scale"),
    (with_answer("rating", {"value": 2.5}), "answers.rating.value", "whole number"),
    (with_answer("greeted", {"value": 1}), "answers.greeted.value", "true or false"),
    (with_answer("greeted", {"value": "yes"}), "answers.greeted.value", "true or false"),
    (with_answer("guided", {"value": "lobby"}), "answers.guided.value", "desk, none"),
    (with_answer("seen", {"value": "badge"}), "answers.seen.value", "list"),
    (with_answer("seen", {"value": ["badge", "badge"]}), "answers.seen.value", "twice"),
    (with_answer("seen", {"value": ["hat"]}), "answers.seen.value", "unknown choice 'hat'"),
    (with_answer("queue", {"value": 51}), "answers.queue.value", "0 to 50"),
    (with_answer("queue", {"value": float("nan")}), "answers.queue.value", "non-finite"),
    (with_answer("queue", {"value": True}), "answers.queue.value", "number"),
    (with_answer("queue", {"value": 10**400}), "answers.queue.value", "very large"),
    (with_answer("wait", {"value": -1}), "answers.wait.value", "seconds"),
    (with_answer("wait", {"value": "2:75"}), "answers.wait.value", "mm:ss"),
    (with_answer("wait", {"value": 3601}), "answers.wait.value", "3600"),
    (with_answer("notes", {"value": "x" * 11}), "answers.notes.value", "at most 10"),
    (with_answer("arrived", {"value": "24:00"}), "answers.arrived.value", "HH:MM"),
    (with_answer("docs_photo", {"value": "x.jpg"}), "answers.docs_photo.value", "photos"),
    (with_answer("docs_photo", {"photos": [PHOTO] * 3}), "answers.docs_photo.photos", "at most 2"),
    (without("docs_photo"), "answers.docs_photo", "photo"),
    (with_answer("docs_photo", {"value": None}), "answers.docs_photo.photos", "at least 1"),
    (with_answer("greeted", {"value": True, "photos": [7]}), "answers.greeted.photos.0", "id"),
    (with_answer("greeted", {"value": True, "photos": "x"}), "answers.greeted.photos", "list"),
    (with_answer("greeted", {"value": True, "badge": "B" * 33}), "answers.greeted.badge", "32"),
    (with_answer("greeted", {"value": True, "comment": 5}), "answers.greeted.comment", "text"),
    (with_answer("greeted", {"value": True, "score": 5}), "answers.greeted.score", "unknown"),
    (with_answer("greeted", {"value": None}), "answers.greeted.value", "required"),
    (with_answer("greeted", True), "answers.greeted", "object"),
    (without("rating"), "answers.rating", "required"),
    (with_answer("rating", {"na": True}), "answers.rating.na", "can't be marked N/A"),
    (with_answer("vip_help", {"na": "yes"}), "answers.vip_help.na", "true or false"),
    (with_answer("vip_help", {"na": True, "value": True}), "answers.vip_help.value", "N/A"),
    ({**GOOD, "unknown_item": {"value": 1}}, "answers.unknown_item", "not an item"),
    ({**GOOD, "greeted": {"value": False}}, "answers.why", "required"),
    (with_answer("notes", {"value": "a\x00b"}), "answers.notes.value", "control"),
]


@pytest.mark.parametrize(("raw", "path", "words"), BAD)
def test_bad_answers_name_the_path(raw: dict[str, Any], path: str, words: str) -> None:
    answers, problems = validate_answers(DEFN, raw)
    assert [p.path for p in problems] == [path], problems
    assert problems[0].message.startswith(f"{path}: ")
    assert words in problems[0].message


def test_message_names_the_item_and_the_fix() -> None:
    _, problems = validate_answers(DEFN, with_answer("rating", {"value": 7}))
    assert str(problems[0]) == (
        "answers.rating.value: 'rating' is a 1-5 scale: send a whole number from 1 to 5; got 7"
    )


def test_hidden_answers_are_dropped_not_errors() -> None:
    raw = {**GOOD, "why": {"value": ["not", "even", "text"]}}
    answers, problems = validate_answers(DEFN, raw)
    assert problems == [] and "why" not in answers
    answers, problems = validate_answers(DEFN, {**raw, "greeted": {"value": False}})
    assert [p.path for p in problems] == ["answers.why.value"]


def test_a_broken_condition_does_not_cascade() -> None:
    # "greeted" is invalid, so whether "why" shows is unknown: it isn't demanded.
    _, problems = validate_answers(DEFN, with_answer("greeted", {"value": "no"}))
    assert [p.path for p in problems] == ["answers.greeted.value"]


def test_not_a_mapping() -> None:
    for raw in ([], None, "answers", 3):
        answers, problems = validate_answers(DEFN, raw)  # type: ignore[arg-type]
        assert answers == {} and [p.path for p in problems] == ["answers"]


def test_optional_items_may_be_empty_and_text_is_trimmed_to_nothing() -> None:
    answers, problems = validate_answers(DEFN, with_answer("notes", {"value": "   "}))
    assert problems == [] and answers["notes"].value is None


ANSWER_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "value": JSON_LIKE,
        "na": JSON_LIKE,
        "comment": JSON_LIKE,
        "photos": JSON_LIKE,
        "badge": JSON_LIKE,
    },
)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    defn=definitions(max_sections=2),
)
def test_never_raises_on_fuzzed_input(data: st.DataObject, defn: ChecklistDefinition) -> None:
    names = [i.name for _, i in defn.items()]
    keys = st.sampled_from(names) | st.text(max_size=10)
    raw = data.draw(
        st.dictionaries(keys, ANSWER_LIKE | JSON_LIKE, max_size=len(names) + 2) | JSON_LIKE
    )
    answers, problems = validate_answers(defn, raw)
    for problem in problems:
        assert problem.message.startswith(problem.path + ": ")
        assert problem.path == "answers" or problem.path.startswith("answers.")
    # Whatever came through is well-formed enough to score.
    result = score_audit(defn, answers)
    assert result.score is None or 0 <= result.score <= 100
