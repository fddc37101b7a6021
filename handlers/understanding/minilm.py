"""BERT-family sentence embeddings (all-MiniLM-L6-v2) computed with numpy: no torch at run time.

Importing sentence-transformers costs 5-8 s; this reads the same safetensors weights and tokenizer
and runs the same forward pass (mean pooling, L2 normalisation), answering in about a millisecond
a message. Tests check it against sentence-transformers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
Linear = tuple[F32, F32]  # (weight transposed to (in, out), bias)


@dataclass(frozen=True)
class _Layer:
    qkv: Linear  # query, key and value projections side by side
    out: Linear
    norm1: Linear
    up: Linear
    down: Linear
    norm2: Linear


_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")


def _erf(x: F32) -> F32:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): numpy has no erf, and scipy.special costs an import.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: F32 = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def _gelu(x: F32) -> F32:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


def _layer_norm(x: F32, gain: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: F32 = ((x - mean) / np.sqrt(var + eps) * gain + bias).astype(np.float32)
    return result


def _blas_threads() -> AbstractContextManager[object]:
    # Measured with another process busy on a 2-CPU machine: OpenBLAS on 2 threads gave p99 700 ms a
    # message (threads spin waiting for a core) against 22 ms on one, and halved batch throughput.
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(
        limits=int(os.environ.get("CONCIERGE_BLAS_THREADS", "1")), user_api="blas"
    )
    return limits


def supports(folder: Path) -> bool:
    """Tell whether `folder` holds a mean-pooled BERT sentence model this module can run."""
    if not all((folder / name).exists() for name in _REQUIRED):
        return False
    config = json.loads((folder / "config.json").read_text())
    pooling = folder / "1_Pooling" / "config.json"
    if pooling.exists():
        modes = json.loads(pooling.read_text())
        others = ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
        if not modes.get("pooling_mode_mean_tokens") or any(modes.get(k) for k in others):
            return False
    return bool(config.get("model_type") == "bert" and config.get("hidden_act") == "gelu")


class NumpySentenceEncoder:
    """Mean-pooled, L2-normalised BERT sentence embeddings; the subset of SentenceTransformer we use."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        max_length = 256
        st_config = folder / "sentence_bert_config.json"
        if st_config.exists():
            max_length = int(json.loads(st_config.read_text()).get("max_seq_length", max_length))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token name, not a secret
        w = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def lin(name: str, prefix: str = p) -> Linear:
                # Stored as PyTorch Linear (out, in); keep the transpose contiguous for x @ W.
                return np.ascontiguousarray(w[prefix + name + ".weight"].T), w[prefix + name + ".bias"]

            def norm(name: str, prefix: str = p) -> Linear:
                return w[prefix + name + ".weight"], w[prefix + name + ".bias"]

            qkv = [lin(f"attention.self.{n}") for n in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv=(np.concatenate([q[0] for q in qkv], axis=1), np.concatenate([q[1] for q in qkv])),
                    out=lin("attention.output.dense"),
                    norm1=norm("attention.output.LayerNorm"),
                    up=lin("intermediate.dense"),
                    down=lin("output.dense"),
                    norm2=norm("output.LayerNorm"),
                )
            )

    def get_sentence_embedding_dimension(self) -> int:
        """Return the embedding size (384 for MiniLM-L6)."""
        return int(self.word.shape[1])

    def _forward(self, ids: NDArray[np.int64], types: NDArray[np.int64], mask: F32) -> F32:
        batch, length = ids.shape
        hidden = self.word.shape[1]
        size = hidden // self.heads
        x = self.word[ids] + self.position[:length][None, :, :] + self.token_type[types]
        x = _layer_norm(x, *self.embed_norm, self.eps)
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv[0] + layer.qkv[1]
            q, k, v = (
                qkv[:, :, i * hidden : (i + 1) * hidden]
                .reshape(batch, length, self.heads, size)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = _layer_norm(context @ layer.out[0] + layer.out[1] + x, *layer.norm1, self.eps)
            up = _gelu(x @ layer.up[0] + layer.up[1])
            x = _layer_norm(up @ layer.down[0] + layer.down[1] + x, *layer.norm2, self.eps)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        result: F32 = pooled.astype(np.float32)
        return result

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        normalize_embeddings: bool = True,
        show_progress_bar: bool = False,
    ) -> F32:
        """Embed texts (batched by length, so padding stays short); mirrors SentenceTransformer.encode."""
        del show_progress_bar
        with _blas_threads():
            return self._encode(texts, batch_size, normalize_embeddings)

    def _encode(self, texts: Sequence[str], batch_size: int, normalize_embeddings: bool) -> F32:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.get_sentence_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
            out[chunk] = self._forward(ids, types, mask)
        if normalize_embeddings:
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out
