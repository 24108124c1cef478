"""`assistant bench cmrc`: retrieval benchmark on CMRC 2018 dev as a sentence-level corpus.

Each context is split into sentences with the product's own splitter; a question's gold is the
sentence(s) holding its first answer span. Like a proposal chunk (title + proposers + text), a
sentence is indexed under its article title. BM25, dense and hybrid run through the product's
Retriever on one in-memory index; a character-bigram BM25 is the external reference baseline.
The data is read from ../shared/benchmarks/cmrc2018 (CC BY-SA 4.0) and never copied.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bm25 import BM25, Analyzer
from .chunk import sentences
from .config import ROOT
from .errors import AssistantError
from .records import Chunk

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.squad.json"


@dataclass
class CmrcSet:
    chunks: list            # one per sentence
    questions: list         # (question, set of gold chunk rows, answers, context id)
    contexts: dict          # context id -> context text


def load_cmrc(path: Path, limit: int | None = None) -> CmrcSet:
    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"找不到 CMRC 2018 数据 {path}。", hint="用 --data 指定 cmrc2018_dev.squad.json 的位置。")
    data = json.loads(path.read_text(encoding="utf-8"))
    chunks, questions, contexts = [], [], {}
    for art in data["data"]:
        for para in art["paragraphs"]:
            if limit and len(contexts) >= limit:
                break
            ctx, cid = para["context"], para["id"]
            contexts[cid] = ctx
            spans = sentences(ctx)
            first = len(chunks)
            for k, (s, e) in enumerate(spans):
                chunks.append(Chunk(f"{cid}#{k}", cid, "cmrc", art.get("title", ""), (), "", ctx[s:e], s, e))
            for qa in para["qas"]:
                ans = qa["answers"][0]
                a0, a1 = ans["answer_start"], ans["answer_start"] + len(ans["text"])
                gold = {first + k for k, (s, e) in enumerate(spans) if s < a1 and e > a0}
                if gold:
                    questions.append((qa["question"], gold, [a["text"] for a in qa["answers"]], cid))
    return CmrcSet(chunks, questions, contexts)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def embed_cached(embedder, texts: list, *, kind: str = "passage", cache_dir: Path | None = None, batch: int = 64,
                 progress=None) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (embed_passages or embed_queries), reusing a cache file keyed by the
    model's fingerprint and each text's sha256. Returns (vectors, how many were embedded now).
    A --limit run and the full run share one cache; a changed model or prompt gets a new file."""
    vecs = np.zeros((len(texts), embedder.dim), np.float32)
    keys = [_text_key(t) for t in texts]
    cached: dict = {}
    path = None
    if cache_dir is not None:
        fp = hashlib.sha256(f"{embedder.fingerprint}|{kind}".encode()).hexdigest()[:20]
        path = Path(cache_dir) / f"{kind}-{fp}.npz"
        if path.is_file():
            try:
                z = np.load(path)
                if z["vecs"].shape[1:] == (embedder.dim,):
                    cached = dict(zip(z["keys"].tolist(), z["vecs"]))
            except Exception:  # a torn or foreign file: embed again and overwrite it
                cached = {}
    todo = []
    for i, k in enumerate(keys):
        v = cached.get(k)
        if v is None:
            todo.append(i)
        else:
            vecs[i] = v
    todo.sort(key=lambda i: len(texts[i]))  # batch similar lengths
    embed = embedder.embed_passages if kind == "passage" else embedder.embed_queries
    for s in range(0, len(todo), batch):
        ids = todo[s:s + batch]
        vecs[ids] = embed([texts[i] for i in ids])
        if progress:
            progress(min(s + batch, len(todo)), len(todo))
    if path is not None and todo:
        for i in todo:
            cached[keys[i]] = vecs[i]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(list(cached)), vecs=np.stack(list(cached.values())))
        os.replace(tmp, path)
    return vecs, len(todo)


def build_memory_index(chunks: list, embedder, analyzer: Analyzer, *, text=lambda c: c.index_text, batch: int = 64,
                       progress=None, cache_dir: Path | None = None):
    """An Index held in memory (same classes the product persists), plus build seconds.
    With `cache_dir`, passage vectors are reused across runs (see embed_cached)."""
    import faiss
    from llama_index.vector_stores.faiss import FaissVectorStore

    from .index import Index
    t0 = time.perf_counter()
    vecs, embedded = embed_cached(embedder, [text(c) for c in chunks], cache_dir=cache_dir, batch=batch,
                                  progress=progress)
    t_embed = time.perf_counter() - t0
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(embedder.dim))
    store.client.add(vecs)  # same rows as store.add(nodes), without building 10k TextNodes
    t1 = time.perf_counter()
    bm25 = BM25.build([analyzer(text(c)) for c in chunks])
    t_bm25 = time.perf_counter() - t1
    idx = Index(None, {}, {}, {}, chunks, store, bm25, analyzer)
    return idx, {"embed_s": t_embed, "bm25_s": t_bm25, "total_s": time.perf_counter() - t0, "embedded": embedded}


def _metrics(ranked_rows: list[list[int]], golds: list[set]) -> dict:
    h1 = h5 = mrr = 0.0
    for rows, gold in zip(ranked_rows, golds):
        r = next((i for i, x in enumerate(rows[:10], 1) if x in gold), None)
        h1 += r == 1
        h5 += r is not None and r <= 5
        mrr += 1.0 / r if r else 0.0
    n = max(len(golds), 1)
    return {"hit@1": h1 / n, "hit@5": h5 / n, "mrr@10": mrr / n}


def _pct(xs, q):
    return float(np.percentile(np.array(xs) * 1000, q)) if xs else float("nan")


def run_cmrc(data: Path, embedder, *, limit: int | None = None, modes=("bm25", "dense", "hybrid"),
             analyzer: Analyzer | None = None, log=print, rrf_k: int = 60, dense_weight: float = 1.0) -> dict:
    from .retrieve import Retriever
    ds = load_cmrc(data, limit)
    log(f"CMRC 2018 dev: {len(ds.contexts)} 段, {len(ds.chunks)} 句, {len(ds.questions)} 问")
    analyzer = analyzer or Analyzer()
    analyzer("预热")

    def prog(d, t):
        print(f"\r向量化 {d}/{t}", end="", file=sys.stderr, flush=True)

    index, build = build_memory_index(ds.chunks, embedder, analyzer, progress=prog)
    print(file=sys.stderr)
    build["chunks_per_s"] = len(ds.chunks) / max(build["total_s"], 1e-9)
    golds = [g for _, g, _, _ in ds.questions]
    results = {}
    # The reference baseline: character-bigram BM25, the same BM25 code with another analyzer.
    ref_an = Analyzer(bigrams=True, words=False)
    ref_index, _ = build_memory_index(ds.chunks, _NoEmbed(embedder.dim), ref_an)
    ref = Retriever(ref_index, None, rrf_k=rrf_k)
    runs = [("bigram-bm25 (ref)", ref, "bm25")]
    retr = Retriever(index, embedder, rrf_k=rrf_k, dense_weight=dense_weight)
    runs += [(m, retr, m) for m in modes]
    for label, r, mode in runs:
        ranked, lat, lat_embed = [], [], []
        for q, _, _, _ in ds.questions:
            t0 = time.perf_counter()
            qv = None
            if mode != "bm25":
                qv = r.embedder.embed_queries([q])[0]
                lat_embed.append(time.perf_counter() - t0)
            hits = r.chunk_hits(q, mode=mode, query_vec=qv)
            lat.append(time.perf_counter() - t0)
            ranked.append([ds_row(index, h) for h in hits[:10]])
        results[label] = {**_metrics(ranked, golds), "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95),
                          "embed_p50_ms": _pct(lat_embed, 50)}
    return {"dataset": {"contexts": len(ds.contexts), "sentences": len(ds.chunks), "questions": len(ds.questions)},
            "build": build, "results": results,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "model": embedder.name}


def ds_row(index, hit) -> int:
    # chunk ids are unique and rows are in order; map back through a cached dict
    m = getattr(index, "_row_of", None)
    if m is None:
        m = index._row_of = {c.chunk_id: i for i, c in enumerate(index.chunks)}
    return m[hit.chunk.chunk_id]


class _NoEmbed:
    """Stands in for the embedder where only BM25 is run (the reference baseline)."""
    name, fingerprint = "none", "none"

    def __init__(self, dim):
        self.dim = dim

    def embed_passages(self, texts):
        return np.zeros((len(texts), self.dim), np.float32)


def format_table(rep: dict) -> str:
    base = rep["results"]["bigram-bm25 (ref)"]
    lines = [f"CMRC 2018 dev (sentence-level): {rep['dataset']['sentences']} sentences, "
             f"{rep['dataset']['questions']} questions, model {rep['model']}",
             f"{'retriever':<20}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'p50 ms':>9}{'p95 ms':>9}{'hit@5 ×ref':>12}{'p95 ×ref':>10}"]
    for label, r in rep["results"].items():
        lines.append(f"{label:<20}{r['hit@1']:>8.3f}{r['hit@5']:>8.3f}{r['mrr@10']:>8.3f}{r['p50_ms']:>9.1f}"
                     f"{r['p95_ms']:>9.1f}{r['hit@5'] / base['hit@5']:>12.3f}{r['p95_ms'] / base['p95_ms']:>10.1f}")
    b = rep["build"]
    lines.append(f"build: {b['chunks_per_s']:.0f} chunks/s ({b['embed_s']:.1f}s embedding, {b['bm25_s']:.1f}s BM25); "
                 f"peak RSS {rep['peak_rss_mb']:.0f} MB; query latency includes query embedding, model load excluded")
    return "\n".join(lines)


def cmd_bench(args) -> int:
    from .config import Settings
    from .embed import load_embedder
    s = Settings.from_env(model=args.model)
    emb = load_embedder(s)
    name = args.analyzer or s.analyzer
    an = Analyzer(bigrams="bigram" in name.split("+"), words="jieba" in name.split("+"))
    rep = run_cmrc(Path(args.data), emb, limit=args.limit, analyzer=an, log=lambda m: print(m, file=sys.stderr),
                   rrf_k=s.rrf_k, dense_weight=s.dense_weight)
    print(json.dumps(rep, ensure_ascii=False, indent=1) if args.json else format_table(rep))
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("bench", parents=[common], help="检索基准: CMRC 2018 dev (句子级)")
    p.add_argument("dataset", choices=["cmrc"], nargs="?", default="cmrc")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="cmrc2018_dev.squad.json 的路径")
    p.add_argument("--limit", type=int, help="只用前 N 段 (快速试跑)")
    p.add_argument("--analyzer", choices=["jieba", "jieba+bigram", "bigram"], help="BM25 分词 (默认同 ASSISTANT_ANALYZER)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
