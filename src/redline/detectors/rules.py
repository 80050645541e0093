"""The rules detector: the pack's rules, matched on every normalised view of every segment.

Rules match the derived views (folded, de-leeted, de-spaced, decoded, ...), never the raw
original, so case and obfuscation do not hide a phrase. Each rule reports at most one finding per
segment: the first view in which it matched. Results are cached by the text's digest, so a
message seen before (a system prompt, the earlier turns of a conversation) costs one lookup. Every
expression is built from bounded pieces, so
matching is linear in the length of the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from redline.canonical import canonical_json, sha256_digest
from redline.detectors import Finding, RequestView, SegmentView, Span
from redline.detectors.cache import DigestCache
from redline.policy import PolicyPack, Rule
from redline.settings import Settings


def term_regex(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One expression for a list of terms: whole words, ``*`` for any ending, flexible spacing."""
    alternatives = []
    for term in sorted(terms, key=len, reverse=True):
        words = []
        for word in term.split(" "):
            stem = word.removesuffix("*")
            words.append(re.escape(stem) + (r"\w{0,12}" if word.endswith("*") else ""))
        alternatives.append(r"[\s-]{1,3}".join(words))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None
    patterns: re.Pattern[str] | None

    def search(self, text: str) -> tuple[int, int] | None:
        if self.patterns is not None:
            match = self.patterns.search(text)
            return None if match is None else match.span()
        return self._near(text)

    def _near(self, text: str) -> tuple[int, int] | None:
        found: list[tuple[list[int], list[tuple[int, int]]]] = []
        for group in self.groups:
            spans = [match.span() for match in group.finditer(text)]
            if not spans:
                return None
            found.append(([start for start, _ in spans], spans))
        within = self.rule.within
        for anchor_start, anchor_end in found[0][1]:
            chosen = [(anchor_start, anchor_end)]
            for starts, spans in found[1:]:
                index = bisect.bisect_left(starts, anchor_start - within)
                if index == len(spans) or spans[index][0] > anchor_end + within:
                    break
                chosen.append(spans[index])
            else:
                start = min(s for s, _ in chosen)
                end = max(e for _, e in chosen)
                if (
                    self.unless is None
                    or self.unless.search(text, max(0, start - within), end + within) is None
                ):
                    return (start, end)
        return None


def _compile(rule: Rule) -> _CompiledRule:
    patterns = (
        re.compile("|".join(f"(?:{pattern})" for pattern in rule.patterns))
        if rule.patterns
        else None
    )
    return _CompiledRule(
        rule=rule,
        groups=tuple(term_regex(group) for group in rule.near),
        unless=term_regex(rule.unless) if rule.unless else None,
        patterns=patterns,
    )


_Hit = tuple[int, str, int, int]  # rule index, view name, start and end in the original text


class RulesDetector:
    name = "rules"

    def __init__(self, pack: PolicyPack, *, cache_size: int = 8192) -> None:
        self._rules = tuple(_compile(rule) for rule in pack.rules)
        rules_document = [rule.model_dump(mode="json") for rule in pack.rules]
        self.version = sha256_digest(canonical_json(rules_document))
        self._cache: DigestCache[tuple[_Hit, ...]] = DigestCache(cache_size)

    def detect(self, view: RequestView) -> list[Finding]:
        findings = []
        for segment_view in view.segments:
            for index, view_name, start, end in self._hits(segment_view):
                rule = self._rules[index].rule
                findings.append(
                    Finding(
                        detector=self.name,
                        category=rule.category,
                        score=rule.score,
                        rule=rule.id,
                        clause=rule.clause,
                        spans=(Span(segment_view.segment.path, start, end, view_name),),
                    )
                )
        return findings

    def _hits(self, segment_view: SegmentView) -> tuple[_Hit, ...]:
        return self._cache.get_or_compute(segment_view.digest, lambda: self._match(segment_view))

    def _match(self, segment_view: SegmentView) -> tuple[_Hit, ...]:
        hits = []
        derived = segment_view.views[1:]
        for index, compiled in enumerate(self._rules):
            for text_view in derived:
                span = compiled.search(text_view.text)
                if span is not None:
                    hits.append((index, text_view.name, *text_view.original_span(*span)))
                    break
        return tuple(hits)


def create(pack: PolicyPack, settings: Settings) -> RulesDetector:
    """Entry point ``redline.detectors:rules``."""
    del settings  # the rules come from the pack alone
    return RulesDetector(pack)
