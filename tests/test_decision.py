"""The decision function: pure, explained, and closed on failure."""

from __future__ import annotations

import pytest

from redline.decision import DetectorFailure, decide
from redline.detectors import Finding, Span
from redline.policy import Action, PolicyPack
from redline.policy.loader import parse_pack

PACK = """
schema: redline.policy/v1
id: mini
version: "1"
title: Mini
description: A two-red-line pack for decision tests.
authorities:
  - {id: a1, title: Authority One, version_date: 2023-01-25, reference: "A1 s.1"}
red_lines:
  - id: line-a
    title: Line A
    definition: Never A.
    authorities: [a1]
    clauses:
      - {id: A-1, title: Doing A, text: "No A.", action: block}
      - {id: A-2, title: Specific A, text: "No specific A.", action: block}
  - id: line-b
    title: Line B
    definition: B with a human.
    authorities: [a1]
    clauses:
      - {id: B-1, title: B for a human, text: "B is recorded.", action: annotate}
      - {id: B-2, title: B action, text: "B actions wait.", action: hold}
categories:
  cat_a: {description: A, clause: A-1, threshold: 0.5}
  cat_b: {description: B, clause: B-1, threshold: 0.6}
  cat_b_action: {description: B action, clause: B-2, threshold: 0.5}
  benign: {description: nothing, clause: null, threshold: 1.0}
upstreams:
  allowed_hosts: [127.0.0.1]
"""


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return parse_pack(PACK)


def finding(category: str, score: float, **kw: object) -> Finding:
    return Finding(detector="test", category=category, score=score, **kw)  # type: ignore[arg-type]


def test_no_findings_allow(pack: PolicyPack) -> None:
    decision = decide(pack, [], [])
    assert decision.kind is Action.ALLOW
    assert decision.red_line is None
    assert decision.reasons == ()


def test_finding_below_its_category_threshold_is_scored_but_allowed(pack: PolicyPack) -> None:
    decision = decide(pack, [finding("cat_b", 0.55)], [])
    assert decision.kind is Action.ALLOW
    assert decision.scores == {"cat_b": 0.55}


def test_most_severe_clause_wins_and_every_reason_is_kept(pack: PolicyPack) -> None:
    span = Span("messages[0].content", 3, 9, "folded")
    decision = decide(
        pack,
        [
            finding("cat_b", 0.9),
            finding("cat_a", 0.7, rule="r-a", spans=(span,)),
            finding("cat_b_action", 0.8),
        ],
        [],
    )
    assert decision.kind is Action.BLOCK
    assert (decision.red_line, decision.clause) == ("line-a", "A-1")
    assert [r.clause for r in decision.reasons] == ["A-1", "B-2", "B-1"]
    assert decision.reasons[0].spans == (span,)
    assert decision.reasons[0].code == "test:r-a"


def test_annotate_names_the_clause(pack: PolicyPack) -> None:
    decision = decide(pack, [finding("cat_b", 0.9)], [])
    assert decision.kind is Action.ANNOTATE
    assert decision.clause == "B-1"


def test_a_finding_may_name_a_more_specific_clause(pack: PolicyPack) -> None:
    decision = decide(pack, [finding("cat_a", 0.9, clause="A-2")], [])
    assert decision.clause == "A-2"


def test_benign_category_never_triggers(pack: PolicyPack) -> None:
    assert decide(pack, [finding("benign", 1.0)], []).kind is Action.ALLOW


def test_detector_failure_blocks_even_with_no_findings(pack: PolicyPack) -> None:
    decision = decide(pack, [], [DetectorFailure("classifier", "timeout", "took 900 ms")])
    assert decision.kind is Action.BLOCK
    assert decision.clause is None
    assert decision.reasons[0].code == "detector_error:classifier"


def test_unknown_category_fails_closed(pack: PolicyPack) -> None:
    decision = decide(pack, [finding("made_up", 0.1)], [])
    assert decision.kind is Action.BLOCK
    assert decision.reasons[0].code == "unknown_category:made_up"


def test_same_inputs_same_decision(pack: PolicyPack) -> None:
    findings = [finding("cat_a", 0.7), finding("cat_b", 0.9)]
    assert decide(pack, findings, []) == decide(pack, list(findings), [])
