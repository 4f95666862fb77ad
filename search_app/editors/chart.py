"""Searches per day as a small SVG drawn on the server, shown inline on the
editors' page.

The page allows no script and no inline style (CSP `script-src` none,
`style-src 'self'`), so the chart is plain SVG shapes with presentation
attributes only (fill, font-size, ...), never a `style` attribute or element.
It is built as an ElementTree and serialised by it, so every text and
attribute value is escaped by the serialiser and none is pasted into markup
by hand: that is why the page may embed the result without escaping it.

One bar a day, its height the day's searches; inside it, from the bottom, the
part that found no good match, in the site's accent colour, so each bar shows
that day's share at a glance. Each bar carries a `<title>` (the day's
numbers, shown on hover); the whole chart is `role="img"` with an
`aria-label` summing it up, and the page gives the same numbers as a table.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 28, 16, 44     # room for the axis labels (larger on a phone: style.css)
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
FONT_SIZE = 15                                # viewBox units; the chart is drawn at most 640 px wide
INK, MUTED, LINE = "#1d2330", "#4a5363", "#d9dde4"   # the site's colours (static/style.css)
SEARCHES_FILL = "#7aa7d9"                     # light blue: all searches
NO_MATCH_FILL = "#a4133c"                     # the accent: searches with no good match
MAX_DAY_LABELS = 6
PHONE_LABEL_ROOM = 110                        # viewBox units a phone-sized day label needs


@dataclass(frozen=True)
class Day:
    day: date
    searches: int
    no_good_match: int


def every_day(days: Iterable, first: date | None = None, last: date | None = None) -> list[Day]:
    """One entry a day from `first` (or the earliest day given) to `last` (or
    the latest), days without searches as zeros: a missing day is a gap in
    the chart, not two neighbouring bars."""
    counts = {d.day: Day(d.day, int(d.searches), int(d.no_good_match)) for d in days}
    if not counts and (first is None or last is None):
        return []
    start = first if first is not None else min(counts)
    end = last if last is not None else max(counts)
    if start > end:
        return []
    return [counts.get(start + timedelta(n), Day(start + timedelta(n), 0, 0))
            for n in range((end - start).days + 1)]


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def nice_top(value: int) -> int:
    """The y axis' top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def summary(days: list[Day]) -> str:
    total = sum(d.searches for d in days)
    missed = sum(d.no_good_match for d in days)
    if not days:
        return "Searches per day: no searches in this period."
    span = day_label(days[0].day) if len(days) == 1 else f"{day_label(days[0].day)} to {day_label(days[-1].day)}"
    return (f"Searches per day, {span}: {total} search{'es' if total != 1 else ''} in all, "
            f"{missed} ({share(missed, total)}) with no good match; busiest day "
            f"{max(d.searches for d in days)} searches.")


def _text(parent: ET.Element, x: float, y: float, words: str, anchor: str = "middle", fill: str = MUTED,
          kind: str | None = None) -> None:
    node = ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "text-anchor": anchor, "fill": fill,
                                          "font-size": str(FONT_SIZE), "font-family": FONT})
    if kind:
        node.set("class", kind)
    node.text = words


def chart_svg(days: Iterable, first: date | None = None, last: date | None = None) -> str:
    """The chart as an `<svg>` element (no XML declaration), ready to place
    in the page. `days`: objects with `day`, `searches`, `no_good_match`."""
    days = every_day(days, first, last)
    label = summary(days)
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {WIDTH} {HEIGHT}",
                             "width": str(WIDTH), "height": str(HEIGHT), "class": "insights-chart",
                             "role": "img", "aria-label": label, "focusable": "false"})
    ET.SubElement(svg, "title").text = "Searches per day, and how many found no good match"
    ET.SubElement(svg, "desc").text = label
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    top = nice_top(max((d.searches for d in days), default=0))
    axes = ET.SubElement(svg, "g", {"class": "axes"})
    for value in sorted({0, top // 2 if top >= 2 else 0, top}):
        y = base - plot_h * value / top
        ET.SubElement(axes, "line", {"x1": str(LEFT), "x2": str(WIDTH - RIGHT), "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                     "stroke": LINE if value else MUTED, "stroke-width": "1"})
        _text(axes, LEFT - 8, y + FONT_SIZE / 3, str(value), anchor="end")
    if not days:
        _text(svg, LEFT + plot_w / 2, TOP + plot_h / 2, "No searches in this period", fill=INK)
        return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
    slot = plot_w / len(days)
    gap = min(6.0, slot * 0.2)
    bars = ET.SubElement(svg, "g", {"class": "bars"})
    for n, d in enumerate(days):
        x = LEFT + n * slot + gap / 2
        width = max(1.0, slot - gap)
        bar = ET.SubElement(bars, "g", {"class": "day"})
        ET.SubElement(bar, "title").text = (f"{day_label(d.day)} {d.day.year}: {d.searches} search"
                                            f"{'es' if d.searches != 1 else ''}, {d.no_good_match} with no good "
                                            f"match ({share(d.no_good_match, d.searches)})")
        height = plot_h * d.searches / top
        ET.SubElement(bar, "rect", {"class": "searches", "x": f"{x:.1f}", "y": f"{base - height:.1f}",
                                    "width": f"{width:.1f}", "height": f"{height:.1f}", "fill": SEARCHES_FILL})
        missed = plot_h * min(d.no_good_match, d.searches) / top
        if missed > 0:
            ET.SubElement(bar, "rect", {"class": "no-match", "x": f"{x:.1f}", "y": f"{base - missed:.1f}",
                                        "width": f"{width:.1f}", "height": f"{missed:.1f}", "fill": NO_MATCH_FILL})
    every = max(1, math.ceil(len(days) / MAX_DAY_LABELS))
    labelled = sorted(set(range(0, len(days), every)) | {len(days) - 1})
    if len(labelled) > 1 and labelled[-1] - labelled[-2] < every:   # the last label would touch the one before
        labelled.pop(-2)
    # On a phone the labels are drawn larger, so every other one (never the last) is marked `minor`,
    # which the stylesheet hides there.
    minor = {n for i, n in enumerate(labelled[:-1]) if i % 2 or (labelled[-1] - n) * slot < PHONE_LABEL_ROOM}
    for n in labelled:
        _text(axes, LEFT + (n + 0.5) * slot, base + FONT_SIZE + 12, day_label(days[n].day),
              kind="day-label minor" if n in minor and n != labelled[0] else "day-label")
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
