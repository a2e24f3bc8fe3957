"""Interleaved measurement: our operation and its baseline alternate in rounds, so machine noise hits both."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def interleaved(ours: Callable[[int], None], raw: Callable[[int], None], counter, rounds: int = 50,
                per_round: int = 5) -> dict:
    """Runs `per_round` of ours then of raw, `rounds` times; each callable gets a running index. Short rounds:
    a burst of machine noise (seconds long on a shared 2-core machine) lands on both sides, not on one."""
    ours_times, raw_times, calls = [], [], []
    index = 0
    for _ in range(rounds):
        for _ in range(per_round):
            counter.take()
            start = time.perf_counter()
            ours(index)
            ours_times.append(time.perf_counter() - start)
            calls.append(counter.take())
            index += 1
        for _ in range(per_round):
            start = time.perf_counter()
            raw(index)
            raw_times.append(time.perf_counter() - start)
            index += 1
        counter.take()
    ops, raw_ops = len(ours_times) / sum(ours_times), len(raw_times) / sum(raw_times)
    return {
        "ops_per_s": round(ops, 1), "raw_ops_per_s": round(raw_ops, 1), "ratio": round(ops / raw_ops, 3),
        "p50_ms": round(statistics.median(ours_times) * 1000, 2),
        "p99_ms": round(percentile(ours_times, 0.99) * 1000, 2),
        "raw_p50_ms": round(statistics.median(raw_times) * 1000, 2), "ddb_calls": max(set(calls), key=calls.count),
        "samples": len(ours_times),
    }
