"""`report --chart`: for 1, 2, 7, 31 and 365 days, every text is inside the picture, each day's bar stands on its
day (from its morning to its evening, not across midnight), the date under a bar is that bar's day, and the
labels are Chinese when a CJK font is installed (`make bootstrap` installs one) and codes otherwise.

Positions are measured as drawn: matplotlib's renderer gives each text's and each bar's window extent in pixels.
"""
from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from itertools import combinations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.legend import Legend
from matplotlib.text import Text

from admin import charts

FIRST = date(2026, 10, 26)  # a Monday; 365 days from it cross a new year
NAMES = {"bus_ride": "公交出行", "clean_plate": "光盘打卡", "no_cutlery": "外卖不要餐具",
         "garbage_sorting": "垃圾分类"}
TICK_LABEL = re.compile(r"(?P<month>\d\d)-(?P<day>\d\d)(\n.+)?|(?P<year>\d{4})-(?P<first_of>\d\d)")


def report_for(days: list[date]) -> dict:
    """Every behaviour on every day, in amounts that differ by day (mg), as reports.build shapes them."""
    rows = [{"day": d.isoformat(), "behavior": code, "name": name, "events": 1,
             "carbon_mg": 100_000 * (k + 1) + 7_000 * (i % 5), "points": 1}
            for i, d in enumerate(days) for k, (code, name) in enumerate(NAMES.items())]
    by = {code: sum(r["carbon_mg"] for r in rows if r["behavior"] == code) for code in NAMES}
    return {"from": days[0].isoformat(), "to": days[-1].isoformat(), "rows": rows,
            "by_behavior": sorted(({"behavior": code, "name": NAMES[code], "carbon_mg": by[code]} for code in NAMES),
                                  key=lambda b: -b["carbon_mg"])}


@pytest.fixture(params=["chinese", "codes"])
def labels(request, monkeypatch):
    if request.param == "codes":
        monkeypatch.setattr(charts, "cjk_font", lambda text: None)
    elif charts.cjk_font("".join(NAMES.values())) is None:
        pytest.skip("no CJK font installed (`make bootstrap` installs fonts-wqy-microhei)")
    return request.param


@functools.cache  # a year's figure takes seconds to draw: once per range and labels
def drawn(n: int, labels: str):
    days = [FIRST + timedelta(days=k) for k in range(n)]
    report = report_for(days)
    figure, info = charts.draw(days, report)
    canvas = FigureCanvasAgg(figure)
    # Runs the constrained layout as savefig's draw does, with Agg's text metrics, but paints no pixel: every
    # position below is the same as in the PNG, and a year's 1,460 bars are not rasterized for nothing.
    figure.draw_without_rendering()
    return days, report, figure, info, canvas.get_renderer()


def x_tick_labels(axes) -> list[Text]:
    low, high = sorted(axes.get_xlim())
    return [t.label1 for t in axes.xaxis.get_major_ticks() if low <= t.get_loc() <= high and t.label1.get_text()]


def legend_of(figure) -> Legend:
    (legend,) = figure.findobj(Legend)
    return legend


def shown_texts(figure) -> list[Text]:
    """Every text drawn with something in it; of the ticks' labels, those of ticks inside the view."""
    axes = figure.axes[0]
    tick_labels = {id(t.label1) for axis in (axes.xaxis, axes.yaxis) for t in axis.get_major_ticks()}
    low, high = sorted(axes.get_ylim())
    y_labels = [t.label1 for t in axes.yaxis.get_major_ticks() if low <= t.get_loc() <= high]
    others = [t for t in figure.findobj(Text) if id(t) not in tick_labels]
    return [t for t in [*others, *x_tick_labels(axes), *y_labels] if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("n", [1, 2, 7, 31, 365])
def test_every_text_lies_inside_the_figure_and_none_overlaps(n, labels):
    _, _, figure, info, renderer = drawn(n, labels)
    assert info["chinese"] is (labels == "chinese")
    box = figure.bbox
    texts = shown_texts(figure)
    title = next(t for t in texts if FIRST.isoformat() in t.get_text())  # the title names the range
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, (
            f"{text.get_text()!r} at {extent} is not inside the figure {box}")
    ticks = [t.get_window_extent(renderer) for t in x_tick_labels(figure.axes[0])]
    assert ticks and not any(a.overlaps(b) for a, b in combinations(ticks, 2))
    legend = legend_of(figure)
    assert not legend.get_window_extent(renderer).overlaps(title.get_window_extent(renderer))


@pytest.mark.parametrize("n", [1, 2, 7, 31, 365])
def test_each_bar_stands_on_its_day_and_each_date_names_the_day_above_it(n, labels):
    days, report, figure, _, renderer = drawn(n, labels)
    axes = figure.axes[0]
    to_pixels = axes.transData.transform

    def pixel_x(day: date, hour: int = 0) -> float:
        return to_pixels((date2num(datetime.combine(day, time(hour))), 0))[0]

    stacks = [container.patches for container in axes.containers]
    day_kg = {day: 0.0 for day in days}
    for row in report["rows"]:
        day_kg[date.fromisoformat(row["day"])] += row["carbon_mg"] / 1e6
    assert len(stacks) == len(NAMES)
    for i, day in enumerate(days):
        morning, evening = pixel_x(day), pixel_x(day + timedelta(days=1))
        for patches in stacks:
            bar = patches[i].get_window_extent(renderer)
            assert morning < bar.x0 < bar.x1 < evening, f"the bar of {day} is not within that day"
            assert abs((bar.x0 + bar.x1) / 2 - pixel_x(day, 12)) < 1, f"the bar of {day} is not centred on its noon"
        total = sum(patches[i].get_height() for patches in stacks)
        assert total == pytest.approx(day_kg[day])

    ticks = x_tick_labels(axes)
    assert len(ticks) >= (n if n <= 16 else 3)  # every day of a short range is named
    for tick in ticks:
        label = TICK_LABEL.fullmatch(tick.get_text())
        assert label, f"tick {tick.get_text()!r} is not a date (hours on a daily axis?)"
        if label["first_of"]:
            named = date(int(label["year"]), int(label["first_of"]), 1)
        else:
            named = next(d for d in days if (d.month, d.day) == (int(label["month"]), int(label["day"])))
        extent = tick.get_window_extent(renderer)
        centre = (extent.x0 + extent.x1) / 2
        assert pixel_x(named) < centre < pixel_x(named + timedelta(days=1)), f"{tick.get_text()!r} is not under its day"


def test_labels_are_chinese_with_a_cjk_font_and_codes_without(labels):
    _, _, figure, info, _ = drawn(7, labels)
    legend = [t.get_text() for t in legend_of(figure).get_texts()]
    title = next(t.get_text() for t in shown_texts(figure) if FIRST.isoformat() in t.get_text())
    if labels == "chinese":
        assert info["font"] and set(legend) == set(NAMES.values())
        assert "千克" in title and "周一" in [t.get_text().split("\n")[-1] for t in x_tick_labels(figure.axes[0])]
    else:
        assert info["font"] is None and set(legend) == set(NAMES)
        assert "kg" in title
