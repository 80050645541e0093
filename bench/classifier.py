"""Classifier speed and footprint, beside a keyword-denylist baseline measured in the same run.

    .venv/bin/python bench/classifier.py [--corpus corpus/families] [--split test]

Runs in a fresh process so load time and resident memory are the classifier's own. For every
text of the split (at most 256 tokens, the per-message budget), it times the classifier detector
as the gateway runs it (all normalised views, sentence pieces, the MiniLM tier on the borderline
band), with its cache off so every message pays in full. Then batch throughput, and the same
split through a denylist of the kind peer guardrails ship (banned substrings), with each one's
recall and benign false-positive rate, so the speed is read beside what it buys.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

DENYLIST = (
    "surveil", "monitor", "track", "spy", "wiretap", "watchlist", "facial recognition",
    "location data", "data broker", "profile", "dossier", "target", "strike", "engage", "fire",
    "weapon", "missile", "kill", "drone", "turret", "shoot", "bomb",
)  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "families")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()

    from redline.classifier import bundle as bundles
    from redline.classifier.corpus import build
    from redline.detectors import RequestView, SegmentView
    from redline.parse import Segment

    examples = [e for e in build(args.corpus) if e.split == args.split]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    from redline.detectors.classifier import ClassifierDetector

    detector = ClassifierDetector(bundles.load(), cache_size=0)
    load_seconds = time.perf_counter() - started

    tokenizer = detector.static.tokenizer
    short = [e for e in examples if len(tokenizer.encode(e.text).ids) <= 256]
    texts = [e.text for e in short]
    labels = [e.label for e in short]
    for text in texts[:50]:  # warm up
        detector.detect(RequestView(segments=(SegmentView(Segment("t", "user", text)),)))

    latencies, flagged = [], []
    thresholds = detector.bundle.manifest["thresholds"]
    for text in texts:
        segment = SegmentView(Segment("t", "user", text))
        begin = time.perf_counter()
        findings = detector.detect(RequestView(segments=(segment,)))
        latencies.append((time.perf_counter() - begin) * 1000)
        flagged.append(any(f.score >= thresholds[f.category] for f in findings))

    begin = time.perf_counter()
    for start in range(0, len(texts), 256):
        detector.classify(texts[start : start + 256])
    throughput = len(texts) / (time.perf_counter() - begin)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    deny_latencies, deny_flagged = [], []
    for text in texts:
        begin = time.perf_counter()
        lowered = text.lower()
        deny_flagged.append(any(word in lowered for word in DENYLIST))
        deny_latencies.append((time.perf_counter() - begin) * 1000)

    def quality(hits: list[bool]) -> tuple[float, float]:
        red = [hit for hit, label in zip(hits, labels, strict=True) if label != "benign"]
        benign = [hit for hit, label in zip(hits, labels, strict=True) if label == "benign"]
        return sum(red) / max(1, len(red)), sum(benign) / max(1, len(benign))

    print(
        f"{len(texts)} {args.split} messages of at most 256 tokens; bundle {detector.version[:19]}…"
    )
    print(f"{'':<22}{'p50 ms':>9}{'p99 ms':>9}{'recall':>9}{'benign FPR':>12}")
    recall, fpr = quality(flagged)
    print(
        f"{'classifier (2 tiers)':<22}{percentile(latencies, 50):>9.3f}"
        f"{percentile(latencies, 99):>9.3f}{recall:>9.3f}{fpr:>12.3f}"
    )
    recall, fpr = quality(deny_flagged)
    print(
        f"{'keyword denylist':<22}{percentile(deny_latencies, 50):>9.3f}"
        f"{percentile(deny_latencies, 99):>9.3f}{recall:>9.3f}{fpr:>12.3f}"
    )
    print(f"batch throughput: {throughput:,.0f} messages/s")
    print(f"model load (static table + fine-tuned MiniLM): {load_seconds:.2f} s")
    print(
        f"resident memory: {rss_after:.0f} MB peak"
        f" ({rss_after - rss_before:.0f} MB for the classifier)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
