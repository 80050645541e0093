"""The policy-pack schema (``redline.policy/v1``).

A pack names the red lines of an agreement, the clauses that implement each one, the legal
authorities they cite (with the version date the contract pins), the categories detectors report
and the clause and threshold each maps to, the pattern rules, and the upstream hosts the agreement
approves. Cross-references are checked on load, so a pack that loads is a pack that can be enforced.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = r"^[a-z0-9][a-z0-9._-]*$"
_CLAUSE_ID = r"^[A-Z][A-Z0-9]*-[0-9]+$"


class Action(StrEnum):
    """What a clause does when it is crossed, from least to most severe."""

    ALLOW = "allow"
    ANNOTATE = "annotate"
    HOLD = "hold"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.ALLOW: 0, Action.ANNOTATE: 1, Action.HOLD: 2, Action.BLOCK: 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Strict):
    id: str = Field(pattern=_ID)
    name: str


class Authority(_Strict):
    id: str = Field(pattern=_ID)
    title: str
    version_date: dt.date
    reference: str
    excerpt: str = ""


class Clause(_Strict):
    id: str = Field(pattern=_CLAUSE_ID)
    title: str
    text: str
    action: Action
    authorities: tuple[str, ...] = ()


class RedLine(_Strict):
    id: str = Field(pattern=_ID)
    title: str
    definition: str
    authorities: tuple[str, ...]
    clauses: tuple[Clause, ...] = Field(min_length=1)


class Category(_Strict):
    """A detector category: the clause it falls under and the score at which it counts."""

    description: str
    clause: str | None
    threshold: float = Field(ge=0.0, le=1.0)


_TERM = re.compile(r"^[a-z0-9_'’.&/-]+\*?(?: [a-z0-9_'’.&/-]+\*?)*$")


class Rule(_Strict):
    """A pattern rule, matched on every normalised view of every segment.

    A rule is either ``near``: lists of terms that must all occur within ``within`` characters of
    each other (one term from each list, in any order), unless an ``unless`` term occurs in that
    stretch too; or ``patterns``: regular expressions, any of which matching is enough. Terms are
    lower-case words or phrases; a trailing ``*`` on a word matches any ending (``monitor*``).
    The finding falls under the category's clause unless the rule names a more specific ``clause``.
    """

    id: str = Field(pattern=_ID)
    category: str
    clause: str | None = None
    score: float = Field(gt=0.0, le=1.0)
    description: str
    near: tuple[tuple[str, ...], ...] = ()
    within: int = Field(default=80, ge=10, le=400)
    unless: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @field_validator("near")
    @classmethod
    def _near_terms(cls, groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        if groups and len(groups) < 2:
            raise ValueError("'near' needs at least two term lists; use 'patterns' for one")
        for index, group in enumerate(groups):
            if not group:
                raise ValueError(f"near[{index}] is empty")
            _check_terms(group, f"near[{index}]")
        return groups

    @field_validator("unless")
    @classmethod
    def _unless_terms(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        _check_terms(terms, "unless")
        return terms

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for index, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"patterns[{index}] is not a valid regular expression: {exc}"
                ) from None
            if pattern != pattern.lower():
                raise ValueError(
                    f"patterns[{index}] has upper-case letters; rules match lower-cased views, "
                    "so write the pattern in lower case"
                )
        return patterns

    @model_validator(mode="after")
    def _one_form(self) -> Rule:
        if bool(self.near) == bool(self.patterns):
            raise ValueError("give either 'near' (term lists) or 'patterns' (regexes), not both")
        return self


def _check_terms(terms: tuple[str, ...], where: str) -> None:
    for term in terms:
        if not _TERM.match(term):
            raise ValueError(
                f"{where}: term {term!r} must be lower-case words separated by single spaces, "
                "with an optional '*' at the end of a word"
            )


class Upstreams(_Strict):
    """Hosts the agreement approves; the gateway refuses to start with an upstream elsewhere."""

    allowed_hosts: tuple[str, ...] = Field(min_length=1)


class LedgerPolicy(_Strict):
    """Co-signing the parties agreed: who must co-sign checkpoints, and how often."""

    cosigners: tuple[str, ...] = Field(min_length=1, description="verifier keys (name+id+key)")
    max_cosignature_age_hours: float = Field(gt=0)


class ForceControl(_Strict):
    """Which tool calls are force-related actions, and who must authorise each one.

    A tool is governed when its name matches one of ``tools`` (shell-style patterns, compared in
    lower case) or when the detectors place its definition (name, description, parameters) in one
    of the ``classify`` categories. A call to a governed tool is withheld until ``approvals``
    distinct humans holding ``approver_role`` have approved that exact call.
    """

    id: str = Field(pattern=_ID)
    clause: str
    description: str
    tools: tuple[str, ...] = ()
    classify: tuple[str, ...] = ()
    approver_role: Literal["authoriser", "admin"] = "authoriser"
    approvals: int = Field(default=2, ge=1, le=10)
    hold_minutes: float = Field(default=60, gt=0, le=7 * 24 * 60)
    token_minutes: float = Field(default=10, gt=0, le=24 * 60)
    requester_unit_may_approve: bool = False

    @field_validator("tools")
    @classmethod
    def _lower_case_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if pattern != pattern.lower() or not pattern.strip():
                raise ValueError(f"tool pattern {pattern!r} must be non-empty and lower case")
        return patterns


class PolicyPack(_Strict):
    schema_: Literal["redline.policy/v1"] = Field(alias="schema")
    id: str = Field(pattern=_ID)
    version: str
    title: str
    description: str
    parties: tuple[Party, ...] = ()
    authorities: tuple[Authority, ...]
    red_lines: tuple[RedLine, ...] = Field(min_length=1)
    categories: dict[str, Category]
    rules: tuple[Rule, ...] = ()
    upstreams: Upstreams
    ledger: LedgerPolicy | None = None
    force_controls: tuple[ForceControl, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> PolicyPack:
        authority_ids = {a.id for a in self.authorities}
        _unique("authorities", [a.id for a in self.authorities])
        _unique("red_lines", [r.id for r in self.red_lines])
        _unique("rules", [r.id for r in self.rules])
        clause_ids = [c.id for r in self.red_lines for c in r.clauses]
        _unique("clauses", clause_ids)
        for red_line in self.red_lines:
            for cited in red_line.authorities:
                if cited not in authority_ids:
                    raise ValueError(
                        f"red_lines.{red_line.id}.authorities cites '{cited}', which is not in "
                        f"'authorities' (known: {', '.join(sorted(authority_ids))})"
                    )
            for clause in red_line.clauses:
                for cited in clause.authorities:
                    if cited not in authority_ids:
                        raise ValueError(
                            f"clause {clause.id} cites authority '{cited}', which is not in "
                            "'authorities'"
                        )
        for name, category in self.categories.items():
            if category.clause is not None and category.clause not in clause_ids:
                raise ValueError(
                    f"categories.{name}.clause is '{category.clause}', which no red line defines "
                    f"(known clauses: {', '.join(clause_ids)})"
                )
        for rule in self.rules:
            if rule.category not in self.categories:
                raise ValueError(
                    f"rules.{rule.id}.category is '{rule.category}'; add it under 'categories' "
                    f"or use one of: {', '.join(sorted(self.categories))}"
                )
            if rule.clause is not None and rule.clause not in clause_ids:
                raise ValueError(
                    f"rules.{rule.id}.clause is '{rule.clause}', which no red line defines"
                )
        _unique("force_controls", [c.id for c in self.force_controls])
        for control in self.force_controls:
            if control.clause not in clause_ids:
                raise ValueError(
                    f"force_controls.{control.id}.clause is '{control.clause}', which no red line "
                    "defines"
                )
            if self.clause(control.clause)[1].action is not Action.HOLD:
                raise ValueError(
                    f"force_controls.{control.id}.clause '{control.clause}' must be a clause "
                    "whose action is 'hold'"
                )
            if not control.tools and not control.classify:
                raise ValueError(f"force_controls.{control.id} needs 'tools' or 'classify'")
            for name in control.classify:
                if name not in self.categories:
                    raise ValueError(
                        f"force_controls.{control.id}.classify names '{name}', which is "
                        "not under 'categories'"
                    )
        return self

    def clause(self, clause_id: str) -> tuple[RedLine, Clause]:
        for red_line in self.red_lines:
            for clause in red_line.clauses:
                if clause.id == clause_id:
                    return red_line, clause
        raise KeyError(clause_id)


def _unique(where: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{where}: id '{item}' is defined twice")
        seen.add(item)
