"""Force controls applied to one request: which offered tools are governed, and why.

A tool is governed by name (the control's patterns) or by what it does (its definition classified
in one of the control's categories by the same detectors that inspect the request, so a definition
seen before costs a cache lookup). Offering a governed tool is not itself a violation: calls to it
are held for human authorisation. So findings on a governed tool's definition in the control's
categories are taken out of the request's decision and recorded as the reason the tool is governed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace

from redline.decision import Decision, DetectorFailure, Reason, decide
from redline.detectors import Finding
from redline.parse import ToolDefinition
from redline.policy import Action, ForceControl, PolicyPack


@dataclass(frozen=True)
class GovernedTool:
    name: str
    control: ForceControl
    why: str


@dataclass(frozen=True)
class CallVerdict:
    """Whether one proposed tool call must be held, under which control, and why."""

    control: ForceControl | None
    why: str

    @property
    def held(self) -> bool:
        return self.control is not None


@dataclass(frozen=True)
class Governance:
    tools: dict[str, GovernedTool]
    offered: frozenset[str]
    controls: tuple[ForceControl, ...]

    def judge(self, name: str, arguments_valid: bool) -> CallVerdict:
        """A call is held if its tool is governed, or, failing closed, if it cannot be judged:
        a tool the request never offered, or arguments that are not a JSON object."""
        governed = self.tools.get(name)
        if governed is not None:
            return CallVerdict(governed.control, governed.why)
        matched = match_name(self.controls, name)
        if matched is not None:
            return CallVerdict(*matched)
        if not self.controls:
            return CallVerdict(None, "no force controls in the policy")
        strictest = max(self.controls, key=lambda control: control.approvals)
        if name not in self.offered:
            return CallVerdict(strictest, f"tool '{name}' was not offered in the request")
        if not arguments_valid:
            return CallVerdict(strictest, "the call's arguments are not a JSON object")
        return CallVerdict(None, "tool is not governed")


def match_name(controls: Sequence[ForceControl], name: str) -> tuple[ForceControl, str] | None:
    lowered = name.lower()
    for control in controls:
        for pattern in control.tools:
            if fnmatch.fnmatchcase(lowered, pattern):
                return control, f"name matches '{pattern}' ({control.id})"
    return None


def govern(
    pack: PolicyPack, tools: Sequence[ToolDefinition], findings: Sequence[Finding]
) -> tuple[Governance, list[Finding]]:
    """The request's governed tools, and the findings left for the request's own decision."""
    governed: dict[str, GovernedTool] = {}
    by_path = {tool.path: tool for tool in tools}
    for tool in tools:
        matched = match_name(pack.force_controls, tool.name)
        if matched is not None:
            governed[tool.name] = GovernedTool(tool.name, *matched)
    for finding in findings:
        about = _only_tool(finding, by_path)
        if about is None or about.name in governed:
            continue
        for control in pack.force_controls:
            category = pack.categories[finding.category]
            if finding.category in control.classify and finding.score >= category.threshold:
                why = (
                    f"definition classified {finding.category} ({finding.score:.2f}, {control.id})"
                )
                governed[about.name] = GovernedTool(about.name, control, why)
                break
    remaining = [finding for finding in findings if not _absorbed(finding, by_path, governed)]
    offered = frozenset(tool.name for tool in tools)
    return Governance(governed, offered, pack.force_controls), remaining


def _only_tool(finding: Finding, by_path: dict[str, ToolDefinition]) -> ToolDefinition | None:
    """The tool definition a finding is about, if all its evidence lies in that one definition."""
    paths = {span.path for span in finding.spans}
    if len(paths) != 1:
        return None
    return by_path.get(paths.pop())


def _absorbed(
    finding: Finding, by_path: dict[str, ToolDefinition], governed: dict[str, GovernedTool]
) -> bool:
    tool = _only_tool(finding, by_path)
    if tool is None or tool.name not in governed:
        return False
    return finding.category in governed[tool.name].control.classify


def annotate_governed(pack: PolicyPack, decision: Decision, governance: Governance) -> Decision:
    """A request that arms a model with governed tools is at least annotated, naming them."""
    if not governance.tools:
        return decision
    reasons = []
    for tool in governance.tools.values():
        red_line, clause = pack.clause(tool.control.clause)
        reasons.append(
            Reason(
                code=f"force_control:{tool.control.id}",
                detail=f"tool '{tool.name}' is governed: {tool.why}",
                red_line=red_line.id,
                clause=clause.id,
                rule=tool.name,
            )
        )
    if decision.kind.severity >= Action.ANNOTATE.severity:
        return replace(decision, reasons=decision.reasons + tuple(reasons))
    first = reasons[0]
    return replace(
        decision,
        kind=Action.ANNOTATE,
        red_line=first.red_line,
        clause=first.clause,
        reasons=decision.reasons + tuple(reasons),
    )


def decide_with_controls(
    pack: PolicyPack,
    tools: Sequence[ToolDefinition],
    findings: Sequence[Finding],
    failures: Sequence[DetectorFailure],
    decision: Decision,
) -> tuple[Governance, Decision]:
    """The request's decision once its governed tools are accounted for.

    With a governed tool on offer the model cannot engage by itself: every call to that tool
    waits for people. So a semantic sense that the request asks for engagement (a classifier or
    judge finding in a control's categories) falls under the control's clause, a hold, rather
    than under a block. A pattern rule's finding is explicit wording that hands the model
    authority ("on your own", "without approval"); that stays a block, tools or not.
    """
    if not tools:
        return Governance({}, frozenset(), pack.force_controls), decision
    governance, remaining = govern(pack, tools, findings)
    if governance.tools:
        strictest = max(
            (tool.control for tool in governance.tools.values()), key=lambda c: c.approvals
        )
        remaining = [
            replace(finding, clause=strictest.clause)
            if finding.detector != "rules" and finding.category in strictest.classify
            else finding
            for finding in remaining
        ]
    if remaining != list(findings):
        decision = decide(pack, remaining, list(failures))
    return governance, annotate_governed(pack, decision, governance)
