"""Question -> ranked proposals: BM25 and dense retrieval over chunks, fused, filtered by proposer /
proposer type, aggregated per proposal.

Fusion (Settings.fusion):
- "convex" (default): each list's scores are put on [0, 1] over its own candidates, then mixed as
  alpha * dense + (1 - alpha) * BM25. BM25 is divided by the best BM25 score (no match = 0); the
  cosine is min-max scaled between the best and the last dense candidate (below that = 0). Every
  chunk in either candidate list gets both raw scores, so `Hit.bm25` and `Hit.cosine` are real.
- "rrf": reciprocal rank fusion, sum of weight / (k + rank).
In "dense" or "bm25" mode a hit's score is that list's own normalised score (convex) or 1/(k+rank) (rrf).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import Settings
from .errors import AssistantError
from .records import Hit, ProposalHit

MODES = ("hybrid", "bm25", "dense")
FUSIONS = ("convex", "rrf")


@dataclass(frozen=True)
class Filters:
    proposers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def __bool__(self):
        return bool(self.proposers or self.types)


class Retriever:
    def __init__(self, index, embedder, *, registry=None, fusion: str = Settings.fusion,
                 alpha: float = Settings.fusion_alpha, rrf_k: int = Settings.rrf_k,
                 dense_weight: float = Settings.dense_weight, candidates: int = Settings.candidates,
                 store=None):
        if fusion not in FUSIONS:
            raise AssistantError(f"未知的融合方式 {fusion!r}，可选 {', '.join(FUSIONS)}。")
        if not 0.0 <= alpha <= 1.0:
            raise AssistantError(f"融合权重 α={alpha} 须在 0 到 1 之间。")
        self.index, self.embedder, self.registry = index, embedder, registry
        self.fusion, self.alpha = fusion, float(alpha)
        self.rrf_k, self.dense_weight, self.candidates = rrf_k, dense_weight, candidates
        self.store = store  # assistant/store.py: a store that searches itself (Milvus) scores the chunks
        self.all_proposers = sorted({p for c in index.chunks for p in c.proposers})
        self.all_types = sorted({c.proposer_type for c in index.chunks if c.proposer_type})
        index.analyzer("预热")  # load jieba's dictionary now, not on the first user query
        self._qcache: OrderedDict = OrderedDict()  # repeated questions (UI retries, eval sweeps) skip the model

    def embed_query(self, query: str) -> np.ndarray:
        v = self._qcache.get(query)
        if v is None:
            v = self.embedder.embed_queries([query])[0]
            self._qcache[query] = v
            if len(self._qcache) > 1024:
                self._qcache.popitem(last=False)
        return v

    @classmethod
    def from_settings(cls, index, embedder, settings, registry=None, store=None) -> "Retriever":
        return cls(index, embedder, registry=registry, fusion=settings.fusion, alpha=settings.fusion_alpha,
                   rrf_k=settings.rrf_k, dense_weight=settings.dense_weight, candidates=settings.candidates,
                   store=store)

    # ------------------------------------------------------------------ filters
    def resolve_proposer(self, name: str) -> str:
        name = name.strip()
        if self.registry is not None and (c := self.registry.canonical(name)) and c in self.all_proposers:
            return c
        if name in self.all_proposers:
            return name
        hits = [p for p in self.all_proposers if name and name in p]
        if len(hits) == 1:
            return hits[0]
        raise AssistantError(f"未知或不唯一的提出者 “{name}”。",
                             hint="可选: " + "、".join(self.all_proposers))

    def make_filters(self, proposers: Sequence[str] = (), types: Sequence[str] = ()) -> Filters:
        for t in types:
            if t not in self.all_types:
                raise AssistantError(f"未知的提出者类型 “{t}”。", hint="可选: " + "、".join(self.all_types))
        return Filters(tuple(self.resolve_proposer(p) for p in proposers if p.strip()), tuple(types))

    def _mask(self, f: Filters) -> np.ndarray | None:
        if not f:
            return None
        return np.array([(not f.proposers or any(p in f.proposers for p in c.proposers))
                         and (not f.types or c.proposer_type in f.types) for c in self.index.chunks])

    # ------------------------------------------------------------------ chunks
    def bm25_scores(self, query: str) -> np.ndarray:
        return self.index.bm25.scores(self.index.analyzer(query))

    def dense_scores(self, query: str, query_vec: np.ndarray | None = None, top: int | None = None) -> np.ndarray:
        """Cosine per chunk; with `top`, only the best `top` are filled in (the rest are -1)."""
        from llama_index.core.vector_stores.types import VectorStoreQuery
        if query_vec is None:
            query_vec = self.embed_query(query)
        n = len(self.index.chunks)
        res = self.index.vector_store.query(VectorStoreQuery(query_embedding=query_vec.tolist(),
                                                             similarity_top_k=min(n, top or n)))
        out = np.full(n, -1.0, dtype=np.float32)
        out[[int(i) for i in res.ids]] = res.similarities
        return out

    def _cosines(self, rows: list[int], query_vec: np.ndarray) -> np.ndarray:
        """Exact cosine of the given chunks (the stored vectors are unit length)."""
        fi = self.index.faiss
        try:
            vecs = fi.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        except Exception:  # an index type that cannot hand its vectors back
            return np.full(len(rows), -1.0, np.float32)
        return (vecs @ np.asarray(query_vec, np.float32)).astype(np.float32)

    def chunk_hits(self, query: str, *, mode: str = "hybrid", filters: Filters = Filters(),
                   query_vec: np.ndarray | None = None) -> list[Hit]:
        if mode not in MODES:
            raise AssistantError(f"未知的检索方式 {mode!r}，可选 {', '.join(MODES)}。")
        if self.store is not None and self.store.delegates:
            return self.store.chunk_hits(self, query, mode=mode, filters=filters, query_vec=query_vec)
        n = len(self.index.chunks)
        mask = self._mask(filters)
        bm = self.bm25_scores(query) if mode != "dense" else np.zeros(n, np.float32)
        if mode != "bm25" and query_vec is None:
            query_vec = self.embed_query(query)
        # Unfiltered, only the dense candidates matter; filtered, any chunk may be among them.
        de = (self.dense_scores(query, query_vec, None if mask is not None else self.candidates)
              if mode != "bm25" else np.zeros(n, np.float32))
        allowed = np.ones(n, bool) if mask is None else mask
        b_rank = _ranks(bm, allowed & (bm > 0), self.candidates) if mode != "dense" else {}
        d_rank = _ranks(de, allowed, self.candidates) if mode != "bm25" else {}
        if mode == "hybrid" and mask is None:
            # BM25 candidates outside the dense top list: their real cosine, not the -1 placeholder
            missing = [i for i in b_rank if i not in d_rank]
            if missing:
                de[missing] = self._cosines(missing, query_vec)
        if self.fusion == "rrf":
            fused = rrf_fuse(b_rank, d_rank, k=self.rrf_k, dense_weight=self.dense_weight)
        else:
            alpha = {"hybrid": self.alpha, "dense": 1.0, "bm25": 0.0}[mode]
            fused = convex_fuse(bm, de, b_rank, d_rank, alpha=alpha)
        big = n + 1
        order = sorted(fused, key=lambda i: (-fused[i], d_rank.get(i, big), b_rank.get(i, big), i))
        return [Hit(self.index.chunks[i], fused[i], b_rank.get(i), d_rank.get(i), float(bm[i]), float(de[i]))
                for i in order]

    # ------------------------------------------------------------------ proposals
    def search(self, query: str, k: int = 5, *, mode: str = "hybrid", proposers: Sequence[str] = (),
               types: Sequence[str] = (), query_vec: np.ndarray | None = None) -> list[ProposalHit]:
        if not query or not query.strip():
            raise AssistantError("请输入要检索的内容。")
        hits = self.chunk_hits(query, mode=mode, filters=self.make_filters(proposers, types), query_vec=query_vec)
        return aggregate(hits, self.index.proposals, k)


def rrf_fuse(b_rank: dict[int, int], d_rank: dict[int, int], *, k: float, dense_weight: float) -> dict[int, float]:
    """Reciprocal rank fusion: sum over the lists of weight / (k + rank); BM25's weight is 1."""
    fused: dict[int, float] = {}
    for i, r in b_rank.items():
        fused[i] = fused.get(i, 0.0) + 1.0 / (k + r)
    for i, r in d_rank.items():
        fused[i] = fused.get(i, 0.0) + dense_weight / (k + r)
    return fused


def convex_fuse(bm: np.ndarray, de: np.ndarray, b_rank: dict[int, int], d_rank: dict[int, int], *,
                alpha: float) -> dict[int, float]:
    """alpha * dense + (1 - alpha) * BM25 over the union of both candidate lists, each on [0, 1]:
    BM25 / best BM25 score (BM25 is 0 for no match, so 0 stays 0); the cosine min-max scaled
    between the best and the last dense candidate, below that 0. A list without candidates
    contributes 0 (then the other list alone decides the order)."""
    rows = sorted(set(b_rank) | set(d_rank))
    if not rows:
        return {}
    idx = np.asarray(rows, dtype=np.int64)
    nb = np.zeros(len(rows))
    if b_rank and alpha < 1.0:
        top = float(bm[min(b_rank, key=b_rank.get)])
        if top > 0:
            nb = np.clip(bm[idx].astype(np.float64) / top, 0.0, 1.0)
    nd = np.zeros(len(rows))
    if d_rank and alpha > 0.0:
        by_rank = sorted(d_rank, key=d_rank.get)
        hi, lo = float(de[by_rank[0]]), float(de[by_rank[-1]])
        x = de[idx].astype(np.float64)
        nd = np.clip((x - lo) / (hi - lo), 0.0, 1.0) if hi - lo > 1e-9 else (x >= hi - 1e-9).astype(np.float64)
    f = alpha * nd + (1.0 - alpha) * nb
    return {i: float(v) for i, v in zip(rows, f)}


def _ranks(scores: np.ndarray, allowed: np.ndarray, top: int) -> dict[int, int]:
    idx = np.flatnonzero(allowed)
    if not len(idx):
        return {}
    top_idx = idx[np.argsort(-scores[idx], kind="stable")[:top]]
    return {int(i): r for r, i in enumerate(top_idx, 1)}


def aggregate(hits: list[Hit], proposals: dict, k: int) -> list[ProposalHit]:
    """Chunk hits -> proposal hits; a proposal scores as its best chunk (ties: more matching chunks)."""
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.chunk.proposal_id, []).append(h)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1][0].score, -sum(h.score for h in kv[1]), kv[0]))
    return [ProposalHit(proposals[pid], hs[0].score, hs[0], tuple(hs)) for pid, hs in ranked[:k]]


def as_llama_retriever(retriever: Retriever, k: int = 5, mode: str = "hybrid"):
    """The same retrieval as a llama-index BaseRetriever, for use in llama-index query engines."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, TextNode

    class HybridRetriever(BaseRetriever):
        def _retrieve(self, query_bundle):
            out = []
            for ph in retriever.search(query_bundle.query_str, k, mode=mode):
                c = ph.best.chunk
                node = TextNode(id_=c.chunk_id, text=c.text, metadata={
                    "proposal_id": c.proposal_id, "title": c.title, "proposers": "、".join(c.proposers),
                    "proposer_type": c.proposer_type, "start": c.start, "end": c.end})
                out.append(NodeWithScore(node=node, score=ph.score))
            return out

    return HybridRetriever()
