"""The searches-per-day chart (search_app/editors/chart.py): valid SVG,
one bar a day, nothing that the page's CSP would block, and every text
escaped, since the page places it without escaping it again."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta

from search_app.editors.chart import HEIGHT, TOP, BOTTOM, chart_svg, every_day, nice_top

NS = "{http://www.w3.org/2000/svg}"


@dataclass
class D:
    day: date
    searches: int
    no_good_match: int


def days(n: int, start: date = date(2025, 3, 1)) -> list[D]:
    return [D(start + timedelta(i), 10 + 3 * i, i) for i in range(n)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def day_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(NS + "g") if g.get("class") == "day"]


def test_the_chart_is_valid_svg_with_one_bar_a_day_and_a_name_for_screen_readers():
    root = parse(chart_svg(days(7)))
    assert root.tag == NS + "svg" and root.get("role") == "img"
    assert root.get("aria-label", "").startswith("Searches per day, 1 Mar to 7 Mar: ")
    assert root.find(NS + "title") is not None and root.find(NS + "desc").text == root.get("aria-label")
    groups = day_groups(root)
    assert len(groups) == 7
    assert [len([r for r in g if r.tag == NS + "rect" and r.get("class") == "searches"]) for g in groups] == [1] * 7
    assert groups[3].find(NS + "title").text == "4 Mar 2025: 19 searches, 3 with no good match (16%)"


def test_the_no_good_match_part_sits_inside_its_bar_in_proportion():
    root = parse(chart_svg([D(date(2025, 3, 1), 40, 10), D(date(2025, 3, 2), 20, 0)]))
    first, second = day_groups(root)
    whole, missed = [r for r in first if r.tag == NS + "rect"]
    assert missed.get("class") == "no-match"
    assert float(missed.get("height")) * 4 == float(whole.get("height"))
    assert float(missed.get("y")) + float(missed.get("height")) == float(whole.get("y")) + float(whole.get("height"))
    assert missed.get("x") == whole.get("x") and missed.get("width") == whole.get("width")
    assert [r.get("class") for r in second if r.tag == NS + "rect"] == ["searches"]   # none missed: no red part
    # Heights are to the axis' top, the next 1, 2 or 5 x 10^n at or above the busiest day (50 for 40).
    assert float(whole.get("height")) == (HEIGHT - TOP - BOTTOM) * 40 / nice_top(40)


def test_days_without_searches_are_zero_bars_not_gaps_closed_up():
    filled = every_day([D(date(2025, 3, 1), 5, 1), D(date(2025, 3, 4), 2, 0)])
    assert [(d.day.day, d.searches) for d in filled] == [(1, 5), (2, 0), (3, 0), (4, 2)]
    root = parse(chart_svg([D(date(2025, 3, 3), 5, 1)], first=date(2025, 3, 1), last=date(2025, 3, 7)))
    assert len(day_groups(root)) == 7


def test_every_text_is_escaped_and_there_is_no_style_and_no_script():
    hostile = '</text><script>alert(1)</script><rect style="x"/>&amp;'

    svg = chart_svg(days(30))
    root = parse(svg)
    assert "style" not in svg and "<script" not in svg.lower()
    assert all("style" not in el.attrib and not el.tag.endswith("script") and not el.tag.endswith("style")
               and not any(a.startswith("on") for a in el.attrib) for el in root.iter())
    # Whatever reaches a text or an attribute is escaped by the serialiser: shown with a hostile summary.
    from search_app.editors import chart
    original = chart.summary
    chart.summary = lambda _days: hostile
    try:
        escaped = chart_svg(days(2))
    finally:
        chart.summary = original
    assert "<script>" not in escaped and parse(escaped).get("aria-label") == hostile
    assert parse(escaped).find(NS + "desc").text == hostile


def test_labels_stay_few_on_a_long_period_and_an_empty_period_says_so():
    root = parse(chart_svg(days(90)))
    assert len(day_groups(root)) == 90
    labels = [t.text for t in root.iter(NS + "text") if t.text and not t.text.isdigit()]
    assert 2 <= len(labels) <= 7 and labels[0] == "1 Mar" and labels[-1] == "29 May"
    empty = parse(chart_svg([]))
    assert day_groups(empty) == [] and "No searches in this period" in [t.text for t in empty.iter(NS + "text")]
    assert empty.get("aria-label") == "Searches per day: no searches in this period."


def test_on_a_phone_every_other_day_label_can_go_but_the_first_and_last_stay():
    root = parse(chart_svg(days(31)))
    labels = [(t.text, t.get("class")) for t in root.iter(NS + "text") if (t.get("class") or "").startswith("day")]
    kept = [text for text, kind in labels if "minor" not in kind]
    assert kept[0] == "1 Mar" and kept[-1] == "31 Mar" and 2 <= len(kept) < len(labels)
