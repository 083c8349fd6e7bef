"""Turns worker tallies into the printed summary."""
from collections.abc import Sequence

from zaqar.bench.workers import Tally


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarize(tallies: Sequence[Tally], duration: float) -> str:
    lines = []
    for role in ("producer", "consumer", "observer"):
        group = [t for t in tallies if t.role == role]
        if not group:
            continue
        messages = sum(t.messages for t in group)
        requests = sum(t.requests for t in group)
        errors = sum(t.errors for t in group)
        latencies = [value for t in group for value in t.latencies]
        verb = {"producer": "posted", "consumer": "consumed", "observer": "listed"}[role]
        lines.append(
            f"{role}s: {messages / duration:,.0f} msgs/s {verb}, {requests / duration:,.0f} req/s,"
            f" latency p50 {percentile(latencies, .5) * 1e3:.2f} ms"
            f" p90 {percentile(latencies, .9) * 1e3:.2f} ms"
            f" p99 {percentile(latencies, .99) * 1e3:.2f} ms, errors {errors}")
    return "\n".join(lines)
