"""The console's progress bar: rate and ETA on a terminal, nothing at all when piped."""
from __future__ import annotations

import io

from admin.progress import Progress, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_known_total_shows_a_bar_percentage_rate_and_eta():
    clock, screen = Clock(), Terminal()
    bar = Progress("report", total=1000, unit="entries", stream=screen, clock=clock)
    clock.now += 2.0
    bar.advance(250)
    line = bar.line()
    assert "25%" in line and "250/1,000 entries" in line and "125/s" in line and "ETA 0:06" in line
    assert "█" in line
    assert screen.getvalue().startswith("\r") and "ETA" in screen.getvalue()


def test_an_unknown_total_shows_the_count_rate_and_time_so_far():
    clock = Clock()
    bar = Progress("scan", total=None, unit="entries", stream=Terminal(), clock=clock)
    clock.now += 4.0
    bar.advance(2000)
    assert bar.line() == "scan  2,000 entries  500/s  0:04"


def test_closing_prints_a_final_line_with_a_newline():
    clock, screen = Clock(), Terminal()
    with Progress("issuance", total=10, stream=screen, clock=clock) as bar:
        clock.now += 1.0
        bar.advance(10)
    assert screen.getvalue().rstrip(" ").endswith("\n") and "issuance: done, 10 items in 0:01" in screen.getvalue()


def test_nothing_is_written_when_the_stream_is_not_a_terminal():
    piped = io.StringIO()
    with Progress("report", total=5, stream=piped) as bar:
        bar.advance(5)
    assert piped.getvalue() == ""


def test_progress_yields_every_item_unchanged(capsys):
    assert list(progress(range(5), "items", total=5)) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal
