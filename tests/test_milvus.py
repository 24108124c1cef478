"""The Milvus store on Milvus Lite (pip extra `milvus`; `make test` installs it and runs them).

Everything that starts Milvus Lite is marked slow (Lite takes seconds per build); most use the
hashing embedder, the last one builds the home corpus with the real model and compares its top-5
proposals, with and without filters, with the file store's."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from assistant.bench import DEFAULT_DATA  # noqa: E402
from assistant.config import ROOT, Settings  # noqa: E402
from assistant.engine import Engine  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.milvus_store import STAMP, MilvusStore, filter_expr  # noqa: E402
from assistant.retrieve import Filters  # noqa: E402

QA = [json.loads(ln) for ln in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
FILTERS = [((), ("民主党派",)), ((), ("区县(市)政协",)), (("民盟",), ()), (("九三学社",), ()),
           (("工商联",), ()), (("民盟", "农工党"), ("民主党派",))]


def _release(db: Path) -> None:
    from milvus_lite.server_manager import server_manager_instance
    server_manager_instance.release_server(str(db))


def top5(engine, q, **kw):
    return [h.proposal.proposal_id for h in engine.retriever.search(q, 5, **kw)]


def agreement(a, b, questions, **kw) -> float:
    return sum(top5(a, q, **kw) == top5(b, q, **kw) for q in questions) / len(questions)


@pytest.fixture(scope="module")
def milvus_hash(hash_settings, hash_engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("milvus")
    s = hash_settings.with_(index_dir=d / "index", store=f"milvus:{d / 'lite.db'}")
    eng = Engine.open(s)
    yield eng
    eng.store.close()
    _release(d / "lite.db")


def test_filter_expressions_quote_chinese_and_quotes():
    assert filter_expr(Filters()) == ""
    e = filter_expr(Filters(proposers=("民盟郑州市委会", 'a"b\\c'), types=("民主党派",)))
    assert e == 'ARRAY_CONTAINS_ANY(proposers, ["民盟郑州市委会", "a\\"b\\\\c"]) and proposer_type in ["民主党派"]'


def test_lite_path_must_end_in_db(tmp_path):
    with pytest.raises(AssistantError, match=r"\.db"):
        MilvusStore(str(tmp_path / "lite"), tmp_path / "index")


@pytest.mark.slow
def test_milvus_gives_the_file_stores_results(milvus_hash, hash_engine):
    man = milvus_hash.index.manifest
    assert man["store"]["kind"] == "milvus" and man["store"]["collection"].startswith("yz_index_")
    assert milvus_hash.index.vector_store is milvus_hash.store and milvus_hash.retriever.store is milvus_hash.store
    questions = [q["question"] for q in QA]
    assert agreement(milvus_hash, hash_engine, questions) >= 0.95
    for proposers, types in FILTERS:
        assert agreement(milvus_hash, hash_engine, questions[::4], proposers=proposers, types=types) >= 0.95
        for q in questions[::8]:
            for h in milvus_hash.retriever.search(q, 5, proposers=proposers, types=types):
                assert not types or h.proposal.proposer_type in types
    for mode in ("bm25", "dense"):
        assert agreement(milvus_hash, hash_engine, questions[::4], mode=mode) >= 0.95
    a = milvus_hash.answerer.answer("民盟提了哪些建议？")
    assert a.found and any("民盟" in c.proposers[0] for c in a.citations)


@pytest.mark.slow
def test_server_side_rankers_run_inside_milvus(milvus_hash):
    from assistant.engine import load_store
    from assistant.retrieve import Retriever
    from assistant.store import open_store
    for ranker in ("rrf", "weighted"):
        s = milvus_hash.settings.with_(milvus_ranker=ranker)
        store = open_store(s)
        index = load_store(s, milvus_hash.corpus, milvus_hash.embedder, store)
        r = Retriever.from_settings(index, milvus_hash.embedder, s, milvus_hash.corpus.registry, store=store)
        hits = r.search("产业园区", 5, types=("区县(市)政协",))
        assert hits and all(h.proposal.proposer_type == "区县(市)政协" for h in hits)
        best = hits[0].best
        assert best.bm25_rank is None and best.cosine > 0


@pytest.mark.slow
def test_second_process_on_a_lite_folder_is_refused_then_reopens_after_release(milvus_hash, tmp_path):
    s = milvus_hash.settings
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.config import Settings\n"
        "from assistant.engine import Engine\n"
        "from assistant.errors import AssistantError\n"
        f"s = Settings.from_env({{}}, model='hash-bigram-256', corpus_dir=Path({str(s.corpus_dir)!r}),"
        f" index_dir=Path({str(s.index_dir)!r}), store={s.store!r})\n"
        "try:\n"
        "    e = Engine.open(s, build_if_missing=False)\n"
        "    print('OPEN', e.retriever.search('产业园区', 1)[0].proposal.proposal_id)\n"
        "except AssistantError as e:\n"
        "    print('REFUSED', e.hint)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout
    assert "REFUSED" in out and "milvus-lite server" in out
    # a restart: this process lets go, a new one opens the same folder and must load the collection
    db = Path(s.store.split(":", 1)[1])
    milvus_hash.store.close()
    _release(db)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout
        assert "OPEN kjcx-" in out, out
    finally:
        milvus_hash.store._client = None  # reconnects (the in-process server restarts) on next use
        milvus_hash.store.load(s, milvus_hash.embedder, milvus_hash.corpus)


@pytest.mark.slow
def test_a_collection_that_does_not_match_the_manifest_is_refused(hash_settings, tmp_path):
    s = hash_settings.with_(index_dir=tmp_path / "index", store=f"milvus:{tmp_path / 'lite.db'}")
    eng = Engine.open(s)
    try:
        store, name = eng.store, eng.index.manifest["store"]["collection"]
        store.client.alter_collection_properties(name, properties={STAMP: json.dumps({"build": "other"})})
        with pytest.raises(AssistantError, match="不一致"):
            Engine.open(s, build_if_missing=False)
        store.client.drop_collection(name)
        with pytest.raises(AssistantError, match="没有索引"):
            Engine.open(s, build_if_missing=False)
        eng2 = Engine.open(s)  # rebuilt into a new collection
        assert eng2.index.manifest["store"]["collection"] != name
    finally:
        eng.store.close()
        _release(tmp_path / "lite.db")


@pytest.mark.slow
@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason="CMRC 2018 data (../shared/benchmarks) not present")
def test_adding_a_collection_to_milvus_embeds_only_its_chunks(tmp_path):
    from assistant.bench_archive import make_collection
    from assistant.embed import HashEmbedder
    from assistant.engine import build_store
    from assistant.ingest import load_corpus
    from assistant.store import open_store
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    s = Settings.from_env({}, model="hash-bigram-256", corpus_dir=corpus_dir, index_dir=tmp_path / "index",
                          store=f"milvus:{tmp_path / 'lite.db'}")

    class Counting(HashEmbedder):
        n = 0

        def embed_passages(self, texts):
            # chunks only: a chunk's text has a header line; the vocabulary's words (termsim.py) do not
            Counting.n += sum("\n" in t for t in texts)
            return super().embed_passages(texts)
    emb = Counting()
    store = open_store(s)
    try:
        m1 = build_store(s, load_corpus(corpus_dir), emb, store=store)
        make_collection(corpus_dir / "proposals" / "新会议.txt", 30, DEFAULT_DATA)
        Counting.n = 0
        m2 = build_store(s, load_corpus(corpus_dir), emb, store=store)
        assert m2["counts"]["embedded"] == Counting.n == m2["counts"]["chunks"] - m1["counts"]["chunks"] > 30
        (corpus_dir / "proposals" / "新会议.txt").unlink()
        m3 = build_store(s, load_corpus(corpus_dir), emb, store=store)
        assert m3["counts"]["embedded"] == 0
        names = [n for n in store.client.list_collections() if n.startswith(store.prefix)]
        assert sorted(names) == sorted([m2["store"]["collection"], m3["store"]["collection"]])  # older ones dropped
        idx = store.load(s, emb, load_corpus(corpus_dir))
        assert len(idx.chunks) == m1["counts"]["chunks"]
    finally:
        store.close()
        _release(tmp_path / "lite.db")


@pytest.mark.slow
def test_milvus_lite_home_corpus_matches_the_file_store(real_engine, real_settings, tmp_path):
    """Issue 10: the home corpus in Milvus Lite gives the file store's top-5 proposals for >= 95%
    of the QA set's questions, also filtered by proposer type and by proposer."""
    s = real_settings.with_(index_dir=tmp_path / "index", store=f"milvus:{tmp_path / 'lite.db'}")
    eng = Engine.open(s)
    try:
        questions = [q["question"] for q in QA]
        same = agreement(eng, real_engine, questions)
        print(f"top-5 identical for {same:.1%} of {len(questions)} questions")
        assert same >= 0.95
        for proposers, types in FILTERS:
            same_f = agreement(eng, real_engine, questions, proposers=proposers, types=types)
            print(f"filters {proposers or ''}{types or ''}: {same_f:.1%}")
            assert same_f >= 0.95
        got = eng.answerer.answer("惠济区政协想建设什么样的产业园区？")
        want = real_engine.answerer.answer("惠济区政协想建设什么样的产业园区？")
        assert [c.proposal_id for c in got.citations] == [c.proposal_id for c in want.citations]
    finally:
        eng.store.close()
        _release(tmp_path / "lite.db")
