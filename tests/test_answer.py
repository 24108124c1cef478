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


# Questions here are written for the tests; none is taken from an evaluation set.
@pytest.mark.parametrize("q", ["九三学社有什么建议？", "民主党派都提了什么", "关于健康医疗产业园区有什么建议",
                               "哪些建议谈到科技成果转化", "关于城市公园绿化有什么建议", "这次常委会议收到几份报告"])
def test_citations_are_real_and_exact(hash_engine, q):
    check_citations(hash_engine, hash_engine.answerer.answer(q))


def test_type_question_lists_every_member_from_metadata(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("民主党派都提了什么"))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-02", "kjcx-03", "kjcx-13", "kjcx-14", "kjcx-15", "kjcx-16"}
    assert all(c["proposer_type"] == "民主党派" for c in d["citations"])


def test_type_word_inside_the_topic_does_not_scope(hash_engine):
    """'各区县的科技部门' names departments, not the district CPPCCs as proposers."""
    q = hash_engine.answerer.resolve("怎样让各区县的科技部门加强协作？", [])
    assert q.types == ()
    q = hash_engine.answerer.resolve("哪些区县政协提了建议？", [])
    assert q.types == ("区县(市)政协",)


def test_a_scope_that_matches_nothing_is_dropped_and_said(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("人民团体关于科技成果转化提了什么建议？"))
    assert d["found"] and d["answer"].startswith("没有找到人民团体的建议")


def test_two_proposals_with_one_title_both_named(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("题为《不断提升企业创新活力》的建议出自谁手？"))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-04", "kjcx-20"}


def test_decline_names_the_meeting_and_its_size(hash_engine):
    from assistant.answer import Calibration, ExtractiveAnswerer
    e = hash_engine
    a = ExtractiveAnswerer(e.index, e.retriever, e.corpus.registry, calibration=Calibration(margin_weight=0.0))
    d = check_citations(hash_engine, a.answer("关于城市公园绿化有什么建议"))
    assert d["found"] is False and "十九次常委会议的 26 份建议中没有找到" in d["answer"]
    d = check_citations(hash_engine, a.answer("民进关于城市公园绿化提了什么建议"))
    assert d["found"] is False and "民进郑州市委会的建议中没有找到" in d["answer"]


def test_follow_ups_carry_the_proposer_or_topic(hash_engine):
    a = hash_engine.answerer
    first = a.answer("民建提了什么建议？")
    d = check_citations(hash_engine, a.answer("那民进呢？", [Turn("民建提了什么建议？", first)]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-16"}
    q1 = "哪个单位建议建设健康医疗产业园区？"
    d = check_citations(hash_engine, a.answer("它还提了别的建议没有？", [Turn(q1, a.answer(q1))]))
    assert {c["proposal_id"] for c in d["citations"]} == set() or "kjcx-18" not in {c["proposal_id"] for c in d["citations"]}
    # a complete question after another one is not treated as a follow-up
    d = check_citations(hash_engine, a.answer("民革提了什么建议？", [Turn(q1, a.answer(q1))]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-13"}
    # "在此基础上…": 此 is what was just said, so the proposer asked about stays
    q2 = "民建对企业创新有什么建议？"
    q = a.resolve("在此基础上，还主张建立什么？", [Turn(q2, a.answer(q2))])
    assert q.intent == "followup" and q.proposers == ("民建郑州市委会",)


def test_filters_from_the_ui_win(hash_engine):
    d = check_citations(hash_engine, hash_engine.answerer.answer("科技创新有哪些建议", types=["界别"]))
    assert {c["proposal_id"] for c in d["citations"]} <= {"kjcx-24", "kjcx-25"} and d["citations"]


@pytest.mark.parametrize("bad,msg", [("", "请输入问题"), ("   \n\t ", "请输入问题"), ("问" * 20000, "太长"),
                                     ("\x00\x01\x02", "没有可识别")])
def test_bad_input_gets_a_clear_message(hash_engine, bad, msg):
    with pytest.raises(AssistantError, match=msg):
        hash_engine.answerer.answer(bad)


def test_markup_and_control_characters_are_cleaned():
    assert clean_question("<script>alert(1)</script>民盟\x07提了<b>什么</b>建议", 100) == "民盟提了 什么 建议"


def test_ask_json_stdin_one_object_per_line(hash_settings, hash_engine, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("九三学社有什么建议？\n\n   \n健康医疗产业园区在哪个区\n"))
    assert main(["ask", "--json", "-", "--model", hash_settings.model, "--index", str(hash_settings.index_dir)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["question"] for x in lines] == ["九三学社有什么建议？", "健康医疗产业园区在哪个区"]
    assert all(set(x) == CONTRACT for x in lines)


# ------------------------------------------------------------------ real model, real index
@pytest.mark.slow
@pytest.mark.parametrize("q,gold", [
    ("谁主张把园区型企业组织成联盟？", {"kjcx-25"}),
    ("中原科技城的建设是哪个党派提的？", {"kjcx-03"}),
    ("刘忠明提了什么？", {"kjcx-26"}),
    ("知识产权方面谁有建议？", {"kjcx-12"}),
])
def test_real_model_attribution(real_engine, q, gold):
    d = check_citations(real_engine, real_engine.answerer.answer(q))
    cited = list(dict.fromkeys(c["proposal_id"] for c in d["citations"]))
    # the proposer asked about comes first; others that also discuss the topic may follow
    assert d["found"] and cited[0] in gold and gold <= set(cited)


@pytest.mark.slow
@pytest.mark.parametrize("q", ["有人建议修建过江隧道吗", "关于城市公园绿化有什么建议", "民进关于养老院建设提了什么"])
def test_real_model_declines_what_is_not_there(real_engine, q):
    d = check_citations(real_engine, real_engine.answerer.answer(q))
    assert not d["found"] and "没有找到" in d["answer"]


@pytest.mark.slow
def test_real_model_follow_up(real_engine):
    a = real_engine.answerer
    first = a.answer("九三学社提了什么建议？")
    d = check_citations(real_engine, a.answer("那民建呢？", [Turn("九三学社提了什么建议？", first)]))
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-15"} and "民建郑州市委会" in d["answer"]


def test_a_detail_question_quotes_the_measures_after_the_sentence_naming_the_topic(tmp_path):
    from conftest import engine_on
    page = ("乙市政协城市更新专题协商会发言摘编\n\n"
            "### 加快老旧小区改造 民盟乙市委会\n\n"
            "老旧小区量大面广。推进老旧小区改造提质。建立居民议事协商会，引入社会资本参与长期运营，"
            "增设电梯和充电桩。\n\n"
            "### 发展社区托育服务 民进乙市委会\n\n"
            "托育服务供给不足。建议在新建小区配建托育用房，向普惠托育点发放运营补贴。\n")
    a = engine_on(tmp_path, {"乙市.md": page}).answerer
    out = a.answer("推进老旧小区改造，民盟乙市委会主张怎样做？")
    assert out.found and "民盟乙市委会" in out.answer
    # the measures follow the sentence that names the topic, sharing none of its words
    assert "建立居民议事协商会" in out.answer and "增设电梯和充电桩" in out.answer
    # a question that is not about details still quotes only the matching sentence
    short = a.answer("推进老旧小区改造提质是谁的建议？")
    assert short.found and "建立居民议事协商会" not in short.answer


def test_an_item_with_only_a_title_and_its_header_is_quoted_by_its_title(tmp_path):
    from conftest import engine_on
    page = ("丙县政协2024年度优秀提案目录\n\n"
            "1、关于建设乡村物流共配中心的提案\n提案者:民建丙县总支部委员会\n\n"
            "2、关于规范校外托管机构的提案\n提案者:钱多多委员\n")
    a = engine_on(tmp_path, {"丙县.txt": page}).answerer
    out = a.answer("民建丙县总支部委员会提了什么？")
    assert out.found and "民建丙县总支部委员会" in out.answer
    assert [c.quote for c in out.citations] == ["关于建设乡村物流共配中心的提案"]


def test_a_sentence_over_a_chunk_boundary_is_quoted_whole(tmp_path):
    from conftest import engine_on
    clauses = "，".join(f"第{i}项是在{n}建设一座社区食堂并配送老人餐" for i, n in
                       enumerate(["东城", "西城", "南城", "北城", "新区", "老区", "河东", "河西", "山前", "山后",
                                  "湖滨", "港区"], 1))
    page = f"丁市政协民生议政会发言\n\n### 建设社区食堂 农工党丁市委会\n\n推进社区食堂建设，{clauses}。\n"
    eng = engine_on(tmp_path, {"丁市.md": page})
    assert len(eng.index.chunks) >= 3          # the one long sentence spans several chunks
    out = eng.answerer.answer("农工党丁市委会建议怎样推进社区食堂建设？")
    assert out.found and "第1项是在东城" in out.answer and "第12项是在港区" in out.answer
    assert len({c.chunk_id for c in out.citations}) >= 2


@pytest.mark.parametrize("q", ["谁提议建设海水淡化厂？", "关于冰雪运动服务，有单位提建议吗"])
def test_a_topic_whose_main_word_is_missing_is_declined(hash_engine, q):
    # the page has 建设 and 服务 everywhere and nothing like the other word: what was asked about
    # is not there, however well the rest matches
    from assistant.select import UNCOVERED_MAX
    a = hash_engine.answerer
    query = a.resolve(q)
    cands, query = a.selector.candidates(query)
    ranked, _ = a.selector.rank(query, cands)
    assert a.selector.uncovered(query, ranked[0]) > UNCOVERED_MAX
    assert a.selector.forced(query, ranked) is False
    out = a.answer(q)
    assert not out.found and "没有找到" in out.answer


def test_two_like_missing_words_in_a_list_are_one_missing_thing(hash_engine, monkeypatch):
    # 湿地 and 候鸟 each carry less than half of the topic; named together they are the topic when
    # the embedder finds them alike (one thing named twice), and two separate items when not
    from assistant.select import JOINED_LIKE, UNCOVERED_MAX
    a = hash_engine.answerer
    query = a.resolve("有单位就湿地、候鸟的保护提建议吗")
    cands, query = a.selector.candidates(query)
    ranked, _ = a.selector.rank(query, cands)
    monkeypatch.setattr(a.selector.sim, "likeness", lambda u, v: JOINED_LIKE)
    assert a.selector.uncovered(query, ranked[0]) > UNCOVERED_MAX
    monkeypatch.setattr(a.selector.sim, "likeness", lambda u, v: JOINED_LIKE - 0.01)
    assert a.selector.uncovered(query, ranked[0]) < UNCOVERED_MAX


def test_a_topic_the_best_proposal_prints_is_not_vetoed(hash_engine):
    a = hash_engine.answerer
    query = a.resolve("谁提议建设中原科技城？")
    cands, query = a.selector.candidates(query)
    ranked, _ = a.selector.rank(query, cands)
    assert ranked[0].proposal.proposal_id == "kjcx-03"
    assert a.selector.uncovered(query, ranked[0]) == 0.0 and a.selector.forced(query, ranked) is None


def _answerer_on_page(tmp_path, headline: str, *sections: tuple[str, str]):
    """An answerer (hash embedder) over one page: the headline, then "### <title> <proposers>"
    sections with their text."""
    from conftest import engine_on
    page = headline + "\n\n" + "\n\n".join(f"### {heading}\n\n{text}" for heading, text in sections) + "\n"
    return engine_on(tmp_path, {f"{headline[:2]}.md": page}).answerer


def _proposers_cited(ans) -> list[str]:
    return sorted({p for c in ans.citations for p in c.proposers})


def test_the_kind_of_local_cppcc_asked_for_narrows_the_county_type(tmp_path):
    a = _answerer_on_page(tmp_path, "戊市政协全体会议大会发言",
                          ("推进老旧街区更新 东湖区政协", "建议分批改造老旧街区的供水管网。"),
                          ("发展特色种植 青山县政协", "建议扶持食用菌种植合作社。"),
                          ("壮大县域经济 临江市政协", "建议建设县域物流集散中心。"),
                          ("建设智慧停车 西岭区政协", "建议建设停车信息平台。"),
                          ("培育新兴产业 民盟戊市委会", "建议设立新兴产业引导基金。"))
    cited = lambda q: _proposers_cited(a.answer(q))
    assert cited("市辖区的政协都讲了什么？") == ["东湖区政协", "西岭区政协"]
    assert cited("哪些县级市政协作了发言？") == ["临江市政协"]
    assert cited("各县政协讲了什么？") == ["青山县政协"]
    # a place word inside a longer one asks for every kind
    assert cited("区县政协都讲了什么？") == ["东湖区政协", "临江市政协", "西岭区政协", "青山县政协"]
    assert cited("区县、县级市政协都讲了什么？") == ["东湖区政协", "临江市政协", "西岭区政协", "青山县政协"]
    # the kinds left out in a negation are not asked for
    assert cited("除了县和县级市，区一级政协有哪些发言？") == ["东湖区政协", "西岭区政协"]
    # 市区 is the city's urban area, one place, not "city and district"
    assert cited("市区的各个区政协都说了些什么？") == ["东湖区政协", "西岭区政协"]
    # a kind left out in brackets after the type keeps the rest of that type, not every other type
    assert cited("区政协（不含县级市）在老旧街区方面讲了什么？") == ["东湖区政协"]
    # several kinds asked, one left out: the others
    assert cited("区县政协（不含县级市）都讲了什么？") == ["东湖区政协", "西岭区政协", "青山县政协"]
    assert cited("区和县的政协（县级市不算）各讲了什么？") == ["东湖区政协", "西岭区政协", "青山县政协"]


def test_a_proposer_left_out_with_chule_is_not_an_answer(tmp_path):
    a = _answerer_on_page(tmp_path, "己市政协全体会议大会发言",
                          ("改造供水管网 东湖区政协", "建议分批改造老旧小区的供水管网。"),
                          ("保障供水安全 西岭区政协", "建议更新老旧供水管网并建设水质监测点。"),
                          ("发展夜间消费 民盟己市委会", "建议打造夜间消费街区。"))
    cited = lambda q: _proposers_cited(a.answer(q))
    assert cited("哪些政协讲了供水管网？") == ["东湖区政协", "西岭区政协"]
    assert cited("除了东湖区政协，还有哪些政协讲了供水管网？") == ["西岭区政协"]


def test_who_made_this_one_together_is_asked_of_the_proposal_just_cited(tmp_path):
    from assistant.answer import Turn
    a = _answerer_on_page(tmp_path, "庚市政协常委会议专题协商",
                          ("改造供水管网 庚市政协城市建设委员会 庚市政协乡村振兴委员会", "建议分批改造老旧小区的供水管网。"),
                          ("保障供水安全 西岭区政协", "建议更新老旧供水管网并建设水质监测点。"),
                          ("发展夜间消费 民盟庚市委会", "建议打造夜间消费街区。"))
    first = "城市建设委员会交了什么？"
    turns = [Turn(first, a.answer(first))]
    ans = a.answer("这份报告是他们自己写的吗？还有谁联名？", turns)
    assert [c.proposal_id for c in ans.citations] and {c.proposal_id for c in ans.citations} == {
        c.proposal_id for c in turns[0].answer.citations}
    assert "乡村振兴委员会" in ans.answer


def test_how_many_they_handed_in_counts_all_of_theirs(tmp_path):
    from assistant.answer import Turn
    a = _answerer_on_page(tmp_path, "辛市政协常委会议专题协商",
                          ("发展夜间消费 民盟辛市委会", "建议打造夜间消费街区。"),
                          ("推进托育服务 民盟辛市委会", "建议增加普惠托育机构。"),
                          ("保障供水安全 西岭区政协", "建议更新老旧供水管网。"))
    first = "谁建议打造夜间消费街区？"
    ans = a.answer("他们总共交了几篇？", [Turn(first, a.answer(first))])
    assert _proposers_cited(ans) == ["民盟辛市委会"], ans.answer
    assert len({c.proposal_id for c in ans.citations}) == 2, ans.answer
    assert "2 份" in ans.answer and "西岭区政协" not in ans.answer
