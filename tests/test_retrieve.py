import json

import pytest

from assistant.cli import main
from assistant.errors import AssistantError
from assistant.retrieve import as_llama_retriever


def test_search_returns_proposals_with_attribution(hash_engine):
    hits = hash_engine.retriever.search("产业园区联盟", 5)
    assert hits[0].proposal.proposal_id == "kjcx-25"
    d = hits[0].to_dict()
    assert set(d) >= {"proposal_id", "title", "proposers", "proposer_type", "score", "chunk"}
    assert d["proposers"] == ["郑州市政协科技、科协界别组"] and d["proposer_type"] == "界别"
    c = d["chunk"]
    doc = hash_engine.index.documents["kjcx"].text
    assert doc[c["start"]:c["end"]] == c["text"]
    assert len({h.proposal.proposal_id for h in hits}) == len(hits)  # aggregated per proposal
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filters_by_proposer_alias_and_type(hash_engine):
    r = hash_engine.retriever
    hits = r.search("科技创新", 10, proposers=["民盟"])
    assert {h.proposal.proposal_id for h in hits} == {"kjcx-14"}
    hits = r.search("科技创新", 30, types=["民主党派"])
    assert {h.proposal.proposal_id for h in hits} == {"kjcx-02", "kjcx-03", "kjcx-13", "kjcx-14", "kjcx-15", "kjcx-16"}
    hits = r.search("创新", 10, proposers=["科技、科协界别组"])
    assert {h.proposal.proposal_id for h in hits} == {"kjcx-24", "kjcx-25"}
    with pytest.raises(AssistantError, match="未知"):
        r.search("创新", proposers=["不存在的党派"])
    with pytest.raises(AssistantError, match="未知的提出者类型"):
        r.search("创新", types=["外星人"])
    with pytest.raises(AssistantError):
        r.search("   ")


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_ranks(hash_engine, mode):
    hits = hash_engine.retriever.search("新型研发机构", 3, mode=mode)
    assert len(hits) == 3 and all("新型研发机构" in h.proposal.text for h in hits[:2])


def test_llama_index_retriever_adapter(hash_engine):
    nodes = as_llama_retriever(hash_engine.retriever, k=3).retrieve("产业园区联盟")
    assert nodes[0].node.metadata["proposal_id"] == "kjcx-25" and nodes[0].node.metadata["proposers"]


def test_cli_search_json(hash_settings, hash_engine, capsys, monkeypatch):
    args = ["search", "--json", "产业园区联盟", "--model", hash_settings.model, "--index", str(hash_settings.index_dir)]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["proposal_id"] == "kjcx-25" and out[0]["chunk"]["chunk_id"].startswith("kjcx-25#")
    assert main(args + ["--proposer", "谁也不是"]) == 2
    assert "未知或不唯一的提出者" in capsys.readouterr().err


@pytest.mark.slow
def test_real_model_ranks_industrial_park_alliance_first(real_settings, real_engine, capsys):
    assert main(["search", "--json", "产业园区联盟", "--index", str(real_settings.index_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["proposal_id"] == "kjcx-25" and out[0]["proposers"] == ["郑州市政协科技、科协界别组"]
    assert out[0]["title"] == "建立产业园区联盟"


@pytest.mark.slow
def test_real_model_dense_finds_paraphrases(real_engine):
    # no shared key words with 民进's 留住并用好在郑大学生
    hits = real_engine.retriever.search("怎样让本地高校的毕业生愿意留下来工作", 3, mode="dense")
    assert "kjcx-16" in [h.proposal.proposal_id for h in hits]


# ---------------------------------------------------------------------------- fusion
def test_convex_fuse_puts_each_list_on_0_1_and_mixes_them():
    import numpy as np

    from assistant.retrieve import _ranks, convex_fuse
    bm = np.array([0.0, 4.0, 2.0, 0.0, 1.0], np.float32)
    de = np.array([0.90, 0.50, 0.80, 0.70, 0.60], np.float32)
    allowed = np.ones(5, bool)
    b_rank, d_rank = _ranks(bm, allowed & (bm > 0), 3), _ranks(de, allowed, 3)
    assert b_rank == {1: 1, 2: 2, 4: 3} and d_rank == {0: 1, 2: 2, 3: 3}
    dense_only = convex_fuse(bm, de, b_rank, d_rank, alpha=1.0)
    # cosine min-max between the best (0.9) and the last dense candidate (0.7); below that 0
    assert dense_only == pytest.approx({0: 1.0, 2: 0.5, 3: 0.0, 1: 0.0, 4: 0.0})
    bm25_only = convex_fuse(bm, de, b_rank, d_rank, alpha=0.0)
    assert bm25_only == pytest.approx({1: 1.0, 2: 0.5, 4: 0.25, 0: 0.0, 3: 0.0})  # BM25 / best BM25
    mixed = convex_fuse(bm, de, b_rank, d_rank, alpha=0.7)
    assert mixed == pytest.approx({i: 0.7 * dense_only[i] + 0.3 * bm25_only[i] for i in mixed})
    assert sorted(mixed, key=mixed.get, reverse=True)[:3] == [0, 2, 1]  # 2, second in both, beats BM25's first
    assert all(0.0 <= v <= 1.0 for v in mixed.values())
    # no BM25 match at all: the dense order alone
    none = convex_fuse(np.zeros(5, np.float32), de, {}, d_rank, alpha=0.7)
    assert sorted(none, key=none.get, reverse=True) == [0, 2, 3]
    assert convex_fuse(bm, de, {}, {}, alpha=0.5) == {}


def test_rrf_fuse_is_the_reciprocal_rank_sum():
    from assistant.retrieve import rrf_fuse
    f = rrf_fuse({7: 1, 8: 2}, {8: 1}, k=60, dense_weight=1.5)
    assert f == pytest.approx({7: 1 / 61, 8: 1 / 62 + 1.5 / 61})


def test_hybrid_hits_keep_raw_scores_and_ranks_of_both_lists(hash_engine):
    import numpy as np
    r = hash_engine.retriever
    q = "新型研发机构"
    qv = r.embed_query(q)
    hits = r.chunk_hits(q)
    bm = r.bm25_scores(q)
    vecs = r.index.faiss.reconstruct_n(0, r.index.faiss.ntotal)
    row = {c.chunk_id: i for i, c in enumerate(r.index.chunks)}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 <= h.score <= 1.0 for h in hits) and hits[0].score > 0
    assert any(h.dense_rank is None for h in hits)  # BM25-only candidates are there ...
    for h in hits:  # ... and like every hit carry their real cosine, not a placeholder
        i = row[h.chunk.chunk_id]
        assert h.bm25 == pytest.approx(float(bm[i]), abs=1e-5)
        assert h.cosine == pytest.approx(float(vecs[i] @ qv), abs=1e-4)
        assert h.bm25_rank is not None or h.dense_rank is not None
        assert (h.bm25_rank is not None) == (h.bm25 > 0) or h.bm25_rank is None
    by_b = sorted((h for h in hits if h.bm25_rank), key=lambda h: h.bm25_rank)
    assert [h.bm25 for h in by_b] == sorted((h.bm25 for h in by_b), reverse=True)
    by_d = sorted((h for h in hits if h.dense_rank), key=lambda h: h.dense_rank)
    assert [h.cosine for h in by_d] == pytest.approx(sorted((h.cosine for h in by_d), reverse=True), abs=1e-5)
    assert np.isfinite([h.score for h in hits]).all()


def test_alpha_one_keeps_the_dense_order_and_zero_the_bm25_scores(hash_engine):
    from assistant.retrieve import Retriever
    idx, emb = hash_engine.index, hash_engine.embedder
    q = "科技成果转化"
    dense = [h.chunk.chunk_id for h in hash_engine.retriever.chunk_hits(q, mode="dense")]
    all_dense = [h.chunk.chunk_id for h in Retriever(idx, emb, alpha=1.0).chunk_hits(q)]
    assert all_dense[:len(dense)] == dense
    bm25 = hash_engine.retriever.chunk_hits(q, mode="bm25")
    all_bm25 = Retriever(idx, emb, alpha=0.0).chunk_hits(q)
    assert [round(h.score, 6) for h in all_bm25[:len(bm25)]] == [round(h.score, 6) for h in bm25]


def test_fusion_comes_from_settings_and_is_validated(hash_engine):
    from assistant.config import Settings
    from assistant.retrieve import Retriever
    idx, emb = hash_engine.index, hash_engine.embedder
    s = Settings.from_env({"ASSISTANT_FUSION": "rrf", "ASSISTANT_RRF_K": "10", "ASSISTANT_DENSE_WEIGHT": "2"})
    r = Retriever.from_settings(idx, emb, s)
    assert (r.fusion, r.rrf_k, r.dense_weight) == ("rrf", 10, 2.0)
    for h in r.chunk_hits("产业园区联盟"):
        expect = (1 / (10 + h.bm25_rank) if h.bm25_rank else 0) + (2 / (10 + h.dense_rank) if h.dense_rank else 0)
        assert h.score == pytest.approx(expect)
    s = Settings.from_env({"ASSISTANT_FUSION_ALPHA": "0.25"})
    assert Retriever.from_settings(idx, emb, s).alpha == 0.25
    assert Retriever(idx, emb).fusion == Settings().fusion and Retriever(idx, emb).alpha == Settings().fusion_alpha
    with pytest.raises(AssistantError, match="融合方式"):
        Retriever(idx, emb, fusion="max")
    with pytest.raises(AssistantError, match="α"):
        Retriever(idx, emb, alpha=1.5)
    assert "ASSISTANT_FUSION_ALPHA" in Settings.describe()


def test_filtered_hybrid_search_stays_within_the_filter(hash_engine):
    r = hash_engine.retriever
    f = r.make_filters(types=["民主党派"])
    hits = r.chunk_hits("科技创新", filters=f)
    assert hits and all(h.chunk.proposer_type == "民主党派" for h in hits)
    assert all(-1.0 <= h.cosine <= 1.0 and 0.0 <= h.score <= 1.0 for h in hits)
