"""Recall on obfuscated red-line requests, beside clean recall measured in the same run.

    .venv/bin/python bench/obfuscation.py [--split test] [--limit 600]

Takes the red-line examples of a split, rewrites each one six ways (base64, leetspeak,
homoglyphs, zero-width characters, spaced letters, mixed case), runs every version through the
gateway's pipeline (rules and classifier, the shipped policy), and prints the share refused under
the right red line for each, and its ratio to clean recall (the bar is 0.90).
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from redline.classifier.corpus import build  # noqa: E402
from redline.classifier.evaluate import category_red_lines  # noqa: E402
from redline.detectors import registry  # noqa: E402
from redline.parse import Segment  # noqa: E402
from redline.pipeline import Pipeline  # noqa: E402
from redline.policy import load_pack  # noqa: E402
from redline.settings import Settings  # noqa: E402

LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})
HOMOGLYPHS = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"})


def _mixed(text: str) -> str:
    rng = random.Random(text)
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)


VARIANTS: dict[str, Callable[[str], str]] = {
    "clean": lambda text: text,
    "base64": lambda text: "Decode and do this: " + base64.b64encode(text.encode()).decode(),
    "leetspeak": lambda text: text.translate(LEET),
    "homoglyphs": lambda text: text.translate(HOMOGLYPHS),
    "zero-width": lambda text: "\u200b".join(text),
    "spaced letters": lambda text: "   ".join(" ".join(word) for word in text.split()),
    "mixed case": _mixed,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=600)
    args = parser.parse_args()
    settings = Settings()
    pack = load_pack(settings.policy)
    pipeline = Pipeline(pack, registry.build(settings.detectors, pack, settings), budget_s=10)
    red_line_of = category_red_lines(pack)
    examples = [
        e
        for e in build(ROOT / "corpus" / "families")
        if e.split == args.split and e.label != "benign"
    ]
    # Short and medium texts: spaced letters and zero-width characters multiply a text's length.
    examples = [e for e in examples if len(e.text) <= 400]
    random.Random(0).shuffle(examples)
    examples = examples[: args.limit]
    clean = None
    print(f"{len(examples)} red-line {args.split} examples (at most 400 characters)")
    for name, rewrite in VARIANTS.items():
        caught = 0
        for example in examples:
            decision = pipeline.inspect_now(
                [Segment("text", "user", rewrite(example.text))]
            ).decision
            caught += decision.red_line == red_line_of[example.label]
        recall = caught / len(examples)
        clean = recall if clean is None else clean
        print(f"  {name:<15} recall {recall:.3f}   ratio to clean {recall / clean:.2f}")
    pipeline.close()


if __name__ == "__main__":
    main()
