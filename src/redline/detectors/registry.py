"""Finding detectors: every detector, shipped or third-party, is an entry point.

A package adds a detector by declaring, in its ``pyproject.toml``::

    [project.entry-points."redline.detectors"]
    my-detector = "my_package.module:create"

where ``create(pack: PolicyPack, settings: Settings) -> Detector``. Which detectors run is
configuration (``detectors`` in the settings), never a request field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from redline.detectors import Detector
from redline.errors import ConfigurationError
from redline.policy import PolicyPack
from redline.settings import Settings

GROUP = "redline.detectors"

DetectorFactory = Callable[[PolicyPack, Settings], Detector]


def available() -> dict[str, DetectorFactory]:
    return {point.name: point.load() for point in entry_points(group=GROUP)}


def build(names: Sequence[str], pack: PolicyPack, settings: Settings) -> list[Detector]:
    factories = available()
    detectors = []
    for name in names:
        factory = factories.get(name)
        if factory is None:
            raise ConfigurationError(
                f"detectors: '{name}' is not installed (installed: {', '.join(sorted(factories))})"
            )
        detector = factory(pack, settings)
        if not isinstance(detector, Detector):
            raise ConfigurationError(
                f"detectors: '{name}' does not implement the Detector protocol"
            )
        detectors.append(detector)
    return detectors
