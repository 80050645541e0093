"""Prometheus metrics, in a registry owned by one gateway (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_SLOW = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "redline_decisions_total",
            "Decisions recorded, by outcome and red line.",
            ["decision", "red_line", "code"],
            registry=self.registry,
        )
        self.responses = Counter(
            "redline_responses_total",
            "Responses sent, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.inspection_seconds = Histogram(
            "redline_inspection_seconds",
            "Time to normalise, detect and decide.",
            buckets=_FAST,
            registry=self.registry,
        )
        self.ledger_commit_seconds = Histogram(
            "redline_ledger_commit_seconds",
            "Time of one durable group commit.",
            buckets=_FAST,
            registry=self.registry,
        )
        self.ledger_batch_size = Histogram(
            "redline_ledger_batch_entries",
            "Entries made durable by one commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "redline_upstream_seconds",
            "Time until the upstream's response headers arrived.",
            ["upstream"],
            buckets=_SLOW,
            registry=self.registry,
        )

    def on_commit(self, entries: int, seconds: float) -> None:
        self.ledger_batch_size.observe(entries)
        self.ledger_commit_seconds.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
