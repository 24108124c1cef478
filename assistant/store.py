"""Where an index's vectors and BM25 weights live, behind one small interface.

Retrieval needs four things from a store (rows are positions in `Index.chunks`):

- `dense_topk(query_vec, k, filters)`   -> (rows, cosines), best first, only rows the filters allow
- `bm25_topk(tokens, k, filters)`       -> (rows, BM25 scores > 0), best first
- `cosines_of(query_vec, rows)` and `bm25_of(tokens, rows)` -> the exact scores of given rows
  (a candidate found by one list gets its real score in the other)

plus `build(corpus, embedder, settings, progress)` -> manifest and `load(settings, embedder,
corpus)` -> Index (records, analyzer, BM25 statistics). Two stores:

- `files` (default, `FileStore`): `assistant/index.py` as it is, a folder of plain files loaded
  whole into the process (FAISS flat + a BM25 matrix). The fastest on one machine; the Retriever
  keeps its own exact code path over it (`delegates = False`).
- `milvus:<path.db or http://host:port>` (`assistant/milvus_store.py`): vectors, BM25 weights as
  sparse vectors and the filterable metadata in a Milvus collection, searched inside Milvus; the
  Retriever hands chunk scoring to `store_chunk_hits` below (`delegates = True`).

`store_chunk_hits` computes the same fused ranking as `Retriever.chunk_hits` from the four
primitives, so a store that answers them exactly gives the same results as the file store.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import AssistantError
from .records import Hit

KINDS = ("files", "milvus")


def parse_store(spec: str) -> tuple[str, str]:
    """'files' -> ('files', ''); 'milvus:/data/yz.db' or 'milvus:http://10.0.0.5:19530' -> ('milvus', target)."""
    spec = (spec or "files").strip()
    kind, _, target = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "files" and not target:
        return "files", ""
    if kind == "milvus" and target.strip():
        return "milvus", target.strip()
    raise AssistantError(f"无法识别的存储设置 ASSISTANT_STORE={spec!r}。",
                         hint="可选: files，或 milvus:<Milvus Lite 数据路径 (以 .db 结尾)>，或 milvus:http://主机:端口")


def open_store(settings):
    kind, target = parse_store(settings.store)
    if kind == "files":
        return FileStore(settings.index_dir)
    from .milvus_store import MilvusStore
    return MilvusStore(target, settings.index_dir, ranker=settings.milvus_ranker)


def filter_mask(chunks, filters) -> np.ndarray | None:
    """The rows a Filters allows (None: no filter). Same rule as Retriever._mask."""
    if not filters:
        return None
    return np.array([(not filters.proposers or any(p in filters.proposers for p in c.proposers))
                     and (not filters.types or c.proposer_type in filters.types) for c in chunks])


def folder_bytes(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


class FileStore:
    """Today's plain-files index (assistant/index.py), wrapped."""
    kind = "files"
    delegates = False   # the Retriever's own code path is this store's search

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.index = None

    def describe(self) -> str:
        return f"files:{self.folder}"

    def build(self, corpus, embedder, settings, *, progress=None, embed_cache=None) -> dict:
        from .index import build_index
        return build_index(corpus, embedder, self.folder, max_tokens=settings.chunk_tokens,
                           overlap=settings.chunk_overlap, analyzer=settings.analyzer, progress=progress,
                           embed_cache=embed_cache)

    def load(self, settings, embedder, corpus=None):
        from .index import load_index
        if settings.search_threads > 0:
            import faiss
            faiss.omp_set_num_threads(settings.search_threads)  # process-wide: see Settings.search_threads
        self.index = load_index(self.folder, embedder=embedder, settings=settings, corpus=corpus)
        return self.index

    def attach(self, index) -> "FileStore":
        self.index = index
        return self

    def disk_bytes(self) -> int:
        return folder_bytes(self.folder)

    def close(self) -> None:
        pass

    def chunk_hits(self, retriever, query, **kw):
        """The generic path over this store (the Retriever's own path is used while delegates is
        False; the tests compare the two)."""
        return store_chunk_hits(retriever, self, query, **kw)

    # ------------------------------------------------------------------ primitives
    def dense_topk(self, query_vec, k: int, filters=None) -> tuple[list[int], list[float]]:
        import faiss
        fi = self.index.faiss
        q = np.asarray(query_vec, np.float32)[None, :]
        mask = filter_mask(self.index.chunks, filters)
        if mask is None:
            d, i = fi.search(q, min(k, fi.ntotal))
        else:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if not len(allowed):
                return [], []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            d, i = fi.search(q, min(k, len(allowed)), params=params)
        keep = i[0] >= 0
        return [int(x) for x in i[0][keep]], [float(x) for x in d[0][keep]]

    def bm25_topk(self, tokens, k: int, filters=None) -> tuple[list[int], list[float]]:
        sc = self.index.bm25.scores(tokens)
        ok = sc > 0
        mask = filter_mask(self.index.chunks, filters)
        if mask is not None:
            ok &= mask
        idx = np.flatnonzero(ok)
        top = idx[np.argsort(-sc[idx], kind="stable")[:k]]
        return [int(x) for x in top], [float(sc[x]) for x in top]

    def cosines_of(self, query_vec, rows) -> list[float]:
        if not len(rows):
            return []
        vecs = self.index.faiss.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        return [float(x) for x in vecs @ np.asarray(query_vec, np.float32)]

    def bm25_of(self, tokens, rows) -> list[float]:
        if not len(rows):
            return []
        sc = self.index.bm25.scores(tokens)
        return [float(sc[r]) for r in rows]


def store_chunk_hits(retriever, store, query: str, *, mode: str, filters, query_vec=None) -> list[Hit]:
    """Retriever.chunk_hits computed from a store's top-k primitives: each list's candidates
    (filters applied by the store), the other list's exact score for every candidate, then the
    retriever's own fusion. Ties are broken like the Retriever does (dense rank, BM25 rank, row)."""
    from .retrieve import convex_fuse, rrf_fuse
    cand = retriever.candidates
    tokens = retriever.index.analyzer(query) if mode != "dense" else []
    if mode != "bm25" and query_vec is None:
        query_vec = retriever.embed_query(query)
    b_rows, b_sc = store.bm25_topk(tokens, cand, filters) if mode != "dense" else ([], [])
    d_rows, d_sc = store.dense_topk(query_vec, cand, filters) if mode != "bm25" else ([], [])
    # best first; equal scores by row, as the Retriever's stable argsort does
    b_order = sorted(range(len(b_rows)), key=lambda j: (-b_sc[j], b_rows[j]))
    d_order = sorted(range(len(d_rows)), key=lambda j: (-d_sc[j], d_rows[j]))
    bm = {b_rows[j]: b_sc[j] for j in b_order}
    de = {d_rows[j]: d_sc[j] for j in d_order}
    if mode == "hybrid":
        miss_b = [r for r in de if r not in bm]
        bm.update(zip(miss_b, store.bm25_of(tokens, miss_b)))
        miss_d = [r for r in bm if r not in de]
        de.update(zip(miss_d, store.cosines_of(query_vec, miss_d)))
    rows = sorted(set(bm) | set(de))
    if not rows:
        return []
    loc = {r: i for i, r in enumerate(rows)}
    bm_a = np.array([bm.get(r, 0.0) for r in rows], np.float32)
    de_a = np.array([de.get(r, 0.0) for r in rows], np.float32)
    b_rank = {loc[b_rows[j]]: n for n, j in enumerate(b_order, 1)}
    d_rank = {loc[d_rows[j]]: n for n, j in enumerate(d_order, 1)}
    if retriever.fusion == "rrf":
        fused = rrf_fuse(b_rank, d_rank, k=retriever.rrf_k, dense_weight=retriever.dense_weight)
    else:
        alpha = {"hybrid": retriever.alpha, "dense": 1.0, "bm25": 0.0}[mode]
        fused = convex_fuse(bm_a, de_a, b_rank, d_rank, alpha=alpha)
    big = len(rows) + 1
    order = sorted(fused, key=lambda i: (-fused[i], d_rank.get(i, big), b_rank.get(i, big), rows[i]))
    chunks = retriever.index.chunks
    return [Hit(chunks[rows[i]], fused[i], b_rank.get(i), d_rank.get(i), float(bm_a[i]), float(de_a[i]))
            for i in order]
