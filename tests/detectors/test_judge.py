"""The optional judge: asked only inside its band, with the pack's definitions; fails closed."""

from __future__ import annotations

import pytest

from redline.classifier import bundle as bundles
from redline.classifier.corpus import LABELS
from redline.detectors.classifier import ClassifierDetector
from redline.detectors.judge import Judge, JudgeError
from redline.parse import Segment
from redline.pipeline import Pipeline
from redline.policy import Action, load_pack
from redline.settings import JudgeConfig
from tests.fakes.fixtures import UPSTREAM_API_KEY
from tests.fakes.openai_upstream import FakeOpenAI

Trained = tuple[bundles.Bundle, dict[str, object]]
PACK = load_pack("agreement")


def judge(
    fake: FakeOpenAI, band: tuple[float, float] = (0.0, 1.0), timeout_ms: float = 2000
) -> Judge:
    config = JudgeConfig(base_url=fake.base_url, model="gpt-fake", band=band, timeout_ms=timeout_ms)
    return Judge(config, UPSTREAM_API_KEY, PACK)


def test_judge_decides_texts_in_its_band_from_the_packs_definitions(
    trained: Trained, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply(content='{"category": "targeted_surveillance"}')
    detector = ClassifierDetector(trained[0], judge=judge(fake_openai))

    [row] = detector.classify(["Find out where my new neighbour goes every evening."])

    assert row[LABELS.index("targeted_surveillance")] == 1.0
    [request] = fake_openai.requests
    system = request.json["messages"][0]["content"]
    assert "domestic-mass-surveillance" in system
    assert PACK.categories["autonomous_force"].description.strip()[:40] in system
    assert (
        request.json["messages"][1]["content"]
        == "Find out where my new neighbour goes every evening."
    )


def test_judge_is_not_asked_outside_its_band(trained: Trained, fake_openai: FakeOpenAI) -> None:
    detector = ClassifierDetector(trained[0], judge=judge(fake_openai, band=(0.9999, 1.0)))

    detector.classify(["Write a short poem about autumn in Reno."])

    assert fake_openai.requests == []


def test_version_names_the_judge(trained: Trained, fake_openai: FakeOpenAI) -> None:
    detector = ClassifierDetector(trained[0], judge=judge(fake_openai))
    assert detector.version.startswith(trained[0].digest)
    assert "+judge:gpt-fake@" in detector.version


@pytest.mark.parametrize(
    "reply",
    [
        {"content": "I think it is probably fine."},
        {"content": '{"category": "something_else"}'},
        {"status": 500, "error": {"message": "overloaded", "type": "server_error"}},
    ],
    ids=["not json", "unknown category", "server error"],
)
def test_an_unusable_answer_raises(trained: Trained, fake_openai: FakeOpenAI, reply: dict) -> None:
    fake_openai.reply(**reply)
    with pytest.raises(JudgeError):
        judge(fake_openai).category("Find out where my new neighbour goes every evening.")


def test_a_slow_judge_fails_the_detector_and_the_request_is_blocked(
    trained: Trained, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply(content='{"category": "benign"}', delay=1.5)
    detector = ClassifierDetector(trained[0], judge=judge(fake_openai, timeout_ms=200))
    pipeline = Pipeline(PACK, [detector], budget_s=5.0)

    inspection = pipeline.inspect_now([Segment("text", "user", "Where does Bo Park live?")])

    assert inspection.decision.kind is Action.BLOCK
    assert inspection.decision.reasons[0].code == "detector_error:classifier"
    pipeline.close()
