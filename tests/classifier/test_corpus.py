"""The corpus: families expand deterministically and split by family, never by row."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from redline.classifier.corpus import build, load_families, split_of


def test_expansion_is_deterministic(corpus_folder: Path) -> None:
    assert build(corpus_folder) == build(corpus_folder)


def test_every_family_lands_in_exactly_one_split(corpus_folder: Path) -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for example in build(corpus_folder):
        splits[example.family].add(example.split)
    assert all(len(found) == 1 for found in splits.values())
    assert {next(iter(found)) for found in splits.values()} == {"train", "dev", "test"}


def test_slots_are_filled_and_ids_are_unique(corpus_folder: Path) -> None:
    examples = build(corpus_folder)
    assert not any("{" in example.text for example in examples)
    assert len({example.id for example in examples}) == len(examples)


def test_split_is_a_stable_hash_of_the_family() -> None:
    assert split_of("ms-city-phones") == split_of("ms-city-phones")
    counts = defaultdict(int)
    for number in range(2000):
        counts[split_of(f"family-{number}")] += 1
    assert 0.73 < counts["train"] / 2000 < 0.83
    assert 0.04 < counts["dev"] / 2000 < 0.10
    assert 0.12 < counts["test"] / 2000 < 0.18


def test_a_text_using_an_undefined_slot_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "- family: x-bad\n  label: benign\n  register: terse\n  topic: bad slot\n"
        "  texts: ['a {city}', 'b', 'c', 'd']\n"
    )
    with pytest.raises(ValueError, match=r"uses \{city\}"):
        load_families(tmp_path)


def test_a_family_defined_twice_is_refused(tmp_path: Path) -> None:
    family = (
        "- family: x-dup\n  label: benign\n  register: terse\n  topic: dup\n  texts: [a, b, c, d]\n"
    )
    (tmp_path / "one.yaml").write_text(family)
    (tmp_path / "two.yaml").write_text(family)
    with pytest.raises(ValueError, match="also defined"):
        load_families(tmp_path)
