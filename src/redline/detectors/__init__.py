"""Detectors: independent checks that turn an inspected request into findings.

A detector is anything with a ``name``, a ``version`` (a digest that changes when its behaviour
does; it is recorded in every decision) and a ``detect(view) -> list[Finding]`` method. The shipped
detectors are registered exactly as a third party's would be (see ``registry``), so the extension
path runs on every request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

from redline.normalise import TextView, views_of
from redline.parse import Segment


@dataclass(frozen=True)
class SegmentView:
    """A segment of the request with its normalised views (``views[0]`` is the original).

    Views are computed on first use, so a detector that already knows a text (by its digest) does
    not pay for normalising it again: in a growing conversation only new messages cost anything.
    """

    segment: Segment

    @cached_property
    def views(self) -> tuple[TextView, ...]:
        return views_of(self.segment.text)

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of the text: the key under which detectors may cache their results."""
        return hashlib.sha256(self.segment.text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class RequestView:
    """What every detector sees: the request's segments, normalised, and who sent it."""

    segments: tuple[SegmentView, ...]
    principal_id: str | None = None


@dataclass(frozen=True)
class Span:
    """Evidence: characters ``start:end`` of the segment at ``path``, found in view ``view``."""

    path: str
    start: int
    end: int
    view: str


@dataclass(frozen=True)
class Finding:
    """One detector's claim that a category applies, with its score and evidence.

    ``clause`` is set only when a detector knows a more specific clause than the category's.
    """

    detector: str
    category: str
    score: float
    rule: str | None = None
    clause: str | None = None
    spans: tuple[Span, ...] = ()
    subjects: tuple[str, ...] = field(default=())


@runtime_checkable
class Detector(Protocol):
    name: str
    version: str

    def detect(self, view: RequestView) -> list[Finding]: ...
