"""Who a question is about, on a small catalogue of our own: members who spoke for an
organisation, exclusions, short names of people's organisations, counts and positions."""
from __future__ import annotations

import pytest

from assistant.answer import Turn
from assistant.config import Settings
from conftest import engine_on

CATALOGUE = """序号,标题,提案者,发言人,会议,年份,内容
1,加快冷链物流体系建设,民建甲市委会,王一鸣,甲市政协九届三次会议,2024,建议规划建设冷链物流园区，完善农产品冷链配送网络。
2,推动养老服务进社区,民盟甲市委会,李向东,甲市政协九届三次会议,2024,建议发展社区嵌入式养老机构，培育专业护理人员队伍。
3,加强河道生态治理,甲市政协人口资源环境委员会,,甲市政协九届三次会议,2024,建议实行河长制考核，推进河道清淤和岸线绿化。
4,繁荣夜间经济,经济界,张晓光,甲市政协九届三次会议,2024,建议打造夜间消费街区，延长公共交通运营时间。
5,扶持乡村民宿发展,经济界,赵明,甲市政协九届三次会议,2024,建议简化民宿审批，支持村集体盘活闲置农房。
6,提升职工技能水平,市总工会,孙立新,甲市政协九届三次会议,2024,建议完善职工技能培训补贴，建设一批技能大师工作室。
7,促进中小学课后服务,民进甲市委会,周红,甲市政协九届三次会议,2024,建议扩大课后服务覆盖面，引入社会力量参与。
8,规范网约车经营秩序,钱进委员,,甲市政协九届三次会议,2024,建议加强网约车平台监管，保障驾驶员合法权益。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return engine_on(tmp_path_factory.mktemp("scope"), {"甲市2024.csv": CATALOGUE})


def _ids(out) -> list[str]:
    return list(dict.fromkeys(c.proposal_id.rsplit("-", 1)[-1] for c in out.citations))


def test_a_type_word_asks_about_the_named_member(engine):
    out = engine.answerer.answer("王一鸣委员代表哪个党派发言？")
    assert out.found and _ids(out) == ["01"] and "民建甲市委会" in out.answer


def test_an_organisation_beside_a_member_qualifies_him(engine):
    out = engine.answerer.answer("经济界委员赵明讲了什么")
    assert _ids(out) == ["05"]


def test_not_a_type_means_every_other_type(engine):
    out = engine.answerer.answer("不是民主党派的发言有哪些？")
    assert sorted(_ids(out)) == ["03", "04", "05", "06", "08"]
    assert "民主党派" not in out.answer.split("\n")[0]   # the headline names what was searched


def test_is_it_not_is_a_question_not_an_exclusion(engine):
    q = engine.answerer.parser.parse("这篇是不是民主党派提的？")
    assert "界别" not in q.types and "工商联" not in q.types   # an exclusion would scope to every other type


def test_short_name_of_a_peoples_organisation(engine):
    out = engine.answerer.answer("工会讲了什么")
    assert _ids(out) == ["06"] and "市总工会" in out.answer


def test_counts_and_positions_are_not_topics(engine):
    terms = engine.answerer.parser.topic_terms("民建和民进这两家各有哪一件？第二篇讲什么")
    assert not [t for t in terms if any(c in t for c in "两家一件第二篇")]


def test_a_follow_up_by_position_takes_that_item(engine):
    a = engine.answerer
    first = a.answer("民主党派都提了哪些建议？")
    assert len(first.citations) >= 3
    second_id = _ids(first)[1]
    out = a.answer("第二篇具体是怎么建议的？", [Turn("民主党派都提了哪些建议？", first)])
    assert _ids(out) == [second_id]


def test_which_member_includes_those_who_spoke_for_a_body(engine):
    out = engine.answerer.answer("哪位委员建议打造夜间消费街区？")
    assert _ids(out)[:1] == ["04"] and "张晓光" in out.answer


def test_members_on_their_own_exclude_speeches(engine):
    q = engine.answerer.parser.parse("以个人名义提交的建议有哪些？")
    cands, q = engine.answerer.selector.candidates(q)
    assert [p.item for p in cands] == ["08"] and not q.widened


def test_a_demonstrative_follow_up_keeps_the_proposer_and_more_of_one_proposal(engine):
    a = engine.answerer
    first = a.answer("甲市政协人口资源环境委员会提了什么建议？")
    assert _ids(first) == ["03"]
    turns = [Turn("甲市政协人口资源环境委员会提了什么建议？", first)]
    q = a.parser.parse("这个委员会在岸线绿化上还提了什么？", turns)
    assert q.proposers == ("甲市政协人口资源环境委员会",)
    out = a.answer("这个委员会在岸线绿化上还提了什么？", turns)
    assert out.found and _ids(out) == ["03"]      # its one proposal, not "nothing found"


def test_what_is_asked_after_has_it_mentioned_must_be_there(engine):
    a = engine.answerer
    assert a.parser.parse("王一鸣讲冷链物流时有没有提到无人机配送？").focus
    assert not a.answer("王一鸣讲冷链物流时有没有提到无人机配送？").found
    out = a.answer("王一鸣讲冷链物流时有没有提到冷链配送网络？")
    assert out.found and _ids(out) == ["01"]


def test_an_exclusion_without_chu_le(engine):
    out = engine.answerer.answer("民主党派以外的发言有哪些？")
    assert sorted(_ids(out)) == ["03", "04", "05", "06", "08"]


def test_which_member_spoke_for_a_named_body(engine):
    out = engine.answerer.answer("代表经济界发言的是哪几位委员？")
    assert sorted(_ids(out)) == ["04", "05"]


def test_a_follow_up_on_the_one_proposal_being_discussed_is_answered_from_it(engine):
    a = engine.answerer
    first = a.answer("钱进委员提了什么建议？")
    turns = [Turn("钱进委员提了什么建议？", first)]
    out = a.answer("他对司机这块具体怎么说的？", turns)
    assert out.found and _ids(out) == ["08"]
    assert not a.answer("他有没有提到出租车牌照拍卖？", turns).found   # a focus still has to be there


def test_focus_after_about_and_after_has_anyone(engine):
    p = engine.answerer.parser
    assert p.parse("有没有关于冷链物流的发言？").focus and p.parse("有没有人提议建设冷链物流园区？").focus
    assert not engine.answerer.answer("钱进委员有没有关于出租车牌照拍卖的建议？").found
    assert engine.answerer.answer("有没有关于冷链物流的发言？").found
    # "有人谈<Z>吗": Z must be there; 有人提议 is not read so (a proposal may word it otherwise)
    assert p.parse("甲市政协九届三次会议里有人谈网约车吗？").focus
    assert not engine.answerer.answer("甲市政协九届三次会议里有人谈冷链物流的碳排放核算吗？").found
    assert not p.parse("有人提议多建养老院吗？").focus
    # "<a proposer>对<Z>有什么建议": Z is asked about
    assert p.parse("钱进委员对网约车司机的社保缴纳有什么建议？").focus
    assert not engine.answerer.answer("钱进委员对网约车司机的社保缴纳有什么建议？").found
    assert engine.answerer.answer("钱进委员对网约车平台监管有什么建议？").found
    assert not p.parse("对网约车司机的社保缴纳有什么建议？").focus   # no proposer named: the threshold decides
    # yes/no without 吗, and "<a proposer>建议<Z>了吗"
    assert p.parse("钱进讲网约车时提没提出租车？").focus == ("出租车",)
    assert p.parse("钱进讲网约车时说到出租车没有？").focus == ("出租车",)
    assert p.parse("民建建议建冷库了吗？").focus
    assert not engine.answerer.answer("钱进讲网约车时提没提出租车？").found
    # what is asked about counts only whole: 冷链 alone does not cover 冷链保险
    assert not engine.answerer.answer("民建讲冷链物流时提到冷链保险没有？").found


def test_a_type_with_its_level_word_is_asked_about(engine):
    # "各民主党派省委会中": the level word after the type still names the type, and is no topic
    q = engine.answerer.parser.parse("各民主党派省委会中，谁就养老谈了想法？")
    assert q.types == ("民主党派",) and q.scope_words == ("民主党派省委会",)
    out = engine.answerer.answer("各民主党派省委会中，谁就养老谈了想法？")
    assert out.found and _ids(out) == ["02"]


def test_a_topic_named_first_is_the_focus(engine):
    p, a = engine.answerer.parser, engine.answerer
    # "<Z>方面，…提…", "<Z>，有没有…提过": Z is what is asked about
    assert p.parse("冷链物流方面，哪家提了建议？").focus == tuple(p.topic_terms("冷链物流"))
    assert p.parse("社区养老，有哪个单位提过吗？").focus == tuple(p.topic_terms("社区养老"))
    assert not a.answer("冷链物流的碳排放核算方面，哪家提了建议？").found
    assert not a.answer("出租车牌照拍卖，有哪个单位提过吗？").found
    assert a.answer("冷链物流方面，哪家提了建议？").found
    # a claim in the first clause, or a 这/那 pointing back at it, leaves the decision to the threshold
    assert not p.parse("河道也要定期清淤、岸线要绿化，有人提过吗").focus
    assert not p.parse("河道定期清淤，有人这么建议过吗？").focus
    # the meeting may sit between the topic and the frame; "是否有人就<Z>作了发言" asks about Z too
    assert p.parse("冷链物流，甲市政协九届三次会议里有人谈过吗？").focus == tuple(p.topic_terms("冷链物流"))
    assert p.parse("在甲市政协九届三次会议，是否有人就冷链保险作了发言？").focus == tuple(p.topic_terms("冷链保险"))
    assert not a.answer("在甲市政协九届三次会议，是否有人就冷链保险作了发言？").found
    assert a.answer("在甲市政协九届三次会议，是否有人就冷链物流作了发言？").found
    # after the verb only the frame may follow: a topic there is the focus ("…有没有人提到<Z>")
    assert p.parse("冷链物流方面，有没有人提到冷链保险").focus == tuple(p.topic_terms("冷链保险"))


COLD_CHAIN = """序号,标题,提案者,发言人,会议,内容
1,完善冷链物流标准体系,民建丙市委会,,丙市政协三届二次会议,建议制定冷链物流地方标准，推动检测互认。
2,建设冷链物流园区,民盟丙市委会,,丙市政协三届二次会议,建议规划冷链物流园区，完善冷链物流标准体系，引进龙头企业。
3,加强河道生态治理,丙市政协城建委员会,,丙市政协三届二次会议,建议推进河道清淤和岸线绿化。
"""


def test_a_quoted_sentence_and_one_more_proposal(tmp_path):
    a = engine_on(tmp_path, {"丙市.csv": COLD_CHAIN}).answerer
    p = a.parser
    # words quoted as a sentence are the text's, even where they read like a title
    assert p.parse("题目是“完善冷链物流标准体系”的发言是谁讲的？").titles == ("完善冷链物流标准体系",)
    assert p.parse("“完善冷链物流标准体系”这句话出自哪篇发言？").titles == ()
    # "还有一篇/还有哪篇…": another proposal, whoever made it; the one just cited is left out
    first_q = "题目是“完善冷链物流标准体系”的发言是谁讲的？"
    first = a.answer(first_q)
    assert _ids(first) == ["01"]
    turns = [Turn(first_q, first)]
    q = p.parse("还有一篇的题目也含“冷链物流”，是谁提交的？", turns)
    assert q.proposers == () and q.exclude == (first.citations[0].proposal_id,)
    out = a.answer("“完善冷链物流标准体系”这句话，还有哪篇发言的正文里也有？", turns)
    assert out.found and _ids(out) == ["02"] and "民盟丙市委会" in out.answer


def test_a_catalogue_line_is_the_answer_about_its_proposer(tmp_path):
    from assistant.engine import Engine
    (tmp_path / "corpus" / "proposals").mkdir(parents=True)
    (tmp_path / "corpus" / "proposals" / "目录.csv").write_text(
        "序号,标题,提案者,发言人,会议\n1,推动老旧厂房改造利用,民革乙市委会,刘一,乙市政协五届二次会议\n"
        "2,完善社区应急物资储备,民进乙市委会,陈二,乙市政协五届二次会议\n", encoding="utf-8")
    eng = Engine.open(Settings.from_env({}, model="hash-bigram-256", corpus_dir=tmp_path / "corpus",
                                        index_dir=tmp_path / "index"))
    # the catalogue has a title and no text: that title is what there is to say about 刘一
    out = eng.answerer.answer("刘一委员的发言想解决什么难题？")
    assert out.found and _ids(out) == ["01"]
    assert not eng.answerer.answer("刘一委员有没有提到容积率奖励？").found


def test_a_list_asked_about_item_by_item_finds_each_item(engine):
    out = engine.answerer.answer("冷链物流、社区养老和河道治理的发言分别是谁讲的？")
    assert out.found and sorted(_ids(out)) == ["01", "02", "03"]
    # without 分别/各 the list is one topic: nothing covers all of it
    q = engine.answerer.parser.parse("冷链物流、社区养老和河道治理的发言是谁讲的？")
    assert len(engine.answerer.selector.alternatives(q)) == 1


def test_a_list_followed_by_its_category_asks_for_the_items(engine):
    sel, parse = engine.answerer.selector, engine.answerer.parser.parse
    alts = sel.alternatives(parse("冷链物流、社区养老这些民生问题的发言有哪几篇？"))
    assert len(alts) == 2 and not any("民生" in t for a in alts for t in a)   # the category is not required
    out = engine.answerer.answer("冷链物流、社区养老这些民生问题的发言有哪几篇？")
    assert sorted(_ids(out)) == ["01", "02"]
    # "把 A 和 B 结合起来谈的有哪几篇": both together, not either
    assert len(sel.alternatives(parse("把冷链物流和社区养老结合起来谈的发言有哪几篇？"))) == 1


def test_several_quoted_words_in_a_count_question_are_alternatives(engine):
    sel, parse = engine.answerer.selector, engine.answerer.parser.parse
    assert sel.alternatives(parse("题目里有“养老”“民宿”字样的有几篇？")) == [["养老"], ["民宿"]]
    # 都/同时 asks for both
    assert len(sel.alternatives(parse("题目里同时有“养老”“民宿”字样的有几篇？"))) == 1


SECTIONS = """# 丙市政协七届五次常委会议 专题议政

编者按：丙市政协七届五次常委会议日前召开，围绕建设区域物流枢纽开展专题议政，共收到调研报告2篇。

### 完善多式联运体系 民革丙市委会
建议建设铁水联运码头，推进公路港与铁路场站衔接。

### 发展冷链物流产业 丙市政协经济委员会
建议规划冷链物流园区，培育冷链龙头企业。
"""


@pytest.fixture(scope="module")
def sections_engine(tmp_path_factory):
    from assistant.engine import Engine
    root = tmp_path_factory.mktemp("sections")
    (root / "corpus" / "proposals").mkdir(parents=True)
    (root / "corpus" / "proposals" / "丙市.md").write_text(SECTIONS, encoding="utf-8")
    return Engine.open(Settings.from_env({}, model="hash-bigram-256", corpus_dir=root / "corpus",
                                        index_dir=root / "index"))


def test_naming_the_introduction_asks_about_it_whatever_the_topic(sections_engine):
    a = sections_engine.answerer
    assert a.parser.parse("编者按里说这次议政围绕什么开展？").meta
    out = a.answer("编者按里说这次议政围绕什么开展？")
    assert out.found and [c.proposal_id for c in out.citations][:1] == ["丙市-00"] and "区域物流枢纽" in out.answer
    assert not a.parser.parse("冷链物流园区是谁建议的？").meta   # a topic without the introduction named


def test_an_aside_in_brackets_after_a_negation_is_asked_for(engine):
    out = engine.answerer.answer("不属于民主党派、专委会的那几家（界别、人民团体）都提了什么？")
    assert sorted(_ids(out)) == ["04", "05", "06"]


def _asked_of_the_introduction(a, q: str) -> None:
    assert a.parser.parse(q).meta, q
    out = a.answer(q)
    assert out.found and [c.proposal_id for c in out.citations][:1] == ["丙市-00"], q


def test_a_question_about_the_collection_as_a_whole_is_asked_of_its_introduction(sections_engine):
    a = sections_engine.answerer
    # (哪件事 asks which matter, not which proposal)
    for q in ("各单位交的这些材料是围绕什么写的？", "这2篇调研报告是在哪次常委会议上交流的",
              "各单位报送这些材料，是为哪件事出主意的？"):
        _asked_of_the_introduction(a, q)
    # asking who proposed something, or whether anyone did, is about the proposals
    assert not a.parser.parse("这次专题议政中，谁建议建设铁水联运码头？").meta
    assert not a.parser.parse("这次会议有没有关于冷链物流的建议？").meta
    # "how many" is answered with the collection's own count as well as the introduction
    out = a.answer("这次常委会议一共有几篇调研报告？")
    assert out.found and "本库收录丙市政协七届五次常委会议的建议 2 份" in out.answer
    assert "本库收录" not in a.answer("编者按里说这次议政围绕什么开展？").answer
    assert not a.parser.parse("这些建议里，哪件是讲冷链物流的？").meta


def test_a_party_the_corpus_holds_nothing_from_is_declined_by_name(engine):
    # 致公党 is a party the grammar knows; this catalogue holds nothing from it
    out = engine.answerer.answer("致公党市委在会上提了什么建议？")
    assert not out.found and not out.citations
    assert "没有致公党的建议" in out.answer and "民建、民盟、民进" in out.answer
    # asked beside a party it does hold: that one is answered, the other named as missing
    out = engine.answerer.answer("民盟和九三学社各提了什么？")
    assert out.found and _ids(out) == ["02"] and "没有九三学社的建议" in out.answer
    # a follow-up naming such a party is no follow-up of the party before it
    first = engine.answerer.answer("民建提了什么建议？")
    out = engine.answerer.answer("那农工党呢？", [Turn("民建提了什么建议？", first)])
    assert not out.found and "农工党" in out.answer


def test_a_cppcc_of_another_place_is_said_to_be_missing(engine):
    parse = engine.answerer.parser.parse
    assert parse("丁庄市政协关于冷链物流有什么建议？").widened == "丁庄市政协"
    # the corpus's own place, a pointer, a level or a set is no other place
    for q in ("甲市政协关于冷链物流有什么建议？", "本市政协关于冷链物流有什么建议？", "去年省政协全会上谁讲了冷链物流？",
              "各区县政协讲了什么？", "代表市政协人口资源环境委员会发言的是谁？"):
        assert parse(q).widened == "", q
    out = engine.answerer.answer("丁庄市政协关于冷链物流有什么建议？")
    assert out.found and _ids(out) == ["01"]
    assert out.answer.startswith("没有找到丁庄市政协的建议，以下是在全部建议中找到的")


def test_did_a_named_proposer_speak_on_a_topic(engine):
    a = engine.answerer
    assert not a.answer("民建甲市委会谈过养老服务吗？").found          # its one proposal is on cold chains
    out = a.answer("民盟甲市委会讲社区养老了吗？")
    assert out.found and _ids(out) == ["02"]
    # a first clause that only names the meeting is no topic: the topic after 提 is
    q = a.parser.parse("甲市政协九届三次会议上，民建有没有提乡村民宿方面的建议？")
    assert "民宿" in "".join(q.focus)
    assert not a.answer("甲市政协九届三次会议上，民建有没有提乡村民宿方面的建议？").found


DISTRICT = """序号,标题,提案者,会议
1,关于打造夜间消费街区的建议,经济界别组,乙区政协七届二次会议
2,关于加强校园周边交通安全的建议,教育界别组,乙区政协七届二次会议
3,关于推进老旧小区加装电梯的建议,民进乙区委,乙区政协七届二次会议
"""


def test_the_city_a_district_meeting_belongs_to_is_no_topic(tmp_path):
    # "丙市乙区政协…": the city before the district's meeting is part of naming the meeting
    eng = engine_on(tmp_path, {"乙区.csv": DISTRICT})
    q = "丙市乙区政协七届二次会议上，哪些界别组提交了提案？"
    assert eng.answerer.topic_terms(q) == []
    out = eng.answerer.answer(q)
    assert out.found and sorted(_ids(out)) == ["01", "02"]


def test_a_catalogue_line_does_not_answer_a_topic_it_does_not_name(tmp_path):
    # the proposer's only entry is a title; "<proposer>关于 Z 的提案" asks for Z, which it is not
    eng = engine_on(tmp_path, {"乙区.csv": DISTRICT})
    assert not eng.answerer.answer("民进乙区委关于文明养犬的提案是哪一件？").found
    out = eng.answerer.answer("民进乙区委关于加装电梯的提案是哪一件？")
    assert out.found and _ids(out) == ["03"]


def test_which_meeting_this_one_was_is_asked_of_its_introduction(sections_engine):
    a = sections_engine.answerer
    # the theme's words between "这次" and the meeting word do not make it a topic question
    for q in ("围绕物流枢纽的这次协商属于哪一次会议？", "这场关于物流的议政是什么时候召开的",
              "这批调研报告一共多少篇？"):
        _asked_of_the_introduction(a, q)
    # asked what was proposed at it, or who proposed something: the proposals answer
    for q in ("这次会议上关于冷链提了什么建议？", "这次议政中谁提了冷链物流？", "冷链的事，这批报告里有建议吗？"):
        assert not a.parser.parse(q).meta, q


def test_who_took_part_in_the_whole_collection_is_a_roster_by_type(sections_engine, engine):
    out = sections_engine.answerer.answer("哪些单位提交了调研报告？")
    assert out.found
    head = out.answer.splitlines()
    assert head[0] == "丙市政协七届五次常委会议的 2 份建议的提出者："
    assert "民主党派（1 份）：民革丙市委会" in head and "政协专门委员会（1 份）：丙市政协经济委员会" in head
    # the introduction's sentence that says who submitted is cited first, then every proposal
    ids = [c.proposal_id for c in out.citations]
    assert ids[0] == "丙市-00" and set(ids[1:]) == {"丙市-01", "丙市-02"}
    assert "共收到调研报告2篇" in out.citations[0].quote
    # the catalogue has no introduction: the roster heads the listing; a member who spoke for
    # an organisation is not listed as a proposer of his own
    out = engine.answerer.answer("都有哪些方面提了建议？")
    lines = out.answer.splitlines()
    assert lines[0] == "甲市政协九届三次会议的 8 份建议的提出者："
    assert "民主党派（3 份）：民建甲市委会、民盟甲市委会、民进甲市委会" in lines
    roster = lines[:lines.index(next(ln for ln in lines if ln.startswith("1. ")))]
    assert len(roster) == 6 and not any("王一鸣" in ln for ln in roster)
    # a topic, or a scope, is no roster
    assert "提出者：" not in engine.answerer.answer("哪些单位提了养老方面的建议？").answer
    assert "提出者：" not in engine.answerer.answer("民主党派有哪些单位提了建议？").answer


def test_asked_which_meeting_a_proposal_was_made_at_the_answer_names_it(engine):
    out = engine.answerer.answer("冷链物流园区的建议是在哪次会议上提出的？")
    assert out.found and _ids(out)[:1] == ["01"] and "（甲市政协九届三次会议）" in out.answer
    # one meeting in the corpus and not asked: not repeated on every line
    assert "（甲市政协九届三次会议）" not in engine.answerer.answer("冷链物流园区是谁建议的？").answer


def test_collective_words_and_joint_submission_verbs_are_no_topic(sections_engine):
    a = sections_engine.answerer
    out = a.answer("各家一共交了几份建议？")
    assert out.found and "本库收录丙市政协七届五次常委会议的建议 2 份" in out.answer
    out = a.answer("参与提交建议的有哪些单位？")
    assert out.answer.startswith("丙市政协七届五次常委会议的 2 份建议的提出者：")


def test_a_follow_up_comparing_with_one_proposal_of_another_proposer_is_answered(engine):
    first = engine.answerer.answer("民建提了什么建议？")
    out = engine.answerer.answer("那民盟的跟它相比侧重点有何不同？", [Turn("民建提了什么建议？", first)])
    assert out.found and sorted(_ids(out)) == ["01", "02"]
    # still declined when what is asked about is missing from both
    out = engine.answerer.answer("那民盟的有没有提到跨境电商？", [Turn("民建提了什么建议？", first)])
    assert not out.found


JOINT = """序号,标题,提案者,发言人,会议,内容
1,推进老旧厂房改造利用,民革乙市委会、经济界,刘一,乙市政协五届二次会议,建议把老旧厂房改造为文创空间。
2,加强校园周边交通安全,民进乙市委会,,乙市政协五届二次会议,建议在校门口设置家长接送临时停车区。
3,建设区域冷链物流中心,乙市政协经济委员会,陈二,乙市政协五届二次会议,建议统筹布局冷库和冷链配送网点。
4,发展社区托育服务,民盟乙市委会、妇联,,乙市政协五届二次会议,建议在社区开办普惠托育点。
5,推动校企联合办学,民建乙市委会,,乙市政协五届二次会议,建议职业院校与企业联合办学，共建实训基地。
"""


def test_proposals_made_together_are_a_scope(tmp_path):
    eng = engine_on(tmp_path, {"乙市.csv": JOINT})
    a = eng.answerer
    for q in ("哪几篇是两个单位联合署名的？", "有哪些建议是联名提出的，发言人是谁"):
        assert a.parser.parse(q).joint, q
        out = a.answer(q)
        assert out.found and sorted(_ids(out)) == ["01", "04"], q
        assert out.answer.startswith("联合提出的建议共 2 份："), q
    # a member speaking for one organisation is no second proposer; 联合 before a noun is a topic
    assert not a.parser.parse("校企联合办学是谁提的？").joint
    assert _ids(a.answer("校企联合办学是谁提的？")) == ["05"]
    # with a topic: the joint ones about it
    out = a.answer("联合提出的建议里有没有讲托育的？")
    assert out.found and _ids(out) == ["04"]
    # a roster names each proposer of a joint proposal under its own type
    lines = a.answer("都有哪些单位提了建议？").answer.splitlines()
    assert "界别（1 份）：经济界" in lines and "人民团体（1 份）：妇联" in lines
    assert any(ln.startswith("民主党派（4 份）：") for ln in lines)


def test_with_z_as_its_title_matches_titles_and_a_perspective_is_no_topic(engine):
    a = engine.answerer
    q = a.parser.parse("以养老为题的建议是谁提的？")
    assert q.title_scope and a.parser.topic_terms(q.question) == ["养老"]
    assert _ids(a.answer("以养老为题的建议是谁提的？")) == ["02"]
    assert a.parser.topic_terms("各民主党派分别从什么角度提建议") == []


def test_a_long_listing_counts_every_proposal_and_says_how_many_it_shows(tmp_path):
    from assistant.compose import LIST_SHOWN
    topics = ["路灯", "公厕", "绿道", "菜场", "停车", "托育", "食堂", "书屋", "球场", "泳池"]
    rows = [f"{i},关于改善{topics[i % 10]}第{i}号的建议,民盟丙市委会,丙市政协三届一次会议,建议改善{topics[i % 10]}。"
            for i in range(1, LIST_SHOWN + 6)]
    eng = engine_on(tmp_path, {"丙市.csv": "序号,标题,提案者,会议,内容\n" + "\n".join(rows) + "\n"})
    out = eng.answerer.answer("民盟丙市委会提了哪些建议？")
    assert out.found
    head = out.answer.splitlines()[0]
    assert f"共有 {LIST_SHOWN + 5} 份" in head and f"列出其中 {LIST_SHOWN} 份" in head, head
    assert len(_ids(out)) == LIST_SHOWN


def test_a_follow_up_with_nothing_of_its_own_is_asked_of_what_was_just_cited(engine):
    first = engine.answerer.answer("谁建议加强河道生态治理？")
    assert first.found and _ids(first) == ["03"]
    out = engine.answerer.answer("里面都说了什么办法？", [Turn("谁建议加强河道生态治理？", first)])
    assert out.found and _ids(out) == ["03"]


def test_which_committee_is_not_which_member():
    from assistant.question import type_scope
    asked, _, inside = type_scope("这份材料由哪个委员会提交")
    assert "政协委员个人" not in asked + inside
    assert type_scope("这份材料由哪个委员提交")[0] == ("政协委员个人",)


def test_a_party_unit_beside_the_type_narrows_it_and_a_type_named_proposer_stands_for_the_type(tmp_path):
    rows = ["1,发展智慧农业,民盟丁市基层委员会,丁市政协二届一次会议,建议推广智慧农业。",
            "2,改善城市照明,民建丁市委会,丁市政协二届一次会议,建议改造城市路灯。",
            "3,建设口袋公园,丁市无党派代表人士联谊会,丁市政协二届一次会议,建议利用边角地建设口袋公园。",
            "4,推进垃圾分类,无党派人士,戊市政协三届二次会议,建议完善垃圾分类收运体系。"]
    eng = engine_on(tmp_path, {"目录.csv": "序号,标题,提案者,会议,内容\n" + "\n".join(rows) + "\n"})
    out = eng.answerer.answer("丁市政协二届一次会议上，哪些党派是由基层委员会出面提交的？")
    assert out.found and _ids(out) == ["01"]
    # "无党派人士" is also a proposer's printed name at another meeting: here it is the type
    out = eng.answerer.answer("丁市政协二届一次会议上，无党派人士那份建议是谁交的？")
    assert out.found and _ids(out) == ["03"] and "没有找到" not in out.answer


def test_one_more_from_the_same_proposer_leaves_out_the_one_just_cited(engine):
    a = engine.answerer
    first_q = "建议打造夜间消费街区的是哪个界别？"
    first = a.answer(first_q)
    assert _ids(first) == ["04"]
    turns = [Turn(first_q, first)]
    q = a.parser.parse("这个界别又写了哪一份？", turns)
    assert "经济界" in q.proposers and q.exclude == (first.citations[0].proposal_id,)
    out = a.answer("这个界别又写了哪一份？", turns)
    assert out.found and _ids(out) == ["05"]


def test_a_compound_with_a_word_inserted_still_covers_the_topic(engine):
    f = engine.answerer.selector.f
    # 冷链园区 asked, 冷链物流园区 printed: the compound's words a few characters apart
    assert f.coverage(["冷链园区"], "规划建设冷链物流园区") == 1.0
    # the words far apart are only pieces of it
    assert f.coverage(["冷链园区"], "冷链设施不足，另需完善工业园区") == 0.5
    out = engine.answerer.answer("哪个党派关注冷链园区？")
    assert out.found and _ids(out) == ["01"]
    # a phrase quoted in the question is asked about as printed
    assert f.coverage(["冷链园区"], "规划建设冷链物流园区", exact=frozenset({"冷链园区"})) == 0.5
    sel = engine.answerer.selector
    ranked, _ = sel.rank(engine.answerer.parser.parse("哪些建议用了“冷链园区”这个说法？"), sel.answerable)
    assert max(r.coverage for r in ranked) == 0.5


def test_a_type_beside_a_proposer_of_it_qualifies_unless_joined(engine):
    a = engine.answerer
    assert _ids(a.answer("民主党派中的民进甲市委会提了什么？")) == ["07"]
    assert _ids(a.answer("作为民主党派，民进甲市委会提了什么？")) == ["07"]
    assert sorted(_ids(a.answer("民进甲市委会和其他民主党派提了什么？"))) == ["01", "02", "07"]


def test_the_same_topic_asked_of_another_proposer(tmp_path):
    page = ("序号,标题,提案者,会议,内容\n"
            "1,发展冷链物流,民建丁市委会,丁市政协二届一次会议,建议建设冷链物流园区。\n"
            "2,完善冷链物流标准,民盟丁市委会,丁市政协二届一次会议,建议制定冷链物流地方标准。\n"
            "3,发展托育服务,民盟丁市委会,丁市政协二届一次会议,建议增加普惠托育名额。\n")
    a = engine_on(tmp_path, {"丁市.csv": page}).answerer
    first_q = "民建丁市委会关于冷链物流提了什么？"
    first = a.answer(first_q)
    assert _ids(first) == ["01"]
    out = a.answer("民盟丁市委会对同一话题怎么看？", [Turn(first_q, first)])
    assert out.found and _ids(out) == ["02"]


def test_bare_chu_with_wai_excludes_a_type_and_a_word_with_ti_is_no_title_cue(engine):
    a = engine.answerer
    # "除<type>外": every other type
    assert sorted(_ids(a.answer("除民主党派外，其余提出者讲了什么？"))) == ["03", "04", "05", "06", "08"]
    # 难题为/问题为 hold the 题 of a word, not "题为" (titled): the topic is looked for in the text
    q = a.parser.parse("以冷链配送难题为牵引的建议是谁提的？")
    assert not q.title_scope
    assert a.parser.parse("以冷链为题的发言是谁讲的").title_scope


ELDERLY = """序号,标题,提案者
1,关于完善养老机构医养结合的建议,民盟丁市委会
2,关于加快社区老年助餐点建设的建议,民进丁市委会
3,关于优化城市公交线路的建议,丁市政协经济委员会
4,关于加强中小学体育课的建议,九三学社丁市委会
5,关于培育夜市消费的建议,民建丁市委会
6,关于保护古树名木的建议,丁市政协人口资源环境委员会
7,关于规范共享单车停放的建议,农工党丁市委会
8,关于扶持乡村特色民宿的建议,致公党丁市委会
9,关于提升农产品冷链物流的建议,丁市工商联
10,关于加强网络诈骗防范宣传的建议,台盟丁市委会
"""


@pytest.mark.slow
def test_a_catalogue_line_on_the_topic_in_other_words_is_listed(tmp_path):
    # one line prints the topic's word, another says it in other words (老年助餐): a list of
    # titles is all there is to go on, so "哪些…有关" lists both (select.SOFT_GAP)
    import os

    from assistant.engine import Engine
    (tmp_path / "corpus" / "proposals").mkdir(parents=True)
    (tmp_path / "corpus" / "proposals" / "丁市2025.csv").write_text(ELDERLY, encoding="utf-8")
    eng = Engine.open(Settings.from_env({k: v for k, v in os.environ.items() if k == "ASSISTANT_MODEL_CACHE"},
                                        corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"))
    out = eng.answerer.answer("哪些提案与养老有关？")
    assert out.found and set(_ids(out)) == {"01", "02"}
    out = eng.answerer.answer("与养老有关的是哪一篇？")  # one asked for: the line with the word
    assert _ids(out) == ["01"]
    # no line prints the category's word: the line that says it in other words, when it stands
    # out (select.SOFT_FOUND); a category nothing is like is still declined
    out = eng.answerer.answer("哪些提案和教育有关？")
    assert out.found and _ids(out)[0] == "04"
    assert not eng.answerer.answer("哪些提案和航天有关？").found
    # and so within a type of proposer asked about
    out = eng.answerer.answer("哪些民主党派的提案和教育有关？")
    assert out.found and _ids(out)[0] == "04"
    assert not eng.answerer.answer("哪些民主党派的提案和航天有关？").found
