"""stats [--platform ID|all] [--days N]: a platform's public stats (as GET /v1/stats shows them for it) and its
distinct active users of the last days; `--platform all` gives every platform's stats and the deployment's totals
(shared/contract/platforms.md rule 6): {"platforms": {id: stats}, "all": {"persons", "carbon_g", "points_issued",
"organizations", "adoptions"}}, persons counted once (services/stats.deployment_totals)."""
from __future__ import annotations

from chalicelib.api.shapes import carbon_g
from chalicelib.api.shapes_boards import stats_json
from chalicelib.domain import clock
from chalicelib.domain.platforms import ALL
from chalicelib.services import stats
from chalicelib.services.platforms import every_id

from .console import Output, UsageError, known_platform


def run(args, out: Output) -> None:
    if not 1 <= args.days <= 90:
        raise UsageError("--days must be 1 to 90")
    platform = known_platform(args.platform, allow_all=True)
    if platform == ALL:
        return _all(out)
    daily = stats.daily_actives(clock.business_day(clock.now()), args.days, platform=platform)
    result = {**stats_json(stats.public_stats(platform=platform)), "daily_active_users": daily}
    lines = [f"{key}: {value}" for key, value in result.items() if key != "daily_active_users"]
    out.result(result, "\n".join(lines + ["daily active users:"] + [f"  {day}  {n}" for day, n in daily.items()]))


def _all(out: Output) -> None:
    stats.forget()  # the console reads fresh figures
    ids = every_id()
    per = {platform: stats_json(stats.public_stats(platform=platform)) for platform in ids}
    totals = stats.deployment_totals(ids)
    every = {"persons": totals["persons"], "carbon_g": carbon_g(totals["carbon_mg"]),
             "points_issued": totals["points_issued"], "organizations": totals["organizations"],
             "adoptions": totals["adoptions"]}
    lines = [f"{platform}: " + ", ".join(f"{k} {v}" for k, v in shown.items() if k != "day")
             for platform, shown in per.items()]
    out.result({"platforms": per, "all": every}, "\n".join(lines + ["all: " + ", ".join(
        f"{k} {v}" for k, v in every.items())]))
