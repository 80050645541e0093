"""The labelled corpus: template families in YAML, expanded into examples and split by family.

A family is one scenario written in several phrasings, with optional slots (``{city}``) that the
expansion fills from the family's own lists. Every example of a family lands in the same split
(train, dev or test), chosen by a hash of the family id, so paraphrases never leak from training
into evaluation. Expansion is deterministic: the same files always give the same examples.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Label = Literal[
    "mass_surveillance", "targeted_surveillance", "autonomous_force", "force_support", "benign"
]
LABELS: tuple[str, ...] = (
    "mass_surveillance",
    "targeted_surveillance",
    "autonomous_force",
    "force_support",
    "benign",
)
Register = Literal[
    "terse", "request", "order", "system_prompt", "multi_turn", "tool_definition", "table", "long"
]
Split = Literal["train", "dev", "test"]

_SLOT = re.compile(r"\{([a-z_]+)\}")
VARIANTS_PER_TEXT = 3


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    family: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: Label
    register_: Register = Field(alias="register")
    topic: str = Field(min_length=3)
    slots: dict[str, tuple[str, ...]] = {}
    texts: tuple[str, ...] = Field(min_length=4)

    @model_validator(mode="after")
    def _slots_resolve(self) -> Family:
        for text in self.texts:
            for name in _SLOT.findall(text):
                if name not in self.slots:
                    raise ValueError(
                        f"family {self.family}: text uses {{{name}}} but no slot defines it"
                    )
        for name, values in self.slots.items():
            if len(values) < 2:
                raise ValueError(f"family {self.family}: slot {name} needs at least two values")
        if len(set(self.texts)) != len(self.texts):
            raise ValueError(f"family {self.family}: duplicate texts")
        return self


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str
    family: str
    register: str
    topic: str
    split: str
    source: str


def split_of(family: str) -> Split:
    """78 / 7 / 15 by a stable hash of the family id.

    Dev only calibrates (temperature, thresholds, the fast-tier floor), for which a few thousand
    examples suffice; every other family teaches. Test is the last 15 buckets and never moves.
    """
    bucket = int.from_bytes(hashlib.sha256(family.encode()).digest()[:4], "big") % 100
    return "train" if bucket < 78 else "dev" if bucket < 85 else "test"


def load_families(folder: Path) -> list[tuple[str, Family]]:
    families: list[tuple[str, Family]] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        document = yaml.safe_load(path.read_text("utf-8")) or []
        if not isinstance(document, list):
            raise ValueError(f"{path}: a corpus file is a YAML list of families")
        for index, item in enumerate(document):
            try:
                family = Family.model_validate(item)
            except ValidationError as exc:
                raise ValueError(f"{path} item {index}: {exc}") from None
            if family.family in seen:
                raise ValueError(
                    f"{path}: family {family.family} also defined in {seen[family.family]}"
                )
            seen[family.family] = path.name
            families.append((path.stem, family))
    return families


def expand(source: str, family: Family) -> Iterator[Example]:
    """Each text once per slot combination drawn (up to ``VARIANTS_PER_TEXT``), in a fixed order."""
    rng = random.Random(family.family)
    split = split_of(family.family)
    emitted: set[str] = set()
    for text_index, template in enumerate(family.texts):
        names = sorted(set(_SLOT.findall(template)))
        if names:
            combos = list(itertools.product(*(family.slots[name] for name in names)))
            rng.shuffle(combos)
            fills = [dict(zip(names, combo, strict=True)) for combo in combos[:VARIANTS_PER_TEXT]]
        else:
            fills = [{}]
        for fill_index, fill in enumerate(fills):
            text = _fill(template, fill)
            if text in emitted:
                continue
            emitted.add(text)
            yield Example(
                id=f"{family.family}/{text_index}.{fill_index}",
                text=text,
                label=family.label,
                family=family.family,
                register=family.register_,
                topic=family.topic,
                split=split,
                source=source,
            )


def _fill(template: str, values: dict[str, str]) -> str:
    return _SLOT.sub(lambda match: values[match.group(1)], template)


def build(folder: Path) -> list[Example]:
    return [
        example for source, family in load_families(folder) for example in expand(source, family)
    ]


def summary(examples: list[Example]) -> str:
    lines = [f"{len(examples)} examples from {len({e.family for e in examples})} families"]
    for field in ("label", "split", "register", "source"):
        counts = Counter(getattr(e, field) for e in examples)
        lines.append(f"  {field}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    benign = sum(e.label == "benign" for e in examples)
    lines.append(f"  hard negatives (benign): {benign / max(1, len(examples)):.0%}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(build(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/families"))))
