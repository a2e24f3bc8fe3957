"""What every console command shares: output (human or --json), confirmation, audit, progress."""
from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from chalicelib.domain import clock, ids
from chalicelib.domain.platforms import DEFAULT
from chalicelib.store.models import AuditRecord

from .progress import Progress, progress  # noqa: F401  (the commands import them from here)


class CommandError(Exception):
    """A failure the operator should read (exit status 1)."""


class UsageError(CommandError):
    """A command line that cannot mean anything, found after parsing (exit status 2, like argparse's)."""


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def result(self, data: Any, text: str | None = None) -> None:
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            print(text if text is not None else json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def info(self, text: str) -> None:
        if not self.as_json:
            print(text, file=sys.stderr)


def parsed_once(entries: list, parse, error: type[Exception], noun: str, platform: str) -> list[tuple[dict, Any]]:
    """A catalog section's entries each as `parse(entry, platform)` reads it (its `error` as a CommandError), in
    order with the entry, refusing an id listed twice (`noun`: "tree", "goods")."""
    parsed, seen = [], set()
    for entry in entries:
        try:
            item = parse(entry, platform)
        except error as exc:
            raise CommandError(str(exc)) from exc
        if item.id in seen:
            raise CommandError(f"{noun} {item.id} is listed twice")
        seen.add(item.id)
        parsed.append((entry, item))
    return parsed


def confirm(question: str, assume_yes: bool) -> None:
    """Asks before a destructive or bulk write unless --yes; refuses when nobody can answer."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(f"{question} — refusing without --yes (no terminal to ask)")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CommandError("cancelled")


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def known_platform(platform_id: str, allow_all: bool = False) -> str:
    """`--platform ID`: the id when it names a platform (`default` reads nothing), or `all` where the command takes
    every platform (`allow_all`), else a usage error (exit 2), raised before the command reads anything else."""
    from chalicelib.domain.platforms import ALL
    from chalicelib.errors import UnknownPlatformError
    from chalicelib.services.platforms import require_known

    if allow_all and platform_id == ALL:
        return ALL
    try:
        return require_known(platform_id)
    except UnknownPlatformError:
        choices = "default, all, or a platform of the catalog" if allow_all else "default or a platform of the catalog"
        raise UsageError(f"--platform {platform_id}: no such platform ({choices})") from None


def audit(command: str, arguments: dict, reason: str | None = None, outcome: Any = None,
          platform: str | None = None) -> None:
    """Records who changed what, when and why, and the platform it concerned: `platform`, else the arguments'
    `platform` (issuance names its scope there), else `default`. Every command that changes data calls it."""
    now = clock.now()
    named = arguments.get("platform") if isinstance(arguments, dict) else None
    platform = platform or (named if isinstance(named, str) else None) or DEFAULT
    AuditRecord(now.strftime("%Y-%m"), ids.sortable_id(clock.epoch_ms(now)), at=clock.iso(now),
                operator=operator(), command=command, arguments=arguments, reason=reason, outcome=outcome,
                platform=platform).save()
