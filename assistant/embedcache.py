"""Resumable embedding for index builds: vectors are written to a cache folder in bounded batches
as they are computed, so a build that is interrupted (Ctrl+C, a killed process, a full disk at
the write step) embeds only what it had not finished when it is run again.

The cache folder sits beside the index (`.<index>.embedding/`, removed after a successful build)
and holds one `part-*.npz` per flushed batch: the embed keys and their vectors. A part written by
another model (another fingerprint) is ignored. Also here: the progress line with rate and ETA.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


class VectorCache:
    def __init__(self, folder: Path, fingerprint: str, dim: int):
        self.folder, self.dim = Path(folder), dim
        self.tag = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]

    def load(self, wanted: set | None = None) -> dict:
        """embed_key -> vector for every cached key (only those in `wanted`, when given)."""
        out: dict = {}
        if not self.folder.is_dir():
            return out
        for part in sorted(self.folder.glob(f"part-{self.tag}-*.npz")):
            try:
                with np.load(part) as z:
                    keys, vecs = z["keys"].tolist(), z["vecs"]
                if vecs.shape[1:] != (self.dim,) or len(keys) != len(vecs):
                    continue
            except Exception:  # a part torn by a kill mid-write: those vectors are embedded again
                continue
            for k, v in zip(keys, vecs):
                if wanted is None or k in wanted:
                    out[k] = v
        return out

    def add(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{self.tag}-{time.time_ns()}-{os.getpid()}"
        tmp = self.folder / f".{name}.tmp.npz"
        np.savez(tmp, keys=np.array(list(keys)), vecs=np.asarray(vecs, np.float32))
        os.replace(tmp, self.folder / f"{name}.npz")  # a part is there whole or not at all

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def embed_missing(texts: Sequence[str], keys: Sequence[str], embedder, reuse: dict, *,
                  cache: VectorCache | None = None, batch: int = 64, flush_every: int = 1024,
                  progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
    """Vectors for all `texts`: from `reuse` (the previous index), then from `cache` (an
    interrupted earlier run), and the rest embedded in batches of `batch`, similar lengths
    together, flushed to `cache` every `flush_every` vectors. Memory: the n x dim result plus
    one flush buffer. Returns (vectors, counts: embedded, reused, resumed)."""
    n = len(texts)
    vecs = np.zeros((n, embedder.dim), dtype=np.float32)
    cached = cache.load(set(keys) - set(reuse)) if cache is not None else {}
    todo, reused, resumed = [], 0, 0
    for i, k in enumerate(keys):
        v = reuse.get(k)
        if v is not None:
            vecs[i], reused = v, reused + 1
        elif (v := cached.get(k)) is not None:
            vecs[i], resumed = v, resumed + 1
        else:
            todo.append(i)
    del cached
    # similar lengths batched together: padding to the longest text in a batch dominates CPU time
    todo.sort(key=lambda i: len(texts[i]))
    pending: list[int] = []
    seen: set = set()
    try:
        for s in range(0, len(todo), batch):
            ids = todo[s:s + batch]
            vecs[ids] = embedder.embed_passages([texts[i] for i in ids])
            pending += ids
            if cache is not None and len(pending) >= flush_every:
                _flush(cache, keys, vecs, pending, seen)
            if progress:
                progress(min(s + batch, len(todo)), len(todo))
    finally:  # interrupted: what was embedded so far is kept for the next run
        if cache is not None and pending:
            _flush(cache, keys, vecs, pending, seen)
    return vecs, {"embedded": len(todo), "reused": reused, "resumed": resumed}


def _flush(cache: VectorCache, keys, vecs, pending: list, seen: set) -> None:
    rows = [i for i in pending if keys[i] not in seen]
    cache.add([keys[i] for i in rows], vecs[rows])
    seen.update(keys[i] for i in rows)
    pending.clear()


class ProgressLine:
    """`progress(done, total)` for terminals: count, rate and ETA on one rewritten line."""

    def __init__(self, label: str = "向量化", stream=None, min_interval: float = 0.5):
        self.label, self.stream = label, stream or sys.stderr
        self.min_interval = min_interval
        self.t0: float | None = None
        self.done0 = 0
        self._last = 0.0
        self._open = False  # a progress line is on screen without its newline

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.t0 is None or done < self.done0:  # first call, or a new pass
            self.t0, self.done0 = now, done
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        print("\r" + self.line(done, total, now - self.t0, done - self.done0), end="", file=self.stream, flush=True)
        self._open = True

    def log(self, message: str) -> None:
        """Print a message on its own line below the progress line."""
        self.newline()
        print(message, file=self.stream, flush=True)

    def newline(self) -> None:
        if self._open:
            print(file=self.stream, flush=True)
            self._open = False

    def line(self, done: int, total: int, elapsed: float, done_in_elapsed: int | None = None) -> str:
        rate = (done if done_in_elapsed is None else done_in_elapsed) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("nan")
        eta_s = _hms(eta) if eta == eta else "?"
        return f"{self.label} {done}/{total}  {rate:.1f} 块/秒  已用 {_hms(elapsed)}  预计剩余 {eta_s}   "


def _hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
