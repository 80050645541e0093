"""The trained bundle: the files ``redline train`` writes and the classifier detector loads.

    manifest.json      what the bundle is: labels, thresholds chosen on dev, metrics, file digests
    tokenizer.json     MiniLM's WordPiece tokenizer (from the packaged model)
    static.q.npy       the distilled token table, int8, one row per token
    static.scale.npy   the per-row scale that turns it back into float32
    head.*.npy         the fast tier's head
    classifier.int8.onnx  the fine-tuned MiniLM classifier (the second tier)

Every file is written deterministically, so the bundle's digest (SHA-256 of its canonical
manifest, which lists every file's digest) identifies exactly what decided; it is recorded as the
classifier's version in every decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from redline.canonical import canonical_json, sha256_digest
from redline.classifier.encoders import Vectors
from redline.classifier.head import Head

SCHEMA = "redline.classifier/v1"
SHIPPED = Path(__file__).parent / "bundle"


@dataclass
class Bundle:
    manifest: dict[str, Any]
    folder: Path

    @property
    def digest(self) -> str:
        return sha256_digest(canonical_json(self.manifest))

    @property
    def labels(self) -> list[str]:
        labels: list[str] = self.manifest["labels"]
        return labels

    def table(self) -> Vectors:
        quantised = np.load(self.folder / "static.q.npy")
        scale = np.load(self.folder / "static.scale.npy")
        table: Vectors = (quantised.astype(np.float32) * scale[:, None]).astype(np.float32)
        return table

    def transformer_path(self) -> Path:
        return self.folder / str(self.manifest["transformer"]["file"])

    def head(self, name: str) -> Head:
        return Head.from_arrays(
            {part: np.load(self.folder / f"{name}.{part}.npy") for part in _HEAD_PARTS}
        )


_HEAD_PARTS = ("w1", "b1", "w2", "b2", "temperature")


def load(folder: Path = SHIPPED) -> Bundle:
    """Load and verify a bundle: every file must match the digest its manifest lists."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no classifier bundle in {folder}: run `redline train`")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("schema") != SCHEMA:
        raise ValueError(f"{manifest_path}: not a {SCHEMA} bundle")
    for name, expected in manifest["files"].items():
        actual = _file_digest(folder / name)
        if actual != expected:
            raise ValueError(f"classifier bundle file {name} does not match its manifest digest")
    return Bundle(manifest, folder)


def write(
    folder: Path,
    *,
    tokenizer_json: bytes,
    table: Vectors,
    heads: dict[str, Head],
    files: dict[str, bytes],
    manifest: dict[str, Any],
) -> Bundle:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.npy"):
        stale.unlink()
    scale = np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0
    quantised = np.round(table / scale[:, None]).astype(np.int8)
    (folder / "tokenizer.json").write_bytes(tokenizer_json)
    _save(folder / "static.q.npy", quantised)
    _save(folder / "static.scale.npy", scale.astype(np.float32))
    for name, head in heads.items():
        for part, array in head.arrays().items():
            _save(folder / f"{name}.{part}.npy", array)
    for stale in folder.glob("*.onnx"):
        stale.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    digests = {
        path.name: _file_digest(path)
        for path in sorted(folder.iterdir())
        if path.name != "manifest.json"
    }
    document = {"schema": SCHEMA, **manifest, "files": digests}
    (folder / "manifest.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return Bundle(document, folder)


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    with path.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
