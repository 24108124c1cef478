"""Chunks -> a persisted hybrid index: FAISS vectors + BM25 matrix + records + manifest.

`indexes/<name>/` holds only plain files. Builds write into a sibling temp folder and swap it
in with renames, so a build killed halfway leaves the previous index usable. Loading checks the
manifest (format, model, chunking, analyzer, corpus hash, file hashes) and refuses a mismatch
with a message that says how to rebuild.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .util import sha256_file as _sha

import numpy as np

from .bm25 import BM25, Analyzer
from .chunk import ENCODING, chunk_corpus
from .errors import AssistantError
from .ingest import Corpus
from .records import Chunk, Document, Proposal

FORMAT_VERSION = 4  # 2: meetings and speakers on proposals, user dictionary from the corpus (vocab.py);
                    # 3: word vectors of the vocabulary (termsim.py); 4: members' printed offices (Proposal.roles)
REBUILD = "请运行 `assistant build` 重建索引。"


def embed_key(chunk: Chunk) -> str:
    return hashlib.sha256(chunk.index_text.encode()).hexdigest()[:24]


def analyzer_for(corpus, name: str = "jieba") -> Analyzer:
    """The BM25 analyzer with a user dictionary derived from this corpus (assistant/vocab.py)."""
    from .vocab import user_words
    words = user_words(corpus, corpus.registry)
    parts = name.split("+")
    if not set(parts) <= {"jieba", "bigram"} or not parts:
        raise AssistantError(f"未知的分词方式 {name!r}。", hint="可选: jieba、jieba+bigram、bigram")
    return Analyzer(words, bigrams="bigram" in parts, words="jieba" in parts)


def lexical_text(chunk: Chunk, registry=None) -> str:
    """What BM25 sees: the chunk with its title and proposers, plus the proposers' aliases so
    that '民盟' matches '民盟某市委会'."""
    extra = []
    if registry is not None:
        extra = [a for a, c in registry.aliases.items() if c in chunk.proposers]
    return chunk.index_text + (" " + " ".join(extra) if extra else "")


@dataclass
class Index:
    folder: Path
    manifest: dict
    documents: dict            # doc_id -> Document
    proposals: dict            # proposal_id -> Proposal (document order)
    chunks: list               # row i of the vector store and the BM25 matrix
    vector_store: object       # llama-index FaissVectorStore
    bm25: BM25
    analyzer: Analyzer
    word_vectors: object = None  # float16 row per BM25 vocabulary term (termsim.py); None: not built

    @property
    def faiss(self):
        return self.vector_store.client

    def chunks_of(self, proposal_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.proposal_id == proposal_id]


# ----------------------------------------------------------------------------- build
def build_index(corpus: Corpus, embedder, folder: Path, *, max_tokens: int = 160, overlap: int = 0,
                analyzer: str = "jieba", k1: float = 1.2, b: float = 0.75, progress=None,
                previous: dict | None = None, write_vectors=None, embed_cache: Path | None = None) -> dict:
    """Build and atomically install an index; vectors of unchanged chunks are reused from the
    index already at `folder` when it was made by the same model. Returns the manifest.

    Embedding is resumable: vectors are flushed in batches to `embed_cache` (default: the sibling
    `.<name>.embedding/`, removed once the index is installed), so an interrupted build embeds
    only what it had not finished. Other stores (assistant/store.py) hook in with `previous`
    (embed_key -> vector from their own copy) and `write_vectors(tmp, chunks, keys, vecs, bm25)`,
    which stores the vectors its way and returns (files written into tmp, manifest additions);
    by default they go to `vectors.faiss`."""
    import faiss
    from llama_index.vector_stores.faiss import FaissVectorStore

    from .embedcache import VectorCache, embed_missing
    from .termsim import WORDS_FILE, chance_level, embed_words, previous_words, proposal_terms

    t0 = time.perf_counter()
    folder = Path(folder)
    chunks = chunk_corpus(corpus, max_tokens, overlap)
    if not chunks:
        raise AssistantError("语料切分后没有任何文本块。")
    keys = [embed_key(c) for c in chunks]
    old = _previous_vectors(folder, embedder.fingerprint) if previous is None else previous
    own_cache = embed_cache is None
    cache = VectorCache(folder.parent / f".{folder.name}.embedding" if own_cache else embed_cache,
                        embedder.fingerprint, embedder.dim)
    vecs, counts = embed_missing([c.index_text for c in chunks], keys, embedder, old, cache=cache,
                                 progress=progress)
    del old
    t_embed = time.perf_counter() - t0

    analyzer = analyzer_for(corpus, analyzer)
    bm25 = BM25.build([analyzer(lexical_text(c, corpus.registry)) for c in chunks], k1=k1, b=b)
    t1 = time.perf_counter()
    vocab = list(bm25.vocab)
    word_vecs = embed_words(vocab, embedder, previous_words(folder, embedder.fingerprint))
    chance = chance_level(word_vecs, proposal_terms(bm25.matrix, [c.proposal_id for c in chunks], vocab), vocab)
    t_words = time.perf_counter() - t1

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; an index is meant to be shared
        extra: dict = {}
        if write_vectors is None:
            store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(embedder.dim))
            store.client.add(vecs)  # row i = chunk i, as store.add(nodes) would, without n TextNodes
            store.persist(str(tmp / "vectors.faiss"))
            files = ["vectors.faiss"]
        else:
            files, extra = write_vectors(tmp, chunks, keys, vecs, bm25)
        (tmp / "user_words.txt").write_text("\n".join(analyzer.user_words), encoding="utf-8")
        np.save(tmp / WORDS_FILE, word_vecs)
        files += ["user_words.txt", WORDS_FILE, *bm25.save(tmp)]
        _write_jsonl(tmp / "documents.jsonl", (_doc_row(d) for d in corpus.documents))
        _write_jsonl(tmp / "proposals.jsonl", (p.to_dict() for p in corpus.proposals))
        _write_jsonl(tmp / "chunks.jsonl", ({**asdict(c), "proposers": list(c.proposers), "embed_key": k}
                                            for c, k in zip(chunks, keys)))
        files += ["documents.jsonl", "proposals.jsonl", "chunks.jsonl"]
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {"name": embedder.name, "dim": embedder.dim, "fingerprint": embedder.fingerprint},
            "chunking": {"encoding": ENCODING, "max_tokens": max_tokens, "overlap": overlap},
            "analyzer": analyzer.params,
            "bm25": {"k1": k1, "b": b},
            "corpus": {"sha256": corpus.sha256, "documents": len(corpus.documents),
                       "proposals": corpus.proposal_count, "records": len(corpus.proposals),
                       "problems": corpus.problems},
            "counts": {"chunks": len(chunks), "embedded": counts["embedded"],
                       "reused": len(chunks) - counts["embedded"], "resumed": counts["resumed"]},
            "words": {"count": len(vocab), "chance": round(chance, 6)},
            "timings_s": {"embed": round(t_embed, 3), "words": round(t_words, 3),
                          "total": round(time.perf_counter() - t0, 3)},
            "files": {f: _sha(tmp / f) for f in files},
            **extra,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if own_cache:
        cache.clear()  # installed: the index itself now holds every vector
    return manifest


def _doc_row(d: Document) -> dict:
    row = asdict(d)
    row["segments"] = [list(s) for s in d.segments]
    return row


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(ln) for ln in f if ln.strip()]


def _swap_in(tmp: Path, folder: Path) -> None:
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)  # a crash before this line is repaired by _recover()
    shutil.rmtree(old, ignore_errors=True)


def _recover(folder: Path) -> None:
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.exists():
        os.replace(old, folder)


def _previous_vectors(folder: Path, fingerprint: str) -> dict:
    """embed_key -> vector from the index at `folder`, if it is intact and from the same model (of
    any format version: the key is a hash of the embedded text, so a new format re-embeds nothing)."""
    try:
        _recover(folder)
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if man["model"]["fingerprint"] != fingerprint:
            return {}
        import faiss
        fi = faiss.read_index(str(folder / "vectors.faiss"))
        vecs = fi.reconstruct_n(0, fi.ntotal)
        rows = _read_jsonl(folder / "chunks.jsonl")
        return {r["embed_key"]: vecs[i] for i, r in enumerate(rows)} if len(rows) == fi.ntotal else {}
    except Exception:  # no usable previous index: embed everything
        return {}


# ----------------------------------------------------------------------------- load
def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    _recover(folder)
    path = folder / "manifest.json"
    if not path.exists():
        raise AssistantError(f"索引 {folder} 不存在。", hint=REBUILD)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise AssistantError(f"索引 {folder} 的 manifest.json 已损坏。", hint=REBUILD)


def check_manifest(man: dict, *, embedder=None, settings=None, corpus: Corpus | None = None) -> None:
    """Raise AssistantError naming the first mismatch between an index and what we'd build now."""
    if man.get("format_version") != FORMAT_VERSION:
        raise AssistantError(f"索引格式版本为 {man.get('format_version')}，本程序需要 {FORMAT_VERSION}。", hint=REBUILD)
    if embedder is not None and man["model"]["fingerprint"] != embedder.fingerprint:
        raise AssistantError(f"索引由模型 {man['model']['name']} 生成，当前配置的是 {embedder.name}。",
                             hint="请运行 `assistant build`，或把 ASSISTANT_MODEL 设回建索引时的模型。")
    if settings is not None:
        want = {"encoding": ENCODING, "max_tokens": settings.chunk_tokens, "overlap": settings.chunk_overlap}
        if man["chunking"] != want:
            raise AssistantError(f"索引的切分参数 {man['chunking']} 与当前设置 {want} 不一致。", hint=REBUILD)
        want_an = settings.analyzer.replace("jieba", "jieba-search")
        if man["analyzer"]["name"] != want_an:
            raise AssistantError(f"索引的分词方式 {man['analyzer']['name']} 与当前设置 {want_an} 不一致。", hint=REBUILD)
    if corpus is not None and man["corpus"]["sha256"] != corpus.sha256:
        raise AssistantError("语料已更改，索引已过期。", hint=REBUILD)


def load_index(folder: Path, *, embedder=None, settings=None, corpus: Corpus | None = None,
               verify_files: bool = True, vectors: bool = True) -> Index:
    """With vectors=False the records, BM25 statistics and analyzer are loaded without
    `vectors.faiss` (vector_store is None): a store that keeps its vectors elsewhere (Milvus,
    assistant/milvus_store.py) attaches itself."""
    from llama_index.vector_stores.faiss import FaissVectorStore

    folder = Path(folder)
    man = read_manifest(folder)
    check_manifest(man, embedder=embedder, settings=settings, corpus=corpus)
    kind = man.get("store", {}).get("kind", "files")
    if vectors and kind != "files":
        raise AssistantError(f"索引 {folder} 由 {kind} 存储建立，向量不在本目录中。",
                             hint="设置 ASSISTANT_STORE 为建索引时的存储，或运行 `assistant build` 重建。")
    if verify_files:
        for name, digest in man.get("files", {}).items():
            p = folder / name
            if not p.exists() or _sha(p) != digest:
                raise AssistantError(f"索引文件 {p} 缺失或已损坏。", hint=REBUILD)
    try:
        docs = {}
        for r in _read_jsonl(folder / "documents.jsonl"):
            r["segments"] = tuple(tuple(s) for s in r["segments"])
            docs[r["doc_id"]] = Document(**r)
        props = {r["proposal_id"]: Proposal.from_dict(r)
                 for r in _read_jsonl(folder / "proposals.jsonl")}
        chunks = []
        for r in _read_jsonl(folder / "chunks.jsonl"):
            r.pop("embed_key", None)
            chunks.append(Chunk(**{**r, "proposers": tuple(r["proposers"])}))
        store = FaissVectorStore.from_persist_path(str(folder / "vectors.faiss")) if vectors else None
        bm25 = BM25.load(folder, man["bm25"]["k1"], man["bm25"]["b"])
        from .termsim import WORDS_FILE
        word_vecs = np.load(folder / WORDS_FILE) if (folder / WORDS_FILE).exists() else None
    except AssistantError:
        raise
    except Exception as e:
        raise AssistantError(f"无法读取索引 {folder}: {type(e).__name__}: {e}", hint=REBUILD)
    n_vec = store.client.ntotal if store is not None else len(chunks)
    if n_vec != len(chunks) or bm25.matrix.shape[0] != len(chunks):
        raise AssistantError(f"索引 {folder} 内部不一致 (向量 {n_vec}，块 {len(chunks)})。", hint=REBUILD)
    if store is not None and embedder is not None and store.client.d != embedder.dim:
        raise AssistantError(f"索引向量维度 {store.client.d} 与模型维度 {embedder.dim} 不一致。", hint=REBUILD)
    # The analyzer travels with the index, so queries are tokenized exactly like the chunks were.
    words = (folder / "user_words.txt").read_text(encoding="utf-8").split("\n")
    parts = man["analyzer"]["name"].split("+")
    analyzer = Analyzer(words, bigrams="bigram" in parts, words="jieba-search" in parts)
    if analyzer.params != man["analyzer"]:
        raise AssistantError(f"索引 {folder} 的分词词典已损坏。", hint=REBUILD)
    if word_vecs is not None and (len(word_vecs) != len(bm25.vocab) or
                                  (embedder is not None and word_vecs.shape[1] != embedder.dim)):
        raise AssistantError(f"索引 {folder} 的词向量与词表不一致。", hint=REBUILD)
    return Index(folder, man, docs, props, chunks, store, bm25, analyzer, word_vecs)
