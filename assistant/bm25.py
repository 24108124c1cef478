"""Lexical retrieval: jieba words (with a user dictionary) scored by BM25, stored as plain files.

Scores are precomputed per (chunk, term) into a sparse matrix, so a query is a column sum.
"""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

_KEEP = re.compile(r"[\w\u3400-\u9fff]")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 是 为 对 要 把 被 将 从 以 于 之 也 都 而 并 其 这 那 有 个 中 上 下 "
    "哪些 什么 怎么 如何 哪个 哪 谁 吗 呢 吧 啊 请问 关于 一下 提出 提了 建议 提议".split())


class Analyzer:
    """jieba search-mode tokens, lowercased, punctuation and stopwords dropped, optional char bigrams."""

    def __init__(self, user_words: Iterable[str] = (), bigrams: bool = False, words: bool = True):
        self.user_words = sorted({w.strip() for w in user_words if w.strip()})
        self.bigrams, self.words = bigrams, words
        self._tk = None
        self._lock = threading.Lock()

    @property
    def params(self) -> dict:
        import hashlib
        name = "+".join(n for n, on in (("jieba-search", self.words), ("bigram", self.bigrams)) if on)
        return {"name": name,
                "user_words_sha256": hashlib.sha256("\n".join(self.user_words).encode()).hexdigest()}

    def _tokenizer(self):
        with self._lock:
            if self._tk is None:
                import logging
                import jieba
                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                for w in self.user_words:
                    tk.add_word(w, freq=20000)
                self._tk = tk
        return self._tk

    def spans(self, text: str, hmm: bool = False) -> list[tuple[str, int, int]]:
        """Search-mode words with their positions in the lowercased text (no stopword filter)."""
        return [(w, a, b) for w, a, b in self._tokenizer().tokenize(text.lower(), mode="search", HMM=hmm)
                if _KEEP.search(w)]

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        words = [w for w in self._tokenizer().lcut_for_search(text, HMM=True)
                 if _KEEP.search(w) and w not in STOPWORDS] if self.words else []
        if self.bigrams:
            chars = [c for c in text if _KEEP.match(c)]
            words += [a + b for a, b in zip(chars, chars[1:])]
        return words


class BM25:
    def __init__(self, vocab: dict, matrix: sp.csc_matrix, k1: float, b: float):
        self.vocab, self.matrix, self.k1, self.b = vocab, matrix, k1, b

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> "BM25":
        vocab: dict = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        for i, toks in enumerate(docs):
            for t, n in Counter(toks).items():
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                tfs.append(n)
        rows, cols, tf = np.array(rows, int), np.array(cols, int), np.array(tfs, np.float32)
        n_docs = len(docs)
        df = np.bincount(cols, minlength=len(vocab)).astype(np.float32)
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))  # Lucene's non-negative idf
        avg = float(lengths.mean()) if n_docs else 1.0
        norm = k1 * (1 - b + b * lengths[rows] / max(avg, 1e-9))
        w = idf[cols] * tf * (k1 + 1) / (tf + norm)
        m = sp.csc_matrix((w.astype(np.float32), (rows, cols)), shape=(n_docs, len(vocab)))
        return cls(vocab, m, k1, b)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        cols = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not cols:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        counts = Counter(cols)
        idx = np.fromiter(counts, int)
        weights = np.fromiter(counts.values(), np.float32)
        return np.asarray(self.matrix[:, idx] @ weights).ravel()

    def save(self, folder: Path) -> list[str]:
        (folder / "bm25_vocab.json").write_text(json.dumps(list(self.vocab), ensure_ascii=False), encoding="utf-8")
        sp.save_npz(folder / "bm25_matrix.npz", self.matrix, compressed=False)
        return ["bm25_vocab.json", "bm25_matrix.npz"]

    @classmethod
    def load(cls, folder: Path, k1: float, b: float) -> "BM25":
        terms = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
        return cls({t: i for i, t in enumerate(terms)}, sp.load_npz(folder / "bm25_matrix.npz").tocsc(), k1, b)
