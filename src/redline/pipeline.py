"""The pipeline in one place: normalise → detect → decide, for the gateway, the CLI and eval alike.

Parsing happens before (it depends on the wire format) and recording and enforcement after (they
depend on where the decision is used); this module is the part every caller shares.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from redline.decision import Decision, DetectorFailure, decide
from redline.detectors import Detector, Finding, RequestView, SegmentView
from redline.parse import Segment
from redline.policy import PolicyPack


@dataclass(frozen=True)
class Inspection:
    view: RequestView
    findings: tuple[Finding, ...]
    failures: tuple[DetectorFailure, ...]
    decision: Decision


class Pipeline:
    def __init__(
        self,
        pack: PolicyPack,
        detectors: Sequence[Detector],
        *,
        budget_s: float = 0.25,
        inline_max_chars: int = 8192,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self.pack = pack
        self.detectors = tuple(detectors)
        self.budget_s = budget_s
        self.inline_max_chars = inline_max_chars
        self._executor = executor or ThreadPoolExecutor(2, thread_name_prefix="redline-detect")

    @property
    def versions(self) -> dict[str, str]:
        """Each detector's version digest, recorded in every decision."""
        return {detector.name: detector.version for detector in self.detectors}

    def inspect_now(
        self, segments: Sequence[Segment], principal_id: str | None = None
    ) -> Inspection:
        """Inspect synchronously. A detector that raises or overruns its budget is a failure."""
        view = RequestView(
            segments=tuple(SegmentView(segment) for segment in segments),
            principal_id=principal_id,
        )
        findings: list[Finding] = []
        failures: list[DetectorFailure] = []
        for detector in self.detectors:
            started = time.perf_counter()
            try:
                found = detector.detect(view)
            except Exception as exc:
                failures.append(DetectorFailure(detector.name, "exception", type(exc).__name__))
                continue
            elapsed = time.perf_counter() - started
            if elapsed > self.budget_s:
                # Its answer came too late to count: a slow detector must not become a pass.
                failures.append(
                    DetectorFailure(
                        detector.name,
                        "timeout",
                        f"took {elapsed * 1000:.0f} ms; budget {self.budget_s * 1000:.0f} ms",
                    )
                )
                continue
            findings.extend(found)
        decision = decide(self.pack, findings, failures)
        return Inspection(view, tuple(findings), tuple(failures), decision)

    async def inspect(
        self, segments: Sequence[Segment], principal_id: str | None = None
    ) -> Inspection:
        """Inspect, bounded by the budget: past it, the answer is a block.

        Small requests are inspected on the event loop: the detectors' cost is linear in the text,
        so a few kilobytes cannot overrun the budget and a thread hop would cost more than the
        work. Larger ones run on a worker thread, and the loop stops waiting at the deadline.
        """
        if sum(len(segment.text) for segment in segments) <= self.inline_max_chars:
            return self.inspect_now(segments, principal_id)
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, self.inspect_now, segments, principal_id)
        deadline = self.budget_s * max(1, len(self.detectors)) + 0.05
        try:
            return await asyncio.wait_for(work, timeout=deadline)
        except TimeoutError:
            failure = DetectorFailure(
                "pipeline", "timeout", f"inspection ran past {deadline * 1000:.0f} ms"
            )
            view = RequestView(segments=(), principal_id=principal_id)
            return Inspection(view, (), (failure,), decide(self.pack, [], [failure]))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
