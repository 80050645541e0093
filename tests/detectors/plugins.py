"""Install a third-party detector package for a test, through a real entry point on ``sys.path``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

MODULE = """
import time

from redline.detectors import Finding


class Crashing:
    name = "crashing"
    version = "sha256:crash"

    def detect(self, view):
        raise RuntimeError("model file is corrupt")


class Slow:
    name = "slow"
    version = "sha256:slow"

    def detect(self, view):
        time.sleep(3.0)
        return []


class Flagging:
    name = "flagging"
    version = "sha256:flag"

    def detect(self, view):
        return [Finding(detector=self.name, category="mass_surveillance", score=0.99)]


def crashing(pack, settings):
    return Crashing()


def slow(pack, settings):
    return Slow()


def flagging(pack, settings):
    return Flagging()
"""

ENTRY_POINTS = """[redline.detectors]
crashing = third_party_detectors:crashing
slow = third_party_detectors:slow
flagging = third_party_detectors:flagging
"""


def install_third_party_detectors(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "third_party_detectors.py").write_text(MODULE)
    dist_info = root / "third_party_detectors-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: third-party-detectors\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "third_party_detectors", raising=False)
    importlib.invalidate_caches()
