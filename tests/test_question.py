"""Question parsing alone: soft type scope, meeting words, framing words, the user dictionary."""
from __future__ import annotations

from assistant.question import MeetingWords, question_words, type_scope
from assistant.records import Document
from assistant.vocab import recurring_phrases


def test_type_word_is_scope_only_when_asked_about():
    assert type_scope("哪些民主党派提了建议")[0] == ("民主党派",)
    assert type_scope("民主党派关于交通提了什么")[0] == ("民主党派",)
    assert type_scope("民主党派当中有几家讲了冷链")[0] == ("民主党派",)  # "among them": the scope
    asked, _, inside = type_scope("怎样加强各区县科技部门的协作")
    assert asked == () and inside == ("区县(市)政协",)


def _doc(i, meeting):
    return Document(f"d{i}", f"d{i}.txt", "t", "proposals", "x", "", {"meeting": meeting})


def test_meeting_words_pick_the_named_meeting_only():
    a = {"name": "甲市政协九届三次会议", "place": "甲市", "session": "九届三次", "year": 2021}
    b = {"name": "甲市政协九届四次会议", "place": "甲市", "session": "九届四次", "year": 2022}
    c = {"name": "乙县政协五届一次会议", "place": "乙县", "session": "五届一次", "year": None}
    mw = MeetingWords.from_documents([_doc(1, a), _doc(2, b), _doc(3, c)])
    assert mw.match("甲市政协九届四次会议上谁提了交通建议")[0] == ("甲市政协九届四次会议",)
    assert mw.match("2021年有哪些建议")[0] == ("甲市政协九届三次会议",)
    assert set(mw.match("甲市有哪些建议")[0]) == {"甲市政协九届三次会议", "甲市政协九届四次会议"}
    assert mw.match("有哪些建议")[0] == ()


def test_framing_words_come_from_the_knowledge_file():
    words = question_words()
    assert {"优秀提案", "基层委员会", "主委", "哪些", "出自", "强调"} <= words and "交通" not in words


def test_recurring_phrases_are_whole_words_shared_by_several_texts():
    texts = ["推进智慧交通建设，发展公共交通", "智慧交通建设要统筹", "加快智慧交通建设步伐", "另一个话题"]
    got = recurring_phrases(texts, min_docs=3)
    assert "智慧交通建设" in got
    assert not any(g in got for g in ("慧交通建", "交通建"))  # pieces of words, or of the longer phrase


def test_a_title_named_in_the_question_is_found_through_the_prefix_table(hash_engine):
    parser = hash_engine.answerer.parser
    titles = [p.title for p in parser.answerable if len(p.title.replace(" ", "")) >= 6]
    a, b = titles[0], titles[-1]
    # whitespace and quote marks in the question do not hide a title; order follows the corpus
    got = parser._quoted_titles(f"《{b}》和“{a[:2]} {a[2:]}”这两篇是谁提的")
    assert got == (a, b)
    assert parser._quoted_titles(f"关于{a[:-1]}的问题") == ()   # a title cut short is not named
    # a quoted phrase that runs on past a title quotes the text, not the title
    assert parser._quoted_titles(f"同样写了“{a}力度”的还有谁") == ()
    assert parser._quoted_titles(f"“{a}”是谁提的") == (a,)


def test_a_type_named_by_its_own_name_or_before_a_submitting_verb_is_the_scope():
    assert type_scope("区县(市)政协的建议里有哪些谈到交通")[0] == ("区县(市)政协",)
    assert type_scope("区县（市）政协各提了什么")[0] == ("区县(市)政协",)
    assert type_scope("民主党派交来的材料中谁谈到了养老")[0] == ("民主党派",)
    assert type_scope("专委会写的调研报告")[0] == ("政协专门委员会",)


def test_a_lone_modifier_morpheme_narrows_the_word_after_it(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # 夜/云/碳 + a word: the compound is the topic (a corpus on 经济 or 服务 has nothing on it)
    assert terms("有没有关于夜经济的建议") == ["夜经济"]
    assert terms("有谁提过发展云服务吗") == ["云服务"]
    assert "碳交易市场" in terms("推进碳交易市场建设") and "交易市场" not in terms("推进碳交易市场建设")
    # a verb before a word is not glued to it
    assert "国外" in terms("鼓励公司去国外申请商标")


def test_how_it_was_handed_in_and_who_asks_are_no_topic(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # a verb of handing in with its complement, "这回", the asker's request
    assert terms("民盟这回送上来的报告叫什么") == []
    assert terms("各单位交上去的东西一共几篇") == []
    assert sorted(terms("帮我找一篇讲冷链物流的")) == ["冷链", "物流"]
    # other verbs keep their complement: it may be what is asked about
    assert "留下来" in terms("把青年人才留下来的办法")


def test_asking_words_the_member_word_and_county_spellings(hash_engine):
    from assistant.question import type_scope
    p = hash_engine.answerer.parser
    # a word that holds an asking character is no topic ("谁来管", "怎么办")
    assert not any("谁" in t for t in p.topic_terms("这件事由谁来管"))  # jieba: 谁来管 is one word
    # the 委 of 委员 after a proposer's name is no unit leftover ("<界别>委员作了…")
    assert p.topic_terms(" 委员作过哪些发言") == []
    # the counties' CPPCCs as printed in many cities' pages
    for q in ("县（市、区）政协有哪些报告", "县(市、区)政协都讲了什么", "县市区政协都提了什么"):
        assert type_scope(q)[0] == ("区县(市)政协",), q


def test_function_words_by_their_part_of_speech_are_no_topic(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # conjunctions, prepositions, pronouns and adverbs by jieba's own tags: the asking, not the topic
    assert sorted(terms("冷链物流是甲提的还是乙提的")) == ["冷链", "物流"]
    assert sorted(terms("为了冷链物流最终要建立某种渠道")) == ["冷链", "建立", "渠道", "物流"]
    # content words keep their place, whatever else the sentence holds
    assert {"冷链", "物流"} <= set(terms("逐一列出讲冷链物流的"))


def test_a_type_named_with_its_capacity_or_level_is_asked_about():
    # "以<type>名义/身份", "<type>一级": the capacity or level still names the type asked about
    assert type_scope("用委员个人名义交了建议的是谁")[0] == ("政协委员个人",)
    assert type_scope("以党派身份讲话的有几家")[0] == ("民主党派",)
    assert type_scope("县市一级政协交了什么")[0] == ("区县(市)政协",)


def test_a_quoted_placeholder_names_a_kind_not_a_phrase(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    assert terms("这类“某某界”的发言有哪些") == []
    assert terms("“冷链物流”有哪些建议") == ["冷链物流"]


def test_which_parties_is_not_made_together_and_a_quoted_unit_is_scope(hash_engine):
    from assistant.question import JOINT_CUE
    assert not JOINT_CUE.search("哪几个党派的总支部写了报告")
    assert JOINT_CUE.search("两个单位共同提出的建议")
    terms = hash_engine.answerer.parser.topic_terms
    assert terms("以“总支部”署名的党派有哪些") == []
    assert terms("参加发言的界别一共几个") == []


def test_asking_for_a_complete_list_is_no_topic(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # "一个不漏": once the count word is gone, the leftover characters are asking words too
    assert sorted(terms("冷链物流的建议有哪几份，要一个不漏")) == ["冷链", "物流"]
    assert sorted(terms("冷链物流的发言逐一列全")) == ["冷链", "物流"]


def test_modal_verbs_and_wishing_leave_no_word_of_their_own(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # a single character before 要/会 is no unknown word with it ("港城要" is not a word)
    assert not any("要" in t or "会" in t for t in terms("滨海港城要怎样发展冷链物流，它会带来什么"))
    # wishing and who wrote it frame the question
    assert sorted(terms("哪家党派希望发展冷链物流？作者是谁")) == ["冷链", "物流"]


def test_a_name_printed_with_a_common_word_stays_whole(hash_engine):
    # 科技 is in nearly every proposal of this page, so alone it says nothing of a topic; next to
    # another word it may be part of a name the page prints (a place called 中原科技城)
    p = hash_engine.answerer.parser
    assert "科技" in p.generic
    assert p.topic_terms("对中原科技城的规划谁有想法") == ["中原科技城", "规划"]
    assert p.topic_terms("哪家讲了创新平台的布局") == ["创新平台", "布局"]
    # only what the page prints together is glued: nothing is invented
    assert p.topic_terms("中原科技港有人提吗") == ["中原科技"]


def test_a_word_jieba_splits_into_frequent_characters_is_put_back(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # without HMM jieba cuts 碳中和 as 碳+中+和; 中和 is a dictionary word, so the run goes on
    assert sorted(terms("关于碳中和路径，各党派有什么建议")) == ["碳中和", "路径"]
    # a verb with its preposition stays apart (提+向), and a name without function characters
    # stays one run
    assert "提向" not in terms("农工党提没提向园区派驻专员")


def test_polite_asking_and_this_sitting_are_no_topic(hash_engine):
    p = hash_engine.answerer.parser
    # "那期/这场" point at the meeting; 麻烦, 讲讲, 说说看 only ask
    assert sorted(p.topic_terms("麻烦讲讲那期议政里冷链物流的情况")) == ["冷链", "物流"]
    assert sorted(p.topic_terms("说说看冷链物流的建议")) == ["冷链", "物流"]
    # which sitting this one was, or its theme in full: the meeting's introduction answers
    assert p.parse("本期专题协商是第几届常委会哪一次开的？").meta
    assert p.parse("劳驾把这场议政的主题完整地说一遍").meta
    assert not p.parse("这场活动里谁提了冷链物流").meta


def test_a_title_cue_and_a_conjunction_before_a_kind_of_place_are_no_topic(hash_engine):
    terms = hash_engine.answerer.parser.topic_terms
    # jieba reads 为题写 as 为+题写 and 和县 as a county's name
    assert sorted(terms("哪些党派以冷链物流为题写了报告")) == ["冷链", "物流"]
    assert terms("区和县的政协讲了什么") == []


def test_verbs_joined_by_or_share_the_object_after_them(hash_engine):
    from assistant.question import shared_object
    assert shared_object([["支持"], ["扶持", "小微企业"]]) == [["支持", "小微企业"], ["扶持", "小微企业"]]
    # an adjective used as a verb (壮大) shares it too
    assert shared_object([["壮大"], ["扶持", "小微企业"]]) == [["壮大", "小微企业"], ["扶持", "小微企业"]]
    # the verb last: the object before it
    assert shared_object([["人才"], ["培养"]]) == [["人才"], ["培养", "人才"]]
    # nouns on both sides stay as asked
    assert shared_object([["冷链"], ["物流"]]) == [["冷链"], ["物流"]]
    sel = hash_engine.answerer.selector
    alts = sel.alternatives(hash_engine.answerer.parser.parse("支持或者扶持小微企业的报告有哪几篇"))
    assert all("小微企业" in a for a in alts), alts


def test_material_as_the_documents_is_no_topic_and_an_excluded_introduction_is_not_asked(hash_engine):
    p = hash_engine.answerer.parser
    # 材料 after a measure word or a handing-in verb is the documents; 新材料 is a topic
    assert p.topic_terms("民建交的是什么材料？") == []
    assert p.topic_terms("哪几篇关注新材料产业") == ["新材料"]
    assert p.parse("导语里怎么说冷链物流的").meta
    assert not p.parse("哪些报告谈到冷链物流？（导语不算）").meta


def test_who_all_asks_for_several_and_specially_is_no_topic(hash_engine):
    from assistant.question import PLURAL_CUE
    assert PLURAL_CUE.search("冷链物流的建议都出自谁的报告？")
    assert PLURAL_CUE.search("这些办法都写在哪几份里")
    assert not PLURAL_CUE.search("冷链物流的建议是谁提的？")
    assert sorted(hash_engine.answerer.parser.topic_terms("有没有专门讲冷链物流的")) == ["冷链", "物流"]


def test_whether_any_report_talks_of_something_asks_of_the_proposals(hash_engine):
    p = hash_engine.answerer.parser
    # "这些报告里有谈<Z>的吗" asks whether a proposal does, not about the meeting
    assert not p.parse("这些报告里有谈冷链物流的吗？").meta
    # the speaking verb before a word jieba does not know is no part of it
    assert p.topic_terms("有谈碳达峰的吗") == ["碳达峰"]


def test_base_level_party_units_and_made_jointly_are_scope(hash_engine):
    p = hash_engine.answerer.parser
    q = p.parse("各党派基层组织作的发言里谁讲了冷链物流？")
    assert q.types == ("民主党派",) and sorted(p.topic_terms(q.text)) == ["冷链", "物流"]
    assert p.parse("哪几篇是与界别联合作的发言？").joint
    assert not p.parse("哪几篇讲到联合作战指挥？").joint
