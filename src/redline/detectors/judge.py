"""The optional judge: a model at any OpenAI-compatible endpoint, asked only about borderline texts.

The classifier hands the judge the texts whose red-line probability falls inside the configured
band. The judge's prompt is built from the policy pack's own definitions, so both parties can read
exactly what it was asked. Its answer must be one category name in JSON; anything else, an error
or a timeout raises, which fails the detector and therefore blocks the request (fail closed).
Off by default: without a ``judge`` setting no request leaves the gateway for judgement.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from redline.policy import PolicyPack
from redline.settings import JudgeConfig


class JudgeError(RuntimeError):
    """The judge did not give a usable answer in time."""


def judge_prompt(pack: PolicyPack) -> str:
    lines = [
        f"You classify requests sent to AI models under the agreement '{pack.title}'.",
        "Decide whether the text asks a model to do something that falls in one of these"
        " categories. Describing, debating, reporting on or protecting against these things is"
        " 'benign'.",
        "",
    ]
    for red_line in pack.red_lines:
        lines.append(f"Red line {red_line.id}: {red_line.definition.strip()}")
    lines.append("")
    for name, category in pack.categories.items():
        lines.append(f"- {name}: {category.description.strip()}")
    lines += [
        "",
        'Answer with JSON only, exactly {"category": "<one of: '
        + ", ".join(pack.categories)
        + '>"}.',
    ]
    return "\n".join(lines)


class Judge:
    def __init__(self, config: JudgeConfig, api_key: str | None, pack: PolicyPack) -> None:
        self.config = config
        self.band = config.band
        self._url = config.base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._prompt = judge_prompt(pack)
        self._categories = set(pack.categories)

    def category(self, text: str) -> str:
        body = json.dumps(
            {
                "model": self.config.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": self._prompt},
                    {"role": "user", "content": text},
                ],
            }
        ).encode()
        # The URL is the configured judge endpoint: http(s) only, its host approved by the pack.
        request = urllib.request.Request(self._url, body, self._headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_ms / 1000) as reply:  # noqa: S310
                document = json.loads(reply.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise JudgeError(f"judge request failed ({type(exc).__name__})") from None
        try:
            content = document["choices"][0]["message"]["content"]
            answer = json.loads(content)["category"]
        except (KeyError, IndexError, TypeError, ValueError):
            raise JudgeError("judge answer is not the JSON asked for") from None
        if answer not in self._categories:
            raise JudgeError(f"judge answered an unknown category {answer!r}")
        return str(answer)
