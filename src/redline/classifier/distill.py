"""Distil a static token table from MiniLM: each token's contextual vector, reduced by PCA.

Each vocabulary token is run through the transformer on its own (``[CLS] token [SEP]``); the
mean of the output states is that token's vector. PCA keeps the directions that vary most across
the vocabulary, and the rows are then weighted by how informative each token is in the training
corpus (inverse document frequency), so frequent filler words count for little when a sentence is
averaged. Everything is deterministic: the same weights and corpus give the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from tokenizers import Tokenizer

from redline.classifier.encoders import MiniLM, Vectors

_BATCH = 1024


def token_vectors(model: MiniLM, progress: Callable[[int, int], None] | None = None) -> Vectors:
    tokenizer = model.tokenizer
    size = tokenizer.get_vocab_size()
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    table = np.zeros((size, model.dimensions), dtype=np.float32)
    for start in range(0, size, _BATCH):
        ids = np.arange(start, min(size, start + _BATCH), dtype=np.int64)
        rows = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        table[start : start + len(ids)] = model.token_states(rows).mean(axis=1)
        if progress is not None:
            progress(start + len(ids), size)
    return table


def reduce(table: Vectors, dimensions: int) -> Vectors:
    """PCA to ``dimensions`` components, with the sign of each component fixed for determinism."""
    centred = table - table.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    components = components[:dimensions]
    signs = np.sign(components[np.arange(dimensions), np.abs(components).argmax(axis=1)])
    components *= signs[:, None]
    reduced: Vectors = (centred @ components.T).astype(np.float32)
    return reduced


def idf_weights(tokenizer: Tokenizer, texts: Sequence[str]) -> Vectors:
    """Inverse document frequency of every token over ``texts`` (unseen tokens get the maximum)."""
    size = tokenizer.get_vocab_size()
    counts = np.zeros(size, dtype=np.float64)
    for encoding in tokenizer.encode_batch(list(texts), add_special_tokens=False):
        counts[np.unique(np.asarray(encoding.ids, dtype=np.int64))] += 1
    return np.log((1 + len(texts)) / (1 + counts)).astype(np.float32) + 1.0


def static_table(
    model: MiniLM,
    corpus: Sequence[str],
    dimensions: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> Vectors:
    reduced = reduce(token_vectors(model, progress), dimensions)
    weighted = reduced * idf_weights(model.tokenizer, corpus)[:, None]
    return weighted.astype(np.float32)
