# ruff: noqa: S608 - the f-strings splice this module's own SQL fragments; every value is bound
"""Every score query, in SQL (one place): the facts rebuilt from the audits, vision findings,
queue waits and roster, and the scores aggregated from the facts with shrinkage and ranks.

The statements run on PostgreSQL and SQLite; the few functions that differ come from
``Dialect``. Times are bound through ``UTCDateTime`` so SQLite compares its stored text form.
Rules (what counts for whom) are documented in docs/performance.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Float, String, bindparam, text
from sqlalchemy.sql.elements import TextClause

from audit_service.core.db import UTCDateTime

# No opening interval, shift or unattended spell lasts longer than this: joins on overlapping
# times get a lower bound too, so they use the (counter, start) indexes instead of scanning.
MAX_SPAN_DAYS = 2


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def greatest(self) -> str:
        return "GREATEST" if self.name == "postgresql" else "MAX"

    @property
    def least(self) -> str:
        return "LEAST" if self.name == "postgresql" else "MIN"

    def secs(self, a: str, b: str) -> str:
        """Seconds from ``a`` to ``b``."""
        if self.name == "postgresql":
            return f"EXTRACT(EPOCH FROM ({b}) - ({a}))"
        return f"((julianday({b}) - julianday({a})) * 86400.0)"

    def day(self, t: str) -> str:
        """The UTC date of an instant."""
        if self.name == "postgresql":
            return f"CAST(({t}) AT TIME ZONE 'UTC' AS DATE)"
        return f"date({t})"

    def overlap(self, starts: list[str], ends: list[str]) -> str:
        """Seconds the intervals [starts[i], ends[i]) share (negative when they don't)."""
        lo = f"{self.greatest}({', '.join(starts)})" if len(starts) > 1 else starts[0]
        hi = f"{self.least}({', '.join(ends)})" if len(ends) > 1 else ends[0]
        return self.secs(lo, hi)

    def before(self, t: str) -> str:
        """``t`` less ``MAX_SPAN``: a lower bound that lets an index range-scan start somewhere."""
        if self.name == "postgresql":
            return f"(({t}) - INTERVAL '{MAX_SPAN_DAYS} days')"
        return f"datetime({t}, '-{MAX_SPAN_DAYS} days')"

    def after(self, t: str) -> str:
        if self.name == "postgresql":
            return f"(({t}) + INTERVAL '{MAX_SPAN_DAYS} days')"
        return f"datetime({t}, '+{MAX_SPAN_DAYS} days')"

    def clamp01(self, x: str) -> str:
        return f"{self.greatest}(0.0, {self.least}(1.0, {x}))"


def _typed(sql: str, types: dict[str, Any]) -> TextClause:
    """``text(sql)`` with the types of the parameters it uses (SQLite needs them for times)."""
    used = [bindparam(n, type_=t) for n, t in types.items() if re.search(rf":{n}\b", sql)]
    return text(sql).bindparams(*used)


def _range(sql: str) -> TextClause:
    return _typed(sql, {"a": UTCDateTime(), "b": UTCDateTime(), "now": UTCDateTime()})


_FACT_COLUMNS = (
    "INSERT INTO score_facts (component, source_kind, source_id, staff_id, outlet_id, counter_id,"
    " shift_id, audit_id, evidence_id, attribution, at, observed, good, finding, excluded) "
)


def delete_facts() -> TextClause:
    return text("DELETE FROM score_facts WHERE at >= :a AND at < :b").bindparams(
        bindparam("a", type_=UTCDateTime()), bindparam("b", type_=UTCDateTime())
    )


def audit_item_facts(d: Dialect) -> TextClause:
    """Approved audits' items (not N/A, not hidden, worth points), attributed as in the audit."""
    return _range(
        _FACT_COLUMNS
        + """
        SELECT 'audit', 'audit_item', CAST(i.id AS VARCHAR(36)), i.staff_id, a.outlet_id, NULL,
               NULL, a.id, NULL,
               CASE WHEN i.staff_id IS NULL THEN 'unresolved' ELSE i.attribution END,
               a.started_at, i.possible, i.points, i.failed, FALSE
        FROM audit_items i JOIN audits a ON a.id = i.audit_id
        WHERE a.status = 'approved' AND a.started_at >= :a AND a.started_at < :b
          AND NOT i.na AND NOT i.hidden AND i.possible > 0
        """
    )


def shift_facts(d: Dialect) -> TextClause:
    """Each counter shift's rostered open minutes (the attendance denominator)."""
    ov = d.overlap(["s.starts_at", "o.opens_at"], ["s.ends_at", "o.closes_at"])
    return _range(
        _FACT_COLUMNS
        + f"""
        SELECT 'attendance', 'shift', CAST(s.id AS VARCHAR(36)), s.staff_id, s.outlet_id,
               s.counter_id, s.id, NULL, NULL, 'roster', s.starts_at,
               SUM({ov}) / 60.0, SUM({ov}) / 60.0, FALSE, FALSE
        FROM shifts s
        JOIN open_intervals o ON o.outlet_id = s.outlet_id
             AND o.opens_at < s.ends_at AND o.closes_at > s.starts_at
             AND o.opens_at > {d.before("s.starts_at")}
        WHERE s.role = 'counter' AND s.starts_at >= :a AND s.starts_at < :b
        GROUP BY s.id, s.staff_id, s.outlet_id, s.counter_id, s.starts_at
        """
    )


def rostered_unattended_facts(d: Dialect) -> TextClause:
    """Unattended minutes at a counter within each shift there and within opening hours: a
    finding spanning two shifts is split between them by time. Dated at the shift's start so a
    shift and its findings always fall in the same period."""
    end = "COALESCE(e.ended_at, :now)"
    ov = d.overlap(["e.started_at", "s.starts_at", "o.opens_at"], [end, "s.ends_at", "o.closes_at"])
    return _range(
        _FACT_COLUMNS
        + f"""
        SELECT 'attendance', 'vision_event', e.id, s.staff_id, s.outlet_id, e.counter_id, s.id,
               NULL, e.evidence_id, 'roster', s.starts_at, 0, -SUM({ov}) / 60.0, TRUE, FALSE
        FROM vision_events e
        JOIN shifts s ON s.counter_id = e.counter_id AND s.role = 'counter'
             AND s.starts_at < {end} AND s.ends_at > e.started_at
        JOIN open_intervals o ON o.outlet_id = s.outlet_id
             AND o.opens_at < {d.least}(s.ends_at, {end})
             AND o.closes_at > {d.greatest}(s.starts_at, e.started_at)
             AND o.opens_at > {d.before("s.starts_at")}
        WHERE e.kind = 'counter_unattended' AND s.starts_at >= :a AND s.starts_at < :b
          AND s.starts_at > {d.before("e.started_at")}
          AND e.started_at > {d.before(":a")} AND e.started_at < {d.after(":b")}
        GROUP BY e.id, s.id, s.staff_id, s.outlet_id, e.counter_id, e.evidence_id, s.starts_at
        HAVING SUM({ov}) > 0
        """
    )


def unrostered_unattended_facts(d: Dialect) -> TextClause:
    """The open, unattended minutes of a finding that no counter shift covers: an outlet-level
    finding for the outlet manager of the day (or, with none, the outlet alone)."""
    ov_open = d.overlap(["ev.started_at", "o.opens_at"], ["ev.ended_at", "o.closes_at"])
    ov_cover = d.overlap(
        ["ev.started_at", "s.starts_at", "o.opens_at"], ["ev.ended_at", "s.ends_at", "o.closes_at"]
    )
    day = d.day("ev.started_at")
    return _range(
        _FACT_COLUMNS
        + f"""
        WITH ev AS (
            SELECT e.id, e.outlet_id, e.counter_id, e.evidence_id, e.started_at,
                   COALESCE(e.ended_at, :now) AS ended_at
            FROM vision_events e
            WHERE e.kind = 'counter_unattended' AND e.counter_id IS NOT NULL
              AND e.started_at >= :a AND e.started_at < :b
        ), open_part AS (
            SELECT ev.id, SUM({ov_open}) AS secs
            FROM ev JOIN open_intervals o ON o.outlet_id = ev.outlet_id
                 AND o.opens_at < ev.ended_at AND o.closes_at > ev.started_at
                 AND o.opens_at > {d.before("ev.started_at")}
            GROUP BY ev.id
        ), covered AS (
            SELECT ev.id, SUM({ov_cover}) AS secs
            FROM ev
            JOIN shifts s ON s.counter_id = ev.counter_id AND s.role = 'counter'
                 AND s.starts_at < ev.ended_at AND s.ends_at > ev.started_at
                 AND s.starts_at > {d.before("ev.started_at")}
            JOIN open_intervals o ON o.outlet_id = ev.outlet_id
                 AND o.opens_at < {d.least}(ev.ended_at, s.ends_at)
                 AND o.closes_at > {d.greatest}(ev.started_at, s.starts_at)
                 AND o.opens_at > {d.before("ev.started_at")}
            WHERE {ov_cover} > 0
            GROUP BY ev.id
        ), gap AS (
            SELECT ev.id, ev.outlet_id, ev.counter_id, ev.evidence_id, ev.started_at,
                   (op.secs - COALESCE(c.secs, 0)) / 60.0 AS minutes,
                   (SELECT MIN(sa.staff_id) FROM staff_assignments sa
                    WHERE sa.outlet_id = ev.outlet_id AND sa.role = 'outlet_manager'
                      AND sa.valid_from <= {day}
                      AND (sa.valid_to IS NULL OR sa.valid_to >= {day})) AS manager_id
            FROM ev JOIN open_part op ON op.id = ev.id LEFT JOIN covered c ON c.id = ev.id
            WHERE op.secs - COALESCE(c.secs, 0) > 1
        )
        SELECT 'attendance', 'vision_event', gap.id, gap.manager_id, gap.outlet_id,
               gap.counter_id, NULL, NULL, gap.evidence_id,
               CASE WHEN gap.manager_id IS NULL THEN 'unresolved' ELSE 'outlet_manager' END,
               gap.started_at, gap.minutes, 0, TRUE, FALSE
        FROM gap
        """
    )


def queue_wait_facts(d: Dialect) -> TextClause:
    """Completed waits, for whoever was rostered at the counter when service began (``left``);
    a wait at a counter nobody was rostered for counts for the outlet only."""
    return _range(
        _FACT_COLUMNS
        + f"""
        SELECT 'queue', 'queue_wait', CAST(w.id AS VARCHAR(36)), s.staff_id, w.outlet_id,
               w.counter_id, s.id, NULL, NULL,
               CASE WHEN s.id IS NULL THEN 'unresolved' ELSE 'roster' END, w.left_at,
               1, CASE WHEN w.within_sla THEN 1 ELSE 0 END, NOT w.within_sla, FALSE
        FROM queue_waits w
        LEFT JOIN shifts s ON s.counter_id = w.counter_id AND s.role = 'counter'
             AND s.starts_at <= w.left_at AND s.ends_at > w.left_at
             AND s.starts_at > {d.before("w.left_at")}
        WHERE w.left_at >= :a AND w.left_at < :b
        """
    )


def exclude_disputed() -> TextClause:
    """Facts whose source has an upheld dispute stay for the explanation but leave the scores."""
    return text(
        """
        UPDATE score_facts SET excluded = TRUE
        WHERE at >= :a AND at < :b AND EXISTS (
            SELECT 1 FROM disputes d
            WHERE d.status = 'upheld' AND d.source_kind = score_facts.source_kind
              AND d.source_id = score_facts.source_id)
        """
    ).bindparams(bindparam("a", type_=UTCDateTime()), bindparam("b", type_=UTCDateTime()))


def fact_statements(d: Dialect) -> list[TextClause]:
    return [
        audit_item_facts(d),
        shift_facts(d),
        rostered_unattended_facts(d),
        unrostered_unattended_facts(d),
        queue_wait_facts(d),
    ]


# --- scores -------------------------------------------------------------------------------

_SUMS = """
    SUM(CASE WHEN f.component = 'audit' THEN 1 ELSE 0 END) AS a_n,
    SUM(CASE WHEN f.component = 'audit' THEN f.observed ELSE 0 END) AS a_obs,
    SUM(CASE WHEN f.component = 'audit' THEN f.good ELSE 0 END) AS a_good,
    SUM(CASE WHEN f.component = 'attendance' THEN f.observed ELSE 0 END) AS t_obs,
    SUM(CASE WHEN f.component = 'attendance' THEN f.good ELSE 0 END) AS t_good,
    SUM(CASE WHEN f.component = 'attendance' AND f.source_kind = 'shift' THEN 1 ELSE 0 END)
        AS t_shifts,
    SUM(CASE WHEN f.component = 'queue' THEN f.observed ELSE 0 END) AS q_obs,
    SUM(CASE WHEN f.component = 'queue' THEN f.good ELSE 0 END) AS q_good
"""


# The same sums over rows of a grouping that already holds them (one scan of the facts).
_RESUMS = ", ".join(
    f"SUM(g.{c}) AS {c}"
    for c in ("a_n", "a_obs", "a_good", "t_obs", "t_good", "t_shifts", "q_obs", "q_good")
)


def _raw(d: Dialect, src: str, c: str) -> str:
    """A component's unshrunk share from sums (None without evidence)."""
    return f"CASE WHEN {src}.{c}_obs > 0 THEN {d.clamp01(f'{src}.{c}_good / {src}.{c}_obs')} END"


def _n(src: str, c: str) -> str:
    # The audit component counts items; attendance minutes; queue waits.
    return f"COALESCE({src}.a_n, 0)" if c == "a" else f"COALESCE({src}.{c}_obs, 0)"


def _shrink_ctes(d: Dialect) -> str:
    """From ``base`` (key columns + {c}_n, {c}_raw, {c}_prior, t_shifts) to ``tot`` with
    {c}_s, {c}_lo, {c}_hi, {c}_prov, score, low, high, provisional (see shrinkage.py)."""
    comps = ("a", "t", "q")
    shr = ", ".join(
        f"CASE WHEN {c}_raw IS NOT NULL THEN"
        f" ({c}_n * {c}_raw + :k_{c} * COALESCE({c}_prior, {c}_raw))"
        f" / ({c}_n + :k_{c}) END AS {c}_s"
        for c in comps
    )
    sd = ", ".join(
        f"CASE WHEN {c}_s IS NOT NULL THEN sqrt({d.greatest}({c}_s * (1 - {c}_s), 0.0)"
        f" / ({c}_n + :k_{c} + 1)) END AS {c}_sd"
        for c in comps
    )
    present = " + ".join(f"CASE WHEN {c}_s IS NULL THEN 0 ELSE :w_{c} END" for c in comps)
    solid = " + ".join(
        f"CASE WHEN {c}_s IS NULL OR {c}_n < :min_{c} THEN 0 ELSE :w_{c} END" for c in comps
    )
    weighted = " + ".join(f"COALESCE(:w_{c} * {c}_s, 0)" for c in comps)
    var = " + ".join(f"COALESCE(:w_{c} * :w_{c} * {c}_sd * {c}_sd, 0)" for c in comps)
    bounds = ", ".join(
        f"{d.greatest}(0.0, {c}_s - :z * {c}_sd) AS {c}_lo, "
        f"{d.least}(1.0, {c}_s + :z * {c}_sd) AS {c}_hi, "
        f"CASE WHEN {c}_n < :min_{c} THEN TRUE ELSE FALSE END AS {c}_prov"
        for c in comps
    )
    return f"""
    shr AS (SELECT base.*, {shr} FROM base),
    sds AS (SELECT shr.*, {sd} FROM shr),
    mix AS (SELECT sds.*, ({present}) AS wsum, ({solid}) AS wsolid, ({weighted}) AS wscore,
                   ({var}) AS wvar, {bounds} FROM sds),
    tot AS (
        SELECT mix.*,
               CASE WHEN wsum > 0 THEN wscore / wsum END AS score,
               CASE WHEN wsum > 0 THEN {d.greatest}(0.0, wscore / wsum - :z * sqrt(wvar) / wsum)
               END AS low,
               CASE WHEN wsum > 0 THEN {d.least}(1.0, wscore / wsum + :z * sqrt(wvar) / wsum)
               END AS high,
               CASE WHEN wsolid < 0.5 * (:w_a + :w_t + :w_q) THEN TRUE ELSE FALSE END
                   AS provisional
        FROM mix)
    """


def _params(sql: str) -> TextClause:
    names = ("k_a", "k_t", "k_q", "w_a", "w_t", "w_q", "min_a", "min_t", "min_q", "z")
    types: dict[str, Any] = {
        "a": UTCDateTime(),
        "b": UTCDateTime(),
        "computed_at": UTCDateTime(),
        "first_day": Date(),
        "last_day": Date(),
        "period_kind": String(),
        "period_key": String(),
    }
    return _typed(sql, types | {n: Float() for n in names})


def _prior(d: Dialect, c: str) -> str:
    """The outlet's own mean once it has at least a prior's worth of evidence, else the org's."""
    return (
        f"CASE WHEN {_n('os', c)} >= :k_{c} AND os.{c}_obs > 0 THEN {_raw(d, 'os', c)}"
        f" ELSE {_raw(d, 'org', c)} END"
    )


def staff_scores(d: Dialect) -> TextClause:
    """Insert one period's staff scores: every staff member active in it or with facts in it,
    at their outlet on the period's last day, with ranks within outlet and region."""
    sql = f"""
    INSERT INTO staff_scores (period_kind, period_key, staff_id, outlet_id, region_id,
        team_lead_id, audit_n, audit_raw, audit_score, audit_low, audit_high,
        attendance_n, attendance_raw, attendance_score, attendance_low, attendance_high,
        queue_n, queue_raw, queue_score, queue_low, queue_high, score, low, high,
        n_observations, provisional, rank_outlet, outlet_size, rank_region, region_size,
        percentile_region, computed_at)
    WITH g AS (
        SELECT f.staff_id, f.outlet_id, {_SUMS} FROM score_facts f
        WHERE f.at >= :a AND f.at < :b AND NOT f.excluded
        GROUP BY f.staff_id, f.outlet_id),
    ps AS (SELECT g.staff_id, {_RESUMS} FROM g WHERE g.staff_id IS NOT NULL GROUP BY g.staff_id),
    os AS (SELECT g.outlet_id, {_RESUMS} FROM g GROUP BY g.outlet_id),
    org AS (SELECT {_RESUMS} FROM g),
    people AS (
        SELECT st.id AS staff_id, st.team_lead_id,
               COALESCE((SELECT sa.outlet_id FROM staff_assignments sa
                         WHERE sa.staff_id = st.id AND sa.valid_from <= :last_day
                         ORDER BY sa.valid_from DESC, sa.id DESC LIMIT 1), st.outlet_id)
                   AS outlet_id
        FROM staff st
        WHERE (st.active_from <= :last_day
               AND (st.active_to IS NULL OR st.active_to >= :first_day))
           OR st.id IN (SELECT staff_id FROM ps)),
    base AS (
        SELECT p.staff_id, p.outlet_id, o.region_id, p.team_lead_id,
               {_n("ps", "a")} AS a_n, {_raw(d, "ps", "a")} AS a_raw, {_prior(d, "a")} AS a_prior,
               {_n("ps", "t")} AS t_n, {_raw(d, "ps", "t")} AS t_raw, {_prior(d, "t")} AS t_prior,
               {_n("ps", "q")} AS q_n, {_raw(d, "ps", "q")} AS q_raw, {_prior(d, "q")} AS q_prior,
               COALESCE(ps.t_shifts, 0) AS t_shifts
        FROM people p JOIN outlets o ON o.id = p.outlet_id
        LEFT JOIN ps ON ps.staff_id = p.staff_id
        LEFT JOIN os ON os.outlet_id = p.outlet_id
        CROSS JOIN org),
    {_shrink_ctes(d)}
    SELECT :period_kind, :period_key, staff_id, outlet_id, region_id, team_lead_id,
           a_n, a_raw, a_s, a_lo, a_hi, t_n, t_raw, t_s, t_lo, t_hi, q_n, q_raw, q_s, q_lo, q_hi,
           score, low, high, CAST(a_n + t_shifts + q_n AS INTEGER), provisional,
           CASE WHEN score IS NOT NULL THEN RANK() OVER (
               PARTITION BY outlet_id, score IS NULL ORDER BY score DESC) END,
           COUNT(score) OVER (PARTITION BY outlet_id),
           CASE WHEN score IS NOT NULL THEN RANK() OVER (
               PARTITION BY region_id, score IS NULL ORDER BY score DESC) END,
           COUNT(score) OVER (PARTITION BY region_id),
           CASE WHEN score IS NOT NULL THEN CUME_DIST() OVER (
               PARTITION BY region_id, score IS NULL ORDER BY score) END,
           :computed_at
    FROM tot
    """
    return _params(sql)


def group_scores(d: Dialect, level: str, outlet_ids: frozenset[int] | None) -> TextClause:
    """Team (members grouped by their team lead) or outlet (every fact there, outlet-level ones
    included) scores for a period, shrunk toward the organisation's mean; not materialised."""
    scope = ""
    if outlet_ids is not None:
        ids = ", ".join(str(int(i)) for i in sorted(outlet_ids)) or "NULL"
        scope = f" AND f.outlet_id IN ({ids})"
    if level == "team":
        key, source = "st.team_lead_id", "f JOIN staff st ON st.id = f.staff_id"
    else:
        key, source = "f.outlet_id", "f"
    sql = f"""
    WITH f AS (SELECT * FROM score_facts WHERE at >= :a AND at < :b AND NOT excluded),
    g AS (SELECT {key} AS group_id, {_SUMS} FROM {source}
          WHERE {key} IS NOT NULL {scope} GROUP BY {key}),
    org AS (SELECT {_SUMS} FROM f),
    base AS (
        SELECT g.group_id,
               {_n("g", "a")} AS a_n, {_raw(d, "g", "a")} AS a_raw,
               {_raw(d, "org", "a")} AS a_prior,
               {_n("g", "t")} AS t_n, {_raw(d, "g", "t")} AS t_raw,
               {_raw(d, "org", "t")} AS t_prior,
               {_n("g", "q")} AS q_n, {_raw(d, "g", "q")} AS q_raw,
               {_raw(d, "org", "q")} AS q_prior,
               COALESCE(g.t_shifts, 0) AS t_shifts
        FROM g CROSS JOIN org),
    {_shrink_ctes(d)}
    SELECT group_id, a_n, a_raw, a_s, a_lo, a_hi, a_prov, t_n, t_raw, t_s, t_lo, t_hi, t_prov,
           q_n, q_raw, q_s, q_lo, q_hi, q_prov, score, low, high,
           CAST(a_n + t_shifts + q_n AS INTEGER) AS n_observations, provisional,
           CASE WHEN score IS NOT NULL THEN RANK() OVER (
               PARTITION BY score IS NULL ORDER BY score DESC) END AS rank
    FROM tot ORDER BY score IS NULL, score DESC, group_id
    """
    return _params(sql)
