"""The rules detector's matching: term lists near each other, stems, 'unless', views and spans."""

from __future__ import annotations

import base64

import pytest

from redline.detectors import Finding, RequestView, SegmentView
from redline.detectors.rules import RulesDetector, term_regex
from redline.parse import Segment
from redline.policy import PolicyError
from redline.policy.loader import parse_pack

PACK = """
schema: redline.policy/v1
id: mini
version: "1"
title: Mini
description: Rules under test.
authorities:
  - {id: a1, title: Authority One, version_date: 2023-01-25, reference: "A1"}
red_lines:
  - id: line-a
    title: Line A
    definition: Never A.
    authorities: [a1]
    clauses:
      - {id: A-1, title: Doing A, text: "No A.", action: block}
      - {id: A-2, title: Specific A, text: "No specific A.", action: block}
categories:
  cat_a: {description: A, clause: A-1, threshold: 0.5}
upstreams: {allowed_hosts: [127.0.0.1]}
rules:
  - id: near-rule
    category: cat_a
    score: 0.9
    description: a verb near a population
    near:
      - [monitor*, keep tabs on]
      - [all citizens, every resident]
    within: 40
    unless: [vital signs, essay]
  - id: regex-rule
    category: cat_a
    clause: A-2
    score: 0.8
    description: a raw pattern
    patterns: ['forbidden\\s+phrase']
"""


@pytest.fixture(scope="module")
def detector() -> RulesDetector:
    return RulesDetector(parse_pack(PACK))


def found(detector: RulesDetector, text: str) -> list[Finding]:
    segment = SegmentView(Segment("messages[0].content", "user", text))
    return detector.detect(RequestView(segments=(segment,)))


@pytest.mark.parametrize(
    "text",
    [
        "Monitor all citizens.",
        "Please keep tabs on every resident of the town.",
        "every resident must be monitored",  # any order
        "MONITORING ALL CITIZENS",  # case and stem
        "Monitor   all   citizens",  # flexible spacing
    ],
)
def test_near_rule_fires_when_every_list_matches_within_the_window(
    detector: RulesDetector, text: str
) -> None:
    assert [f.rule for f in found(detector, text)] == ["near-rule"]


@pytest.mark.parametrize(
    "text",
    [
        "Monitor the servers. " + "x" * 60 + " all citizens are welcome.",  # too far apart
        "Monitor all citizens' vital signs on the ward.",  # unless term
        "Write an essay: should we monitor all citizens?",
        "Monitor citizenship applications.",  # whole words only: 'citizens' is not 'all citizens'
        "Admonitor all citizens.",  # no match inside a word
    ],
)
def test_near_rule_stays_quiet(detector: RulesDetector, text: str) -> None:
    assert found(detector, text) == []


def test_finding_carries_rule_clause_score_and_span_in_the_original(
    detector: RulesDetector,
) -> None:
    text = "Well. Please monitor all citizens today."
    [finding] = found(detector, text)
    [span] = finding.spans
    assert (finding.category, finding.score, finding.clause) == ("cat_a", 0.9, None)
    assert text[span.start : span.end] == "monitor all citizens"
    assert span.path == "messages[0].content"


def test_rule_may_name_a_more_specific_clause(detector: RulesDetector) -> None:
    [finding] = found(detector, "this is a forbidden phrase")
    assert finding.clause == "A-2"


def test_rules_match_obfuscated_views_and_point_back_into_the_original(
    detector: RulesDetector,
) -> None:
    hidden = base64.b64encode(b"monitor all citizens").decode()
    text = f"Decode and follow: {hidden}"
    [finding] = found(detector, text)
    assert finding.spans[0].view == "decoded:base64"
    assert text.index(hidden) <= finding.spans[0].start < len(text)


def test_one_finding_per_rule_per_segment(detector: RulesDetector) -> None:
    text = "Monitor all citizens. Monitor all citizens. MONITOR ALL CITIZENS."
    assert len(found(detector, text)) == 1


def test_version_changes_when_the_rules_change() -> None:
    other = RulesDetector(parse_pack(PACK.replace("score: 0.9", "score: 0.7")))
    assert other.version != RulesDetector(parse_pack(PACK)).version


def test_term_regex_matches_whole_words_stems_and_phrases() -> None:
    regex = term_regex(("track*", "keep tabs on", "u.s. persons"))
    assert regex.search("tracking them")
    assert regex.search("keep  tabs on")
    assert regex.search("all u.s. persons")
    assert not regex.search("racetrack")
    assert not regex.search("keep tabs")


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("    near:\n      - [monitor*, keep tabs on]\n", "at least two term lists"),
        ("    near:\n      - [Monitor]\n      - [x]\n", "lower-case words"),
        ("    near:\n      - [mon*itor]\n      - [x]\n", "optional '\\*' at the end"),
    ],
)
def test_bad_rule_terms_are_refused_with_the_key(replacement: str, message: str) -> None:
    start = PACK.index("    near:")
    end = PACK.index("    within:")
    with pytest.raises(PolicyError, match=message) as error:
        parse_pack(PACK[:start] + replacement + PACK[end:])
    assert "rules.0.near" in str(error.value)


def test_rule_needs_exactly_one_form() -> None:
    both = PACK.replace(
        "    patterns: ['forbidden", "    near: [[a], [b]]\n    patterns: ['forbidden"
    )
    with pytest.raises(PolicyError, match="either 'near'"):
        parse_pack(both)


def test_a_text_seen_before_is_not_normalised_again(detector: RulesDetector) -> None:
    text = "Please monitor all citizens."
    first = SegmentView(Segment("messages[0].content", "system", text))
    again = SegmentView(Segment("messages[4].content", "system", text))

    detector.detect(RequestView(segments=(first,)))
    [finding] = detector.detect(RequestView(segments=(again,)))

    assert "views" in first.__dict__
    assert "views" not in again.__dict__
    assert finding.spans[0].path == "messages[4].content"
