"""The rules detector: the pack's patterns, matched on every normalised view of every segment.

Patterns are written in lower case and matched against the derived views (folded, de-leeted,
de-spaced, decoded, ...), never the raw original, so case and obfuscation do not hide a phrase.
Each rule reports at most one finding per segment: the first view in which it matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from redline.canonical import canonical_json, sha256_digest
from redline.detectors import Finding, RequestView, Span
from redline.policy import PolicyPack, Rule


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    regex: re.Pattern[str]


class RulesDetector:
    name = "rules"

    def __init__(self, pack: PolicyPack) -> None:
        self._rules = tuple(
            _CompiledRule(rule, re.compile("|".join(f"(?:{p})" for p in rule.patterns)))
            for rule in pack.rules
        )
        rules_document = [rule.model_dump(mode="json") for rule in pack.rules]
        self.version = sha256_digest(canonical_json(rules_document))

    def detect(self, view: RequestView) -> list[Finding]:
        findings = []
        for segment_view in view.segments:
            derived = segment_view.views[1:]
            for compiled in self._rules:
                for text_view in derived:
                    match = compiled.regex.search(text_view.text)
                    if match is None:
                        continue
                    start, end = text_view.original_span(match.start(), match.end())
                    span = Span(segment_view.segment.path, start, end, text_view.name)
                    findings.append(
                        Finding(
                            detector=self.name,
                            category=compiled.rule.category,
                            score=compiled.rule.score,
                            rule=compiled.rule.id,
                            clause=compiled.rule.clause,
                            spans=(span,),
                        )
                    )
                    break
        return findings


def create(pack: PolicyPack) -> RulesDetector:
    """Entry point ``redline.detectors:rules``."""
    return RulesDetector(pack)
