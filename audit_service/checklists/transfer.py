"""Checklist definitions to and from JSON and XLSForm (.xlsx for ODK Collect / KoboToolbox).

XLSForm mapping (one ``survey`` row per item, a ``begin_group``/``end_group`` pair per section):

=============  ==========================================  ==================================
our type       survey ``type``                              our parameters
=============  ==========================================  ==================================
yes_no         ``select_one yes_no`` (list: yes, no)
scale          ``range``                                   ``parameters``: start=1 end=5 step=1
single_choice  ``select_one <item name>``                  ``choices`` rows (with ``points``)
multi_choice   ``select_multiple <item name>``             ``choices`` rows (with ``points``)
number         ``decimal``                                 min, max, pass_min, pass_max
duration       ``integer`` with ``unit`` = seconds         target_s, max_s
text           ``text``                                    max_length
photo          ``image``                                   min_photos, max_photos
time_of_day    ``time``
=============  ==========================================  ==================================

Common columns: name, label::zh, label::en, hint::zh, hint::en, required (yes/no), relevant,
weight, critical, allow_na, role, standard, observes (wait_s, counter_staffed or queue_length: what
the cameras measure too, for the cross-check). ODK ignores the columns it doesn't know. ``relevant``
is written and read in a simple form only: ``${x} = 'v'``, ``${x} != 'v'``, ``selected(${x},
'v')``, ``not(selected(${x}, 'v'))``, ``${x} = true/false``, numbers. The ``settings`` sheet holds
form_title/form_id/default_language for ODK and our checklist-level fields.

Reading a foreign form: a blank ``required`` means "no" (as in ODK); ``integer`` without
``unit`` = seconds and ``decimal`` become number items; metadata rows (start, end, today,
deviceid, audit) are skipped. Anything else that doesn't fit raises :class:`ChecklistFormatError`
naming the sheet, row and column.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NoReturn

from pydantic import ValidationError

from audit_service.checklists.definition import (
    CHOICE_TYPES,
    SHOW_IF_TYPES,
    ChecklistDefinition,
    ChecklistItem,
    ItemType,
    Labels,
    Section,
    ShowIf,
    show_value_problem,
)

YES_NO_LIST = "yes_no"
SURVEY_COLUMNS = (
    "type",
    "name",
    "label::zh",
    "label::en",
    "hint::zh",
    "hint::en",
    "required",
    "relevant",
    "parameters",
    "weight",
    "critical",
    "allow_na",
    "role",
    "standard",
    "observes",
    "unit",
    "min",
    "max",
    "pass_min",
    "pass_max",
    "target_s",
    "max_s",
    "max_length",
    "min_photos",
    "max_photos",
)
CHOICES_COLUMNS = ("list_name", "name", "label::zh", "label::en", "points")
SETTINGS_COLUMNS = (
    "form_title",
    "form_id",
    "default_language",
    "checklist_name::zh",
    "checklist_name::en",
    "description::zh",
    "description::en",
    "critical_rule",
    "critical_cap",
    "pass_score",
    "action_below",
    "action_due_days",
)
# Survey columns copied straight into an item (all numbers); the others have their own rules.
NUMBER_COLUMNS = (
    "min",
    "max",
    "pass_min",
    "pass_max",
    "target_s",
    "max_s",
    "max_length",
    "min_photos",
    "max_photos",
)
SETTINGS_NUMBERS = ("critical_cap", "pass_score", "action_below", "action_due_days")
METADATA_TYPES = frozenset({"start", "end", "today", "deviceid", "audit"})
TYPE_HELP = (
    "use select_one <list>, select_multiple <list>, range, integer, decimal, text, image, "
    "time, begin_group or end_group"
)
MAX_ROWS = 5000
MAX_SCANNED_ROWS = 20000
MAX_COLUMNS = 64
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ChecklistFormatError(ValueError):
    """An imported file that isn't a valid checklist. ``location`` says where: "survey row 7,
    column relevant", "settings row 2, column pass_score", "sections[0].items[2].choices"."""

    def __init__(
        self, message: str, location: str, *, more: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.message = message
        self.location = location
        self.problems: list[tuple[str, str]] = [(location, message), *more]
        extra = len(self.problems) - 1
        suffix = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        super().__init__(f"{location}: {message}{suffix}")


# ---------------------------------------------------------------- JSON


def definition_to_json(defn: ChecklistDefinition) -> bytes:
    """UTF-8 JSON; fields left at None are omitted (they mean "not set")."""
    return defn.model_dump_json(indent=2, exclude_none=True).encode()


def definition_from_json(data: bytes) -> ChecklistDefinition:
    try:
        return ChecklistDefinition.model_validate_json(data)
    except ValidationError as exc:
        problems = _problems(exc, lambda loc, _: _json_location(loc))
        raise ChecklistFormatError(problems[0][1], problems[0][0], more=problems[1:]) from None


def _json_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "JSON document"


Locate = Callable[[tuple[Any, ...], str], str]


def _problems(exc: ValidationError, locate: Locate) -> list[tuple[str, str]]:
    """One (location, message) per place; union members' echoes of one problem collapse."""
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        # Drop union-member tags such as "bool", "int", "function-after[...]" from the path.
        loc = tuple(
            p
            for p in error["loc"]
            if not (isinstance(p, str) and (p in _TAGS or "[" in p or p.startswith("constrained-")))
        )
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "syntax error")
            message = f"not valid JSON ({detail})"
        found.setdefault(locate(loc, message), message)
    return list(found.items()) or [("JSON document", "not a valid checklist definition")]


_TAGS = frozenset({"bool", "int", "float", "str", "none"})


# ---------------------------------------------------------------- XLSForm: writing


def definition_to_xlsform(defn: ChecklistDefinition) -> bytes:
    from openpyxl import Workbook  # deferred: only imports and exports need it

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    choices = book.create_sheet("choices")
    settings = book.create_sheet("settings")
    _put_row(survey, 1, SURVEY_COLUMNS)
    _put_row(choices, 1, CHOICES_COLUMNS)
    _put_row(settings, 1, SETTINGS_COLUMNS)

    survey_rows: list[dict[str, Any]] = []
    choice_rows: list[dict[str, Any]] = [
        {"list_name": YES_NO_LIST, "name": "yes", "label::zh": "是", "label::en": "Yes"},
        {"list_name": YES_NO_LIST, "name": "no", "label::zh": "否", "label::en": "No"},
    ]
    by_name: dict[str, ChecklistItem] = {}
    for section in defn.sections:
        survey_rows.append(
            {
                "type": "begin_group",
                "name": section.name,
                **_label_cells("label", section.label),
                "weight": _number_cell(section.weight),
            }
        )
        for item in section.items:
            row, own_choices = _item_row(item, by_name)
            survey_rows.append(row)
            choice_rows.extend(own_choices)
            by_name[item.name] = item
        survey_rows.append({"type": "end_group", "name": section.name})
    for number, row in enumerate(survey_rows, start=2):
        _put_row(survey, number, [row.get(column) for column in SURVEY_COLUMNS])
    for number, row in enumerate(choice_rows, start=2):
        _put_row(choices, number, [row.get(column) for column in CHOICES_COLUMNS])

    setting = {
        "form_title": defn.name.zh,
        "form_id": _form_id(defn.name.en),
        "default_language": "zh",
        **_label_cells("checklist_name", defn.name),
        **(_label_cells("description", defn.description) if defn.description else {}),
        "critical_rule": defn.critical_rule.value,
        **{key: _number_cell(getattr(defn, key)) for key in SETTINGS_NUMBERS},
    }
    _put_row(settings, 2, [setting.get(column) for column in SETTINGS_COLUMNS])
    for sheet in (survey, choices, settings):
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _item_row(
    item: ChecklistItem, earlier: Mapping[str, ChecklistItem]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row: dict[str, Any] = {
        "name": item.name,
        **_label_cells("label", item.label),
        **(_label_cells("hint", item.help) if item.help else {}),
        "required": "yes" if item.required else "no",
        "weight": _number_cell(item.weight),
        "critical": "yes" if item.critical else None,
        "allow_na": "yes" if item.allow_na else None,
        "role": item.role.value if item.role else None,
        "standard": item.standard,
        "observes": item.observes.value if item.observes else None,
    }
    if item.show_if is not None:
        row["relevant"] = _relevant(item.show_if, earlier[item.show_if.item])
    choices: list[dict[str, Any]] = []
    match item.type:
        case ItemType.yes_no:
            row["type"] = f"select_one {YES_NO_LIST}"
        case ItemType.scale:
            row["type"] = "range"
            row["parameters"] = f"start={item.scale_min} end={item.scale_max} step=1"
        case ItemType.single_choice | ItemType.multi_choice:
            # Each item gets its own list named after it; "yes_no" is taken by the yes/no list.
            list_name = item.name if item.name != YES_NO_LIST else f"{item.name}.choices"
            base = "select_one" if item.type is ItemType.single_choice else "select_multiple"
            row["type"] = f"{base} {list_name}"
            choices = [
                {
                    "list_name": list_name,
                    "name": c.name,
                    **_label_cells("label", c.label),
                    "points": _number_cell(c.points),
                }
                for c in item.choices or ()
            ]
        case ItemType.number:
            row["type"] = "decimal"
        case ItemType.duration:
            row["type"] = "integer"
            row["unit"] = "seconds"
        case ItemType.text:
            row["type"] = "text"
        case ItemType.photo:
            row["type"] = "image"
        case ItemType.time_of_day:
            row["type"] = "time"
    for column in NUMBER_COLUMNS:
        value = getattr(item, column)
        if value is not None:
            row[column] = _number_cell(value)
    return row, choices


def _relevant(show_if: ShowIf, target: ChecklistItem) -> str:
    ref = "${" + target.name + "}"
    value = show_if.value
    if target.type is ItemType.multi_choice:
        expr = f"selected({ref}, '{value}')"
        return f"not({expr})" if show_if.negated else expr
    operator = "!=" if show_if.negated else "="
    if isinstance(value, bool):
        literal = "'yes'" if value else "'no'"
    elif isinstance(value, str):
        literal = f"'{value}'"  # names and "HH:MM": never a quote inside
    else:
        literal = _number_literal(value)
    return f"{ref} {operator} {literal}"


def _number_literal(value: float) -> str:
    # XPath has no exponent notation: 1e-05 must be written 0.00001.
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(value)), "f")


def _number_cell(value: float) -> float | int | str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, float) and float(f"{value:.15g}") != value:
        # A spreadsheet keeps 15 significant digits; text keeps the exact value.
        return repr(value)
    return value


def _label_cells(prefix: str, labels: Labels) -> dict[str, str]:
    return {f"{prefix}::zh": labels.zh, f"{prefix}::en": labels.en}


def _form_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40]
    return f"auditlens_{slug}" if slug else "auditlens_checklist"


def _put_row(sheet: Any, number: int, values: Iterable[Any]) -> None:
    for column, value in enumerate(values, start=1):
        if value is None:
            continue
        cell = sheet.cell(row=number, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # "=..." is text here, never a formula


# ---------------------------------------------------------------- XLSForm: reading


class _Sheet:
    """A sheet read into memory: lower-cased headers and the non-empty rows with their number."""

    def __init__(self, name: str, rows: list[tuple[int, tuple[Any, ...]]]) -> None:
        self.name = name
        header = rows[0][1] if rows and rows[0][0] == 1 else ()  # XLSForm: names in row 1
        self.columns: dict[str, int] = {}
        for index, title in enumerate(header):
            if isinstance(title, str) and title.strip():
                self.columns.setdefault(title.strip().lower(), index)
        self.rows = [
            (number, row)
            for number, row in rows
            if number > 1 and any(_clean(v) is not None for v in row)
        ]

    def at(self, number: int, column: str | None = None) -> str:
        where = f"{self.name} row {number}"
        return f"{where}, column {column}" if column else where

    def find(self, *names: str, lang: str | None = None) -> str | None:
        """The first of ``names`` that is a column; with ``lang``, also ``name::Anything (lang)``
        as KoboToolbox writes it."""
        for name in names:
            if name in self.columns:
                return name
            if lang:
                prefix = name.split("::")[0] + "::"
                for column in self.columns:
                    if column.startswith(prefix) and column.endswith(f"({lang})"):
                        return column
        return None

    def need(self, column: str) -> None:
        if column not in self.columns:
            _fail(
                f"the {self.name} sheet has no '{column}' column; add it to the first row",
                f"{self.name} sheet",
            )

    def get(self, row: tuple[Any, ...], column: str | None) -> Any:
        if column is None:
            return None
        index = self.columns.get(column)
        return None if index is None or index >= len(row) else _clean(row[index])


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _fail(message: str, location: str) -> NoReturn:
    raise ChecklistFormatError(message, location)


def _read_workbook(data: bytes) -> dict[str, list[tuple[int, tuple[Any, ...]]]]:
    """Every sheet's rows (at most MAX_COLUMNS wide). Any failure of the xlsx reader on a
    client's bytes is a format error, never a crash."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheets: dict[str, list[tuple[int, tuple[Any, ...]]]] = {}
                for sheet in book.worksheets:
                    rows: list[tuple[int, tuple[Any, ...]]] = []
                    for number, row in enumerate(
                        sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
                    ):
                        if number > MAX_SCANNED_ROWS or len(rows) > MAX_ROWS:
                            _fail(
                                f"more than {MAX_ROWS} rows; a checklist is far smaller",
                                f"{sheet.title} sheet",
                            )
                        if any(v is not None for v in row):
                            rows.append((number, tuple(row)))
                    sheets[sheet.title.strip().lower()] = rows
                return sheets
            finally:
                book.close()
    except ChecklistFormatError:
        raise
    except Exception:
        _fail("not an .xlsx workbook; save the XLSForm as Excel (.xlsx) and try again", "file")


def definition_from_xlsform(data: bytes) -> ChecklistDefinition:
    sheets = _read_workbook(data)
    for required in ("survey", "settings"):
        if required not in sheets:
            _fail(
                f"the workbook has no '{required}' sheet; XLSForm needs survey and settings "
                "sheets (and choices for select questions)",
                "file",
            )
    reader = _FormReader(
        _Sheet("survey", sheets["survey"]),
        _Sheet("choices", sheets.get("choices", [])),
        _Sheet("settings", sheets["settings"]),
    )
    return reader.read()


class _FormReader:
    """Builds the definition row by row, validating each item as soon as it is read so that
    every problem points at its own sheet, row and column."""

    def __init__(self, survey: _Sheet, choices: _Sheet, settings: _Sheet) -> None:
        self.survey = survey
        self.choices = choices
        self.settings = settings
        self.lists: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.items: dict[str, ChecklistItem] = {}
        self.groups: dict[str, int] = {}

    def read(self) -> ChecklistDefinition:
        self.survey.need("type")
        self.survey.need("name")
        self._read_choices()
        number, raw = self._read_settings()
        raw["sections"] = self._read_survey()
        for name, row in self.groups.items():
            if name in self.items:
                _fail(
                    f"group name '{name}' is also a question name; names must be unique",
                    self.survey.at(row, "name"),
                )

        def locate(loc: tuple[Any, ...], message: str) -> str:
            if not loc or loc[0] == "sections":  # rules over the whole checklist
                return "survey sheet"
            return self.settings.at(number, _column(self.settings, _fields(loc)))

        return self._validate(ChecklistDefinition, raw, locate)  # type: ignore[return-value]

    def _validate(self, model: type[Any], raw: dict[str, Any], locate: Locate) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            problems = _problems(exc, locate)
            raise ChecklistFormatError(problems[0][1], problems[0][0], more=problems[1:]) from None

    # -- sheets

    def _read_settings(self) -> tuple[int, dict[str, Any]]:
        sheet = self.settings
        if not sheet.rows:
            _fail(
                "the settings sheet needs a row under its header (form_title, ...)",
                "settings sheet",
            )
        number, row = sheet.rows[0]
        raw: dict[str, Any] = {}
        title = sheet.get(row, "form_title")
        raw["name"] = self._labels(
            sheet, number, row, "checklist_name", fallback=title, what="the checklist name"
        )
        description = self._labels(sheet, number, row, "description", optional=True)
        if description is not None:
            raw["description"] = description
        rule = sheet.get(row, "critical_rule")
        if rule is not None:
            raw["critical_rule"] = str(rule).lower()
        for key in SETTINGS_NUMBERS:
            value = self._number(sheet, number, row, key)
            if value is not None:
                raw[key] = value
        return number, raw

    def _read_choices(self) -> None:
        sheet = self.choices
        if not sheet.columns:
            return
        sheet.need("list_name")
        sheet.need("name")
        for number, row in sheet.rows:
            list_name = _name_text(sheet.get(row, "list_name"))
            name = _name_text(sheet.get(row, "name"))
            if list_name is None or name is None:
                column = "list_name" if list_name is None else "name"
                _fail(f"{column} is empty; fill it in or clear the row", sheet.at(number, column))
            choice: dict[str, Any] = {
                "name": name,
                "label": self._labels(sheet, number, row, "label", what=f"choice '{name}'"),
            }
            points = self._number(sheet, number, row, "points")
            if points is not None:
                choice["points"] = points
            entries = self.lists.setdefault(list_name, [])
            if any(other["name"] == name for _, other in entries):
                _fail(
                    f"choice name '{name}' is used twice in list '{list_name}'; give each "
                    "choice its own name",
                    sheet.at(number, "name"),
                )
            entries.append((number, choice))

    def _read_survey(self) -> list[Section]:
        sheet = self.survey
        sections: list[Section] = []
        current: dict[str, Any] | None = None
        opened_at = 0
        for number, row in sheet.rows:
            kind = sheet.get(row, "type")
            if kind is None:
                _fail("type is empty; fill it in or clear the row", sheet.at(number, "type"))
            kind = " ".join(str(kind).split()).lower()
            name = _name_text(sheet.get(row, "name"))
            if kind in ("begin_group", "begin group"):
                if current is not None:
                    _fail(
                        f"groups can't be nested: close '{current['name']}' (row {opened_at}) "
                        "with an end_group row first",
                        sheet.at(number, "type"),
                    )
                if sheet.get(row, "relevant") is not None:
                    _fail(
                        "a group (section) can't have a relevant condition; put it on its items",
                        sheet.at(number, "relevant"),
                    )
                name = self._need_name(number, name)
                if name in self.groups:
                    _fail(
                        f"group name '{name}' is used twice (row {self.groups[name]}); "
                        "give each section its own name",
                        sheet.at(number, "name"),
                    )
                self.groups[name] = opened_at = number
                current = {
                    "name": name,
                    "label": self._labels(sheet, number, row, "label", what=f"group '{name}'"),
                    "items": [],
                }
                weight = self._number(sheet, number, row, "weight")
                if weight is not None:
                    current["weight"] = weight
            elif kind in ("end_group", "end group"):
                if current is None:
                    _fail("end_group without a begin_group above it", sheet.at(number, "type"))
                if not current["items"]:
                    _fail(
                        f"group '{current['name']}' has no questions; add some or remove it",
                        sheet.at(opened_at),
                    )
                sections.append(self._validate(Section, current, self._locator(opened_at)))
                current = None
            elif kind in METADATA_TYPES:
                continue
            else:
                if current is None:
                    _fail(
                        f"question '{name}' is outside a group; every question belongs to a "
                        "section: add a begin_group row above it",
                        sheet.at(number, "type"),
                    )
                name = self._need_name(number, name)
                if name in self.items:
                    _fail(
                        f"item name '{name}' is used twice; give each question its own name",
                        sheet.at(number, "name"),
                    )
                item = self._item(number, row, kind, name)
                current["items"].append(item)
                self.items[name] = item
        if current is not None:
            _fail(
                f"group '{current['name']}' has no end_group row; add one after its last question",
                sheet.at(opened_at, "type"),
            )
        return sections

    def _locator(self, number: int, choice_rows: list[int] | None = None) -> Locate:
        def locate(loc: tuple[Any, ...], message: str) -> str:
            if choice_rows and len(loc) >= 2 and loc[0] == "choices" and isinstance(loc[1], int):
                return self.choices.at(choice_rows[loc[1]], _column(self.choices, _fields(loc)))
            fields = _fields(loc)
            if not fields and (guess := _MENTIONED.search(message)):
                # A rule across fields (scale_min < scale_max): the first field it names.
                fields = [guess[1]]
            return self.survey.at(number, _column(self.survey, fields))

        return locate

    # -- one item

    def _item(self, number: int, row: tuple[Any, ...], kind: str, name: str) -> ChecklistItem:
        sheet = self.survey
        raw: dict[str, Any] = {
            "name": name,
            "label": self._labels(sheet, number, row, "label", what=f"question '{name}'"),
            "required": self._flag(number, row, "required"),
            "critical": self._flag(number, row, "critical"),
            "allow_na": self._flag(number, row, "allow_na"),
        }
        help_labels = self._labels(sheet, number, row, "hint", optional=True)
        if help_labels is not None:
            raw["help"] = help_labels
        for key in ("role", "standard", "observes"):
            value = sheet.get(row, key)
            if value is not None:
                raw[key] = _name_text(value)
        weight = self._number(sheet, number, row, "weight")
        if weight is not None:
            raw["weight"] = weight
        for column in NUMBER_COLUMNS:
            value = self._number(sheet, number, row, column)
            if value is not None:
                raw[column] = value
        choice_rows = self._type(number, row, kind, raw)
        relevant = sheet.get(row, "relevant")
        if relevant is not None:
            raw["show_if"] = self._show_if(number, str(relevant), name)
        return self._validate(ChecklistItem, raw, self._locator(number, choice_rows))

    def _type(self, number: int, row: tuple[Any, ...], kind: str, raw: dict[str, Any]) -> list[int]:
        """Sets the item's type (and choices, scale range); returns the choice rows used."""
        sheet = self.survey
        where = sheet.at(number, "type")
        base, _, rest = kind.partition(" ")
        if base in ("select_one", "select_multiple"):
            if not rest or " " in rest:
                _fail(f"write '{base} <list_name>' (one list, nothing after it)", where)
            if rest not in self.lists:
                _fail(f"choice list '{rest}' is not on the choices sheet; add its rows", where)
            entries = self.lists[rest]
            names = {choice["name"] for _, choice in entries}
            if base == "select_one" and rest == YES_NO_LIST and names == {"yes", "no"}:
                raw["type"] = ItemType.yes_no.value
                return []
            raw["type"] = "single_choice" if base == "select_one" else "multi_choice"
            raw["choices"] = [dict(choice) for _, choice in entries]
            return [choice_row for choice_row, _ in entries]
        if base == "range" and not rest:
            raw["type"] = ItemType.scale.value
            raw.update(self._range(number, row))
            return []
        unit = sheet.get(row, "unit")
        if base == "integer" and unit is not None and str(unit).lower() in ("seconds", "s"):
            raw["type"] = ItemType.duration.value
            return []
        simple = {
            "decimal": ItemType.number,
            "integer": ItemType.number,
            "text": ItemType.text,
            "image": ItemType.photo,
            "time": ItemType.time_of_day,
        }
        if rest or base not in simple:
            _fail(f"unknown type '{kind}'; {TYPE_HELP}", where)
        raw["type"] = simple[base].value
        return []

    def _range(self, number: int, row: tuple[Any, ...]) -> dict[str, Any]:
        where = self.survey.at(number, "parameters")
        text = self.survey.get(row, "parameters")
        params: dict[str, Any] = {}
        for part in re.split(r"[\s,;]+", str(text or "").strip()):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.lower()
            parsed = _parse_number(value.strip())
            if not sep or key not in ("start", "end", "step"):
                _fail(f"'{part}' is not a range parameter; write start=1 end=5 step=1", where)
            if not isinstance(parsed, int):
                _fail(f"'{part}': the value must be a whole number", where)
            params[key] = parsed
        if params.get("step", 1) != 1:
            _fail("a scale moves in whole steps; use step=1", where)
        names = {"start": "scale_min", "end": "scale_max"}
        return {names[key]: value for key, value in params.items() if key in names}

    def _show_if(self, number: int, text: str, name: str) -> dict[str, Any]:
        where = self.survey.at(number, "relevant")
        parsed = _parse_relevant(text)
        if parsed is None:
            _fail(
                f"'{_clip(text)}' is not a simple condition; write ${{item}} = 'value', "
                "${item} != 'value', selected(${item}, 'value') or not(selected(${item}, 'value'))",
                where,
            )
        target_name, negated, literal = parsed
        target = self.items.get(target_name)
        if target is None:
            _fail(
                f"the condition refers to ${{{target_name}}}, which is not a question above this "
                "row; a condition can only depend on an earlier question",
                where,
            )
        if target.type not in SHOW_IF_TYPES:
            _fail(
                f"'{name}' can't depend on '{target_name}', a {target.type.value} item; use a "
                "yes/no or choice question as the condition",
                where,
            )
        value = _literal_for(target, literal)
        problem = show_value_problem(target, value)
        if problem:
            _fail(f"the value for '{target_name}' {problem}", where)
        return {"item": target_name, ("not_equals" if negated else "equals"): value}

    # -- cells

    def _need_name(self, number: int, name: str | None) -> str:
        if name is None:
            _fail(
                "name is empty; every question and group needs a name",
                self.survey.at(number, "name"),
            )
        return name

    def _labels(
        self,
        sheet: _Sheet,
        number: int,
        row: tuple[Any, ...],
        prefix: str,
        *,
        optional: bool = False,
        fallback: Any = None,
        what: str = "",
    ) -> dict[str, str] | None:
        plain = sheet.get(row, sheet.find(prefix))
        texts: dict[str, str | None] = {}
        for lang in ("zh", "en"):
            value = sheet.get(row, sheet.find(f"{prefix}::{lang}", lang=lang))
            if value is None:
                value = plain if plain is not None else fallback
            texts[lang] = None if value is None else str(value)
        if optional and texts["zh"] is None and texts["en"] is None:
            return None
        for lang, language in (("zh", "Chinese"), ("en", "English")):
            if texts[lang] is None:
                _fail(
                    f"{what or prefix} has no {language} text; fill {prefix}::{lang}",
                    sheet.at(number, f"{prefix}::{lang}"),
                )
        return texts  # type: ignore[return-value]

    def _flag(self, number: int, row: tuple[Any, ...], column: str) -> bool:
        value = self.survey.get(row, column)
        if value is None:
            return False
        text = str(value).strip().lower()
        if text in ("yes", "true", "true()", "y", "1"):
            return True
        if text in ("no", "false", "false()", "n", "0"):
            return False
        _fail(f"'{_clip(str(value))}' is not yes or no", self.survey.at(number, column))

    def _number(
        self, sheet: _Sheet, number: int, row: tuple[Any, ...], column: str
    ) -> int | float | None:
        value = sheet.get(row, column)
        if value is None:
            return None
        parsed = value if _is_number(value) else _parse_cell_number(str(value))
        if parsed is None or (isinstance(parsed, float) and not math.isfinite(parsed)):
            _fail(f"expected a number; got '{_clip(str(value))}'", sheet.at(number, column))
        return parsed


_MENTIONED = re.compile(
    r"\b(observes|scale_min|scale_max|min_photos|max_photos|pass_min|pass_max|target_s|max_s|"
    r"max_length|min|max|choices|critical|weight)\b"
)


def _fields(loc: tuple[Any, ...]) -> list[str]:
    return [p for p in loc if isinstance(p, str)]


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _column(sheet: _Sheet, rest: list[str]) -> str | None:
    """The column a model field came from ("label", "zh" -> "label::zh")."""
    if sheet.name == "choices" and rest[:1] == ["choices"]:
        rest = rest[1:]
    if not rest:
        return None
    head = rest[0]
    if sheet.name == "settings" and head == "name":
        head = "checklist_name"
    if head in ("label", "help", "checklist_name", "description") and len(rest) > 1:
        prefix = "hint" if head == "help" else head
        return f"{prefix}::{rest[1]}"
    renamed = {
        "show_if": "relevant",
        "scale_min": "parameters",
        "scale_max": "parameters",
        "choices": "type",  # the select's list
        "help": "hint",
    }
    return renamed.get(head, head)


def _name_text(value: Any) -> str | None:
    """A name cell as text (a spreadsheet may have turned "1" into the number 1)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_CELL_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?", re.ASCII)


def _parse_number(text: str) -> int | float | None:
    """An XPath number literal (no exponent) as int or float."""
    # XPath has no exponent, so a tiny double written exactly takes up to ~1100 digits.
    whole = text.lstrip("-").split(".", 1)[0]
    if len(text) > 1200 or len(whole) > 20 or not _NUMBER.fullmatch(text):
        return None
    return float(text) if "." in text else int(text)


def _parse_cell_number(text: str) -> int | float | None:
    """A number typed (or stored) as text in a cell: "2", "0.5", "1e-05"."""
    text = text.strip()
    if not _CELL_NUMBER.fullmatch(text) or len(text) > 40:
        return None
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    return float(text)


_REF = r"\$\{\s*([a-z][a-z0-9_]*)\s*\}"
_COMPARE = re.compile(rf"{_REF}\s*(=|!=)\s*(.+)", re.DOTALL)
_SELECTED = re.compile(rf"selected\(\s*{_REF}\s*,\s*(.+?)\s*\)", re.DOTALL)
_NOT_SELECTED = re.compile(rf"not\(\s*selected\(\s*{_REF}\s*,\s*(.+?)\s*\)\s*\)", re.DOTALL)
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_BOOLEAN = {"true": True, "true()": True, "false": False, "false()": False}


def _parse_relevant(text: str) -> tuple[str, bool, Any] | None:
    """(item, negated, literal) for the simple forms we support, else None."""
    text = text.strip()
    if match := _NOT_SELECTED.fullmatch(text):
        name, negated, literal = match[1], True, match[2]
    elif match := _SELECTED.fullmatch(text):
        name, negated, literal = match[1], False, match[2]
    elif match := _COMPARE.fullmatch(text):
        name, negated, literal = match[1], match[2] == "!=", match[3]
    else:
        return None
    literal = literal.strip()
    if quoted := _QUOTED.fullmatch(literal):
        value: Any = quoted[1] if quoted[1] is not None else quoted[2]
    elif literal.lower() in _BOOLEAN:
        value = _BOOLEAN[literal.lower()]
    elif (number := _parse_number(literal)) is not None:
        value = number
    else:
        return None
    return name, negated, value


def _literal_for(target: ChecklistItem, literal: Any) -> Any:
    """A condition literal in the type its item's answers have ('yes' -> true, '3' -> 3)."""
    kind = target.type
    if kind is ItemType.yes_no:
        if isinstance(literal, str) and literal.lower() in ("yes", "no", "true", "false"):
            return literal.lower() in ("yes", "true")
        return literal
    if kind in (ItemType.scale, ItemType.duration, ItemType.number):
        if isinstance(literal, str) and (number := _parse_number(literal)) is not None:
            return number
        return literal
    if kind in CHOICE_TYPES and _is_number(literal):
        return _name_text(literal)
    return literal
