"""Term similarity: how close a proposal's words come to a question term that it does not contain.

A paraphrase asks in everyday words for what a proposal says formally (看病 for 医疗, 照搬 for
复制); exact-term coverage gives such a question nothing and it is declined although retrieval
found the right proposal. Every word of the index vocabulary (the BM25 terms, search-mode jieba
pieces included) is embedded once at build time with the index's own model (`words.npy`, beside
the chunk vectors, same fingerprint); a question term the corpus never uses is embedded when it is
asked. The credit of an absent term is its best cosine to the proposal's words, rescaled from the
corpus's own chance level (the cosine an unrelated word reaches) to 1.

Measured on the home page's dev questions without a proposer in scope (answerable with the right
proposal first vs. off-corpus): AUC 0.977 for this soft coverage against 0.953 for exact coverage
and 0.73 for the dense margin; with a proposer in scope, and on other cities, no better than exact
coverage. So the calibration decides how much it weighs in the found decision (it currently
fits 0); it reorders the first few proposals (select.py). A credit linear in the cosine did as
well as any window starting below the chance level, and better than ones starting above it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

WORDS_FILE = "words.npy"
# the chance level is read from this many (word, proposal) pairs of the corpus, at this quantile:
# the low end of what an unrelated word scores, so a related word's credit stays linear above it
CHANCE_WORDS, CHANCE_PROPOSALS, CHANCE_QUANTILE = 128, 64, 0.05


def embed_words(vocab: Sequence[str], embedder, previous: dict, *, batch: int = 256) -> np.ndarray:
    """float16 vectors of `vocab` (row i = word i): reused from the previous index, the rest embedded
    as passages, shortest first (one word is a few tokens; batches need no padding to speak of)."""
    out = np.zeros((len(vocab), embedder.dim), dtype=np.float16)
    todo = []
    for i, w in enumerate(vocab):
        v = previous.get(w)
        if v is not None and len(v) == embedder.dim:
            out[i] = v
        else:
            todo.append(i)
    todo.sort(key=lambda i: len(vocab[i]))
    for s in range(0, len(todo), batch):
        ids = todo[s:s + batch]
        out[ids] = embedder.embed_passages([vocab[i] for i in ids]).astype(np.float16)
    return out


def previous_words(folder: Path, fingerprint: str) -> dict:
    """word -> vector from the index at `folder` when it was built by the same model ({} otherwise)."""
    try:
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if man["model"]["fingerprint"] != fingerprint:
            return {}
        vocab = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
        vecs = np.load(folder / WORDS_FILE)
        return dict(zip(vocab, vecs)) if len(vecs) == len(vocab) else {}
    except Exception:  # no usable previous index: embed every word
        return {}


def proposal_terms(matrix, chunk_proposal: Sequence[str], vocab: Sequence[str]) -> dict[str, np.ndarray]:
    """proposal_id -> the vocabulary ids of the words (two characters or more) its chunks contain,
    from the rows of the BM25 matrix. Single characters are left out: one character is close to
    too many words (on dev it made the soft coverage of off-corpus questions as high as paraphrases')."""
    csr = matrix.tocsr()
    words = np.array([len(w) > 1 for w in vocab], dtype=bool)
    rows: dict[str, list[int]] = {}
    for i, pid in enumerate(chunk_proposal):
        rows.setdefault(pid, []).append(i)
    out = {}
    for pid, r in rows.items():
        ids = np.unique(np.concatenate([csr.indices[csr.indptr[i]:csr.indptr[i + 1]] for i in r]))
        out[pid] = ids[words[ids]]
    return out


def chance_level(vectors: np.ndarray, terms_of: dict[str, np.ndarray], vocab: Sequence[str], seed: int = 0) -> float:
    """The best cosine an unrelated vocabulary word reaches among a proposal's words, at the low
    quantile CHANCE_QUANTILE, over a fixed sample of (word, proposal) pairs of this corpus."""
    if not len(vectors) or not terms_of:
        return 0.0
    rng = np.random.default_rng(seed)
    pids = sorted(terms_of)
    pids = [pids[i] for i in rng.choice(len(pids), min(CHANCE_PROPOSALS, len(pids)), replace=False)]
    multi = np.flatnonzero([len(w) > 1 for w in vocab])
    if not len(multi):
        return 0.0
    words = multi[rng.choice(len(multi), min(CHANCE_WORDS, len(multi)), replace=False)]
    wv = vectors[words].astype(np.float32)
    best = []
    for pid in pids:
        ids = terms_of[pid]
        if not len(ids):
            continue
        sims = wv @ vectors[ids].astype(np.float32).T
        inside = np.isin(words, ids)
        best.extend(sims.max(axis=1)[~inside].tolist())
    return float(np.quantile(best, CHANCE_QUANTILE)) if best else 0.0


class TermSimilarity:
    """Per-term credit of question terms against one proposal's words. Reads only what the index
    loaded; query terms outside the vocabulary are embedded per call (no shared cache)."""

    def __init__(self, index, embedder):
        self.index, self.vocab, self.vectors, self.embedder = index, index.bm25.vocab, index.word_vectors, embedder
        self.chance = float(index.manifest.get("words", {}).get("chance", 0.0))
        self._terms_of = None

    def __bool__(self) -> bool:
        return self.vectors is not None and self.embedder is not None and len(self.vectors) > 0

    def words_of(self, proposal_id: str, text: str) -> np.ndarray:
        """Vocabulary ids of the words of the proposal that occur in `text` (its title and body: the
        proposer names that BM25 also indexes are not what a topic is matched against). The table
        is built on first use, one pass over the matrix."""
        if self._terms_of is None:
            self._words = list(self.vocab)
            self._terms_of = proposal_terms(self.index.bm25.matrix, [c.proposal_id for c in self.index.chunks],
                                            self._words)
        ids = self._terms_of.get(proposal_id, np.zeros(0, dtype=np.int32))
        return np.array([i for i in ids if self._words[i] in text], dtype=np.int64)

    def term_vectors(self, terms: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(terms), self.vectors.shape[1]), dtype=np.float32)
        unknown = []
        for i, t in enumerate(terms):
            j = self.vocab.get(t)
            if j is None:
                unknown.append(i)
            else:
                out[i] = self.vectors[j]
        if unknown:
            out[unknown] = self.embedder.embed_passages([terms[i] for i in unknown])
        return out

    def likeness(self, a: np.ndarray, b: np.ndarray) -> float:
        """Two term vectors' cosine on the scale of `credits` (chance 0, same 1), unclipped."""
        return float((float(a @ b) - self.chance) / max(1e-6, 1.0 - self.chance))

    def credits(self, term_vecs: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Per term: best cosine to the words `ids`, rescaled so the chance level is 0 and 1 is 1."""
        if not len(ids) or not len(term_vecs):
            return np.zeros(len(term_vecs), dtype=np.float32)
        best = (term_vecs @ self.vectors[ids].astype(np.float32).T).max(axis=1)
        return np.clip((best - self.chance) / max(1e-6, 1.0 - self.chance), 0.0, 1.0)
