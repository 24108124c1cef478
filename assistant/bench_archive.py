"""`assistant bench archive`: the file store and the Milvus store side by side on a synthetic
archive of N chunks made from real Chinese text.

The archive is an ordinary corpus folder that goes through the product's own ingestion,
chunking, build, retrieval and extractive answerer:

- text: CMRC 2018 dev contexts (read from ../shared/benchmarks/cmrc2018, never copied into the
  repository). Each context is one "home" proposal; past the 848 contexts, proposals are made of
  sentences drawn at random from all contexts, so every chunk is real text and unique;
- collections of ~40 proposals, each a meeting of an invented city ("临江市政协十四届三次会议",
  year, kind from assistant/cppcc.json), its proposers built from the proposer grammar's
  knowledge: the eight parties' short names + the city (民盟临江市委会), special committees
  (临江市政协经济委员会), district CPPCCs (青川区政协), 工商联, 界别组;
- questions: CMRC questions of the home contexts; a question is answered at 5 when one of the 5
  proposals retrieved contains its answer sentence.

Each store runs in its own child process (peak RSS is the child's). Passage vectors are computed
once into a resumable cache (`<work>/vectors`) that both stores' builds read, so
`build_chunks_per_s` is the store's own build (chunking, BM25, writing vectors, records) and
`embed_chunks_per_s` is the model's rate, reported once. `--random-vectors` replaces the model
by deterministic random unit vectors (for 1M chunks: the stores alone). After the measurements
each store adds one 30-proposal collection and reports how many chunks it embedded.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .errors import AssistantError

STORES = ("files", "milvus")
METRICS = ("build_chunks_per_s", "peak_rss_mb", "disk_mb", "retrieve_p50_ms", "retrieve_p95_ms",
           "answer_p95_ms", "hit@5")
HIGHER_IS_BETTER = {"build_chunks_per_s", "hit@5"}
_A = "临青云白松安东西北南金玉石清长永兴宁凤龙"
_B = "江川岭河阳平陵湖塘屏溪泉门源宁和安远翔桥"
COMMITTEES = ("经济", "教科文卫体", "农业和农村", "社会和法制", "人口资源环境", "文化文史和学习")
SECTORS = ("经济", "科技", "教育", "医药卫生", "农业", "特邀")
SESSIONS = ("一", "二", "三", "四", "五")
TITLE_FORMS = ("关于{}的建议", "加快推进{}相关工作", "{}发展的思考与建议", "进一步做好{}工作", "{}调研报告")
TOPICS = ("高质量发展", "科技创新", "乡村振兴", "民生保障", "城市治理", "营商环境", "生态保护", "文化建设")


# ----------------------------------------------------------------------------- the archive
def _places(rng: random.Random, k: int) -> list[str]:
    names = [a + b for a in _A for b in _B if a != b]
    rng.shuffle(names)
    return names[:k]


def _proposers(city: str, districts: list[str]) -> list[str]:
    from .proposers import knowledge
    k = knowledge()
    out = [f"{p['short']}{city}委会" for p in k["parties"]]
    out += [f"{city}政协{c}委员会" for c in COMMITTEES]
    out += [f"{d}区政协" for d in districts]
    out += [f"{city}工商联", *(f"{s}界别组" for s in SECTORS)]
    return out


def _meeting_kinds() -> list[str]:
    from .proposers import knowledge
    return [k for k, _ in knowledge()["meeting_kinds"] if k in ("大会发言", "全体会议", "常委会议", "专题协商", "专题议政")]


class _Source:
    """CMRC 2018 dev: contexts as sentence lists, questions with their answer sentence."""

    def __init__(self, path: Path):
        from .chunk import sentences
        path = Path(path)
        if not path.is_file():
            raise AssistantError(f"找不到 CMRC 2018 数据 {path}。", hint="用 --data 指定 cmrc2018_dev.squad.json 的位置。")
        data = json.loads(path.read_text(encoding="utf-8"))
        self.contexts: list[tuple[str, list[str]]] = []   # (article title, sentences)
        self.questions: list[list[tuple[str, str]]] = []  # per context: (question, answer sentence)
        for art in data["data"]:
            for para in art["paragraphs"]:
                ctx = para["context"]
                spans = sentences(ctx)
                sents = [ctx[s:e].strip() for s, e in spans]
                qs = []
                for qa in para["qas"]:
                    a = qa["answers"][0]
                    a0, a1 = a["answer_start"], a["answer_start"] + len(a["text"])
                    gold = next((ctx[s:e].strip() for s, e in spans if s < a1 and e > a0), "")
                    if len(gold) >= 8:
                        qs.append((qa["question"].strip(), gold))
                self.contexts.append((art.get("title", "").strip() or "专题", [s for s in sents if s]))
                self.questions.append(qs)
        self.pool = [s for _, ss in self.contexts for s in ss if len(s) >= 6]


def _chunk_count(title: str, proposer: str, body: str, max_tokens: int) -> int:
    from .chunk import chunk_proposal
    from .records import Proposal
    p = Proposal("x", "d", "proposal", title, (proposer,), "", body, 0, len(body))
    return len(chunk_proposal(p, body, max_tokens))


def _collection_text(city: str, session: str, kind: str, year: int, topic: str, items: list[tuple[str, str, str]]) -> str:
    head = f"{city}政协十四届{session}次会议"
    lines = [f"## {head}{kind}", "", f"# {topic}", "",
             f"{head}于{year}年召开，围绕“{topic}”{kind}。各民主党派、工商联、专门委员会和"
             f"各区县政协提交了{len(items)}篇建议。", ""]
    for title, who, body in items:
        lines += [f"### {title} {who}", "", body, ""]
    return "\n".join(lines)


def make_archive(out: Path, n_chunks: int, data: Path, *, seed: int = 7, max_tokens: int = 160,
                 per_collection: int = 40, max_questions: int = 200) -> dict:
    """Write a corpus folder of about n_chunks chunks; returns its description with the questions."""
    rng = random.Random(seed)
    src = _Source(data)
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "proposals").mkdir(parents=True)
    (out / "policies").mkdir()
    places = _places(rng, 400)
    kinds = _meeting_kinds()
    total, n_props, n_coll = 0, 0, 0
    home = list(range(len(src.contexts)))
    rng.shuffle(home)
    questions: list[dict] = []
    items: list = []

    def flush():
        nonlocal items, n_coll
        if not items:
            return
        city = places[n_coll % len(places)] + "市"
        year = 2012 + n_coll % 13
        text = _collection_text(city, SESSIONS[n_coll % len(SESSIONS)], kinds[n_coll % len(kinds)], year,
                                TOPICS[n_coll % len(TOPICS)], [(t, w.format(city=city), b) for t, w, b in items])
        (out / "proposals" / f"c{n_coll:05d}.txt").write_text(text, encoding="utf-8")
        n_coll += 1
        items = []

    while total < n_chunks:
        k = n_props
        if k < len(home):
            title_src, sents = src.contexts[home[k]]
            body = "".join(sents)
            for q, gold in src.questions[home[k]]:
                questions.append({"question": q, "gold_sentence": gold})
        else:
            title_src = src.contexts[rng.randrange(len(src.contexts))][0]
            body = "".join(rng.sample(src.pool, rng.randint(3, 9)))
        title = rng.choice(TITLE_FORMS).format(title_src[:20])
        city_slot = places[n_coll % len(places)]
        districts = places[(n_coll * 3 + 1) % len(places):(n_coll * 3 + 1) % len(places) + 3] or places[:3]
        who_tpl = rng.choice(_proposers("{city}", [d for d in districts if d != city_slot] or ["新城"]))
        total += _chunk_count(title, who_tpl.format(city=city_slot + "市"), body, max_tokens)
        items.append((title, who_tpl, body))
        n_props += 1
        if len(items) >= per_collection:
            flush()
    flush()
    rng.shuffle(questions)
    info = {"chunks_estimated": total, "proposals": n_props, "collections": n_coll, "seed": seed,
            "questions": questions[:max_questions]}
    (out / "archive.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def make_collection(path: Path, n_proposals: int, data: Path, *, seed: int = 99) -> Path:
    """One new meeting's collection of n_proposals proposals (the incremental-add case)."""
    rng = random.Random(seed)
    src = _Source(data)
    city = "新" + rng.choice(_B) + "市"
    props = _proposers(city, ["临港", "滨湖"])
    items = []
    for _ in range(n_proposals):
        title = rng.choice(TITLE_FORMS).format(src.contexts[rng.randrange(len(src.contexts))][0][:20])
        items.append((title, rng.choice(props), "".join(rng.sample(src.pool, rng.randint(3, 9)))))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_collection_text(city, "一", "全体会议", 2025, "新一届议政", items), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- vectors
class RandomEmbedder:
    """Deterministic random unit vectors per text: the stores' speed without a model."""

    def __init__(self, dim: int = 384):
        self.dim, self.name = dim, f"random-{dim}"
        self.fingerprint = f"{self.name}/v1"

    def _one(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts):
        return np.stack([self._one(t) for t in texts]) if len(texts) else np.zeros((0, self.dim), np.float32)

    embed_queries = embed_passages


def _embedder(settings, random_vectors: bool):
    if random_vectors:
        return RandomEmbedder()
    from .embed import load_embedder
    return load_embedder(settings)


def _settings(work: Path, kind: str, model: str | None, random_vectors: bool):
    from .config import Settings
    store = "files" if kind == "files" else f"milvus:{work / 'milvus.db'}"
    return Settings.from_env(model=model, corpus_dir=work / "corpus", index_dir=work / f"index-{kind}", store=store)


def pre_embed(work: Path, settings, random_vectors: bool, log) -> dict:
    """Passage vectors of the whole archive into <work>/vectors (resumable; reused by both stores)."""
    from .chunk import chunk_corpus
    from .embedcache import ProgressLine, VectorCache, embed_missing
    from .index import embed_key
    from .ingest import load_corpus
    t0 = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    ingest_s = time.perf_counter() - t0
    chunks = chunk_corpus(corpus, settings.chunk_tokens, settings.chunk_overlap)
    emb = _embedder(settings, random_vectors)
    cache = VectorCache(work / "vectors", emb.fingerprint, emb.dim)
    t1 = time.perf_counter()
    pl = ProgressLine("向量化")
    _, counts = embed_missing([c.index_text for c in chunks], [embed_key(c) for c in chunks], emb, {},
                              cache=cache, progress=pl)
    pl.newline()
    dt = time.perf_counter() - t1
    stats_path = work / f"embed-{emb.name}.json"
    stats = {"chunks": len(chunks), "embedded_now": counts["embedded"], "ingest_s": round(ingest_s, 2)}
    if counts["embedded"] >= max(1, len(chunks) // 2):
        stats["embed_chunks_per_s"] = round(counts["embedded"] / max(dt, 1e-9), 1)
        stats_path.write_text(json.dumps(stats), encoding="utf-8")
    elif stats_path.is_file():  # vectors came from an earlier run: report that run's rate
        stats["embed_chunks_per_s"] = json.loads(stats_path.read_text(encoding="utf-8")).get("embed_chunks_per_s")
    log(f"归档: {len(chunks)} 个文本块, 本次向量化 {counts['embedded']} 个 (读入语料 {ingest_s:.1f}s)")
    return {**stats, "model": emb.name}


# ----------------------------------------------------------------------------- one store (child process)
def _pct(xs, q) -> float | None:
    return round(float(np.percentile(np.array(xs) * 1000, q)), 2) if xs else None


def run_store(work: Path, kind: str, *, model: str | None, random_vectors: bool, data: Path,
              answers: int = 100, log=print) -> dict:
    from .engine import Engine, _retriever
    from .ingest import load_corpus
    from .store import open_store
    work = Path(work)
    s = _settings(work, kind, model, random_vectors)
    shutil.rmtree(s.index_dir, ignore_errors=True)
    if kind == "milvus":
        shutil.rmtree(work / "milvus.db", ignore_errors=True)
    emb = _embedder(s, random_vectors)
    corpus = load_corpus(s.corpus_dir)
    store = open_store(s)
    t0 = time.perf_counter()
    man = store.build(corpus, emb, s, embed_cache=work / "vectors")
    build_s = time.perf_counter() - t0
    n = man["counts"]["chunks"]
    log(f"{kind}: 建索引 {n} 块 {build_s:.1f}s (新向量化 {man['counts']['embedded']})")
    index = store.load(s, emb, corpus)
    eng = Engine(s, corpus, emb, index, _retriever(index, emb, s, corpus, store), store=store)
    questions = json.loads((s.corpus_dir / "archive.json").read_text(encoding="utf-8"))["questions"]
    r = eng.retriever
    for q in questions[:3]:  # warm up (jieba, first search)
        r.search(q["question"], 5)
    r._qcache.clear()
    lat, hits = [], 0
    for q in questions:
        t = time.perf_counter()
        res = r.search(q["question"], 5)
        lat.append(time.perf_counter() - t)
        hits += any(q["gold_sentence"] in h.proposal.text for h in res)
    r._qcache.clear()
    a = eng.answerer
    a.answer(questions[0]["question"])
    r._qcache.clear()
    alat = []
    for q in questions[:answers]:
        t = time.perf_counter()
        a.answer(q["question"])
        alat.append(time.perf_counter() - t)
    out = {"n_chunks": n, "build_s": round(build_s, 2), "build_chunks_per_s": round(n / max(build_s, 1e-9), 1),
           "disk_mb": round(store.disk_bytes() / 1048576, 1),
           "retrieve_p50_ms": _pct(lat, 50), "retrieve_p95_ms": _pct(lat, 95), "answer_p95_ms": _pct(alat, 95),
           "answer_p50_ms": _pct(alat, 50), "hit@5": round(hits / max(len(questions), 1), 4),
           "questions": len(questions), "answers": len(alat)}
    # incremental: one new meeting's collection of 30 proposals, built the normal way (reuse from the index)
    extra = s.corpus_dir / "proposals" / "zz-incremental.txt"
    make_collection(extra, 30, data)
    try:
        store2 = open_store(s)
        t = time.perf_counter()
        man2 = store2.build(load_corpus(s.corpus_dir), emb, s)
        out["incremental"] = {"proposals": 30, "chunks_after": man2["counts"]["chunks"],
                              "new_chunks": man2["counts"]["chunks"] - n, "embedded": man2["counts"]["embedded"],
                              "seconds": round(time.perf_counter() - t, 2)}
        store2.close()
    finally:
        extra.unlink(missing_ok=True)
    store.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


# ----------------------------------------------------------------------------- parent
def run_archive(n: int, *, stores=STORES, data: Path, work: Path | None = None, model: str | None = None,
                random_vectors: bool = False, questions: int = 200, answers: int = 100, log=print) -> dict:
    from .config import Settings
    work = Path(work or Settings.from_env().model_cache.parent / "bench" / f"archive-{n}")
    work.mkdir(parents=True, exist_ok=True)
    marker = work / "corpus" / "archive.json"
    want = {"n": n, "questions": questions, "data": str(Path(data).resolve())}
    stamp = work / "archive-params.json"
    if not (marker.is_file() and stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == want):
        log(f"生成合成归档 ({n} 块) 于 {work / 'corpus'} …")
        make_archive(work / "corpus", n, data, max_questions=questions)
        stamp.write_text(json.dumps(want), encoding="utf-8")
    info = json.loads(marker.read_text(encoding="utf-8"))
    emb_stats = pre_embed(work, _settings(work, "files", model, random_vectors), random_vectors, log)
    rep = {"n_chunks": emb_stats["chunks"], "proposals": info["proposals"], "collections": info["collections"],
           "questions": len(info["questions"]), "model": emb_stats["model"], "random_vectors": random_vectors,
           "embed_chunks_per_s": emb_stats.get("embed_chunks_per_s"), "work": str(work), "stores": {}}
    for kind in stores:
        log(f"— {kind} —")
        cmd = [sys.executable, "-m", "assistant.bench_archive", "--child", json.dumps(
            {"work": str(work), "kind": kind, "model": model, "random_vectors": random_vectors,
             "data": str(data), "answers": answers})]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if p.returncode != 0:
            rep["stores"][kind] = {"error": f"exit {p.returncode}"}
            continue
        rep["stores"][kind] = json.loads(p.stdout.strip().splitlines()[-1])
    return rep


def format_table(rep: dict) -> str:
    stores = [k for k, v in rep["stores"].items() if "error" not in v]
    base = rep["stores"].get("files", {})
    emb = rep.get("embed_chunks_per_s")
    lines = [f"合成归档: {rep['n_chunks']} 个文本块, {rep['proposals']} 份建议, {rep['collections']} 个汇编, "
             f"{rep['questions']} 个问题; 向量 {rep['model']}"
             + (f" ({emb} 块/秒, 两个存储共用)" if emb else "")]
    head = f"{'metric':<20}" + "".join(f"{k:>12}" for k in stores) + "".join(
        f"{k + ' ×files':>16}" for k in stores if k != "files")
    lines.append(head)
    for m in METRICS:
        row = f"{m:<20}"
        for k in stores:
            v = rep["stores"][k].get(m)
            row += f"{'—' if v is None else v:>12}"
        for k in stores:
            if k == "files":
                continue
            v, b = rep["stores"][k].get(m), base.get(m)
            row += f"{(v / b if v is not None and b else float('nan')):>16.2f}"
        lines.append(row)
    for k, v in rep["stores"].items():
        if "error" in v:
            lines.append(f"{k}: 失败 ({v['error']})")
            continue
        inc = v.get("incremental")
        if inc:
            lines.append(f"{k}: 增加一个 {inc['proposals']} 份建议的汇编 (+{inc['new_chunks']} 块, 共 {inc['chunks_after']} 块): "
                         f"新向量化 {inc['embedded']} 块, 用时 {inc['seconds']}s")
    lines.append("build_chunks_per_s: 存储自身的建索引速度 (切分、BM25、写入向量与记录; 向量已预先算好); "
                 "retrieve: 含查询向量化; answer: 完整摘录式回答; peak_rss_mb: 该存储子进程 (含模型)")
    return "\n".join(lines)


def cmd_archive(args) -> int:
    from .bench import DEFAULT_DATA
    stores = tuple(s.strip() for s in (args.stores or ",".join(STORES)).split(",") if s.strip())
    bad = [s for s in stores if s not in STORES]
    if bad:
        raise AssistantError(f"未知的存储 {'、'.join(bad)}。", hint="可选: files,milvus")
    if "milvus" in stores:
        try:
            import pymilvus  # noqa: F401
        except ImportError:
            raise AssistantError("未安装 pymilvus / milvus-lite。", hint="pip install -e '.[milvus]'")
    data = Path(args.data) if getattr(args, "data", None) else DEFAULT_DATA
    rep = run_archive(args.n, stores=stores, data=data, work=Path(args.work) if args.work else None,
                      model=args.model, random_vectors=args.random_vectors, questions=args.questions,
                      answers=args.answers, log=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=1))
    else:
        print(format_table(rep))
    return 0


def register(sub, common) -> None:
    """Adds `archive` to `assistant bench` (registered by bench.py) with its own options."""
    p = sub.choices.get("bench")
    if p is None:
        p = sub.add_parser("bench", parents=[common], help="基准")
        p.add_argument("dataset", nargs="?")
        p.add_argument("--json", action="store_true")
    ds = next(a for a in p._actions if a.dest == "dataset")
    if ds.choices is not None and "archive" not in ds.choices:
        ds.choices = [*ds.choices, "archive"]
    g = p.add_argument_group("archive (assistant bench archive)")
    g.add_argument("--n", type=int, default=2000, help="archive: 合成归档的文本块数 (默认 2000; 1M 请加 --random-vectors)")
    g.add_argument("--stores", help="archive: 参与比较的存储, 逗号分隔 (默认 files,milvus)")
    g.add_argument("--random-vectors", action="store_true", help="archive: 用确定性的随机单位向量代替模型 (只测存储本身)")
    g.add_argument("--questions", type=int, default=200, help="archive: 问题数 (默认 200)")
    g.add_argument("--answers", type=int, default=100, help="archive: 计时完整回答的问题数 (默认 100)")
    g.add_argument("--work", help="archive: 工作目录 (默认 模型缓存旁的 bench/archive-N)")
    previous = p.get_default("func")

    def dispatch(args):
        if args.dataset == "archive":
            return cmd_archive(args)
        return previous(args)
    p.set_defaults(func=dispatch)


def _child(spec: dict) -> int:
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    out = run_store(Path(spec["work"]), spec["kind"], model=spec.get("model"), random_vectors=spec["random_vectors"],
                    data=Path(spec["data"]), answers=spec.get("answers", 100), log=log)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(_child(json.loads(sys.argv[2])))
    sys.exit(2)
