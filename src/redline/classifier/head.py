"""The classification head: a small two-layer network over sentence vectors, in plain numpy.

Training is full-batch Adam from a seeded initialisation with balanced class weights, then one
temperature fitted on the dev split so that probabilities are calibrated. The same data and seed
give the same weights, bit for bit, which is what makes a trained bundle reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


@dataclass
class Head:
    w1: Matrix
    b1: Matrix
    w2: Matrix
    b2: Matrix
    temperature: float = 1.0

    def logits(self, features: Matrix) -> Matrix:
        hidden = np.maximum(features @ self.w1 + self.b1, 0.0)
        out: Matrix = hidden @ self.w2 + self.b2
        return out

    def probabilities(self, features: Matrix) -> Matrix:
        return _softmax(self.logits(features) / self.temperature)

    def arrays(self) -> dict[str, npt.NDArray[np.float32]]:
        return {
            "w1": self.w1,
            "b1": self.b1,
            "w2": self.w2,
            "b2": self.b2,
            "temperature": np.array([self.temperature], dtype=np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.float32]]) -> Head:
        return cls(
            arrays["w1"], arrays["b1"], arrays["w2"], arrays["b2"], float(arrays["temperature"][0])
        )


def _softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: Matrix = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def fit(
    features: Matrix,
    labels: npt.NDArray[np.int64],
    classes: int,
    *,
    hidden: int = 128,
    epochs: int = 400,
    learning_rate: float = 0.01,
    weight_decay: float = 1e-4,
    seed: int = 20260302,
    progress: Callable[[int, int, float], None] | None = None,
) -> Head:
    rng = np.random.default_rng(seed)
    dims = features.shape[1]
    params = {
        "w1": (rng.standard_normal((dims, hidden)) * np.sqrt(2.0 / dims)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "w2": (rng.standard_normal((hidden, classes)) * np.sqrt(1.0 / hidden)).astype(np.float32),
        "b2": np.zeros(classes, dtype=np.float32),
    }
    counts = np.bincount(labels, minlength=classes).astype(np.float32)
    sample_weight = (len(labels) / (classes * np.maximum(counts, 1)))[labels]
    sample_weight /= sample_weight.sum()
    onehot = np.eye(classes, dtype=np.float32)[labels]
    moment = {name: np.zeros_like(value) for name, value in params.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    for epoch in range(1, epochs + 1):
        pre = features @ params["w1"] + params["b1"]
        hidden_out = np.maximum(pre, 0.0)
        probs = _softmax(hidden_out @ params["w2"] + params["b2"])
        loss = float(-(sample_weight * np.log(np.maximum((probs * onehot).sum(1), 1e-9))).sum())
        delta = (probs - onehot) * sample_weight[:, None]
        grads = {
            "w2": hidden_out.T @ delta + weight_decay * params["w2"],
            "b2": delta.sum(axis=0),
        }
        back = (delta @ params["w2"].T) * (pre > 0)
        grads["w1"] = features.T @ back + weight_decay * params["w1"]
        grads["b1"] = back.sum(axis=0)
        for name, grad in grads.items():
            moment[name] = 0.9 * moment[name] + 0.1 * grad
            velocity[name] = 0.999 * velocity[name] + 0.001 * grad * grad
            step = moment[name] / (1 - 0.9**epoch)
            scale = np.sqrt(velocity[name] / (1 - 0.999**epoch)) + 1e-8
            params[name] = (params[name] - learning_rate * step / scale).astype(np.float32)
        if progress is not None:
            progress(epoch, epochs, loss)
    return Head(params["w1"], params["b1"], params["w2"], params["b2"])


def calibrate(head: Head, features: Matrix, labels: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises negative log-likelihood on held-out data."""
    logits = head.logits(features)
    best, best_loss = 1.0, float("inf")
    for temperature in np.arange(0.25, 5.01, 0.05):
        probs = _softmax(logits / temperature)
        loss = float(-np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-9)).mean())
        if loss < best_loss:
            best, best_loss = float(round(temperature, 2)), loss
    return best
