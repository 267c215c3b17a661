"""Printable audit reports: one page per audit, as self-contained HTML or as PDF.

Three steps, so the rules live in one place and each format only draws:

1. the photos are resolved per format (``_view_urls``: short-lived view URLs for HTML;
   ``_embedded``: the bytes for PDF). Both write one evidence access-log row per photo, and
   both show a placeholder instead when the caller lacks ``evidence:view``;
2. :func:`build_view` (pure) turns the :class:`AuditRead`, the checklist definition and those
   photos into a :class:`ReportView` of display strings;
3. :func:`render_html` / :func:`render_pdf` draw the view. All user text is escaped there.

Times are shown in the outlet's time zone.
"""

from __future__ import annotations

import html
import io
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audit_service.audits import service
from audit_service.audits.schemas import AuditRead, ItemResult
from audit_service.authz import Permission, Principal
from audit_service.checklists.definition import ChecklistDefinition, ChecklistItem
from audit_service.checklists.service import definition_of
from audit_service.core.errors import Conflict, NotFound
from audit_service.evidence import service as evidence
from audit_service.evidence.store import EvidenceStore

log = logging.getLogger(__name__)

HTML_PURPOSE = "audit report"
PDF_PURPOSE = "audit report pdf"
WITHHELD = "照片未显示 / photo withheld (no evidence:view permission)"
UNAVAILABLE = "照片不可用 / photo unavailable"
PDF_FONT = "STSong-Light"
PDF_PHOTO_MAX_PX = 1600  # embedded photos are downscaled to this (longest side)
PHOTO_BOX = (80 * 72 / 25.4, 60 * 72 / 25.4)  # 80 x 60 mm in points: a photo's space in the PDF

STATUS_LABELS = {
    "submitted": "已提交 / Submitted",
    "in_review": "审核中 / In review",
    "approved": "已通过 / Approved",
    "returned": "已退回 / Returned",
    "rejected": "已驳回 / Rejected",
}
EVENT_LABELS = {
    "submitted": "提交 / Submitted",
    "resubmitted": "重新提交 / Resubmitted",
    "status": "审核 / Review",
    "answer_edit": "修改答案 / Answer edited",
}
ATTRIBUTION_LABELS = {
    "badge": "工牌 / badge",
    "roster": "排班 / roster",
    "outlet_manager": "网点负责人 / outlet manager",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------- the view model


@dataclass(frozen=True)
class Photo:
    """One photo as a format shows it: a URL (HTML), image bytes (PDF), or a note why not."""

    evidence_id: str
    url: str | None = None
    data: bytes | None = None
    size: tuple[int, int] | None = None  # pixels of ``data``
    note: str = ""


@dataclass(frozen=True)
class ItemView:
    number: str
    label_zh: str
    label_en: str
    answer: str
    points: str
    failed: bool
    critical: bool
    muted: bool  # hidden by a condition, or not applicable
    standard: str | None
    comment: str | None
    badge: str | None
    staff: str | None
    photos: tuple[Photo, ...]


@dataclass(frozen=True)
class SectionView:
    number: str
    label_zh: str
    label_en: str
    weight: str
    points: str
    percent: float | None
    items: tuple[ItemView, ...]

    @property
    def percent_text(self) -> str:
        return "—" if self.percent is None else f"{_num(self.percent, 1)}%"


@dataclass(frozen=True)
class HistoryView:
    at: str
    by: str
    what: str
    comment: str


@dataclass(frozen=True)
class ReportView:
    audit_id: int
    outlet: str  # "O1 Outlet O1"
    outlet_code: str
    template_code: str
    template_zh: str
    template_en: str
    version_id: int
    auditor: str
    status: str
    visit: str  # local start - end
    submitted: str
    reviewed: str | None
    timezone: str
    location: str | None
    score: str
    pass_mark: str
    passed: bool | None
    result: str
    notes: tuple[str, ...]  # critical failed, capped
    sections: tuple[SectionView, ...]
    history: tuple[HistoryView, ...]
    corrective_actions: str | None
    generated: str
    generated_by: str
    photo_count: int = field(default=0)


def _num(value: float, places: int = 2) -> str:
    text = f"{round(float(value), places):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _local(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    a, b = start.astimezone(tz), end.astimezone(tz)
    tail = b.strftime("%H:%M") if a.date() == b.date() else _local(b, tz)
    return f"{_local(a, tz)} – {tail}"


def _duration(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return str(seconds)
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _choice(spec: ChecklistItem | None, name: Any) -> str:
    choice = spec.choice(str(name)) if spec is not None else None
    return f"{choice.label.zh} / {choice.label.en}" if choice else str(name)


def answer_text(item: ItemResult, spec: ChecklistItem | None) -> str:
    """An answer as a person reads it, per item type."""
    answer = item.answer
    if item.hidden:
        return "— 未显示（条件不满足）/ not shown (condition not met)"
    if answer is None:
        return "— 未作答 / not answered"
    if item.na or answer.get("na"):
        return "不适用 / N/A"
    value = answer.get("value")
    if value is None:
        return "见照片 / see photos" if answer.get("photos") else "—"
    match item.type:
        case "yes_no":
            return "是 / Yes" if value is True else "否 / No" if value is False else str(value)
        case "scale":
            if spec is not None and spec.scale_min is not None:
                return f"{value}（{spec.scale_min}–{spec.scale_max}）"
            return str(value)
        case "single_choice":
            return _choice(spec, value)
        case "multi_choice":
            chosen = value if isinstance(value, list) else [value]
            return "；".join(_choice(spec, v) for v in chosen) or "（无 / none）"
        case "number":
            return _num(value) if isinstance(value, int | float) else str(value)
        case "duration":
            return _duration(value)
    return str(value)


def _staff(item: ItemResult) -> str | None:
    if item.staff is None:
        return None
    how = ATTRIBUTION_LABELS.get(str(item.attribution), "")
    who = f"{item.staff.name} ({item.staff.employee_no})"
    return f"{who} · {how}" if how else who


def photo_ids(audit: AuditRead) -> list[str]:
    """Every photo the answers refer to, once each, in checklist order."""
    seen: dict[str, None] = {}
    for item in audit.items:
        if item.hidden or not item.answer:
            continue
        for photo in item.answer.get("photos") or ():
            seen.setdefault(str(photo), None)
    return list(seen)


def build_view(
    audit: AuditRead,
    defn: ChecklistDefinition,
    *,
    timezone: str,
    photos: Mapping[str, Photo],
    generated_at: datetime,
    generated_by: str,
) -> ReportView:
    """The report's content as display strings (pure: no database, no store)."""
    tz = ZoneInfo(timezone)
    specs = {item.name: item for _, item in defn.items()}
    results = {s.name: s for s in audit.sections}
    by_section: dict[str, list[ItemResult]] = {}
    for item in audit.items:
        by_section.setdefault(item.section, []).append(item)
    names = [s.name for s in defn.sections]
    names += [n for n in by_section if n not in names]  # never drop an answered item
    labels = {s.name: s.label for s in defn.sections}
    sections = []
    shown_photos = 0
    for s_no, name in enumerate(names, 1):
        items = []
        for i_no, item in enumerate(by_section.get(name, ()), 1):
            answer = item.answer or {}
            pics = (
                ()
                if item.hidden
                else tuple(
                    photos.get(str(p), Photo(str(p), note=UNAVAILABLE))
                    for p in answer.get("photos") or ()
                )
            )
            shown_photos += len(pics)
            items.append(
                ItemView(
                    number=f"{s_no}.{i_no}",
                    label_zh=item.label.get("zh", item.item),
                    label_en=item.label.get("en", item.item),
                    answer=answer_text(item, specs.get(item.item)),
                    points=f"{_num(item.points)} / {_num(item.possible)}"
                    if item.possible > 0
                    else "—",
                    failed=item.failed,
                    critical=item.critical,
                    muted=item.hidden or item.na,
                    standard=item.standard,
                    comment=answer.get("comment") or None,
                    badge=answer.get("badge") or None,
                    staff=_staff(item),
                    photos=pics,
                )
            )
        result = results.get(name)
        label = labels.get(name)
        sections.append(
            SectionView(
                number=str(s_no),
                label_zh=label.zh if label else (result.label.get("zh", name) if result else name),
                label_en=label.en if label else (result.label.get("en", name) if result else name),
                weight=_num(result.weight) if result else "—",
                points=f"{_num(result.points)} / {_num(result.possible)}"
                if result and result.possible > 0
                else "—",
                percent=result.percent if result else None,
                items=tuple(items),
            )
        )
    if audit.passed is None:
        result_text = "未评分 / Not scored"
    else:
        result_text = "合格 / PASS" if audit.passed else "不合格 / FAIL"
    notes = []
    if audit.critical_failed:
        notes.append("关键项不合格 / Critical item failed")
    if audit.capped:
        notes.append(
            f"得分封顶 {_num(defn.critical_cap)} / Score capped at {_num(defn.critical_cap)}"
        )
    location = None
    if audit.location is not None:
        loc = audit.location
        location = f"{loc.lat:.5f}, {loc.lon:.5f}" + (
            f" (±{_num(loc.accuracy_m, 0)} m)" if loc.accuracy_m is not None else ""
        )
    history = tuple(
        HistoryView(
            at=_local(e.at, tz),
            by=e.by or "—",
            what=EVENT_LABELS.get(str(e.kind), str(e.kind))
            + (f" {e.from_status} → {e.to_status}" if e.from_status and e.to_status else "")
            + (f" · {e.item}" if e.item else ""),
            comment=e.comment,
        )
        for e in audit.history
    )
    return ReportView(
        audit_id=audit.id,
        outlet=f"{audit.outlet.code} {audit.outlet.name}",
        outlet_code=audit.outlet.code,
        template_code=audit.template_code,
        template_zh=audit.template_name.get("zh", audit.template_code),
        template_en=audit.template_name.get("en", audit.template_code),
        version_id=audit.version_id,
        auditor=audit.auditor,
        status=STATUS_LABELS.get(str(audit.status), str(audit.status)),
        visit=_span(audit.started_at, audit.ended_at, tz),
        submitted=_local(audit.submitted_at, tz),
        reviewed=_local(audit.reviewed_at, tz) if audit.reviewed_at else None,
        timezone=timezone,
        location=location,
        score="—" if audit.score is None else _num(audit.score, 1),
        pass_mark=_num(defn.pass_score),
        passed=audit.passed,
        result=result_text,
        notes=tuple(notes),
        sections=tuple(sections),
        history=history,
        corrective_actions=", ".join(f"#{i}" for i in audit.corrective_action_ids) or None,
        generated=_local(generated_at, tz),
        generated_by=generated_by,
        photo_count=shown_photos,
    )


# ---------------------------------------------------------------- gathering


def _gather(
    session: Session, principal: Principal, audit_id: int
) -> tuple[AuditRead, ChecklistDefinition, str]:
    audit = service.get_audit(session, principal, audit_id)  # scope-checked: else NotFound
    return service.audit_read(session, audit), definition_of(audit.version), audit.outlet.timezone


def _evidence_uuid(evidence_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(evidence_id)
    except ValueError:
        return None


def _view_urls(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    ids: Iterable[str],
    *,
    client_ip: str,
    ttl_s: int,
    now: datetime,
) -> dict[str, Photo]:
    """A logged, short-lived view URL per photo (nothing is minted without evidence:view)."""
    if not principal.can(Permission.evidence_view):
        return {i: Photo(i, note=WITHHELD) for i in ids}
    out = {}
    for i in ids:
        key = _evidence_uuid(i)
        try:
            if key is None:
                raise NotFound("evidence", i)
            view = evidence.mint_view_url(
                session,
                store,
                principal,
                key,
                purpose=HTML_PURPOSE,
                client_ip=client_ip,
                ttl_s=ttl_s,
                now=now,
            )
        except (NotFound, Conflict):
            out[i] = Photo(i, note=UNAVAILABLE)
        else:
            out[i] = Photo(i, url=view.url)
    return out


def _for_pdf(data: bytes) -> tuple[bytes, tuple[int, int]] | None:
    """The photo as a JPEG no larger than PDF_PHOTO_MAX_PX (None if it can't be decoded)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            picture = ImageOps.exif_transpose(img).convert("RGB")
            picture.thumbnail((PDF_PHOTO_MAX_PX, PDF_PHOTO_MAX_PX))
            buf = io.BytesIO()
            picture.save(buf, "JPEG", quality=85)
            return buf.getvalue(), picture.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _embedded(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    ids: Iterable[str],
    *,
    client_ip: str,
    now: datetime,
) -> dict[str, Photo]:
    """Each photo's bytes for the PDF; each one embedded is written to the access log."""
    if not principal.can(Permission.evidence_view):
        return {i: Photo(i, note=WITHHELD) for i in ids}
    out = {}
    for i in ids:
        key = _evidence_uuid(i)
        try:
            if key is None:
                raise NotFound("evidence", i)
            item, raw = evidence.read_for_embedding(session, store, principal, key)
        except (NotFound, Conflict):
            out[i] = Photo(i, note=UNAVAILABLE)
            continue
        prepared = _for_pdf(raw)
        if prepared is None:
            out[i] = Photo(i, note=UNAVAILABLE)
            continue
        evidence.log_embedded(
            session, principal, item, purpose=PDF_PURPOSE, client_ip=client_ip, now=now
        )
        out[i] = Photo(i, data=prepared[0], size=prepared[1])
    return out


def html_report(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    audit_id: int,
    *,
    client_ip: str,
    ttl_s: int,
    now: datetime,
) -> str:
    audit, defn, timezone = _gather(session, principal, audit_id)
    photos = _view_urls(
        session, store, principal, photo_ids(audit), client_ip=client_ip, ttl_s=ttl_s, now=now
    )
    view = build_view(
        audit,
        defn,
        timezone=timezone,
        photos=photos,
        generated_at=now,
        generated_by=principal.username,
    )
    return render_html(view)


def pdf_report(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    audit_id: int,
    *,
    client_ip: str,
    now: datetime,
) -> bytes:
    audit, defn, timezone = _gather(session, principal, audit_id)
    photos = _embedded(session, store, principal, photo_ids(audit), client_ip=client_ip, now=now)
    view = build_view(
        audit,
        defn,
        timezone=timezone,
        photos=photos,
        generated_at=now,
        generated_by=principal.username,
    )
    return render_pdf(view)


# ---------------------------------------------------------------- HTML

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC",
       "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; font-size: 10.5pt; line-height: 1.45;
       max-width: 210mm; margin: 0 auto; padding: 8mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h1 small { display: block; font-size: 11pt; font-weight: normal; color: #555; }
h2 { font-size: 13pt; border-bottom: 2px solid #333; padding-bottom: 1mm; margin: 7mm 0 3mm; }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; background: #f0f0f0; padding: 1.5mm 2mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
.head { display: flex; gap: 6mm; align-items: stretch; }
.head table { flex: 1; }
.head th { width: 30%; }
.score { width: 48mm; border: 2px solid #333; text-align: center; padding: 3mm; }
.score .big { font-size: 30pt; font-weight: 700; line-height: 1.1; }
.score .result { font-size: 13pt; font-weight: 700; margin-top: 1mm; }
.pass { color: #17692c; } .fail { color: #b00020; } .none { color: #555; }
.note { color: #b00020; font-weight: 600; font-size: 9.5pt; }
.num { text-align: right; white-space: nowrap; }
.bar { width: 40mm; height: 3.5mm; background: #e4e4e4; border: 1px solid #999; }
.bar span { display: block; height: 100%; background: #4a7bb7; }
.item { border: 1px solid #ccc; border-left: 4px solid #888; padding: 2mm 3mm; margin: 0 0 2.5mm;
        break-inside: avoid; page-break-inside: avoid; }
.item.failed { border-left-color: #b00020; }
.item.muted { color: #777; border-left-color: #ccc; }
.item .top { display: flex; justify-content: space-between; gap: 4mm; }
.item .label { font-weight: 600; }
.item .en { color: #555; font-weight: normal; }
.item .pts { white-space: nowrap; font-weight: 600; }
.tag { display: inline-block; font-size: 8.5pt; padding: 0 1.5mm; border-radius: 1mm;
       border: 1px solid; margin-left: 1mm; white-space: nowrap; }
.tag.failed { color: #b00020; } .tag.critical { color: #8a4b00; }
.item dl { margin: 1mm 0 0; display: grid; grid-template-columns: max-content 1fr;
           column-gap: 3mm; }
.item dt { color: #555; } .item dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.photos { display: flex; flex-wrap: wrap; gap: 2mm; margin-top: 2mm; }
.photos img { max-width: 60mm; max-height: 45mm; border: 1px solid #999; }
.photo-missing { font-size: 9pt; color: #555; border: 1px dashed #999; padding: 2mm; }
footer { margin-top: 8mm; font-size: 8.5pt; color: #666; border-top: 1px solid #ccc;
         padding-top: 2mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  tr, .score { break-inside: avoid; page-break-inside: avoid; }
  th, .bar, .bar span, h3 { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _photo_html(photo: Photo) -> str:
    if photo.url:
        return f'<img src="{_e(photo.url)}" alt="{_e("evidence " + photo.evidence_id)}">'
    return f'<div class="photo-missing">{_e(photo.note)}</div>'


def _item_html(item: ItemView) -> str:
    classes = "item" + (" failed" if item.failed else "") + (" muted" if item.muted else "")
    tags = ""
    if item.critical:
        tags += '<span class="tag critical">关键项 / critical</span>'
    if item.failed:
        tags += '<span class="tag failed">不合格 / failed</span>'
    rows = [("回答 / Answer", item.answer)]
    if item.standard:
        rows.append(("标准 / Standard", item.standard))
    if item.comment:
        rows.append(("备注 / Comment", item.comment))
    if item.badge:
        rows.append(("工牌 / Badge", item.badge))
    if item.staff:
        rows.append(("员工 / Staff", item.staff))
    details = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    photos = (
        f'<div class="photos">{"".join(_photo_html(p) for p in item.photos)}</div>'
        if item.photos
        else ""
    )
    return (
        f'<div class="{classes}"><div class="top"><div class="label">{_e(item.number)} '
        f'{_e(item.label_zh)} <span class="en">/ {_e(item.label_en)}</span>{tags}</div>'
        f'<div class="pts">{_e(item.points)}</div></div><dl>{details}</dl>{photos}</div>'
    )


def _bar_html(percent: float | None) -> str:
    width = 0.0 if percent is None else max(0.0, min(100.0, float(percent)))
    return f'<div class="bar"><span style="width:{width:.1f}%"></span></div>'


def _head_rows(view: ReportView) -> list[tuple[str, str]]:
    """The report's header table (label, value), shared by the HTML and the PDF."""
    rows = [
        ("网点 / Outlet", view.outlet),
        ("检查表 / Checklist", f"{view.template_zh} / {view.template_en}"),
        ("检查表版本 / Version", f"{view.template_code} · version id {view.version_id}"),
        ("检查员 / Auditor", view.auditor),
        ("走访时间 / Visit", f"{view.visit} ({view.timezone})"),
        ("提交 / Submitted", view.submitted),
        ("状态 / Status", view.status),
    ]
    if view.reviewed:
        rows.append(("审核 / Reviewed", view.reviewed))
    if view.location:
        rows.append(("位置 / Location", view.location))
    if view.corrective_actions:
        rows.append(("整改 / Corrective actions", view.corrective_actions))
    return rows


def render_html(view: ReportView) -> str:
    result_class = "none" if view.passed is None else "pass" if view.passed else "fail"
    head_rows = _head_rows(view)
    head = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in head_rows)
    notes = "".join(f'<div class="note">{_e(n)}</div>' for n in view.notes)
    breakdown = "".join(
        f"<tr><td>{_e(s.number)}. {_e(s.label_zh)} / {_e(s.label_en)}</td>"
        f'<td class="num">{_e(s.weight)}</td><td class="num">{_e(s.points)}</td>'
        f'<td class="num">{_e(s.percent_text)}</td><td>{_bar_html(s.percent)}</td></tr>'
        for s in view.sections
    )
    sections = "".join(
        f"<section><h3>{_e(s.number)}. {_e(s.label_zh)} / {_e(s.label_en)}"
        f" — {_e(s.percent_text)}</h3>{''.join(_item_html(i) for i in s.items)}</section>"
        for s in view.sections
    )
    history = "".join(
        f"<tr><td>{_e(h.at)}</td><td>{_e(h.by)}</td><td>{_e(h.what)}</td>"
        f"<td>{_e(h.comment)}</td></tr>"
        for h in view.history
    )
    history_table = (
        "<h2>记录 / History</h2><table><thead><tr><th>时间 / When</th><th>人员 / Who</th>"
        f"<th>操作 / What</th><th>说明 / Comment</th></tr></thead><tbody>{history}</tbody></table>"
        if view.history
        else ""
    )
    title = f"检查报告 Audit report #{view.audit_id} · {view.outlet}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>检查报告 #{_e(view.audit_id)} · {_e(view.outlet)}
<small>Audit report · {_e(view.template_zh)} / {_e(view.template_en)}</small></h1>
<div class="head">
<table>{head}</table>
<div class="score">
<div>得分 / Score</div>
<div class="big">{_e(view.score)}</div>
<div class="result {result_class}">{_e(view.result)}</div>
<div>合格线 / Pass mark {_e(view.pass_mark)}</div>
{notes}
</div>
</div>
</header>
<h2>分项得分 / Section breakdown</h2>
<table>
<thead><tr><th>部分 / Section</th><th class="num">权重 / Weight</th>
<th class="num">得分 / Points</th><th class="num">%</th><th></th></tr></thead>
<tbody>{breakdown}</tbody>
</table>
<h2>检查项 / Items</h2>
{sections}
{history_table}
<footer>生成 / Generated {_e(view.generated)} ({_e(view.timezone)}) · {_e(view.generated_by)}
· 照片链接短期有效，每次查看均有记录 / photo links are short-lived and every view is logged
</footer>
</body>
</html>
"""


# ---------------------------------------------------------------- PDF


# CJK fonts embedded (as subsets) when installed, so Chinese shows in any PDF viewer; Debian's
# fonts-wqy-microhei is installed by scripts/install.sh and the Dockerfile.
CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
EMBEDDED_FONT = "AuditLensCJK"


def _pdf_font() -> str:
    """An embedded CJK TrueType font if one is installed, else the viewer-side CID font
    (STSong-Light), which shows Chinese only where the viewer has a Chinese font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED_FONT in registered:
        return EMBEDDED_FONT
    for path in CJK_FONT_FILES:
        if path.is_file():
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
                return EMBEDDED_FONT
            except Exception:
                log.warning("PDF font %s could not be loaded; trying the next", path)
    if PDF_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def _clip(value: object, limit: int) -> str:
    """A table cell's text, shortened: a reportlab table row can't be taller than a page."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _p(value: object) -> str:
    """Text for a reportlab Paragraph: markup escaped, control characters dropped."""
    return html.escape(_CONTROL.sub("", str(value)), quote=False).replace("\n", "<br/>")


def _pdf_photo(photo: Photo, image: Any, paragraph: Any, style: Any) -> Any:
    """An embedded photo fitted into PHOTO_BOX (never enlarged), or its note."""
    if not (photo.data and photo.size):
        return paragraph(f"[{_p(photo.note)}]", style)
    pw, ph = photo.size
    scale = min(PHOTO_BOX[0] / pw, PHOTO_BOX[1] / ph, 1.0)
    return image(io.BytesIO(photo.data), width=pw * scale, height=ph * scale)


def render_pdf(view: ReportView) -> bytes:
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11.5)
    muted = ParagraphStyle("muted", parent=base, textColor=colors.HexColor("#666666"))
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=21, spaceAfter=2 * mm)
    h2 = ParagraphStyle(
        "h2",
        parent=base,
        fontSize=12.5,
        leading=17,
        spaceBefore=5 * mm,
        spaceAfter=2 * mm,
        textColor=colors.HexColor("#111111"),
    )
    h3 = ParagraphStyle(
        "h3",
        parent=base,
        fontSize=11,
        leading=15,
        spaceBefore=3 * mm,
        spaceAfter=1.5 * mm,
        backColor=colors.HexColor("#eeeeee"),
        borderPadding=(1 * mm, 1.5 * mm, 1 * mm, 1.5 * mm),
    )
    big = ParagraphStyle("big", parent=base, fontSize=28, leading=32, alignment=1)
    center = ParagraphStyle("center", parent=base, alignment=1)
    red = colors.HexColor("#b00020")
    green = colors.HexColor("#17692c")
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#bbbbbb")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ]
    )
    page_w = A4[0]
    margin = 14 * mm
    width = page_w - 2 * margin

    story: list[Any] = [
        Paragraph(f"检查报告 Audit report #{view.audit_id} · {_p(view.outlet)}", title),
        Paragraph(f"{_p(view.template_zh)} / {_p(view.template_en)}", muted),
        Spacer(1, 3 * mm),
    ]
    head_rows = _head_rows(view)
    result_color = green if view.passed else red if view.passed is False else colors.black
    score_cell = [
        Paragraph("得分 / Score", center),
        Paragraph(_p(view.score), big),
        Paragraph(
            _p(view.result),
            ParagraphStyle(
                "result", parent=center, fontSize=12, leading=16, textColor=result_color
            ),
        ),
        Paragraph(f"合格线 / Pass mark {_p(view.pass_mark)}", center),
        *(Paragraph(_p(n), ParagraphStyle("n", parent=center, textColor=red)) for n in view.notes),
    ]
    head_table = Table(
        [[Paragraph(_p(k), small), Paragraph(_p(_clip(v, 300)), base)] for k, v in head_rows],
        colWidths=[34 * mm, width - 34 * mm - 50 * mm - 4 * mm],
        style=grid,
    )
    story.append(
        Table(
            [[head_table, score_cell]],
            colWidths=[width - 50 * mm, 50 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (1, 0), (1, 0), 1.2, colors.black),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                ]
            ),
        )
    )

    def bar(percent: float | None) -> Drawing:
        w, h = 32 * mm, 3.2 * mm
        drawing = Drawing(w, h)
        drawing.add(
            Rect(
                0,
                0,
                w,
                h,
                fillColor=colors.HexColor("#e4e4e4"),
                strokeColor=colors.HexColor("#999999"),
                strokeWidth=0.5,
            )
        )
        fill = 0.0 if percent is None else max(0.0, min(100.0, float(percent)))
        if fill > 0:
            drawing.add(
                Rect(
                    0, 0, w * fill / 100, h, fillColor=colors.HexColor("#4a7bb7"), strokeColor=None
                )
            )
        return drawing

    story.append(Paragraph("分项得分 / Section breakdown", h2))
    rows: list[list[Any]] = [
        [Paragraph(t, small) for t in ("部分 / Section", "权重 / Weight", "得分 / Points", "%")]
        + [""]
    ]
    for s in view.sections:
        rows.append(
            [
                Paragraph(
                    f"{s.number}. {_p(_clip(s.label_zh, 150))} / {_p(_clip(s.label_en, 150))}",
                    base,
                ),
                Paragraph(_p(s.weight), base),
                Paragraph(_p(s.points), base),
                Paragraph(_p(s.percent_text), base),
                bar(s.percent),
            ]
        )
    breakdown = Table(
        rows,
        colWidths=[width - 36 * mm - 60 * mm, 18 * mm, 24 * mm, 18 * mm, 36 * mm],
        repeatRows=1,
        style=grid,
    )
    breakdown.setStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f3f3"))])
    story.append(breakdown)

    story.append(Paragraph("检查项 / Items", h2))
    for s in view.sections:
        story.append(
            Paragraph(f"{s.number}. {_p(s.label_zh)} / {_p(s.label_en)} — {_p(s.percent_text)}", h3)
        )
        for item in s.items:
            flags = ""
            if item.critical:
                flags += ' <font color="#8a4b00">[关键项 / critical]</font>'
            if item.failed:
                flags += ' <font color="#b00020">[不合格 / failed]</font>'
            style = muted if item.muted else base
            block: list[Any] = [
                Paragraph(
                    f"{item.number} {_p(item.label_zh)} / {_p(item.label_en)}{flags}"
                    f"　　得分 / Points: {_p(item.points)}",
                    ParagraphStyle("label", parent=style, fontSize=10, leading=14),
                ),
                Paragraph(f"回答 / Answer: {_p(item.answer)}", style),
            ]
            for label, value in (
                ("标准 / Standard", item.standard),
                ("备注 / Comment", item.comment),
                ("工牌 / Badge", item.badge),
                ("员工 / Staff", item.staff),
            ):
                if value:
                    block.append(Paragraph(f"{label}: {_p(value)}", style))
            story.append(KeepTogether(block))
            cells = [_pdf_photo(photo, Image, Paragraph, small) for photo in item.photos]
            if cells:
                rows_of_two = [
                    cells[i : i + 2] + [""] * (2 - len(cells[i : i + 2]))
                    for i in range(0, len(cells), 2)
                ]
                photos = Table(rows_of_two, colWidths=[PHOTO_BOX[0] + 4 * mm] * 2, hAlign="LEFT")
                photos.setStyle(
                    [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
                )
                story.append(photos)
            story.append(Spacer(1, 2.5 * mm))

    if view.history:
        story.append(Paragraph("记录 / History", h2))
        rows = [
            [
                Paragraph(t, small)
                for t in ("时间 / When", "人员 / Who", "操作 / What", "说明 / Comment")
            ]
        ]
        rows += [
            [
                Paragraph(_p(h.at), small),
                Paragraph(_p(h.by), small),
                Paragraph(_p(h.what), small),
                Paragraph(_p(_clip(h.comment, 600)), small),
            ]
            for h in view.history
        ]
        history = Table(
            rows,
            colWidths=[28 * mm, 28 * mm, 50 * mm, width - 106 * mm],
            repeatRows=1,
            style=grid,
        )
        story.append(history)

    footer = (
        f"#{view.audit_id} · {view.outlet_code} · 生成 / Generated {view.generated} "
        f"({view.timezone}) · {view.generated_by}"
    )

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(margin, 8 * mm, footer[:160])
        canvas.drawRightString(page_w - margin, 8 * mm, f"{doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 2 * mm,
        title=f"Audit report #{view.audit_id} {view.outlet_code}",
        author="AuditLens",
        subject=f"{view.template_en} · {view.outlet}",
        creator="AuditLens",
        lang="zh-CN",
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
