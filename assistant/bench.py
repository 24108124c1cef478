"""`assistant bench`: retrieval benchmark, BM25 / dense / hybrid side by side, on three data sets.

- cmrc: CMRC 2018 dev as a sentence-level corpus. Each context is split into sentences with the
  product's own splitter; a question's gold is the sentence(s) holding its first answer span. Like
  a proposal chunk (title + proposers + text), a sentence is indexed under its article title. A
  character-bigram BM25 is the external reference row. Read from ../shared/benchmarks/cmrc2018
  (CC BY-SA 4.0), never copied.
- qa: eval/qa.jsonl over the home corpus, proposal-level (the ids `assistant search` returns);
  follow-ups are asked as conversations and retrieved as resolved, as `assistant eval` does.
- corpora: the other-city collections in ../shared/corpora, all loaded as ONE corpus (as
  `assistant eval --corpora` does), proposal-level, gold = the questions' gold items.

Every data set is split in two halves: the half fusion settings are chosen on, and the held-out
half they are reported on (cmrc: even / odd context index; qa: split dev / test; corpora:
even / odd folder in name order). The hybrid row must not lose to the better of BM25 and dense on
hit@1 and hit@5; the ratio columns compare every row with that bar (or with --baseline).
Passage and query vectors are cached per model fingerprint and text (--cache), so re-runs embed
nothing new; the latency columns are retrieval alone, single-query embedding is timed on a sample.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
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


HALVES = ("choose", "held-out")
HALF_RULES = {"cmrc": "选参 = 偶数序号段落的问题, 留出 = 奇数序号", "qa": "选参 = split dev, 留出 = split test",
              "corpora": "选参 = 按名称排序后偶数序号的目录, 留出 = 奇数序号"}
DATASETS = ("cmrc", "qa", "corpora")


@dataclass
class BenchQuestion:
    text: str
    gold: frozenset          # chunk rows (cmrc) or proposal ids (qa, corpora)
    half: str                # "choose" or "held-out"
    proposers: tuple = ()    # a follow-up's carried-over proposers (qa)


@dataclass
class Prepared:
    name: str
    title: str
    info: dict
    build: dict
    questions: list
    runs: list               # (label, retriever, mode)
    rank: object             # (retriever, question, mode, query_vec) -> ranked ids, best first
    embedder: object


def _metrics(ranks: list) -> dict:
    n = max(len(ranks), 1)
    return {"n": len(ranks), "hit@1": sum(r == 1 for r in ranks) / n,
            "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr@10": sum(1.0 / r for r in ranks if r) / n}


def _pct(xs, q):
    return float(np.percentile(np.array(xs) * 1000, q)) if xs else float("nan")


def _rank_of(ids: list, gold) -> int | None:
    return next((i for i, x in enumerate(ids[:10], 1) if x in gold), None)


def _split_limit(questions: list, limit: int | None) -> list:
    """The first `limit` questions of each half."""
    if not limit:
        return questions
    seen = {h: 0 for h in HALVES}
    out = []
    for q in questions:
        if seen[q.half] < limit:
            seen[q.half] += 1
            out.append(q)
    return out


def _retrievers(index, embedder, settings, registry=None) -> list:
    """(label, retriever, mode): BM25, dense, hybrid with the settings' fusion, and the other fusion
    as a reference row."""
    from .retrieve import Retriever
    main = Retriever.from_settings(index, embedder, settings, registry)
    runs = [("bm25", main, "bm25"), ("dense", main, "dense"), ("hybrid", main, "hybrid")]
    if settings.fusion != "rrf":
        other = Retriever.from_settings(index, embedder, settings.with_(fusion="rrf"), registry)
        runs.append((f"hybrid-rrf k={settings.rrf_k} w={settings.dense_weight:g}", other, "hybrid"))
    return runs


def fusion_label(settings) -> str:
    if settings.fusion == "rrf":
        return f"rrf k={settings.rrf_k} w={settings.dense_weight:g}"
    return f"{settings.fusion} α={settings.fusion_alpha:g}"


def _progress(d, t):
    print(f"\r向量化 {d}/{t}", end="" if d < t else "\n", file=sys.stderr, flush=True)


def prepare_cmrc(settings, embedder, *, data: Path = DEFAULT_DATA, limit: int | None = None,
                 analyzer: Analyzer | None = None, cache_dir: Path | None = None, log=print) -> Prepared:
    from .retrieve import Retriever
    ds = load_cmrc(data, limit)
    log(f"CMRC 2018 dev: {len(ds.contexts)} 段, {len(ds.chunks)} 句, {len(ds.questions)} 问")
    analyzer = analyzer or Analyzer()
    analyzer("预热")
    index, build = build_memory_index(ds.chunks, embedder, analyzer, progress=_progress, cache_dir=cache_dir)
    build["chunks_per_s"] = len(ds.chunks) / max(build["total_s"], 1e-9)
    ctx_no = {cid: i for i, cid in enumerate(ds.contexts)}
    qs = [BenchQuestion(q, frozenset(g), HALVES[ctx_no[cid] % 2]) for q, g, _, cid in ds.questions]
    # The reference baseline: character-bigram BM25, the same BM25 code with another analyzer.
    ref_index, _ = build_memory_index(ds.chunks, _NoEmbed(embedder.dim), Analyzer(bigrams=True, words=False))
    runs = [("bigram-bm25 (ref)", Retriever(ref_index, None), "bm25")] + _retrievers(index, embedder, settings)

    def rank(r, q, mode, qv):
        return [ds_row(index, h) for h in r.chunk_hits(q.text, mode=mode, query_vec=qv)[:10]]

    return Prepared("cmrc", "CMRC 2018 dev (句子级)",
                    {"contexts": len(ds.contexts), "sentences": len(ds.chunks), "questions": len(ds.questions)},
                    build, qs, runs, rank, embedder)


def _engine(settings, log):
    from .engine import Engine
    return Engine.open(settings, log=log)


def _model_key(settings) -> str:
    return hashlib.sha256(settings.model.encode()).hexdigest()[:10]


def prepare_qa(settings, embedder, *, benchmark: Path | None = None, limit: int | None = None,
               cache_dir: Path | None = None, log=print) -> Prepared:
    from . import evaluate as ev
    t0 = time.perf_counter()
    work = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="yz-bench-"))
    eng = _engine(settings.with_(index_dir=work / f"index-home-{_model_key(settings)}"), log)
    build = {"total_s": time.perf_counter() - t0, "chunks": len(eng.index.chunks)}
    items = ev.load_benchmark(Path(benchmark or ev.DEFAULT_BENCHMARK), "all")
    qs = []
    for it in items:
        if not (it.answerable and it.gold_proposals):
            continue
        half = "choose" if it.split == "dev" else "held-out"
        if limit and sum(q.half == half for q in qs) >= limit:
            continue
        text, props = it.question, ()
        if it.history:  # asked as a conversation, retrieved as resolved (as `assistant eval` does)
            _, turns = ev.conversation(eng.answerer, it)
            rq = eng.answerer.resolve(it.question, turns)
            text, props = rq.text, tuple(rq.proposers)
        qs.append(BenchQuestion(text, frozenset(it.gold_proposals), half, props))
    log(f"问答评测集: {len(eng.index.proposals)} 条记录, {len(eng.index.chunks)} 个文本块, {len(qs)} 问")

    def rank(r, q, mode, qv):
        return [h.proposal.proposal_id for h in r.search(q.text, 10, mode=mode, proposers=q.proposers, query_vec=qv)]

    return Prepared("qa", "问答评测集 eval/qa.jsonl (建议级)",
                    {"proposals": len(eng.index.proposals), "chunks": len(eng.index.chunks), "questions": len(qs)},
                    build, qs, _retrievers(eng.index, eng.embedder, eng.settings, eng.corpus.registry), rank,
                    eng.embedder)


def prepare_corpora(settings, embedder, *, root: Path | None = None, limit: int | None = None,
                    cache_dir: Path | None = None, log=print) -> Prepared:
    from . import eval_corpora as ec
    t0 = time.perf_counter()
    folders = ec.folders_in(Path(root or ec.DEFAULT_CORPORA))
    if not folders:
        raise AssistantError(f"{root or ec.DEFAULT_CORPORA} 中没有语料集 (含 proposals/ 的子目录)。")
    work = (Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="yz-bench-"))) / f"corpora-{_model_key(settings)}"
    shutil.rmtree(work / "corpus", ignore_errors=True)
    corpus_dir = ec.assemble(folders, work / "corpus")
    eng = _engine(settings.with_(corpus_dir=corpus_dir, index_dir=work / "index"), log)
    build = {"total_s": time.perf_counter() - t0, "chunks": len(eng.index.chunks)}
    half_of = {f.name: HALVES[i % 2] for i, f in enumerate(folders)}
    qs = []
    for q in ec.load_questions(folders):
        if not (q.answerable and q.gold_items) or q.history:
            continue
        if limit and sum(x.half == half_of[q.folder] for x in qs) >= limit:
            continue
        qs.append(BenchQuestion(q.question, frozenset(q.gold_items), half_of[q.folder]))
    missing = sorted({g for q in qs for g in q.gold} - set(eng.index.proposals))
    if missing:
        log(f"注意: {len(missing)} 个 gold 条目不在载入的语料中 (如 {missing[0]}), 这些题必然不中。")
    log(f"语料集: {len(folders)} 个目录, {len(eng.index.proposals)} 条记录, {len(eng.index.chunks)} 个文本块, {len(qs)} 问")

    def rank(r, q, mode, qv):
        return [h.proposal.proposal_id for h in r.search(q.text, 10, mode=mode, query_vec=qv)]

    return Prepared("corpora", "其他城市语料集 ../shared/corpora (全部载入一个语料库, 建议级)",
                    {"folders": [f.name for f in folders], "proposals": len(eng.index.proposals),
                     "chunks": len(eng.index.chunks), "questions": len(qs)},
                    build, qs, _retrievers(eng.index, eng.embedder, eng.settings, eng.corpus.registry), rank,
                    eng.embedder)


def measure(prep: Prepared, cache_dir: Path | None = None, embed_sample: int = 30) -> dict:
    """Run every retriever on every question: metrics and retrieval latency per half (and over
    all). Query vectors are embedded in one batch (and cached) first, so the latency columns are
    retrieval alone; single-query embedding is timed on a sample and reported beside them."""
    emb = prep.embedder
    qvecs, _ = embed_cached(emb, [q.text for q in prep.questions], kind="query", cache_dir=cache_dir)
    t_embed = []
    for q in prep.questions[:embed_sample]:
        t0 = time.perf_counter()
        emb.embed_queries([q.text])
        t_embed.append(time.perf_counter() - t0)
    if prep.questions:  # warm up (first-call overheads are not query latency)
        for _, r, mode in prep.runs:
            prep.rank(r, prep.questions[0], mode, None if mode == "bm25" else qvecs[0])
    ranks = {label: [] for label, _, _ in prep.runs}
    lat = {label: [] for label, _, _ in prep.runs}
    for q, qv in zip(prep.questions, qvecs):
        for label, r, mode in prep.runs:
            t0 = time.perf_counter()
            ids = prep.rank(r, q, mode, None if mode == "bm25" else qv)
            lat[label].append(time.perf_counter() - t0)
            ranks[label].append(_rank_of(ids, q.gold))
    halves = {}
    for half in (*HALVES, "all"):
        sel = [i for i, q in enumerate(prep.questions) if half == "all" or q.half == half]
        res = {}
        for label in ranks:
            ls = [lat[label][i] for i in sel]
            res[label] = {**_metrics([ranks[label][i] for i in sel]), "p50_ms": _pct(ls, 50), "p95_ms": _pct(ls, 95)}
        halves[half] = {"n": len(sel), "results": res, "verdict": verdict(res)}
    return halves, {"n": len(t_embed), "p50_ms": _pct(t_embed, 50), "p95_ms": _pct(t_embed, 95)}


def verdict(res: dict) -> dict:
    """Does hybrid reach the better of BM25 and dense on hit@1 and hit@5?"""
    if not {"bm25", "dense", "hybrid"} <= set(res):
        return {}
    out = {}
    for k in ("hit@1", "hit@5"):
        best = max(res["bm25"][k], res["dense"][k])
        out[k] = {"hybrid": res["hybrid"][k], "best_single": best, "ok": res["hybrid"][k] >= best - 1e-12}
    out["ok"] = all(v["ok"] for v in out.values())
    return out


def run_dataset(name: str, settings, embedder, *, limit: int | None = None, data: Path | None = None,
                benchmark: Path | None = None, corpora: Path | None = None, analyzer: Analyzer | None = None,
                cache_dir: Path | None = None, log=print) -> dict:
    if name == "cmrc":
        prep = prepare_cmrc(settings, embedder, data=Path(data or DEFAULT_DATA), limit=limit, analyzer=analyzer,
                            cache_dir=cache_dir, log=log)
    elif name == "qa":
        prep = prepare_qa(settings, embedder, benchmark=benchmark, limit=limit, cache_dir=cache_dir, log=log)
    elif name == "corpora":
        prep = prepare_corpora(settings, embedder, root=corpora, limit=limit, cache_dir=cache_dir, log=log)
    else:
        raise AssistantError(f"未知的数据集 {name!r}，可选 {', '.join(DATASETS)}。")
    halves, embed = measure(prep, cache_dir)
    return {"name": prep.name, "title": prep.title, "dataset": prep.info, "build": prep.build,
            "halves_rule": HALF_RULES[prep.name], "halves": halves, "query_embedding": embed}


def run_cmrc(data: Path, embedder, *, limit: int | None = None, analyzer: Analyzer | None = None, log=print,
             settings=None, cache_dir: Path | None = None) -> dict:
    """The CMRC data set alone (kept for callers of the earlier single-data-set bench)."""
    from .config import Settings
    return run_dataset("cmrc", settings or Settings(), embedder, limit=limit, data=data, analyzer=analyzer,
                       cache_dir=cache_dir, log=log)


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


def format_table(rep: dict, baseline: str = "best") -> str:
    """One block per data set and half: every retriever's hit@1, hit@5, MRR@10 and latency, and
    hit@1 / hit@5 as ratios of the baseline (default: the better of BM25 and dense, per metric)."""
    lines = [f"模型 {rep['model']}; 融合 {rep['fusion']}; 基线列 ×{baseline} = "
             + ("BM25 与向量检索中较好的一个 (逐项取大)" if baseline == "best" else baseline)]
    for ds in rep["datasets"].values():
        if "error" in ds:
            lines += ["", f"== {ds['name']}: 跳过 — {ds['error']}"]
            continue
        info = ", ".join(f"{k} {len(v) if isinstance(v, list) else v}" for k, v in ds["dataset"].items())
        lines += ["", f"== {ds['title']}: {info}", f"   半分: {ds['halves_rule']}",
                  f"{'half':<10}{'retriever':<24}{'n':>6}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'p50 ms':>9}{'p95 ms':>9}"
                  f"{'hit@1 ×' + baseline:>13}{'hit@5 ×' + baseline:>13}"]
        for half in HALVES:
            h = ds["halves"][half]
            res = h["results"]
            if not h["n"]:
                lines.append(f"{half:<10}(没有问题)")
                continue
            base = {k: (max(res["bm25"][k], res["dense"][k]) if baseline == "best" else res[baseline][k])
                    for k in ("hit@1", "hit@5")}
            for i, (label, r) in enumerate(res.items()):
                ratio = "".join(f"{(r[k] / base[k] if base[k] else float('nan')):>13.3f}" for k in ("hit@1", "hit@5"))
                lines.append(f"{half if i == 0 else '':<10}{label:<24}{r['n']:>6}{r['hit@1']:>8.3f}{r['hit@5']:>8.3f}"
                             f"{r['mrr@10']:>8.3f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{ratio}")
            v = h["verdict"]
            if v:
                lost = [k for k in ("hit@1", "hit@5") if not v[k]["ok"]]
                lines.append(f"{'':<10}→ hybrid " + ("不输于较好的单路 (hit@1, hit@5)" if not lost else
                             "输给较好的单路: " + ", ".join(f"{k} {v[k]['hybrid']:.3f} < {v[k]['best_single']:.3f}"
                                                    for k in lost)))
        e = ds["query_embedding"]
        lines.append(f"查询向量化 (单条, 抽样 {e['n']} 问): p50 {e['p50_ms']:.1f} ms, p95 {e['p95_ms']:.1f} ms — "
                     "dense / hybrid 的端到端延迟 = 上表的检索延迟 + 此项")
        b = ds["build"]
        if "chunks_per_s" in b:
            lines.append(f"build: {b['chunks_per_s']:.0f} chunks/s ({b['embed_s']:.1f}s embedding, {b['embedded']} newly "
                         f"embedded, {b['bm25_s']:.1f}s BM25)")
    lines.append(f"peak RSS {rep['peak_rss_mb']:.0f} MB; p50/p95 为检索延迟 (查询向量已批量算好), 不含模型加载")
    return "\n".join(lines)


def cmd_bench(args) -> int:
    from .config import Settings
    from .embed import load_embedder
    over = {"model": args.model, "fusion": args.fusion, "fusion_alpha": args.alpha, "analyzer": args.analyzer}
    if args.corpus:
        over["corpus_dir"] = Path(args.corpus)
    s = Settings.from_env(**over)
    emb = load_embedder(s)
    cache = None if args.no_cache else Path(args.cache or s.model_cache.parent / "bench")
    name = s.analyzer
    an = Analyzer(bigrams="bigram" in name.split("+"), words="jieba" in name.split("+"))
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    names = DATASETS if args.dataset == "all" else (args.dataset,)
    rep = {"model": emb.name, "fusion": fusion_label(s), "limit": args.limit, "datasets": {}}
    for n in names:
        try:
            rep["datasets"][n] = run_dataset(n, s, emb, limit=args.limit, data=args.data, benchmark=args.benchmark,
                                             corpora=args.corpora, analyzer=an, cache_dir=cache, log=log)
        except AssistantError as e:
            if args.dataset != "all":
                raise
            log(f"{n}: 跳过 — {e.message}")
            rep["datasets"][n] = {"name": n, "error": e.message}
    rep["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(rep, ensure_ascii=False, indent=1) if args.json else format_table(rep, args.baseline))
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("bench", parents=[common],
                       help="检索基准: BM25 / 向量 / 混合并列, CMRC 2018 dev、问答评测集、其他城市语料集")
    p.add_argument("dataset", choices=[*DATASETS, "all"], nargs="?", default="cmrc",
                   help="cmrc (句子级)、qa (eval/qa.jsonl)、corpora (../shared/corpora) 或 all")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="cmrc2018_dev.squad.json 的路径")
    p.add_argument("--benchmark", help="qa: 评测集 JSONL (默认 eval/qa.jsonl; 语料用 --corpus 或 ASSISTANT_CORPUS)")
    p.add_argument("--corpora", help="corpora: 语料集目录 (默认 ../shared/corpora)")
    p.add_argument("--limit", type=int, help="快速试跑: CMRC 只用前 N 段; qa / corpora 每一半只用前 N 题")
    p.add_argument("--analyzer", choices=["jieba", "jieba+bigram", "bigram"], help="BM25 分词 (默认同 ASSISTANT_ANALYZER)")
    p.add_argument("--fusion", choices=["convex", "rrf"], help="融合方式 (默认同 ASSISTANT_FUSION)")
    p.add_argument("--alpha", type=float, help="convex 融合的向量权重 α (默认同 ASSISTANT_FUSION_ALPHA)")
    p.add_argument("--baseline", choices=["best", "dense", "bm25"], default="best",
                   help="比值列的基线: best = BM25 与向量中较好的一个 (默认)")
    p.add_argument("--cache", help="段落向量与基准索引的缓存目录 (默认 ASSISTANT_MODEL_CACHE 旁的 bench/)")
    p.add_argument("--no-cache", action="store_true", help="不读写缓存 (全部重新向量化, 索引建在临时目录)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
