"""The semantic classifier detector: two tiers, every normalised view, cached by content digest.

Tier one, on every text: the distilled static embedding and its trained head (tens of
microseconds). Tier two, whenever tier one does not find the text clearly benign: MiniLM
fine-tuned as the classifier (int8 ONNX), on at most the bundle's ``max_tokens`` tokens.
Each derived view of a text (folded, de-leeted, de-spaced, decoded) is classified, long texts in
overlapping windows, and the highest probability per category is the segment's score, so
obfuscation or burying a request in a long document does not hide it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from redline.classifier import bundle as bundles
from redline.classifier.encoders import (
    StaticEncoder,
    TransformerClassifier,
    Vectors,
    load_tokenizer,
)
from redline.detectors import Finding, RequestView, SegmentView, Span
from redline.detectors.cache import DigestCache
from redline.detectors.judge import Judge
from redline.policy import PolicyPack
from redline.settings import Settings

CHUNK_WORDS = 96
CHUNK_STRIDE = 48
REPORT_FLOOR = 0.01

_Scores = tuple[tuple[str, float, str, int, int], ...]  # category, score, view, start, end


class ClassifierDetector:
    name = "classifier"

    def __init__(
        self, bundle: bundles.Bundle, *, judge: Judge | None = None, cache_size: int = 8192
    ) -> None:
        self.bundle = bundle
        self.judge = judge
        # The judge is part of what decides, so its endpoint and model are part of the version.
        self.version = bundle.digest
        if judge is not None:
            self.version += f"+judge:{judge.config.model}@{judge.config.base_url}"
        tokenizer = load_tokenizer(bundle.folder / "tokenizer.json", 512)
        self.static = StaticEncoder(tokenizer, bundle.table())
        self.head = bundle.head("head")
        self.labels = bundle.labels
        self.red_lines = [i for i, label in enumerate(self.labels) if label != "benign"]
        band = bundle.manifest["borderline_band"]
        self.band = (float(band[0]), float(band[1]))
        settings = bundle.manifest["transformer"]
        self.transformer = TransformerClassifier(
            bundle.transformer_path(),
            load_tokenizer(bundle.folder / "tokenizer.json", int(settings["max_tokens"])),
            float(settings["temperature"]),
        )
        self._cache: DigestCache[_Scores] = DigestCache(cache_size)

    def detect(self, view: RequestView) -> list[Finding]:
        findings = []
        for segment_view in view.segments:
            for category, score, view_name, start, end in self._scores(segment_view):
                findings.append(
                    Finding(
                        detector=self.name,
                        category=category,
                        score=score,
                        spans=(Span(segment_view.segment.path, start, end, view_name),),
                    )
                )
        return findings

    def classify(self, texts: Sequence[str]) -> Vectors:
        """Class probabilities for plain texts (one row each, columns in ``labels`` order)."""
        probabilities = self.head.probabilities(self.static.encode(texts))
        probabilities = self._second_opinion(texts, probabilities)
        return self._judged(texts, probabilities)

    # -- internals ---------------------------------------------------------------------------

    def _scores(self, segment_view: SegmentView) -> _Scores:
        return self._cache.get_or_compute(segment_view.digest, lambda: self._score(segment_view))

    def _score(self, segment_view: SegmentView) -> _Scores:
        pieces: list[tuple[str, str, int, int]] = []  # text, view, original start, end
        for text_view in segment_view.views[1:]:
            for chunk, start, end in _chunks(text_view.text):
                first, last = text_view.original_span(start, end)
                pieces.append((chunk, text_view.name, first, last))
        probabilities = self.classify([piece[0] for piece in pieces]) if pieces else None
        scores = []
        if probabilities is not None:
            for column in self.red_lines:
                row = int(probabilities[:, column].argmax())
                score = float(probabilities[row, column])
                if score >= REPORT_FLOOR:
                    _, view_name, start, end = pieces[row]
                    scores.append((self.labels[column], round(score, 4), view_name, start, end))
        return tuple(scores)

    def _second_opinion(self, texts: Sequence[str], probabilities: Vectors) -> Vectors:
        low, high = self.band
        strongest = probabilities[:, self.red_lines].max(axis=1)
        borderline = np.flatnonzero((strongest >= low) & (strongest <= high))
        if len(borderline) == 0:
            return probabilities
        second = self.transformer.probabilities([texts[int(i)] for i in borderline])
        probabilities = probabilities.copy()
        probabilities[borderline] = second
        return probabilities

    def _judged(self, texts: Sequence[str], probabilities: Vectors) -> Vectors:
        """Texts still in the judge's band get the judge's category (raises if it cannot say)."""
        if self.judge is None:
            return probabilities
        low, high = self.judge.band
        strongest = probabilities[:, self.red_lines].max(axis=1)
        asked = np.flatnonzero((strongest >= low) & (strongest <= high))
        if len(asked) == 0:
            return probabilities
        probabilities = probabilities.copy()
        for index in asked:
            answer = self.judge.category(texts[int(index)])
            row = np.full(len(self.labels), 0.0, dtype=np.float32)
            row[self.labels.index(answer)] = 1.0
            probabilities[index] = row
        return probabilities


def _chunks(text: str) -> list[tuple[str, int, int]]:
    """The whole text, or overlapping windows of ``CHUNK_WORDS`` words when it is longer.

    Windows are about as long as the texts the transformer was trained on, and overlap by half,
    so any request of up to ``CHUNK_STRIDE`` words lies wholly inside one window. (Classifying
    single sentences out of context was measured to triple false positives on the dev split.)
    """
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    if len(words) <= CHUNK_WORDS:
        return [(text, 0, len(text))]
    pieces = []
    for first in range(0, len(words), CHUNK_STRIDE):
        last = min(len(words), first + CHUNK_WORDS) - 1
        start, end = words[first][0], words[last][1]
        pieces.append((text[start:end], start, end))
        if last == len(words) - 1:
            break
    return pieces


_WORD = re.compile(r"\S+")


def create(pack: PolicyPack, settings: Settings) -> ClassifierDetector:
    """Entry point ``redline.detectors:classifier``: the shipped bundle, and the judge if set."""
    judge = None
    if settings.judge is not None:
        judge = Judge(settings.judge, settings.upstream_api_key(settings.judge), pack)
    return ClassifierDetector(bundles.load(), judge=judge)
