"""Altair charts (Altair ships with Streamlit). Times are outlet wall-clock values drawn on a
UTC scale, so the browser's own time zone never shifts them."""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.i18n import t

HOURS_COLOR = "#e8f1e4"
ROSTER_COLOR = "#8fb8de"
UNATTENDED_COLOR = "#d9534f"
OPEN_COLOR = "#f0ad4e"


AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart
AXES_AND_LEGEND = 110  # pixels Streamlit's element height must add to a chart's plot height


def show(chart: AnyChart) -> None:
    """Draw a chart across the page. A fixed plot height becomes the element's height (with
    room for axes and legend: Streamlit squeezes it otherwise); charts with one row per
    category size themselves by ``alt.Step``."""
    height = getattr(chart, "height", None)
    if isinstance(height, int):
        st.altair_chart(chart, width="stretch", height=height + AXES_AND_LEGEND)
    else:
        st.altair_chart(chart, width="stretch")


Span = tuple[datetime, datetime]  # the wall-clock stretch of the day a chart shows


def _epoch_ms(wall: datetime) -> int:
    # Wall-clock readings are tagged UTC (formatting.wall_clock); the scale is UTC too.
    return int(wall.replace(tzinfo=UTC).timestamp() * 1000)


def _time_axis(span: Span, title: str) -> alt.X:
    return alt.X(
        "start:T",
        title=title,
        scale=alt.Scale(type="utc", domain=[_epoch_ms(span[0]), _epoch_ms(span[1])]),
        axis=alt.Axis(format="%H:%M", tickCount=12),
    )


def _hours_band(hours: pd.DataFrame, span: Span) -> AnyChart:
    return (
        alt.Chart(hours)
        .mark_rect(color=HOURS_COLOR, opacity=0.8)
        .encode(x=_time_axis(span, ""), x2="end:T", tooltip=[alt.Tooltip("what:N", title="")])
    )


def queue_timeline(
    samples: pd.DataFrame, hours: pd.DataFrame, span: Span, field: str, title: str
) -> AnyChart:
    """Queue length (``field="queue"``) or wait in minutes (``"wait_min"``) per counter over
    the day, over the opening hours."""
    lines = (
        alt.Chart(samples.rename(columns={"at": "start"}))
        .mark_line(interpolate="step-after", point=False)
        .encode(
            x=_time_axis(span, t("chart.time")),
            y=alt.Y(f"{field}:Q", title=title),
            color=alt.Color("counter:N", title=t("col.counter")),
            tooltip=[
                alt.Tooltip("counter:N", title=t("col.counter")),
                alt.Tooltip("time:N", title=t("chart.time")),
                alt.Tooltip("queue:Q", title=t("col.queue"), format=".1f"),
                alt.Tooltip("people:Q", title=t("chart.people")),
                alt.Tooltip("wait_min:Q", title=t("col.wait_min"), format=".1f"),
            ],
        )
    )
    return alt.layer(_hours_band(hours, span), lines).properties(height=260)


def attendance_timeline(bars: pd.DataFrame, hours: pd.DataFrame, span: Span) -> AnyChart:
    """One row per counter: rostered shifts (wide, blue) and unattended spells (narrow, red)
    over the opening hours."""
    kinds = [t("outlet.rostered"), t("outlet.unattended"), t("outlet.unattended_open")]
    color = alt.Color(
        "what:N",
        title="",
        scale=alt.Scale(domain=kinds, range=[ROSTER_COLOR, UNATTENDED_COLOR, OPEN_COLOR]),
        legend=alt.Legend(orient="top"),
    )
    tooltip = [
        alt.Tooltip("counter:N", title=t("col.counter")),
        alt.Tooltip("what:N", title=""),
        alt.Tooltip("span:N", title=t("chart.time")),
        alt.Tooltip("detail:N", title=""),
    ]
    y = alt.Y("counter:N", title=t("col.counter"), sort="ascending")
    roster = bars[bars["what"] == kinds[0]]
    spells = bars[bars["what"] != kinds[0]]
    layers = [
        _hours_band(hours, span),
        alt.Chart(roster)
        .mark_bar(height=18, opacity=0.9)
        .encode(x=_time_axis(span, t("chart.time")), x2="end:T", y=y, color=color, tooltip=tooltip),
        alt.Chart(spells)
        .mark_bar(height=8)
        .encode(x=_time_axis(span, t("chart.time")), x2="end:T", y=y, color=color, tooltip=tooltip),
    ]
    return alt.layer(*layers).properties(height=alt.Step(30))


def score_distribution(scores: pd.DataFrame) -> AnyChart:
    """How the period's scores (0-100) spread: a histogram, provisional ones marked."""
    return (
        alt.Chart(scores)
        .mark_bar()
        .encode(
            x=alt.X("score:Q", bin=alt.Bin(step=5, extent=[0, 100]), title=t("col.score")),
            y=alt.Y("count():Q", title=t("chart.people")),
            color=alt.Color("provisional_text:N", title=""),
        )
        .properties(height=220)
    )


def score_intervals(scores: pd.DataFrame) -> AnyChart:
    """Each person's score with its interval (low-high), best first."""
    order = alt.EncodingSortField(field="score", order="descending")
    y = alt.Y("name:N", sort=order, title="")
    rule = (
        alt.Chart(scores)
        .mark_rule()
        .encode(
            x=alt.X("low:Q", scale=alt.Scale(domain=[0, 100]), title=t("col.score")),
            x2="high:Q",
            y=y,
        )
    )
    point = (
        alt.Chart(scores)
        .mark_point(filled=True, size=60)
        .encode(
            x="score:Q",
            y=y,
            color=alt.Color("provisional_text:N", title=""),
            tooltip=[
                alt.Tooltip("name:N", title=t("col.staff")),
                alt.Tooltip("score:Q", title=t("col.score"), format=".1f"),
                alt.Tooltip("low:Q", title=t("col.low"), format=".1f"),
                alt.Tooltip("high:Q", title=t("col.high"), format=".1f"),
            ],
        )
    )
    return alt.layer(rule, point).properties(height=alt.Step(18))


def trend(points: pd.DataFrame) -> AnyChart:
    """A person's score over periods with its interval band."""
    x = alt.X("period:N", sort=None, title=t("col.period"))
    band = (
        alt.Chart(points)
        .mark_area(opacity=0.25)
        .encode(
            x=x,
            y=alt.Y("low:Q", scale=alt.Scale(domain=[0, 100]), title=t("col.score")),
            y2="high:Q",
        )
    )
    line = (
        alt.Chart(points)
        .mark_line(point=True)
        .encode(
            x=x,
            y="score:Q",
            tooltip=[
                alt.Tooltip("period:N", title=t("col.period")),
                alt.Tooltip("score:Q", title=t("col.score"), format=".1f"),
                alt.Tooltip("low:Q", title=t("col.low"), format=".1f"),
                alt.Tooltip("high:Q", title=t("col.high"), format=".1f"),
            ],
        )
    )
    return alt.layer(band, line).properties(height=240)


def components(parts: pd.DataFrame) -> AnyChart:
    """Score decomposition: each component's score with its interval."""
    y = alt.Y("component:N", title="")
    bar = (
        alt.Chart(parts)
        .mark_bar(opacity=0.8)
        .encode(
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title=t("col.score")),
            y=y,
            tooltip=[
                alt.Tooltip("component:N", title=""),
                alt.Tooltip("score:Q", title=t("col.score"), format=".1f"),
                alt.Tooltip("raw:Q", title=t("col.raw"), format=".1f"),
                alt.Tooltip("n:Q", title=t("col.observations")),
            ],
        )
    )
    rule = alt.Chart(parts).mark_rule(color="black").encode(x="low:Q", x2="high:Q", y=y)
    return alt.layer(bar, rule).properties(height=alt.Step(36))


def fps(cameras: pd.DataFrame) -> AnyChart:
    """Achieved analysis fps per camera (bars) against the configured fps (black ticks)."""
    y = alt.Y("camera:N", title="", sort=None)
    tooltip = [
        alt.Tooltip("camera:N", title=t("col.camera")),
        alt.Tooltip("achieved:Q", title=t("cameras.achieved"), format=".2f"),
        alt.Tooltip("configured:Q", title=t("cameras.configured"), format=".2f"),
    ]
    bars = (
        alt.Chart(cameras)
        .mark_bar(color=ROSTER_COLOR)
        .encode(x=alt.X("achieved:Q", title=t("col.fps_value")), y=y, tooltip=tooltip)
    )
    target = (
        alt.Chart(cameras)
        .mark_tick(color="black", thickness=3, size=26)
        .encode(x="configured:Q", y=y, tooltip=tooltip)
    )
    return alt.layer(bars, target).properties(height=alt.Step(30))
