"""Evaluation: run labelled texts through the same pipeline the gateway uses, and score it.

Each row's gold category (after ``--label-map``) names a red line through the policy pack; the
pipeline's decision names the red line it enforced (``block``, ``hold`` and ``annotate`` all name
one). From those come per-red-line precision, recall and F1, the false-positive rate on benign
rows, a confusion matrix over categories, a per-source breakdown, and latency percentiles.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from redline.parse import Segment
from redline.pipeline import Pipeline
from redline.policy import PolicyPack

BENIGN = "benign"


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    source: str = "-"


@dataclass(frozen=True)
class Outcome:
    row: Row
    gold_red_line: str | None
    predicted_red_line: str | None
    predicted_category: str
    red_line_scores: dict[str, float]
    seconds: float


def category_red_lines(pack: PolicyPack) -> dict[str, str | None]:
    """Each category's red line, through its clause."""
    mapping: dict[str, str | None] = {}
    for name, category in pack.categories.items():
        mapping[name] = None if category.clause is None else pack.clause(category.clause)[0].id
    return mapping


def run(pipeline: Pipeline, rows: Iterable[Row]) -> list[Outcome]:
    red_line_of = category_red_lines(pipeline.pack)
    outcomes = []
    for row in rows:
        if row.label not in red_line_of:
            raise ValueError(
                f"label {row.label!r} is not a category of policy {pipeline.pack.id} "
                f"({', '.join(red_line_of)}); map it with --label-map"
            )
        started = time.perf_counter()
        inspection = pipeline.inspect_now([Segment("text", "user", row.text)])
        seconds = time.perf_counter() - started
        decision = inspection.decision
        scores: dict[str, float] = defaultdict(float)
        for category, score in decision.scores.items():
            red_line = red_line_of.get(category)
            if red_line is not None:
                scores[red_line] = max(scores[red_line], score)
        top_category = BENIGN
        if decision.red_line is not None and decision.reasons:
            top_category = decision.reasons[0].category or BENIGN
        elif decision.reasons:  # a failure or an unknown category: counted as a refusal
            top_category = "error"
        outcomes.append(
            Outcome(
                row=row,
                gold_red_line=red_line_of[row.label],
                predicted_red_line=decision.red_line,
                predicted_category=top_category,
                red_line_scores=dict(scores),
                seconds=seconds,
            )
        )
    return outcomes


def report(outcomes: Sequence[Outcome], pack: PolicyPack) -> dict[str, Any]:
    red_lines = [red_line.id for red_line in pack.red_lines]
    per_red_line = {rl: _prf(outcomes, rl) for rl in red_lines}
    benign = [o for o in outcomes if o.gold_red_line is None]
    false_positives = sum(o.predicted_red_line is not None for o in benign)
    categories = sorted({o.row.label for o in outcomes} | {o.predicted_category for o in outcomes})
    confusion = {
        gold: dict.fromkeys(categories, 0) for gold in sorted({o.row.label for o in outcomes})
    }
    for outcome in outcomes:
        confusion[outcome.row.label][outcome.predicted_category] += 1
    sources: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        sources[outcome.row.source].append(outcome)
    latencies = np.array([o.seconds for o in outcomes]) * 1000
    return {
        "rows": len(outcomes),
        "labels": dict(Counter(o.row.label for o in outcomes)),
        "red_lines": per_red_line,
        "benign": {
            "rows": len(benign),
            "false_positives": false_positives,
            "false_positive_rate": _ratio(false_positives, len(benign)),
        },
        "confusion": confusion,
        "sources": {
            name: {
                "rows": len(group),
                "red_lines": {rl: _prf(group, rl) for rl in red_lines},
                "benign_false_positive_rate": _ratio(
                    sum(o.predicted_red_line is not None for o in group if o.gold_red_line is None),
                    sum(o.gold_red_line is None for o in group),
                ),
            }
            for name, group in sorted(sources.items())
        },
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 3) if len(latencies) else None,
            "p99": round(float(np.percentile(latencies, 99)), 3) if len(latencies) else None,
        },
    }


def _prf(outcomes: Sequence[Outcome], red_line: str) -> dict[str, float | int | None]:
    true_pos = sum(
        o.gold_red_line == red_line and o.predicted_red_line == red_line for o in outcomes
    )
    predicted = sum(o.predicted_red_line == red_line for o in outcomes)
    actual = sum(o.gold_red_line == red_line for o in outcomes)
    precision = _ratio(true_pos, predicted)
    recall = _ratio(true_pos, actual)
    f1 = None
    if precision is not None and recall is not None and precision + recall > 0:
        f1 = round(2 * precision * recall / (precision + recall), 4)
    return {"support": actual, "precision": precision, "recall": recall, "f1": f1}


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def precision_recall_curve(
    outcomes: Sequence[Outcome], red_line: str
) -> tuple[list[float], list[float]]:
    """Precision and recall of ``red_line`` as its score threshold sweeps from high to low."""
    scored = sorted(
        ((o.red_line_scores.get(red_line, 0.0), o.gold_red_line == red_line) for o in outcomes),
        key=lambda item: -item[0],
    )
    actual = sum(gold for _, gold in scored)
    precisions, recalls, true_pos = [], [], 0
    for index, (_, gold) in enumerate(scored, start=1):
        true_pos += gold
        precisions.append(true_pos / index)
        recalls.append(true_pos / actual if actual else 0.0)
    return precisions, recalls
