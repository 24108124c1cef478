"""Question -> ranked proposals: BM25 and dense retrieval over chunks, fused by reciprocal rank,
filtered by proposer / proposer type, aggregated per proposal."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import AssistantError
from .records import Hit, ProposalHit

MODES = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class Filters:
    proposers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def __bool__(self):
        return bool(self.proposers or self.types)


class Retriever:
    def __init__(self, index, embedder, *, registry=None, rrf_k: int = 60, dense_weight: float = 1.0,
                 candidates: int = 50):
        self.index, self.embedder, self.registry = index, embedder, registry
        self.rrf_k, self.dense_weight, self.candidates = rrf_k, dense_weight, candidates
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
    def from_settings(cls, index, embedder, settings, registry=None) -> "Retriever":
        return cls(index, embedder, registry=registry, rrf_k=settings.rrf_k,
                   dense_weight=settings.dense_weight, candidates=settings.candidates)

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

    def chunk_hits(self, query: str, *, mode: str = "hybrid", filters: Filters = Filters(),
                   query_vec: np.ndarray | None = None) -> list[Hit]:
        if mode not in MODES:
            raise AssistantError(f"未知的检索方式 {mode!r}，可选 {', '.join(MODES)}。")
        n = len(self.index.chunks)
        mask = self._mask(filters)
        bm = self.bm25_scores(query) if mode != "dense" else np.zeros(n, np.float32)
        # Unfiltered, only the dense candidates matter; filtered, any chunk may be among them.
        de = (self.dense_scores(query, query_vec, None if mask is not None else self.candidates)
              if mode != "bm25" else np.zeros(n, np.float32))
        allowed = np.ones(n, bool) if mask is None else mask
        b_rank = _ranks(bm, allowed & (bm > 0), self.candidates)
        d_rank = _ranks(de, allowed, self.candidates) if mode != "bm25" else {}
        fused: dict[int, float] = {}
        for i, r in b_rank.items():
            fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + r)
        for i, r in d_rank.items():
            fused[i] = fused.get(i, 0.0) + self.dense_weight / (self.rrf_k + r)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        return [Hit(self.index.chunks[i], fused[i], b_rank.get(i), d_rank.get(i), float(bm[i]), float(de[i]))
                for i in order]

    # ------------------------------------------------------------------ proposals
    def search(self, query: str, k: int = 5, *, mode: str = "hybrid", proposers: Sequence[str] = (),
               types: Sequence[str] = (), query_vec: np.ndarray | None = None) -> list[ProposalHit]:
        if not query or not query.strip():
            raise AssistantError("请输入要检索的内容。")
        hits = self.chunk_hits(query, mode=mode, filters=self.make_filters(proposers, types), query_vec=query_vec)
        return aggregate(hits, self.index.proposals, k)


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
