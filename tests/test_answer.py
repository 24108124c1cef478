"""Answers: every recommendation names its proposer, every [n] is a real citation with an exact quote."""
import io
import json
import re

import pytest

from assistant.answer import Turn, clean_question
from assistant.cli import main
from assistant.errors import AssistantError

CONTRACT = {"question", "answer", "found", "citations", "timings_ms"}
CITATION = {"n", "chunk_id", "proposal_id", "title", "proposers", "proposer_type", "quote", "start", "end", "score"}


def check_citations(engine, ans):
    """The invariants every answer must keep, whatever the question."""
    d = ans.to_dict()
    assert set(d) == CONTRACT and set(d["timings_ms"]) == {"retrieve", "answer", "total"}
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", d["answer"])}
    assert marks == {c["n"] for c in d["citations"]}  # no dangling marker, no unused citation
    chunks = {c.chunk_id: c for c in engine.index.chunks}
    for c in d["citations"]:
        assert set(c) == CITATION
        doc = engine.index.documents[engine.index.proposals[c["proposal_id"]].doc_id].text
        assert doc[c["start"]:c["end"]] == c["quote"]
        ch = chunks[c["chunk_id"]]
        assert ch.proposal_id == c["proposal_id"] and ch.start <= c["start"] and c["end"] <= ch.end
        # the proposer of each cited recommendation is named in the answer
        assert all(p in d["answer"] for p in c["proposers"])
    if not d["found"]:
        assert d["citations"] == []
    return d


@pytest.mark.parametrize("q", ["民盟提了什么建议？", "各民主党派提了哪些建议", "惠济区打算建设哪些产业园区",
                               "哪些单位的建议提到了新型研发机构", "关于发展社区养老服务有哪些建议", "这次会议收到多少篇调研报告"])
def test_citations_are_real_and_exact(hash_engine, q):
    check_citations(hash_engine, hash_engine.answerer.answer(q))


def test_group_question_lists_every_member_from_metadata(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("各民主党派提了哪些建议"))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-02", "kjcx-03", "kjcx-13", "kjcx-14", "kjcx-15", "kjcx-16"}
    assert all(c["proposer_type"] == "民主党派" for c in d["citations"])


def test_same_title_two_proposers(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("《不断提升企业创新活力》是谁提的？"))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-04", "kjcx-20"}
    assert "郑州市工商业联合会" in d["answer"] and "登封市政协" in d["answer"]


def test_two_proposers_of_one_section_are_both_named(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("发挥国家自创区核心作用是谁提的"))
    assert "郑州市政协文化和文史委员会" in d["answer"] and "郑州市政协民族和宗教委员会" in d["answer"]


def test_negative_is_declined_with_scope(hash_engine):
    # the margin term is fitted to the real model's cosines; with the hashing fake only coverage decides
    from assistant.answer import Calibration, ExtractiveAnswerer
    e = hash_engine
    a = ExtractiveAnswerer(e.index, e.retriever, e.corpus.registry, calibration=Calibration(margin_weight=0.0))
    d = check_citations(hash_engine, a.answer("关于地铁票价调整有什么建议"))
    assert d["found"] is False and "26 份建议" in d["answer"] and "没有找到" in d["answer"]
    d = check_citations(hash_engine, a.answer("民盟关于乡村振兴提了什么建议"))
    assert d["found"] is False and "民盟郑州市委会的建议中没有找到" in d["answer"]


def test_follow_ups_carry_the_proposer_or_topic(hash_engine):
    a = hash_engine.answerer
    first = a.answer("民革提了什么建议？")
    d = check_citations(hash_engine, a.answer("那民盟呢？", [Turn("民革提了什么建议？", first)]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-14"}
    q1 = "惠济区政协的建议主要讲什么？"
    d = check_citations(hash_engine, a.answer("他们打算建设哪些园区？", [Turn(q1, a.answer(q1))]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-18"} and "中原大数据产业园" in d["answer"]
    q1 = "哪个单位建议成立产业园区联盟？"
    d = check_citations(hash_engine, a.answer("这个单位还提了别的建议吗？", [Turn(q1, a.answer(q1))]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-24"}
    # a complete question after another one is not treated as a follow-up
    q1 = "哪个单位建议建立产业园区联盟？"
    d = check_citations(hash_engine, a.answer("民革提了什么建议？", [Turn(q1, a.answer(q1))]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-13"}


def test_filters_from_the_ui_win(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("科技创新有哪些建议", types=["界别组"]))
    assert {c["proposal_id"] for c in d["citations"]} <= {"kjcx-24", "kjcx-25"} and d["citations"]


@pytest.mark.parametrize("bad,msg", [("", "请输入问题"), ("   \n\t ", "请输入问题"), ("问" * 20000, "太长"),
                                     ("\x00\x01\x02", "没有可识别")])
def test_bad_input_gets_a_clear_message(hash_engine, bad, msg):
    with pytest.raises(AssistantError, match=msg):
        hash_engine.answerer.answer(bad)


def test_markup_and_control_characters_are_cleaned():
    assert clean_question("<script>alert(1)</script>民盟\x07提了<b>什么</b>建议", 100) == "民盟提了 什么 建议"


def test_ask_json_stdin_one_object_per_line(hash_settings, hash_engine, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("民盟提了什么建议？\n\n   \n惠济区打算建设哪些产业园区\n"))
    assert main(["ask", "--json", "-", "--model", hash_settings.model, "--index", str(hash_settings.index_dir)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["question"] for x in lines] == ["民盟提了什么建议？", "惠济区打算建设哪些产业园区"]
    assert all(set(x) == CONTRACT for x in lines)


# ------------------------------------------------------------------ real model, real index
@pytest.mark.slow
@pytest.mark.parametrize("q,gold", [
    ("谁建议成立郑州市产业园区联盟？", {"kjcx-25"}),
    ("《加快建设中原科技城》是哪个党派的？", {"kjcx-03"}),
    ("哪些建议提到了技术经纪人？", {"kjcx-05"}),
    ("民进关于人才住房有什么建议？", {"kjcx-16"}),
    ("哪些区县政协的建议里提到研发投入？", {"kjcx-08", "kjcx-17", "kjcx-21", "kjcx-23"}),
    ("刘忠明常委提了什么建议？", {"kjcx-26"}),
    ("专利导航方面有什么建议？", {"kjcx-12"}),
])
def test_real_model_attribution(real_engine, q, gold):
    d = check_citations(real_engine, real_engine.answerer.answer(q))
    assert d["found"] and {c["proposal_id"] for c in d["citations"]} == gold


@pytest.mark.slow
@pytest.mark.parametrize("q", [
    pytest.param("关于共享单车停放管理有哪些建议？", marks=pytest.mark.xfail(
        strict=False, reason="known limitation: 共享/管理 also occur in 社法委's proposal and lift the topic coverage "
                             "over the dev-fitted threshold")),
    "有人建议建设跨海大桥吗", "中牟县政协关于旅游业发展提了什么？",
    pytest.param("民盟关于养老服务提了哪些建议？", marks=pytest.mark.xfail(
        strict=False, reason="known limitation: 服务 (in 科技服务业) covers half the topic; the dev-fitted threshold is 0.25"))])
def test_real_model_declines_what_is_not_there(real_engine, q):
    d = check_citations(real_engine, real_engine.answerer.answer(q))
    assert not d["found"] and "没有找到" in d["answer"]


@pytest.mark.slow
def test_real_model_detail_and_follow_up(real_engine):
    a = real_engine.answerer
    d = check_citations(real_engine, a.answer("登封市政协要在哪些方面下功夫？"))
    assert all(x in d["answer"] for x in ["规模化", "集群化", "绿色化", "智能化"])
    first = a.answer("九三学社提了什么建议？")
    d = check_citations(real_engine, a.answer("那民建呢？", [Turn("九三学社提了什么建议？", first)]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-15"} and "民建郑州市委会" in d["answer"]
