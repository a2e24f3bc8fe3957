"""Pictures of reports: daily carbon reduction by behaviour as stacked bars, in kg CO2e.

matplotlib is a dependency of the console only (requirements-dev.txt); it is imported here, lazily,
and never from chalicelib/, so Lambda neither bundles nor imports it. Figures are drawn with the
Agg canvas through matplotlib's object API (no pyplot, no global figure state, no display).

Chinese labels need a font with CJK glyphs; matplotlib ships none. The first installed font that
covers every character to draw is used (Noto Sans CJK, WenQuanYi, Source Han Sans ...: `make bootstrap`
installs fonts-wqy-microhei); without one the chart is labelled in English with the behaviours' codes
rather than showing empty boxes, and `report` says so.

Each business day's bar stands on that day (centred on its noon, on an axis of whole days), and the dates
under the bars are that day's (tests/unit/test_charts.py measures both for 1 to 365 days).
"""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from .console import CommandError

PREFERRED_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                   "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Sarasa Gothic SC", "Microsoft YaHei", "PingFang SC",
                   "Hiragino Sans GB", "Heiti SC", "SimHei", "Noto Serif CJK SC", "AR PL UMing CN",
                   "Droid Sans Fallback")
FONT_HINTS = ("CJK", "Hei", "Han Sans", "WenQuanYi", "Fallback", "Ming", "Song", "Kai", "Gothic")
FILE_HINTS = ("cjk", "wqy", "fallback", "sourcehan", "hei", "ming", "song", "kai", "msyh", "pingfang", "sarasa")
MAX_SERIES = 12  # more behaviours than this are drawn as one "other" band


def _covers(path: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in set(text) if not ch.isascii())


def cjk_font(text: str) -> str | None:
    """The family name of an installed font that has a glyph for every non-ASCII character of `text`."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    for path in font_manager.findSystemFonts():  # installed since matplotlib cached its font list
        if path not in known and any(hint in Path(path).name.lower() for hint in FILE_HINTS):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    fonts = manager.ttflist
    rank = {name: i for i, name in enumerate(PREFERRED_FONTS)}
    candidates = sorted((f for f in fonts if f.name in rank or any(h in f.name for h in FONT_HINTS)),
                        key=lambda f: rank.get(f.name, len(rank)))
    return next((f.name for f in candidates if _covers(f.fname, text)), None)


def _series(report: dict, names: dict[str, str]) -> list[tuple[str, dict[str, int]]]:
    """(label, {day: mg}) per behaviour, largest first; beyond MAX_SERIES folded into one band."""
    order = [b["behavior"] for b in report["by_behavior"] if b["carbon_mg"] > 0]
    per_day: dict[str, dict[str, int]] = {code: {} for code in order}
    for row in report["rows"]:
        if row["behavior"] in per_day:
            per_day[row["behavior"]][row["day"]] = row["carbon_mg"]
    bands = [(names[code], per_day[code]) for code in order[:MAX_SERIES - 1]]
    rest = order[MAX_SERIES - 1:]
    if len(rest) == 1:
        bands.append((names[rest[0]], per_day[rest[0]]))
    elif rest:
        other: dict[str, int] = {}
        for code in rest:
            for day, mg in per_day[code].items():
                other[day] = other.get(day, 0) + mg
        bands.append((names["*other"], other))
    return bands


WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
            "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
DAILY_TICKS, WEEKLY_TICKS, MAX_MONTH_TICKS = 16, 92, 24


def day_x(day: date, hours: int = 0) -> float:
    """Where `day` (a business day, Asia/Shanghai) at `hours` o'clock is on the x axis: matplotlib's date number
    of that wall-clock time, no time zone applied. A day's bar stands from 02:24 to 21:36, centred on its noon."""
    from matplotlib.dates import date2num

    return float(date2num(datetime.combine(day, time(hours))))


def _ticks(days: list[date], weekdays: tuple[str, ...]) -> tuple[list[float], list[str]]:
    """Ticks under the bars' centres (noon): every day with its weekday up to 16 days, Mondays up to 92 days,
    else the first of each month (every k-th month when there would be more than 24)."""
    if len(days) <= DAILY_TICKS:
        return [day_x(d, 12) for d in days], [f"{d:%m-%d}\n{weekdays[d.weekday()]}" for d in days]
    if len(days) <= WEEKLY_TICKS:
        mondays = [d for d in days if d.weekday() == 0]
        return [day_x(d, 12) for d in mondays], [f"{d:%m-%d}" for d in mondays]
    firsts = [d for d in days if d.day == 1]
    firsts = firsts[::-(-len(firsts) // MAX_MONTH_TICKS)]
    return [day_x(d, 12) for d in firsts], [f"{d:%Y-%m}" for d in firsts]


def draw(days: list[date], report: dict):
    """The figure of the report's daily carbon by behaviour (stacked bars, kg), and what it drew:
    (Figure, {"font", "chinese", "behaviors"}). Nothing is written."""
    import matplotlib
    from matplotlib.figure import Figure

    chinese_names = {b["behavior"]: b["name"] for b in report["by_behavior"]}
    total_kg = sum(b["carbon_mg"] for b in report["by_behavior"]) / 1e6
    zh = {"title": f"每日碳减排量（按行为）\n{report['from']} 至 {report['to']}，合计 {total_kg:,.3f} 千克",
          "x": "日期（北京时间）", "y": "碳减排量（千克 CO₂e）", "empty": "本期无减排记录", "*other": "其他"}
    font = cjk_font("".join(zh.values()) + "".join(chinese_names.values()) + "".join(WEEKDAYS["zh"]))
    if font:
        text, names, weekdays = zh, {**chinese_names, "*other": zh["*other"]}, WEEKDAYS["zh"]
    else:
        text = {"title": f"Daily carbon reduction by behaviour\n{report['from']} to {report['to']}, "
                         f"total {total_kg:,.3f} kg", "x": "day (Asia/Shanghai)", "y": "reduction (kg CO2e)",
                "empty": "no reductions in this period"}
        names = {code: code for code in chinese_names} | {"*other": "other"}
        weekdays = WEEKDAYS["en"]
    bands = _series(report, names)

    # Families by name, not "sans-serif": each text keeps them, so the figure draws the same outside this context.
    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        figure = Figure(figsize=(min(16, 8 + len(days) / 8), 6), dpi=120, layout="constrained")
        axes = figure.add_subplot()
        colors = matplotlib.colormaps["tab20"].colors
        centres = [day_x(day, 12) for day in days]
        bottom = [0.0] * len(days)
        for index, (label, by_day) in enumerate(bands):
            heights = [by_day.get(day.isoformat(), 0) / 1e6 for day in days]
            axes.bar(centres, heights, width=0.8, bottom=bottom, label=label, color=colors[(index * 2) % 20],
                     edgecolor="white", linewidth=0.3)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        figure.suptitle(text["title"], fontsize=13)
        axes.set_xlabel(text["x"])
        axes.set_ylabel(text["y"])
        axes.set_xticks(*_ticks(days, weekdays))
        axes.set_xlim(day_x(days[0]) - 0.2, day_x(days[-1]) + 1.2)  # whole days, a fifth of a day either side
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        if bands:
            figure.legend(loc="outside right upper", frameon=False)
        else:
            axes.text(0.5, 0.5, text["empty"], transform=axes.transAxes, ha="center", va="center", fontsize=14,
                      color="grey")
            axes.set_ylim(0, 1)
    return figure, {"font": font, "chinese": bool(font), "behaviors": len(bands)}


def daily_carbon(path: str, days: list[date], report: dict) -> dict:
    """Draws the report's daily carbon by behaviour (stacked bars, kg) to a PNG; returns what it drew."""
    try:
        import matplotlib  # noqa: F401 - the message below when it is missing
    except ImportError as exc:
        raise CommandError("--chart needs matplotlib: pip install -r requirements-dev.txt") from exc
    figure, drawn = draw(days, report)
    try:
        figure.savefig(path, format="png")
    except OSError as exc:
        raise CommandError(f"cannot write chart {path}: {exc}") from exc
    return {"path": path, **drawn}
