"""The capacity plan: measured cost per operation (bench/operations.py) x assumed usage -> request units,
money by service, the hottest keys and the nightly jobs' durations for 1, 10 and 40 million people.

    python -m bench.capacity                    # measures (about 5 minutes), prints docs/capacity.md's tables
    python -m bench.capacity --write-doc        # ... and puts them into docs/capacity.md (between its markers)
    python -m bench.capacity --save m.json      # ... and keeps the measurements; --measured m.json re-plans
    python -m bench.capacity --users 2e7 --price-factor 1.2   # another size, another region's prices

Every assumption is a named constant below (and printed with the plan), so the plan is re-run, not
re-derived, when usage is known or a feature changes what an operation costs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import capacity_model as model
from .capacity_model import ASSUMPTIONS, plan

DOC = Path(__file__).resolve().parents[1] / "docs" / "capacity.md"
BEGIN, END = "<!-- capacity:begin (python -m bench.capacity --write-doc) -->", "<!-- capacity:end -->"


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def markdown(measured: dict, scales: list[float], price_factor: float = 1.0,
             platforms: tuple[int, float] | None = (model.PLATFORMS, model.PLATFORM_USERS)) -> str:
    """The tables of docs/capacity.md: a column per scale of one platform, and one of `platforms` (how many, users
    each) sharing the deployment."""
    plans = [plan(measured, users, price_factor) for users in scales]
    top = plans[-1]  # the largest single platform: its hot keys, nightly jobs and goals
    if platforms:
        plans.append(plan(measured, platforms[0] * platforms[1], price_factor, platforms[0]))
    out = ["### Assumptions (bench/capacity_model.py)", "", "| assumption | value |", "|---|---|"]
    out += [f"| {text} | {value} |" for text, value in ASSUMPTIONS()]
    out += ["", "### What each operation costs (measured)", "",
            "WRU and RRU per operation. \"alone\": the operation's aggregation folded alone in its run (every shared "
            "item written for it). \"busy\": its own items, plus its share of what a measured run's items share "
            f"(runs of {plans[0]['page_items']:.0f} items on average); the plan uses \"busy\".", "",
            "| operation | DynamoDB calls of the request | RRU | WRU busy | WRU alone | of which the request | "
            "per day at 1 M |", "|---|---|---:|---:|---:|---:|---:|"]
    for op in sorted(plans[0]["operations"], key=lambda o: o.name):
        calls = ", ".join(f"{n:.3g} {k}" for k, n in sorted(op.request_operations.items())) or "none (cached)"
        out.append(f"| {op.name} | {calls} | {op.read_units:.1f} | {op.write_units:.1f} | {op.alone_write_units:.1f} | "
                   f"{op.request_write_units:.1f} | {_fmt(op.per_day)} |")
    heads = " | ".join(f"{p['users'] / 1e6:g} M people" if p["platforms"] == 1 else
                       f"{p['platforms']} platforms x {p['users'] / p['platforms'] / 1e6:g} M users" for p in plans)
    out += ["", "### The plan", "", f"| | {heads} |", "|---|" + "---:|" * len(plans)]

    def line(label: str, values) -> None:
        out.append(f"| {label} | " + " | ".join(values) + " |")

    line("daily active people", [_fmt(p["daily_active"]) for p in plans])
    line("API requests a day", [_fmt(p["requests_per_day"]) for p in plans])
    line("requests per s: mean / busiest hour / burst", [
        f"{_fmt(p['mean_rps'])} / {_fmt(p['peak_rps'])} / {_fmt(p['burst_rps'])}" for p in plans])
    line("**write units per s at the burst** (all tables)", [_fmt(p["burst_wru_s"]) for p in plans])
    line("**read units per s at the burst** (all tables)", [_fmt(p["burst_rru_s"]) for p in plans])
    line("storage after a year, GB", [_fmt(p["storage_gb_year"]) for p in plans])
    line("Lambda concurrency at the burst", [_fmt(p["concurrency_peak"]) for p in plans])
    for name in plans[0]["costs"]:
        line(f"{name}, USD/month", [_fmt(p["costs"][name]) for p in plans])
    line("**total, USD/month**", [_fmt(p["cost_month"]) for p in plans])
    line("**hottest key** (writes per s)", [f"`{p['hot_keys'][0][0]}` {_fmt(p['hot_keys'][0][1], 1)}"
                                            for p in plans])
    for job in plans[0]["nightly"]:
        line(f"nightly: {job}, minutes", [_fmt(p["nightly"][job]["minutes"], 1) for p in plans])
    out += ["", f"### The hottest keys at {top['users'] / 1e6:g} M people (writes per s, jobs included)", "",
            "| key (table:partition) | written by | writes per s |", "|---|---|---:|"]
    out += [f"| `{key}` | {source} | {_fmt(rate, 1)} |" for key, rate, source in top["hot_keys"][:12]]
    out += ["", f"### The nightly jobs at {top['users'] / 1e6:g} M people", "",
            "| job | items | shards x workers | per item, ms (modelled) | minutes |", "|---|---:|---|---:|---:|"]
    for job, figures in top["nightly"].items():
        out.append(f"| {job} | {_fmt(figures['items'])} | {figures['parallel']} | {figures['item_ms']:.2f} | "
                   f"{figures['minutes']:.1f} |")
    out += ["", "### Goals (issue 19)", ""] + [f"- {text}" for text in goals(measured, top)]
    return "\n".join(out)


def goals(measured: dict, top: dict) -> list[str]:
    checkin = next(o for o in top["operations"] if o.name == model.ONE_ORG_CHECKIN)
    key, rate, source = top["hot_keys"][0]
    nightly = {name: f for name, f in top["nightly"].items() if "every minute" not in name}
    slowest = max(nightly.items(), key=lambda kv: kv[1]["minutes"])
    rebuild = [(name, f) for name, f in top["nightly"].items() if "every minute" in name]
    verdict = {True: "**met**", False: "**not met**"}
    return [
        f"A check-in at steady state with one org, all writes including aggregation: {checkin.write_units:.1f} WRU "
        f"busy ({checkin.alone_write_units:g} alone); goal at most 20: {verdict[checkin.write_units <= 20]}.",
        f"The hottest key at {top['users'] / 1e6:g} M people: `{key}` ({source}), {rate:,.1f} writes per s; goal at "
        f"most 300: {verdict[rate <= 300]}.",
        f"The slowest nightly job at {top['users'] / 1e6:g} M people: {slowest[0]}, {slowest[1]['minutes']:.1f} "
        f"minutes; goal at most 30: {verdict[slowest[1]['minutes'] <= 30]}.",
    ] + [f"Not a nightly job but every minute: the {name.split(' (')[0]} of a minute's boards takes "
         f"{f['minutes']:.1f} minutes at {top['users'] / 1e6:g} M people; it must take under 1: "
         f"{verdict[f['minutes'] <= 1]}." for name, f in rebuild]


def write_doc(text: str, path: Path = DOC) -> None:
    doc = path.read_text(encoding="utf-8")
    head, found, rest = doc.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{path} lacks the markers {BEGIN!r} and {END!r}")
    path.write_text(f"{head}{BEGIN}\n\n{text}\n\n{END}{tail}", encoding="utf-8")


def measure() -> dict:
    from chalice.test import Client

    from infra.local.ephemeral import running

    from .operations import measure as run

    with running(WRITE_RATE_PER_MINUTE="1000000") as stack:  # measures costs, not the per-person rate limit
        import app

        with Client(app.app, stage_name="local") as client:
            return run(client, app.app, stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=float, nargs="+", default=[1e6, 1e7, 4e7])
    parser.add_argument("--price-factor", type=float, default=1.0)
    parser.add_argument("--measured", help="a JSON file of measurements (--save) to plan from, instead of measuring")
    parser.add_argument("--save", help="write the measurements to this JSON file")
    parser.add_argument("--write-doc", action="store_true", help="put the tables into docs/capacity.md")
    args = parser.parse_args(argv)
    if args.measured:
        measured = json.loads(Path(args.measured).read_text(encoding="utf-8"))
    else:
        measured = measure()
    if args.save:
        Path(args.save).write_text(json.dumps(measured, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    text = markdown(measured, args.users, args.price_factor)
    if args.write_doc:
        write_doc(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
