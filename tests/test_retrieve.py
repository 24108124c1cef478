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
