"""Pictures of reports: daily carbon reduction by behaviour as stacked bars, in kg CO2e.

matplotlib is a dependency of the console only (requirements-dev.txt); it is imported here, lazily,
and never from chalicelib/, so Lambda neither bundles nor imports it. Figures are drawn with the
Agg canvas through matplotlib's object API (no pyplot, no global figure state, no display).

Chinese labels need a font with CJK glyphs; matplotlib ships none. The first installed font that
covers every character to draw is used (Noto Sans CJK, WenQuanYi, Source Han Sans ...: e.g.
`apt-get install fonts-wqy-microhei`); without one the chart is labelled in English with the
behaviours' codes rather than showing empty boxes.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
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


def daily_carbon(path: str, days: list[date], report: dict) -> dict:
    """Draws the report's daily carbon by behaviour (stacked bars, kg) to a PNG; returns what it drew."""
    try:
        import matplotlib
        import matplotlib.dates as mdates
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise CommandError("--chart needs matplotlib: pip install -r requirements-dev.txt") from exc

    chinese_names = {b["behavior"]: b["name"] for b in report["by_behavior"]}
    total_kg = sum(b["carbon_mg"] for b in report["by_behavior"]) / 1e6
    zh = {"title": f"每日碳减排量（按行为）{report['from']} 至 {report['to']}，合计 {total_kg:,.3f} 千克",
          "x": "日期（北京时间）", "y": "碳减排量（千克 CO₂e）", "empty": "本期无减排记录", "*other": "其他"}
    font = cjk_font("".join(zh.values()) + "".join(chinese_names.values()))
    if font:
        text, names = zh, {**chinese_names, "*other": zh["*other"]}
    else:
        text = {"title": f"Daily carbon reduction by behaviour, {report['from']} to {report['to']}, "
                         f"total {total_kg:,.3f} kg", "x": "day (Asia/Shanghai)", "y": "reduction (kg CO2e)",
                "empty": "no reductions in this period"}
        names = {code: code for code in chinese_names} | {"*other": "other"}
    bands = _series(report, names)

    with matplotlib.rc_context({"font.family": ["sans-serif"],
                                "font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                                "axes.unicode_minus": False}):
        figure = Figure(figsize=(min(16, 8 + len(days) / 8), 6), dpi=120, layout="constrained")
        axes = figure.add_subplot()
        colors = matplotlib.colormaps["tab20"].colors
        bottom = [0.0] * len(days)
        for index, (label, by_day) in enumerate(bands):
            heights = [by_day.get(day.isoformat(), 0) / 1e6 for day in days]
            axes.bar(days, heights, width=0.8, bottom=bottom, label=label, color=colors[(index * 2) % 20],
                     edgecolor="white", linewidth=0.3)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axes.set_title(text["title"], fontsize=13, pad=12)
        axes.set_xlabel(text["x"])
        axes.set_ylabel(text["y"])
        locator = mdates.AutoDateLocator(minticks=3, maxticks=14)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        margin = timedelta(hours=16)  # bars are 0.8 day wide, centred on midnight
        axes.set_xlim(datetime.combine(days[0], time.min) - margin, datetime.combine(days[-1], time.min) + margin)
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        if bands:
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title=None)
        else:
            axes.text(0.5, 0.5, text["empty"], transform=axes.transAxes, ha="center", va="center", fontsize=14,
                      color="grey")
            axes.set_ylim(0, 1)
        try:
            figure.savefig(path, format="png")
        except OSError as exc:
            raise CommandError(f"cannot write chart {path}: {exc}") from exc
    return {"path": path, "font": font, "chinese": bool(font), "behaviors": len(bands)}
