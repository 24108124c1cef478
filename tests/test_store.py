"""The store interface (assistant/store.py), the file store behind it, resumable builds."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import index as index_mod
from assistant.bench import DEFAULT_DATA
from assistant.config import ROOT, Settings
from assistant.embed import HashEmbedder
from assistant.embedcache import ProgressLine, VectorCache, embed_missing
from assistant.errors import AssistantError
from assistant.index import build_index, load_index
from assistant.ingest import load_corpus
from assistant.retrieve import Filters
from assistant.store import FileStore, open_store, parse_store, store_chunk_hits

QA = [json.loads(ln) for ln in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]


class CountingEmbedder(HashEmbedder):
    def __init__(self, fail_after: int | None = None):
        super().__init__(256)
        self.embedded: list[str] = []
        self.calls, self.fail_after = 0, fail_after

    def embed_passages(self, texts):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt  # as if Ctrl+C hit the build here
        self.embedded.extend(texts)
        return super().embed_passages(texts)

    @property
    def chunk_texts(self) -> list[str]:
        """The chunks embedded: a chunk's text starts with its header line; the vocabulary's words
        (termsim.py), embedded by the same call, are one line each."""
        return [t for t in self.embedded if "\n" in t]

    @property
    def words(self) -> list[str]:
        return [t for t in self.embedded if "\n" not in t]


@pytest.fixture
def tmp_corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", root)
    return root


def test_store_setting_is_parsed_and_bad_values_refused():
    assert parse_store("files") == ("files", "")
    assert parse_store("milvus:/data/yz.db") == ("milvus", "/data/yz.db")
    assert parse_store("milvus:http://127.0.0.1:19530") == ("milvus", "http://127.0.0.1:19530")
    for bad in ("milvus:", "faiss", "files:/x"):
        with pytest.raises(AssistantError, match="ASSISTANT_STORE"):
            parse_store(bad)
    assert Settings.from_env({}).store == "files"
    assert Settings.from_env({"ASSISTANT_STORE": "milvus:/x/y.db"}).store == "milvus:/x/y.db"
    assert isinstance(open_store(Settings.from_env({})), FileStore)


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_generic_store_path_equals_the_retrievers_own(hash_engine, fusion):
    """store_chunk_hits over the file store's four primitives = Retriever.chunk_hits: what lets
    any store that answers the primitives exactly give the file store's results."""
    from assistant.retrieve import Retriever
    r = Retriever.from_settings(hash_engine.index, hash_engine.embedder,
                                hash_engine.settings.with_(fusion=fusion), hash_engine.corpus.registry)
    store = FileStore(hash_engine.settings.index_dir).attach(hash_engine.index)
    filters = [Filters(), Filters(types=("民主党派",)), Filters(proposers=(r.resolve_proposer("民盟"),)),
               Filters(proposers=(r.resolve_proposer("九三学社"),), types=("民主党派",))]
    for q in QA[::3]:
        for mode in ("hybrid", "dense", "bm25"):
            for f in filters:
                want = r.chunk_hits(q["question"], mode=mode, filters=f)[:20]
                got = store_chunk_hits(r, store, q["question"], mode=mode, filters=f)[:20]
                assert [h.chunk.chunk_id for h in got] == [h.chunk.chunk_id for h in want], (q["question"], mode, f)
                for a, b in zip(got, want):
                    assert a.score == pytest.approx(b.score, abs=1e-5)
                    assert a.bm25 == pytest.approx(b.bm25, abs=1e-4) and a.cosine == pytest.approx(b.cosine, abs=1e-5)
                    assert (a.bm25_rank, a.dense_rank) == (b.bm25_rank, b.dense_rank)


def test_file_store_primitives_respect_filters(hash_engine):
    store = FileStore(hash_engine.settings.index_dir).attach(hash_engine.index)
    qv = hash_engine.embedder.embed_queries(["产业园区"])[0]
    f = Filters(types=("区县(市)政协",))
    rows, cos = store.dense_topk(qv, 10, f)
    assert rows and all(hash_engine.index.chunks[i].proposer_type == "区县(市)政协" for i in rows)
    assert cos == sorted(cos, reverse=True)
    assert store.cosines_of(qv, rows) == pytest.approx(cos, abs=1e-5)
    toks = hash_engine.index.analyzer("产业园区")
    rows, sc = store.bm25_topk(toks, 10, f)
    assert rows and all(s > 0 for s in sc) and store.bm25_of(toks, rows) == pytest.approx(sc)
    assert store.disk_bytes() > 0


def test_an_interrupted_build_resumes_without_embedding_again(tmp_corpus, tmp_path):
    folder = tmp_path / "idx"
    corpus = load_corpus(tmp_corpus)
    n = len(index_mod.chunk_corpus(corpus))
    assert n > 64  # at least two batches of 64
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, CountingEmbedder(fail_after=1), folder)
    cache = tmp_path / ".idx.embedding"
    assert not folder.exists() and list(cache.glob("part-*.npz"))  # the finished batch was kept
    emb = CountingEmbedder()
    man = build_index(load_corpus(tmp_corpus), emb, folder)
    assert man["counts"]["resumed"] == 64 and man["counts"]["embedded"] == n - 64 == len(emb.chunk_texts)
    assert not cache.exists()  # installed: the cache is gone
    idx = load_index(folder, embedder=emb)
    fresh = HashEmbedder().embed_passages([c.index_text for c in idx.chunks])
    assert np.allclose(idx.faiss.reconstruct_n(0, idx.faiss.ntotal), fresh, atol=1e-6)


def test_vector_cache_ignores_torn_parts_and_other_models(tmp_path):
    cache = VectorCache(tmp_path / "c", "model-a", 4)
    cache.add(["k1", "k2"], np.eye(4, dtype=np.float32)[:2])
    (tmp_path / "c" / f"part-{cache.tag}-0-0.npz").write_bytes(b"torn")
    assert set(cache.load()) == {"k1", "k2"}
    assert VectorCache(tmp_path / "c", "model-b", 4).load() == {}
    emb = HashEmbedder(4)
    vecs, counts = embed_missing(["a", "b", "c"], ["k1", "k2", "k3"], emb, {}, cache=cache)
    assert counts == {"embedded": 1, "reused": 0, "resumed": 2}
    assert np.allclose(vecs[2], emb.embed_passages(["c"])[0])


def test_progress_line_shows_rate_and_eta():
    out = io.StringIO()
    p = ProgressLine("向量化", stream=out, min_interval=0)
    assert "块/秒" in p.line(50, 200, 10.0) and "预计剩余 0:30" in p.line(50, 200, 10.0)
    p(64, 128)
    p(128, 128)
    p.log("完成")
    text = out.getvalue()
    assert "向量化 128/128" in text and text.endswith("\n完成\n")


@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason="CMRC 2018 data (../shared/benchmarks) not present")
def test_adding_a_30_proposal_collection_embeds_only_its_chunks(tmp_corpus, tmp_path):
    from assistant.bench_archive import make_collection
    folder = tmp_path / "idx"
    build_index(load_corpus(tmp_corpus), HashEmbedder(), folder)
    before = {c.chunk_id for c in load_index(folder).chunks}
    shutil.copy(folder / "bm25_vocab.json", tmp_path / "vocab_before.json")
    make_collection(tmp_corpus / "proposals" / "新会议.txt", 30, DEFAULT_DATA)
    emb = CountingEmbedder()
    man = build_index(load_corpus(tmp_corpus), emb, folder)
    after = load_index(folder).chunks
    new = [c for c in after if c.chunk_id not in before]
    assert len({c.proposal_id for c in new if not c.proposal_id.endswith("-00")}) == 30
    assert man["counts"]["embedded"] == len(new) == len(emb.chunk_texts)
    # the words are embedded once too: only those the new collection brought
    vocab_before = set(json.loads((tmp_path / "vocab_before.json").read_text(encoding="utf-8")))
    vocab_after = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
    assert emb.words and set(emb.words) == set(vocab_after) - vocab_before
