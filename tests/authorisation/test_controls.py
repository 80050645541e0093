"""Which offered tools a force control governs, and how a proposed call is judged."""

from __future__ import annotations

from redline.authorisation.controls import decide_with_controls, govern
from redline.decision import decide
from redline.detectors import Finding, Span
from redline.parse import ToolDefinition
from redline.policy import Action, load_pack

PACK = load_pack("agreement")
ENGAGE = ToolDefinition("engage_target", "Engage a target.", "tools[0].function")
WEATHER = ToolDefinition("get_weather", "Weather at a grid.", "tools[1].function")
TURRET = ToolDefinition("sector_action", "Fires the turret at what you pick.", "tools[2].function")


def finding(category: str, path: str, detector: str = "classifier", score: float = 0.9) -> Finding:
    return Finding(detector, category, score, spans=(Span(path, 0, 5, "original"),))


def test_a_tool_is_governed_by_its_name_pattern() -> None:
    governance, _ = govern(PACK, [ENGAGE, WEATHER], [])
    assert set(governance.tools) == {"engage_target"}
    assert governance.judge("engage_target", True).held
    assert not governance.judge("get_weather", True).held


def test_a_tool_is_governed_by_how_its_definition_reads() -> None:
    read_as_force = finding("autonomous_force", TURRET.path)
    governance, remaining = govern(PACK, [TURRET, WEATHER], [read_as_force])
    assert governance.tools["sector_action"].why.startswith("definition classified")
    assert remaining == []  # the definition is why the tool is governed, not a violation


def test_a_definition_below_the_categorys_threshold_governs_nothing() -> None:
    faint = finding("autonomous_force", TURRET.path, score=0.2)
    governance, remaining = govern(PACK, [TURRET], [faint])
    assert governance.tools == {}
    assert remaining == [faint]


def test_calls_that_cannot_be_judged_are_held() -> None:
    governance, _ = govern(PACK, [WEATHER], [])
    assert "not offered" in governance.judge("open_valve", True).why
    assert "not a JSON object" in governance.judge("get_weather", False).why


def test_offering_a_governed_tool_annotates_the_request() -> None:
    _, decision = decide_with_controls(PACK, [ENGAGE, WEATHER], [], [], decide(PACK, [], []))
    assert decision.kind is Action.ANNOTATE
    assert decision.reasons[-1].code == "force_control:weapons-employment"


def test_with_a_governed_tool_a_semantic_engagement_finding_is_held_not_blocked() -> None:
    asked = finding("autonomous_force", "messages[1].content")
    _, decision = decide_with_controls(PACK, [ENGAGE], [asked], [], decide(PACK, [asked], []))
    assert decision.kind is Action.HOLD
    assert decision.clause == "UOF-3"


def test_explicit_wording_handing_over_authority_stays_a_block() -> None:
    rule = finding("autonomous_force", "messages[0].content", detector="rules", score=0.95)
    _, decision = decide_with_controls(PACK, [ENGAGE], [rule], [], decide(PACK, [rule], []))
    assert decision.kind is Action.BLOCK
    assert decision.clause == "UOF-1"


def test_without_governed_tools_the_decision_is_untouched() -> None:
    asked = finding("autonomous_force", "messages[1].content")
    original = decide(PACK, [asked], [])
    _, decision = decide_with_controls(PACK, [], [asked], [], original)
    assert decision == original
