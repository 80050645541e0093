"""Normalise: views of a text that undo evasion, each with offsets back to the original."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextView:
    """A transformed copy of a segment's text.

    ``offsets[i]`` is the index in the original text of the character ``text[i]`` came from, so
    evidence found in any view can be shown in the original.
    """

    name: str
    text: str
    offsets: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if not self.offsets or start >= end:
            return (0, 0)
        first = self.offsets[min(start, len(self.offsets) - 1)]
        last = self.offsets[min(end, len(self.offsets)) - 1]
        return (first, last + 1)


def views_of(text: str) -> tuple[TextView, ...]:
    original = TextView("original", text, tuple(range(len(text))))
    folded = TextView("folded", text.casefold(), tuple(range(len(text))))
    return (original, folded)
