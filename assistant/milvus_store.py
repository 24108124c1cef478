"""The Milvus store: `ASSISTANT_STORE=milvus:<path.db>` (Milvus Lite, in this process) or
`milvus:http://host:port` (a Milvus server or cluster, or `milvus-lite server`).

One collection per build, `yz_<index name>_<build id>`, one row per chunk:

| field | type | |
|---|---|---|
| `row` | INT64, primary key | position in the index's chunks.jsonl |
| `chunk_id`, `proposal_id`, `doc_id` | VARCHAR | |
| `proposers` | ARRAY<VARCHAR> | filtered with ARRAY_CONTAINS_ANY |
| `proposer_type`, `meeting` | VARCHAR | filtered with `in [...]` / == |
| `year` | INT64 | 0 when the collection names no year |
| `embed_key` | VARCHAR | reuse of vectors by the next build |
| `dense` | FLOAT_VECTOR (dim of the model), FLAT, IP | unit vectors: IP = cosine |
| `sparse` | SPARSE_FLOAT_VECTOR, SPARSE_INVERTED_INDEX, IP | the chunk's BM25 weights from our analyzer |

A query's sparse vector is its analyzer tokens counted per vocabulary column, so the IP in Milvus
is exactly the file store's BM25 score (Milvus's own BM25 function and `drop_ratio_search` are not
used: Lite's and a cluster's differ). Records, the BM25 vocabulary and statistics (for the
answerer's idf) and the analyzer's user dictionary stay in the index folder beside a manifest
like the file store's; the manifest names the collection, and the collection carries a stamp
(property `yizheng.stamp`: build id, model fingerprint, format version, vocabulary hash) that
must match it. A build writes a new collection, installs the folder, then drops the collections
before the previous one; an interrupted build leaves the previous pair usable.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np

from .errors import AssistantError
from .store import store_chunk_hits

PREFIX = "yz_"
STAMP = "yizheng.stamp"
EMPTY_COL = 4294967294  # placeholder column for a chunk without any BM25 token (Milvus wants >= 1 weight)
INSERT_BATCH = 1000
MAX_TOPK = 16384  # Milvus's limit for one search
RANKERS = ("client", "rrf", "weighted")
REBUILD = "请运行 `assistant build` 重建索引 (ASSISTANT_STORE 保持不变)。"
_VARCHAR = {"chunk_id": 512, "proposal_id": 512, "doc_id": 512, "proposer_type": 64, "meeting": 512,
            "embed_key": 64}


def _quote_list(values) -> str:
    # JSON string literals are valid Milvus expression literals (same escapes for \\ and ")
    return json.dumps([str(v) for v in values], ensure_ascii=False)


def filter_expr(filters) -> str:
    if not filters:
        return ""
    parts = []
    if filters.proposers:
        parts.append(f"ARRAY_CONTAINS_ANY(proposers, {_quote_list(filters.proposers)})")
    if filters.types:
        parts.append(f"proposer_type in {_quote_list(filters.types)}")
    return " and ".join(parts)


def _is_uri(target: str) -> bool:
    return bool(re.match(r"^(https?|tcp|unix)://", target))


class MilvusStore:
    kind = "milvus"
    delegates = True

    def __init__(self, target: str, folder: Path, *, ranker: str = "client"):
        if ranker not in RANKERS:
            raise AssistantError(f"未知的 Milvus 排序方式 {ranker!r}。", hint="可选: " + "、".join(RANKERS))
        if _is_uri(target):
            self.uri = target
        else:
            path = Path(target).expanduser().resolve()
            if not path.name.endswith(".db"):
                raise AssistantError(f"Milvus Lite 的数据路径须以 .db 结尾: {target}",
                                     hint="例如 ASSISTANT_STORE=milvus:indexes/milvus.db，或 milvus:http://主机:19530")
            path.parent.mkdir(parents=True, exist_ok=True)
            self.uri = str(path)
        self.folder = Path(folder)
        self.ranker = ranker
        self.prefix = PREFIX + (re.sub(r"[^A-Za-z0-9_]", "_", self.folder.name) or "index") + "_"
        self.collection = ""
        self.index = None
        self._client = None

    def describe(self) -> str:
        return f"milvus:{self.uri}"

    @property
    def lite(self) -> bool:
        return not _is_uri(self.uri)

    @property
    def client(self):
        if self._client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError:
                raise AssistantError("未安装 Milvus 客户端 (pymilvus)。",
                                     hint="pip install -e '.[milvus]' (含 pymilvus 与 milvus-lite)")
            try:
                self._client = MilvusClient(uri=self.uri)
            except Exception as e:
                hint = ("Milvus Lite 一个数据目录只允许一个进程打开；多个进程请共用一个 "
                        "`milvus-lite server --data-dir … --host 127.0.0.1 --port 19530` 并设置 "
                        "ASSISTANT_STORE=milvus:http://127.0.0.1:19530。") if self.lite else \
                    "请检查 Milvus 服务地址与网络。"
                raise AssistantError(f"无法连接 Milvus ({self.uri}): {type(e).__name__}: {str(e)[:300]}", hint=hint)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def disk_bytes(self) -> int:
        from .store import folder_bytes
        return folder_bytes(self.folder) + (folder_bytes(Path(self.uri)) if self.lite else 0)

    # ------------------------------------------------------------------ build
    def build(self, corpus, embedder, settings, *, progress=None, embed_cache=None, log=None) -> dict:
        from .index import _previous_vectors, build_index, read_manifest
        log = log or (lambda m: None)
        fp = embedder.fingerprint
        prev_coll = ""
        try:
            man = read_manifest(self.folder)
            st = man.get("store", {})
            if st.get("kind") == "milvus" and man["model"]["fingerprint"] == fp \
                    and self.client.has_collection(st.get("collection", "")):
                prev_coll = st["collection"]
        except AssistantError:
            pass
        previous = self._vectors_by_key(prev_coll, embedder.dim) if prev_coll else \
            _previous_vectors(self.folder, fp)  # a file-store index in the same folder
        build_id = f"{time.strftime('%Y%m%d%H%M%S')}_{time.time_ns() % 1000000:06d}"
        name = self.prefix + build_id
        meta = _chunk_meta(corpus)
        written = []

        def write_vectors(tmp, chunks, keys, vecs, bm25):
            import hashlib
            vocab_sha = hashlib.sha256(json.dumps(list(bm25.vocab), ensure_ascii=False).encode()).hexdigest()
            stamp = {"build": build_id, "format_version": _format_version(), "model_fingerprint": fp,
                     "vocab_sha256": vocab_sha, "rows": len(chunks)}
            written.append(name)
            self._create(name, embedder.dim)
            csr = bm25.matrix.tocsr()
            t = time.perf_counter()
            for s in range(0, len(chunks), INSERT_BATCH):
                rows = [_row(i, chunks[i], keys[i], vecs[i], csr, meta) for i in range(s, min(s + INSERT_BATCH, len(chunks)))]
                self.client.insert(name, rows)
                done = min(s + INSERT_BATCH, len(chunks))
                if done == len(chunks) or (s // INSERT_BATCH) % 10 == 9:
                    log(f"Milvus: 已写入 {done}/{len(chunks)} 行 ({done / max(time.perf_counter() - t, 1e-9):.0f} 行/秒)")
            self.client.flush(name)
            self.client.alter_collection_properties(name, properties={STAMP: json.dumps(stamp)})
            return [], {"store": {"kind": "milvus", "uri": self.uri if not self.lite else Path(self.uri).name,
                                  "collection": name, "stamp": stamp}}

        try:
            man = build_index(corpus, embedder, self.folder, max_tokens=settings.chunk_tokens,
                              overlap=settings.chunk_overlap, analyzer=settings.analyzer, progress=progress,
                              previous=previous, write_vectors=write_vectors, embed_cache=embed_cache)
        except BaseException:
            for n in written:  # the previous collection and folder stay as they were
                try:
                    self.client.drop_collection(n)
                except Exception:
                    pass
            raise
        self._drop_old(keep={name, prev_coll})
        return man

    def _create(self, name: str, dim: int) -> None:
        from pymilvus import DataType
        c = self.client
        if c.has_collection(name):
            c.drop_collection(name)
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("row", DataType.INT64, is_primary=True)
        for f, n in _VARCHAR.items():
            s.add_field(f, DataType.VARCHAR, max_length=n)
        s.add_field("proposers", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=256, max_length=512)
        s.add_field("year", DataType.INT64)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        ip = c.prepare_index_params()
        ip.add_index("dense", index_type="FLAT", metric_type="IP")
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP", params={"drop_ratio_build": 0})
        c.create_collection(name, schema=s, index_params=ip)

    def _drop_old(self, keep: set) -> None:
        """Collections of this index older than the previous build (requests still running on the
        previous engine finish on the previous collection)."""
        for n in self.client.list_collections():
            if n.startswith(self.prefix) and n not in keep and re.fullmatch(r"\d{14}_\d{6}", n[len(self.prefix):]):
                try:
                    self.client.drop_collection(n)
                except Exception:
                    pass

    def _vectors_by_key(self, name: str, dim: int) -> dict:
        """embed_key -> vector of every row of an existing collection (the previous build)."""
        out: dict = {}
        try:
            self.client.load_collection(name)
            it = self.client.query_iterator(name, batch_size=1000, filter="row >= 0",
                                            output_fields=["embed_key", "dense"])
            while True:
                page = it.next()
                if not page:
                    it.close()
                    break
                for r in page:
                    v = np.asarray(r["dense"], np.float32)
                    if v.shape == (dim,):
                        out[r["embed_key"]] = v
        except Exception:  # unreadable: embed again
            return {}
        return out

    # ------------------------------------------------------------------ load
    def load(self, settings, embedder, corpus=None):
        from .index import load_index
        index = load_index(self.folder, embedder=embedder, settings=settings, corpus=corpus, vectors=False)
        st = index.manifest.get("store", {})
        if st.get("kind") != "milvus" or not st.get("collection"):
            raise AssistantError(f"索引 {self.folder} 不是由 Milvus 存储建立的。", hint=REBUILD)
        name = st["collection"]
        c = self.client
        if not c.has_collection(name):
            raise AssistantError(f"Milvus 中没有索引 {self.folder} 所用的集合 {name}。", hint=REBUILD)
        props = c.describe_collection(name).get("properties") or {}
        try:
            stamp = json.loads(props.get(STAMP, "{}"))
        except ValueError:
            stamp = {}
        want = st.get("stamp", {})
        if not stamp or stamp != want or stamp.get("vocab_sha256") != index.manifest["files"].get("bm25_vocab.json"):
            raise AssistantError(f"Milvus 集合 {name} 与索引 {self.folder} 的 manifest 不一致。", hint=REBUILD)
        if embedder is not None and stamp.get("model_fingerprint") != embedder.fingerprint:
            raise AssistantError(f"Milvus 集合 {name} 由另一个向量模型建立。", hint=REBUILD)
        c.load_collection(name)  # a collection reopened after a restart is released until loaded
        rows = int(c.get_collection_stats(name).get("row_count", -1))
        if rows != len(index.chunks):
            raise AssistantError(f"Milvus 集合 {name} 有 {rows} 行，索引有 {len(index.chunks)} 个文本块。", hint=REBUILD)
        self.collection = name
        index.vector_store = self
        self.index = index
        return index

    def attach(self, index) -> "MilvusStore":
        self.index = index
        self.collection = index.manifest["store"]["collection"]
        return self

    # ------------------------------------------------------------------ search
    def _sparse_query(self, tokens) -> dict:
        vocab = self.index.bm25.vocab
        q: dict = {}
        for t in tokens:
            j = vocab.get(t)
            if j is not None:
                q[j] = q.get(j, 0.0) + 1.0
        return q

    def dense_topk(self, query_vec, k: int, filters=None) -> tuple[list[int], list[float]]:
        res = self.client.search(self.collection, [np.asarray(query_vec, np.float32).tolist()], anns_field="dense",
                                 limit=k, filter=filter_expr(filters), output_fields=["row"],
                                 search_params={"metric_type": "IP"})
        return [int(h["row"]) for h in res[0]], [float(h["distance"]) for h in res[0]]

    def bm25_topk(self, tokens, k: int, filters=None) -> tuple[list[int], list[float]]:
        q = self._sparse_query(tokens)
        if not q:
            return [], []
        res = self.client.search(self.collection, [q], anns_field="sparse", limit=k, filter=filter_expr(filters),
                                 output_fields=["row"],
                                 search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0}})
        hits = [(int(h["row"]), float(h["distance"])) for h in res[0] if float(h["distance"]) > 0]
        return [r for r, _ in hits], [s for _, s in hits]

    def _fetch(self, rows, field: str) -> dict:
        out: dict = {}
        rows = [int(r) for r in rows]
        for s in range(0, len(rows), 1000):
            part = rows[s:s + 1000]
            for r in self.client.query(self.collection, filter=f"row in {part}", output_fields=["row", field]):
                out[int(r["row"])] = r[field]
        return out

    def cosines_of(self, query_vec, rows) -> list[float]:
        if not len(rows):
            return []
        got = self._fetch(rows, "dense")
        q = np.asarray(query_vec, np.float32)
        return [float(np.asarray(got[r], np.float32) @ q) if r in got else -1.0 for r in rows]

    def bm25_of(self, tokens, rows) -> list[float]:
        if not len(rows):
            return []
        q = self._sparse_query(tokens)
        if not q:
            return [0.0] * len(rows)
        got = self._fetch(rows, "sparse")
        return [float(sum(w * q.get(int(j), 0.0) for j, w in (got.get(r) or {}).items())) for r in rows]

    def query(self, q):
        """llama-index VectorStoreQuery -> VectorStoreQueryResult (ids are rows as strings), so
        code written against `index.vector_store` (Retriever.dense_scores: cosines of the whole
        corpus) works on this store too. Milvus caps one search at MAX_TOPK rows: beyond that
        only the best MAX_TOPK get a cosine (the rest stay at dense_scores' -1)."""
        from llama_index.core.vector_stores.types import VectorStoreQueryResult
        k = min(int(q.similarity_top_k or 1), MAX_TOPK, max(len(self.index.chunks), 1))
        rows, sims = self.dense_topk(np.asarray(q.query_embedding, np.float32), k)
        return VectorStoreQueryResult(ids=[str(r) for r in rows], similarities=sims)

    def chunk_hits(self, retriever, query, *, mode, filters, query_vec=None):
        if self.ranker == "client" or mode != "hybrid":
            return store_chunk_hits(retriever, self, query, mode=mode, filters=filters, query_vec=query_vec)
        return self._server_fused(retriever, query, filters, query_vec)

    def _server_fused(self, retriever, query, filters, query_vec):
        """One hybrid_search: both lists and the filters in Milvus, fused there by RRFRanker(k) or
        WeightedRanker(α, 1-α). Milvus normalises scores its own way, so the order can differ from
        the file store's convex fusion; Hit.bm25/cosine are still the raw scores, ranks are None."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        from .records import Hit
        tokens = retriever.index.analyzer(query)
        if query_vec is None:
            query_vec = retriever.embed_query(query)
        expr = filter_expr(filters)
        cand = retriever.candidates
        reqs = [AnnSearchRequest([np.asarray(query_vec, np.float32).tolist()], "dense", {"metric_type": "IP"},
                                 limit=cand, expr=expr)]
        q = self._sparse_query(tokens)
        if q:
            reqs.append(AnnSearchRequest([q], "sparse", {"metric_type": "IP", "params": {"drop_ratio_search": 0}},
                                         limit=cand, expr=expr))
        if self.ranker == "rrf":
            ranker = RRFRanker(retriever.rrf_k)
        else:
            ranker = WeightedRanker(*([retriever.alpha, 1.0 - retriever.alpha][:len(reqs)]))
        res = self.client.hybrid_search(self.collection, reqs, ranker, limit=cand, output_fields=["row"])
        rows = [int(h["row"]) for h in res[0]]
        scores = [float(h["distance"]) for h in res[0]]
        bm = self.bm25_of(tokens, rows)
        de = self.cosines_of(query_vec, rows)
        chunks = retriever.index.chunks
        return [Hit(chunks[r], s, None, None, b, d) for r, s, b, d in zip(rows, scores, bm, de)]


def _format_version() -> int:
    from .index import FORMAT_VERSION
    return FORMAT_VERSION


def _chunk_meta(corpus) -> dict:
    """proposal_id -> (meeting label, year) for the metadata columns."""
    docs = {d.doc_id: d for d in corpus.documents}
    out = {}
    for p in corpus.proposals:
        m = (docs.get(p.doc_id).meta or {}).get("meeting", {}) if p.doc_id in docs else {}
        out[p.proposal_id] = (p.meeting or m.get("name", "") or "", int(m.get("year") or 0))
    return out


def _cut(s: str, n: int) -> str:
    b = s.encode("utf-8")
    return s if len(b) <= n else b[:n].decode("utf-8", "ignore")


def _row(i: int, c, key: str, vec, csr, meta) -> dict:
    a, b = csr.indptr[i], csr.indptr[i + 1]
    sparse = {int(j): float(w) for j, w in zip(csr.indices[a:b], csr.data[a:b]) if w > 0} or {EMPTY_COL: 1.0}
    meeting, year = meta.get(c.proposal_id, ("", 0))
    return {"row": i, "chunk_id": _cut(c.chunk_id, 512), "proposal_id": _cut(c.proposal_id, 512),
            "doc_id": _cut(c.doc_id, 512), "proposer_type": _cut(c.proposer_type, 64), "meeting": _cut(meeting, 512),
            "embed_key": key, "year": year, "proposers": [_cut(p, 512) for p in c.proposers[:256]],
            "dense": np.asarray(vec, np.float32).tolist(), "sparse": sparse}
