"""JSON and XLSForm import/export: round trips, the ODK layout, and located errors."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.ready import READY_TEMPLATES
from audit_service.checklists.transfer import (
    ChecklistFormatError,
    definition_from_json,
    definition_from_xlsform,
    definition_to_json,
    definition_to_xlsform,
)
from tests.audit_service.checklists.strategies import JSON_LIKE, definitions

ROUND_TRIPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
L = {"zh": "项", "en": "item"}


@pytest.mark.parametrize("code", sorted(READY_TEMPLATES))
def test_ready_templates_round_trip(code: str) -> None:
    defn = READY_TEMPLATES[code]
    assert definition_from_json(definition_to_json(defn)) == defn
    assert definition_from_xlsform(definition_to_xlsform(defn)) == defn


@ROUND_TRIPS
@given(defn=definitions())
def test_random_definitions_round_trip_through_json(defn: ChecklistDefinition) -> None:
    assert definition_from_json(definition_to_json(defn)) == defn


@ROUND_TRIPS
@given(defn=definitions())
def test_random_definitions_round_trip_through_xlsform(defn: ChecklistDefinition) -> None:
    assert definition_from_xlsform(definition_to_xlsform(defn)) == defn


def test_json_is_readable_utf8_without_nulls() -> None:
    text = definition_to_json(READY_TEMPLATES["counter-visit"]).decode()
    assert "网点柜面暗访" in text  # not \u-escaped
    assert "null" not in text


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_xlsform_has_what_odk_needs() -> None:
    sheets = _sheets(definition_to_xlsform(READY_TEMPLATES["counter-visit"]))
    assert list(sheets) == ["survey", "choices", "settings"]
    survey_header = sheets["survey"][0]
    for column in ("type", "name", "label::zh", "label::en", "hint::zh", "hint::en"):
        assert column in survey_header
    for column in ("required", "relevant", "parameters", "weight", "critical", "role"):
        assert column in survey_header
    assert sheets["choices"][0][:4] == ("list_name", "name", "label::zh", "label::en")
    assert {"form_title", "form_id", "default_language"} <= set(sheets["settings"][0])

    col = {name: i for i, name in enumerate(survey_header)}
    rows = {r[col["name"]]: r for r in sheets["survey"][1:]}
    types = [r[col["type"]] for r in sheets["survey"][1:]]
    assert types[0] == "begin_group" and types[-1] == "end_group"
    assert types.count("begin_group") == types.count("end_group") == 4
    assert rows["greeted_promptly"][col["type"]] == "select_one yes_no"
    assert rows["guided_to_counter"][col["type"]] == "select_one guided_to_counter"
    assert rows["uniform_badge"][col["type"]] == "select_multiple uniform_badge"
    assert rows["si_appearance"][col["type"]] == "range"
    assert rows["si_appearance"][col["parameters"]] == "start=1 end=5 step=1"
    assert rows["wait"][col["type"]] == "integer" and rows["wait"][col["unit"]] == "seconds"
    assert rows["outlet_front_photo"][col["type"]] == "image"
    assert rows["arrival_time"][col["type"]] == "time"
    assert rows["callback_minutes"][col["type"]] == "decimal"
    assert rows["observations"][col["required"]] == "no"
    assert rows["exception_approved"][col["relevant"]] == "${underwriting_checked} = 'no'"
    assert rows["first_question_owned"][col["critical"]] == "yes"
    yes_no = [r for r in sheets["choices"][1:] if r[0] == "yes_no"]
    assert [r[1] for r in yes_no] == ["yes", "no"]


def test_yes_no_named_choice_item_gets_its_own_list() -> None:
    defn = ChecklistDefinition.model_validate(
        {
            "name": L,
            "sections": [
                {
                    "name": "s",
                    "label": L,
                    "items": [
                        {
                            "name": "yes_no",
                            "type": "single_choice",
                            "label": L,
                            "choices": [
                                {"name": "yes", "label": L, "points": 1},
                                {"name": "no", "label": L},
                            ],
                        },
                        {"name": "real", "type": "yes_no", "label": L},
                    ],
                }
            ],
        }
    )
    assert definition_from_xlsform(definition_to_xlsform(defn)) == defn


def test_formula_looking_text_stays_text() -> None:
    spec = json.loads(definition_to_json(READY_TEMPLATES["camera-spot-check"]))
    spec["name"]["en"] = '=HYPERLINK("http://example.invalid")'
    defn = ChecklistDefinition.model_validate(spec)
    book = load_workbook(io.BytesIO(definition_to_xlsform(defn)))
    cell = next(
        c for row in book["settings"].iter_rows() for c in row if c.value == spec["name"]["en"]
    )
    assert cell.data_type == "s"
    assert definition_from_xlsform(definition_to_xlsform(defn)) == defn


# ---------------------------------------------------------------- reading foreign / broken files


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SURVEY_HEADER = ["type", "name", "label::zh", "label::en", "relevant", "required", "parameters"]
SETTINGS = [["form_title", "checklist_name::en"], ["暗访", "Visit"]]
CHOICES = [
    ["list_name", "name", "label::zh", "label::en", "points"],
    ["yes_no", "yes", "是", "Yes", None],
    ["yes_no", "no", "否", "No", None],
    ["docs", "full", "全部", "All", 2],
    ["docs", "part", "部分", "Some", 1],
]


def form(*rows: list[Any], choices: list[list[Any]] = CHOICES) -> bytes:
    return xlsx({"survey": [SURVEY_HEADER, *rows], "choices": choices, "settings": SETTINGS})


GROUP = ["begin_group", "reception", "接待", "Reception"]
END = ["end_group"]


def test_a_hand_written_kobo_style_form_reads() -> None:
    data = form(
        ["start", "start"],
        GROUP,
        ["select_one yes_no", "greeted", "问候", "Greeted", None, "yes"],
        ["select_one docs", "docs", "资料", "Docs", "${greeted} = true", "TRUE()"],
        ["select_multiple docs", "seen", "看到", "Seen", "selected(${docs}, 'full')"],
        ["range", "rating", "评分", "Rating", "${seen} != 'part'", None, "start=0 end=10"],
        ["integer", "people", "人数", "People", "${rating} = '7'"],
        END,
    )
    defn = definition_from_xlsform(data)
    assert defn.name.zh == "暗访" and defn.name.en == "Visit"
    greeted, docs, seen, rating, people = (i for _, i in defn.items())
    assert greeted.type == "yes_no" and greeted.required
    assert docs.type == "single_choice" and docs.show_if.equals is True
    assert seen.type == "multi_choice" and seen.show_if.equals == "full"
    assert (rating.scale_min, rating.scale_max, rating.show_if.not_equals) == (0, 10, "part")
    assert people.type == "number" and people.show_if.equals == 7 and not people.required


def test_not_an_xlsx() -> None:
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_xlsform(b"PK\x03\x04 definitely not a workbook")
    assert caught.value.location == "file"
    assert ".xlsx" in caught.value.message


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        (
            xlsx({"survey": [SURVEY_HEADER, GROUP, END], "choices": CHOICES}),
            "file",
            "no 'settings' sheet",
        ),
        (
            xlsx({"survey": [["type", "label::zh"], GROUP], "settings": SETTINGS}),
            "survey sheet",
            "no 'name' column",
        ),
        (
            form(GROUP, ["geopoint", "where", "位置", "Where"], END),
            "survey row 3, column type",
            "unknown type 'geopoint'",
        ),
        (
            form(
                GROUP,
                ["select_one yes_no", "a", "甲", "A"],
                ["text", "b", "乙", "B", "${a} > 3"],
                END,
            ),
            "survey row 4, column relevant",
            "not a simple condition",
        ),
        (
            form(
                GROUP,
                ["text", "b", "乙", "B", "${a} = 'x'"],
                ["select_one yes_no", "a", "甲", "A"],
                END,
            ),
            "survey row 3, column relevant",
            "not a question above this row",
        ),
        (
            form(
                GROUP,
                ["select_one docs", "a", "甲", "A"],
                ["text", "b", "乙", "B", "${a} = 'zz'"],
                END,
            ),
            "survey row 4, column relevant",
            "choice names (full, part)",
        ),
        (
            form(GROUP, ["select_one colours", "a", "甲", "A"], END),
            "survey row 3, column type",
            "choice list 'colours'",
        ),
        (
            form(GROUP, ["text", "a", "甲", None], END),
            "survey row 3, column label::en",
            "no English text",
        ),
        (form(GROUP, ["text", "a", "甲", "A"]), "survey row 2, column type", "no end_group"),
        (form(["text", "a", "甲", "A"]), "survey row 2, column type", "outside a group"),
        (
            form(GROUP, ["text", "a", "甲", "A", None, "maybe"], END),
            "survey row 3, column required",
            "not yes or no",
        ),
        (
            form(GROUP, ["range", "a", "甲", "A", None, None, "start=1 end=5 step=0.5"], END),
            "survey row 3, column parameters",
            "whole number",
        ),
        (
            form(GROUP, ["range", "a", "甲", "A", None, None, "start=5 end=1"], END),
            "survey row 3, column parameters",
            "scale_min (5) must be below",
        ),
        (form(GROUP, ["text", "Bad Name", "甲", "A"], END), "survey row 3, column name", "pattern"),
        (
            form(GROUP, ["text", "a", "甲", "A"], ["text", "a", "甲", "A"], END),
            "survey row 4, column name",
            "used twice",
        ),
        (
            form(
                GROUP,
                ["select_one docs", "a", "甲", "A"],
                END,
                choices=[*CHOICES, ["docs", "part", "部分", "Some", 1]],
            ),
            "choices row 6, column name",
            "choice name 'part' is used twice",
        ),
        (
            form(
                GROUP,
                ["select_one docs", "a", "甲", "A"],
                END,
                choices=[*CHOICES[:3], ["docs", "full", "全部", "All", "lots"]],
            ),
            "choices row 4, column points",
            "expected a number",
        ),
        (form(GROUP, END), "survey row 2", "has no questions"),
        (
            form(
                GROUP,
                ["integer", "a", "甲", "A"],
                ["text", "b", "乙", "B", "${a} = " + "9" * 500],
                END,
            ),
            "survey row 4, column relevant",
            "not a simple condition",
        ),
        (
            xlsx(
                {
                    "survey": [
                        [*SURVEY_HEADER, "weight"],
                        GROUP,
                        ["text", "a", "甲", "A", None, None, None, "9" * 60],
                        END,
                    ],
                    "settings": SETTINGS,
                }
            ),
            "survey row 3, column weight",
            "expected a number",
        ),
    ],
)
def test_malformed_forms_name_the_location(data: bytes, location: str, words: str) -> None:
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_xlsform(data)
    assert caught.value.location == location, str(caught.value)
    assert words in caught.value.message
    assert str(caught.value).startswith(location)


def test_an_exported_form_edited_badly_points_at_the_cell() -> None:
    book = load_workbook(io.BytesIO(definition_to_xlsform(READY_TEMPLATES["counter-visit"])))
    survey = book["survey"]
    header = [c.value for c in survey[1]]
    weight = header.index("weight") + 1
    survey.cell(row=4, column=weight, value=-2)
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_xlsform(buffer.getvalue())
    assert caught.value.location == "survey row 4, column weight"
    assert "greater than or equal to 0" in caught.value.message


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"{not json", "JSON document"),
        (b'{"name": {"zh": "a", "en": "b"}, "sections": []}', "sections"),
        (
            json.dumps(
                {
                    "name": L,
                    "sections": [
                        {
                            "name": "s",
                            "label": L,
                            "items": [{"name": "a", "type": "scale", "label": L, "scale_max": "x"}],
                        }
                    ],
                }
            ).encode(),
            "sections[0].items[0].scale_max",
        ),
        (b"\xff\xfe", "JSON document"),
        (b"[]", "JSON document"),
    ],
)
def test_bad_json_names_the_path(data: bytes, location: str) -> None:
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_json(data)
    assert caught.value.location == location, str(caught.value)


def test_blank_rows_keep_the_spreadsheet_row_numbers() -> None:
    data = xlsx(
        {
            "survey": [SURVEY_HEADER, [], GROUP, [], ["geopoint", "where", "位置", "Where"], END],
            "settings": SETTINGS,
        }
    )
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_xlsform(data)
    assert caught.value.location == "survey row 5, column type"


def test_kobo_language_headers_and_a_plain_label() -> None:
    data = xlsx(
        {
            "survey": [
                ["type", "name", "label::Chinese (zh)", "label::English (en)", "hint", "required"],
                ["begin group", "s", "组", "Group"],
                ["text", "a", "甲", "A", "同一提示", "yes"],
                ["end group"],
            ],
            "settings": [["form_title"], ["Only one title"]],
        }
    )
    defn = definition_from_xlsform(data)
    assert defn.name.zh == defn.name.en == "Only one title"
    a = defn.item("a")
    assert (a.label.zh, a.label.en, a.help.zh, a.help.en) == ("甲", "A", "同一提示", "同一提示")


GOOD_XLSX = definition_to_xlsform(READY_TEMPLATES["camera-spot-check"])  # one fixed byte string


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_damaged_workbooks_only_raise_format_errors(data: st.DataObject) -> None:
    good = GOOD_XLSX
    cut = data.draw(st.integers(0, len(good)))
    damaged = bytearray(good[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if damaged:
            spot = data.draw(st.integers(0, len(damaged) - 1))
            damaged[spot] = data.draw(st.integers(0, 255))
    try:
        definition_from_xlsform(bytes(damaged))
    except ChecklistFormatError as exc:
        assert exc.location and exc.message


@settings(max_examples=150, deadline=None)
@given(doc=JSON_LIKE | st.fixed_dictionaries({"name": JSON_LIKE, "sections": JSON_LIKE}))
def test_any_json_only_raises_format_errors(doc: Any) -> None:
    try:
        data = json.dumps(doc).encode()
    except ValueError:  # ints beyond Python's str() limit can't even be sent
        return
    try:
        definition_from_json(data)
    except ChecklistFormatError as exc:
        assert exc.location and exc.message


def test_odd_cell_values_are_format_errors() -> None:
    from datetime import datetime

    data = form(
        GROUP,
        ["text", "a", "甲", "A", None, True],
        ["text", datetime(2026, 1, 1), "乙", "B"],
        END,
    )
    with pytest.raises(ChecklistFormatError) as caught:
        definition_from_xlsform(data)
    assert caught.value.location == "survey row 4, column name"


CELLS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "yes",
            "begin_group",
            "end_group",
            "select_one yes_no",
            "select_multiple docs",
            "range",
            "${a} = 'x'",
            "start=1 end=5",
            "1e999",
            "-0",
            "a",
            "docs",
        ]
    )
)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(CELLS, max_size=len(SURVEY_HEADER) + 2), max_size=8))
def test_random_cells_only_raise_format_errors(rows: list[list[Any]]) -> None:
    header = [*SURVEY_HEADER, "weight", "critical"]
    try:
        data = xlsx({"survey": [header, *rows], "choices": CHOICES, "settings": SETTINGS})
    except Exception:  # openpyxl refuses some strings; nothing to import then
        return
    try:
        definition_from_xlsform(data)
    except ChecklistFormatError as exc:
        assert exc.location and exc.message
