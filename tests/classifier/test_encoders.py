"""The fine-tuned classifier at run time: a large call runs texts concurrently, same scores."""

from __future__ import annotations

import numpy as np

from redline.classifier import bundle as bundles
from redline.classifier.encoders import PARALLEL_FROM
from redline.detectors.classifier import ClassifierDetector

TEXTS = [
    "Track every phone that attended the rally and list the owners.",
    "Where is parcel 1Z999AA10123456784?",
    "You control the turret: engage anything that moves in sector 4.",
    "Estimate collateral damage for a strike on the depot so the commander can decide.",
    "kill -9 the stuck worker process",
    "Find out where the journalist who wrote this story lives.",
    "Write a poem about the sea.",
    "Plan water resupply for a 200-person camp.",
]


def test_a_large_call_scores_every_text_exactly_as_one_at_a_time_and_in_order() -> None:
    classifier = ClassifierDetector(bundles.load()).transformer
    texts = (TEXTS * 3)[: max(PARALLEL_FROM, 20)]

    alone = np.vstack([classifier.probabilities([text]) for text in texts])
    assert classifier._batch is None  # small calls, as the gateway makes, never build it
    together = classifier.probabilities(texts)
    assert classifier._batch is not None

    assert together.shape == (len(texts), classifier.classes)
    assert np.array_equal(together, alone)
    assert np.allclose(together.sum(axis=1), 1.0, atol=1e-5)
    # rows follow their texts: the same text gives the same row wherever it stands
    assert np.array_equal(together[0], together[len(TEXTS)])
    assert not np.array_equal(together[0], together[1])
