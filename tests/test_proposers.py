"""Proposers recognised without a registry: the grammar on its own, and item by item on every
collection in ../shared/corpora/ (development data, read where it lies) and on the home corpus
with proposers.json removed. Expected values were checked by hand against the corpora README."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import ROOT
from assistant.meeting import parse_meeting
from assistant.proposers import find_speaker, parse_proposers, place_of, short_names, split_heading

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
P, G, M, W, F, R, N, S, O = ("民主党派", "政协专门委员会", "政协委员个人", "工商联", "界别", "人民团体", "无党派人士",
                             "区县(市)政协", "其他")


@pytest.mark.parametrize("text,want", [
    ("民革某某市委会", [("民革某某市委会", P)]),
    ("中国民主同盟某省委员会", [("中国民主同盟某省委员会", P)]),
    ("九三学社某某市基层委员会", [("九三学社某某市基层委员会", P)]),
    ("农工党某区总支部委员会", [("农工党某区总支部委员会", P)]),
    ("某市工商业联合会", [("某市工商业联合会", W)]),
    ("市妇联", [("市妇联", R)]),
    ("共青团某市委员会", [("共青团某市委员会", R)]),
    ("无党派人士", [("无党派人士", N)]),
    ("科协界别", [("科协界别", F)]),
    ("某市政协科技、科协界别组", [("某市政协科技、科协界别组", F)]),
    ("市政协提案委员会", [("市政协提案委员会", G)]),
    ("某某区政协", [("某某区政协", S)]),
    ("某县政协", [("某县政协", S)]),
    ("王某某委员", [("王某某", M)]),
    ("委员李某", [("李某", M)]),
    ("市政协常委 张某某", [("张某某", M)]),
    ("特邀委员赵某", [("赵某", M)]),
    ("市政协经济委员会和经济界", [("市政协经济委员会", G), ("经济界", F)]),
    ("社会福利和社会保障界", [("社会福利和社会保障界", F)]),
    ("某某研究会", [("某某研究会", O)]),
    ("全国政协委员、某某研究院院士 王某某", [("王某某", M)]),
    ("全国政协常委、民建中央副主席 张某", [("张某", M)]),
    ("民革中央", [("民革中央", P)]),
    ("全国工商联", [("全国工商联", W)]),
    ("中华全国总工会", [("中华全国总工会", R)]),
    ("中国共产主义青年团", [("中国共产主义青年团", R)]),
    ("九三学社某某区支社 刘某某", [("九三学社某某区支社", P), ("刘某某", M)]),   # the member who spoke for it
    ("某某市工商联 市场", [("某某市工商联市场", W)]),   # a common word is no one's name
    ("政协第十四届全国委员会委员 王某", [("王某", M)]),
    # special committees named without 政协, in full or short
    ("社会和法制委员会", [("社会和法制委员会", G)]),
    ("某某市人口资源环境委员会", [("某某市人口资源环境委员会", G)]),
    ("民宗委", [("民宗委", G)]),
    ("发展和改革委员会", [("发展和改革委员会", O)]),   # a government body, not a CPPCC committee
])
def test_grammar_places_proposer_strings(text, want):
    assert [(r.name, r.type) for r in parse_proposers(text)] == want


def test_heading_split_keeps_member_as_speaker_of_the_organisation():
    title, refs = split_heading("建设某某创新高地 , 打造新引擎 民盟市委 钱某某委员")
    assert title == "建设某某创新高地 , 打造新引擎"
    assert [(r.name, r.type, r.speaker) for r in refs] == [("民盟市委", P, False), ("钱某某", M, True)]
    title, refs = split_heading("加强基层治理 某市政协常委 孙某")
    assert title == "加强基层治理" and [(r.name, r.type) for r in refs] == [("孙某", M)]


def test_heading_with_a_bare_name_a_titled_member_or_on_behalf_of():
    # a bare name right after an organisation: the member who spoke for it
    title, refs = split_heading("推进冷链物流建设 民建某某市委 王一鸣")
    assert title == "推进冷链物流建设"
    assert [(r.name, r.type, r.speaker) for r in refs] == [("民建某某市委", P, False), ("王一鸣", M, True)]
    # …but a common word after a party's name is part of the title, not a member
    assert "市场" not in [r.name for r in split_heading("关于加强 民建 市场")[1]]
    # a member with titles printed before the name
    title, refs = split_heading("关于完善社会保障体系的建议 全国政协委员、某党派中央副主席 朱某某")
    assert title == "关于完善社会保障体系的建议" and [(r.name, r.type) for r in refs] == [("朱某某", M)]
    # "代表<organisation>发言" after the member
    title, refs = split_heading("推进乡村振兴 政协委员 李某某 代表农工党中央发言")
    assert title == "推进乡村振兴"
    assert [(r.name, r.type, r.speaker) for r in refs] == [("李某某", M, True), ("农工党中央", P, False)]


def test_an_officer_of_a_named_organisation():
    # "某党派市委副主委 某某": the organisation is named on its own, the member keeps the office
    for text in ("民盟某某市委副主委 李某", "民盟某某市委副主委李某"):
        assert [(r.name, r.type, r.role, r.speaker) for r in parse_proposers(text)] == [
            ("民盟某某市委", P, "", False), ("李某", M, "副主委", True)]
    assert [(r.name, r.type, r.role) for r in parse_proposers("某市工商联副主席 王某某")] == [
        ("某市工商联", W, ""), ("王某某", M, "副主席")]
    # an office word before a common word is no member ("主席会议" is a meeting)
    assert M not in [r.type for r in parse_proposers("某市政协主席会议")]


def test_a_proposer_in_brackets_beside_another():
    got = lambda text: [(r.name, r.type, r.role, r.speaker) for r in parse_proposers(text)]
    assert got("李某委员（经济界）") == [("经济界", F, "", False), ("李某", M, "委员", True)]
    assert got("张某某委员（民盟某省委会副主委）") == [("民盟某省委会", P, "", False), ("张某某", M, "副主委", True)]
    assert got("民盟某市委（张某）") == [("民盟某市委", P, "", False), ("张某", M, "", True)]
    assert got("王某某（市政协常委）") == [("王某某", M, "政协常委", False)]
    assert got("孙某某（市政协委员、某公司董事长）") == [("孙某某", M, "政协委员", False)]
    # a list of names in a 联名 or 提案者 field: one member each; titles before a name stay one member
    assert [(r.name, r.type) for r in parse_proposers("李某、赵某某", member_field=True)] == [("李某", M), ("赵某某", M)]
    assert [(r.name, r.type) for r in parse_proposers("王某某、李某", bare_names=True)] == [("王某某", M), ("李某", M)]
    assert [r.name for r in parse_proposers("全国政协委员、某党派中央副主席 朱某某", member_field=True)] == ["朱某某"]
    # a title with its proposer in brackets is not a proposer string
    assert parse_proposers("关于加强耕地保护的建议（民盟某市委）")[0].name != "民盟某市委"


def test_a_speaker_named_only_in_the_text():
    # a heading that names the organisation only; its opening sentence names who spoke for it
    def who(heading_org, text):
        r = find_speaker(text, parse_proposers(heading_org))
        return r and (r.name, r.type, r.role, r.speaker)
    assert who("民盟中央", "民盟中央副主席 赵某某代表民盟中央发言时说，要…") == ("赵某某", M, "副主席", True)
    assert who("共青团中央", "共青团中央书记处书记 钱某建议，为青年减负。") == ("钱某", M, "书记", True)
    # the organisation by a shorter spelling (its short name) still ties the name to it
    assert who("某市总工会", "市总工会常务副主席孙某某呼吁，扩大职工疗休养覆盖面。") == ("孙某某", M, "副主席", True)
    assert who("科技界", "市政协委员、某研究院院长 李某某代表科技界发言，建议…") == ("李某某", M, "", True)
    assert who("经济界", "周某委员代表经济界作发言。") == ("周某", M, "委员", True)
    # a committee named without its CPPCC, and a member of a 界别 who speaks "for the sector"
    assert who("某市政协经济委员会", "市政协常委、经济委员会主任吴某某代表经济委员会发言，建议…") == ("吴某某", M, "主任", True)
    assert who("文化艺术界", "文化艺术界委员郑某某代表界别发言，建议…") == ("郑某某", M, "委员", True)
    assert who("无党派人士", "全国政协委员、无党派人士秦某某发言说，…") == ("秦某某", M, "", True)
    assert who("农业界", "农业界在书面发言中建议，…") is None
    # a name not tied to the organisation, or a common word, is no speaker
    assert who("民进某市委", "会议由王某某主持。民进某市委建议加强…") is None
    assert who("九三学社某市委", "九三学社某市委主任委员会议认为…") is None


def test_a_members_cppcc_office_printed_first_is_no_proposer():
    def refs(s):
        return [(r.name, r.type, r.role) for r in parse_proposers(s)]
    assert refs("省政协委员、省妇联副主席钱某某") == [("省妇联", "人民团体", ""), ("钱某某", M, "副主席")]
    assert refs("市政协常委、无党派人士孙某某") == [("无党派人士", "无党派人士", ""), ("孙某某", M, "常委")]
    assert refs("无党派人士孙某某") == [("无党派人士", "无党派人士", ""), ("孙某某", M, "")]
    # a list of organisations is still split as before
    assert [r.name for r in parse_proposers("民革市委会、民盟市委会")] == ["民革市委会", "民盟市委会"]


def test_a_member_named_alone_and_the_organisation_they_spoke_for():
    from assistant.proposers import find_org_of
    assert [r.name for r in find_org_of("某某委员代表民进中央发言说，建议…", "某某")] == ["民进中央"]
    assert find_org_of("会上，某某发言说，建议…", "某某") == ()
    assert parse_proposers("无", member_field=True) == () and parse_proposers("—") == ()


def test_short_names_a_user_may_type():
    assert short_names("某某市政协社会和法制委员会") == ("社会和法制委员会", "社法委")
    assert "人资环委" in short_names("某市政协人口资源环境建设委员会")
    assert short_names("民盟某某市委") == ("民盟",) and "侨联" in short_names("某市侨联")
    # a local CPPCC's place stands for it; a city committee's or a party's place does not
    assert short_names("某某街道政协联络处") == ("某某街道",) and short_names("某某区政协") == ("某某区",)
    assert "某某市" not in short_names("某某市政协社会和法制委员会") + short_names("民革某某市委会")
    # a question asked in one place leaves the place out of an organisation's name
    assert "归国华侨联合会" in short_names("某某区归国华侨联合会")
    assert short_names("某某区政协") == ("某某区",) and short_names("某市科协") == ("科协",)


def test_places_and_meetings_come_from_the_text():
    assert place_of("民进某某市委会") == "某某市" and place_of("民进市委") == ""
    m = parse_meeting("", "在市政协九届三次会议上，共收到提案312件", [], ["民盟某某市委会", "九三学社某某市委会"])
    assert (m.name, m.place, m.level, m.session, m.reports) == ("某某市政协九届三次会议", "某某市", "市", "九届三次", 312)
    m = parse_meeting("", "", ["政协某某省第十二届委员会第五次会议"], [])
    assert (m.place, m.level, m.session) == ("某某省", "省", "十二届五次")
    # the formal national and provincial names, and a standing committee's meeting
    m = parse_meeting("中国人民政治协商会议第十四届全国委员会第二次会议 大会发言")
    assert (m.name, m.level, m.session, m.kind) == ("中国人民政治协商会议第十四届全国委员会第二次会议", "全国", "十四届二次", "大会发言")
    m = parse_meeting("中国人民政治协商会议某某省第九届委员会第三次会议")
    assert (m.place, m.level, m.session) == ("某某省", "省", "九届三次")
    m = parse_meeting("全国政协第十四届常委会第五次会议")
    assert (m.level, m.session, m.kind) == ("全国", "十四届五次", "常委会议")
    # a bare level word before 政协 names no place but gives the level, and stays in the name
    m = parse_meeting("区政协六届二次会议举行大会发言")
    assert (m.name, m.place, m.level, m.session) == ("区政协六届二次会议", "", "区县", "六届二次")
    assert parse_meeting("省政协十二届常委会第三次会议").level == "省"
    # "<place>政协召开…会议": the place of the headline, not that of a county unit among the proposers
    m = parse_meeting("某某市政协召开十四届九次常委会议 开展专题协商", "", [], ["某某县政协", "市政协经济委员会"])
    assert (m.name, m.place, m.level, m.kind) == ("某某市政协十四届九次常委会议", "某某市", "市", "常委会议")
    # a meeting without 届次/会次 is named as the headline names it
    m = parse_meeting("十四届全国政协第五次双周协商座谈会聚焦养老服务", "", [], [], fallback="x")
    assert (m.name, m.level) == ("十四届全国政协第五次双周协商座谈会", "全国")
    # nothing printed but the file's name: an export named after its meeting
    m = parse_meeting("", "", [], ["民进区委"], fallback="某某区政协七届二次会议提案目录")
    assert (m.name, m.place, m.level, m.session) == ("某某区政协七届二次会议", "某某区", "区县", "七届二次")


EXPECTED = {
    "changzhou_xinbei_2017-01": (("民革新北区基层委员会", "民主党派"), ("陈振华", "政协委员个人")),
    "changzhou_xinbei_2017-02": (("西夏墅镇政协工作委员会", "区县(市)政协"), ("朱晓杰", "政协委员个人")),
    "changzhou_xinbei_2017-03": (("新北区无党派代表人士联谊会", "无党派人士"), ("章文华", "政协委员个人")),
    "changzhou_xinbei_2017-04": (("农工党新北区基层委员会", "民主党派"), ("杜康", "政协委员个人")),
    "changzhou_xinbei_2017-05": (("民建新北区基层委员会", "民主党派"), ("孙永华", "政协委员个人")),
    "fuyang_2019-01": (("民革阜阳市委员会", "民主党派"), ("陶颖", "政协委员个人")),
    "fuyang_2019-02": (("致公党阜阳市基层委员会", "民主党派"), ("张艳", "政协委员个人")),
    "fuyang_2019-03": (("民进阜阳市委员会", "民主党派"), ("肖东升", "政协委员个人")),
    "fuyang_2019-04": (("民盟阜阳市委员会", "民主党派"), ("戴廷山", "政协委员个人")),
    "fuyang_2019-05": (("民建阜阳市委员会", "民主党派"), ("赵咏梅", "政协委员个人")),
    "fuyang_2019-06": (("市政协人口资源环境委员会", "政协专门委员会"), ("张运领", "政协委员个人")),
    "fuyang_2019-07": (("市工商联", "工商联"), ("李丽娟", "政协委员个人")),
    "fuyang_2019-08": (("农工党阜阳市委员会", "民主党派"), ("顾江魁", "政协委员个人")),
    "fuyang_2019-09": (("九三学社阜阳市基层委员会", "民主党派"), ("宁宇南", "政协委员个人")),
    "jilin_13_4-01": (("李文革", "政协委员个人"),),
    "jilin_13_4-02": (("窦悦", "政协委员个人"),),
    "jilin_13_4-03": (("由守义", "政协委员个人"),),
    "jilin_13_4-04": (("赵雨山", "政协委员个人"),),
    "jilin_13_4-05": (("李伟", "政协委员个人"),),
    "jilin_13_4-06": (("张龙", "政协委员个人"),),
    "jilin_13_4-07": (("刘越", "政协委员个人"),),
    "jilin_13_4-08": (("张铎", "政协委员个人"),),
    "jilin_13_4-09": (("李含冰", "政协委员个人"),),
    "pingdingshan_10_1-01": (("民革平顶山市委会", "民主党派"), ("曹振华", "政协委员个人")),
    "pingdingshan_10_1-02": (("民盟平顶山市委会", "民主党派"), ("关永可", "政协委员个人")),
    "pingdingshan_10_1-03": (("民进平顶山市委会", "民主党派"), ("王娜", "政协委员个人")),
    "pingdingshan_10_1-04": (("民建平顶山市委会", "民主党派"), ("吴会停", "政协委员个人")),
    "pingdingshan_10_1-05": (("农工党平顶山市委会", "民主党派"), ("陈刚正", "政协委员个人")),
    "pingdingshan_10_1-06": (("九三学社平顶山市委会", "民主党派"), ("张萍", "政协委员个人")),
    "pingdingshan_10_1-07": (("平顶山市工商联", "工商联"), ("刘览", "政协委员个人")),
    "pingdingshan_10_1-08": (("郏县政协", "区县(市)政协"), ("鲁长法", "政协委员个人")),
    "putian_2024-01": (("民革莆田市委会", "民主党派"), ("温斌", "政协委员个人")),
    "putian_2024-02": (("民盟莆田市委会", "民主党派"), ("施清芳", "政协委员个人")),
    "putian_2024-03": (("民建莆田市委会", "民主党派"), ("张宗贤", "政协委员个人")),
    "putian_2024-04": (("民进莆田市委会", "民主党派"), ("郭国成", "政协委员个人")),
    "putian_2024-05": (("农工党莆田市委会", "民主党派"), ("吴建通", "政协委员个人")),
    "putian_2024-06": (("致公党莆田市委会", "民主党派"), ("郭立红", "政协委员个人")),
    "putian_2024-07": (("九三学社莆田市委会", "民主党派"), ("黄秀姐", "政协委员个人")),
    "putian_2024-08": (("市工商联", "工商联"), ("李向伟", "政协委员个人")),
    "putian_2024-09": (("经济界", "界别"), ("陈俊杰", "政协委员个人")),
    "putian_2024-10": (("经济界", "界别"), ("林华忠", "政协委员个人")),
    "putian_2024-11": (("农业界", "界别"), ("吴政锋", "政协委员个人")),
    "shanghai_2016-01": (("九三学社上海市委", "民主党派"), ("李青峰", "政协委员个人")),
    "shanghai_2016-02": (("无党派人士", "无党派人士"), ("黄春华", "政协委员个人")),
    "shanghai_2016-03": (("市总工会", "人民团体"), ("肖堃涛", "政协委员个人")),
    "shanghai_2016-04": (("市侨联", "人民团体"), ("沈敏", "政协委员个人")),
    "shanghai_2016-05": (("市政协经济委员会", "政协专门委员会"), ("经济界", "界别"), ("徐大振", "政协委员个人")),
    "shanghai_2016-06": (("李可庄", "政协委员个人"),),
    "shanghai_2016-07": (("民建上海市委", "民主党派"), ("许珊燕", "政协委员个人")),
    "shanghai_2016-08": (("宗教界", "界别"), ("谢炳国", "政协委员个人")),
    "shanghai_2016-09": (("特邀人士", "界别"), ("韦源", "政协委员个人")),
    "shanghai_2016-10": (("市政协对外友好协会", "其他"), ("对外友好界", "界别"), ("王禄宁", "政协委员个人")),
    "shanghai_2016-11": (("市妇联", "人民团体"), ("李培红", "政协委员个人")),
    "shanghai_2016-12": (("台盟上海市委", "民主党派"), ("陈宁", "政协委员个人")),
    "shanghai_2016-13": (("民革上海市委", "民主党派"), ("陈永亮", "政协委员个人")),
    "shanghai_2016-14": (("张润斌", "政协委员个人"),),
    "shanghai_2016-15": (("市政协人口资源环境建设委员会", "政协专门委员会"), ("社会福利和社会保障界", "界别"), ("郭小牧", "政协委员个人")),
    "shanghai_2019-01": (("民进市委", "民主党派"), ("胡卫", "政协委员个人")),
    "shanghai_2019-02": (("民建市委", "民主党派"), ("汪胜洋", "政协委员个人")),
    "shanghai_2019-03": (("特别邀请人士", "界别"), ("陈永弟", "政协委员个人")),
    "shanghai_2019-04": (("左燕", "政协委员个人"),),
    "shanghai_2019-05": (("致公党市委", "民主党派"), ("应仲树", "政协委员个人")),
    "shanghai_2019-06": (("张国正", "政协委员个人"),),
    "shanghai_2019-07": (("市总工会", "人民团体"), ("姜海涛", "政协委员个人")),
    "shanghai_2019-08": (("市政协提案委", "政协专门委员会"), ("凤懋伦", "政协委员个人")),
    "shanghai_2019-09": (("市政协社法委", "政协专门委员会"), ("李芬华", "政协委员个人")),
    "shanghai_2019-10": (("市政协人资环建委", "政协专门委员会"), ("陆月星", "政协委员个人")),
    "shanghai_2019-11": (("顾德平", "政协委员个人"),),
    "shanghai_2019-12": (("民盟市委", "民主党派"), ("顾祥林", "政协委员个人")),
    "shanghai_2019-13": (("农工党市委", "民主党派"), ("叶强", "政协委员个人")),
    "shanghai_2019-14": (("无党派人士", "无党派人士"), ("游闽键", "政协委员个人")),
    "zhangzhou_2023-01": (("民进漳州市委会", "民主党派"),),
    "zhangzhou_2023-02": (("农工党漳州市委会", "民主党派"),),
    "zhangzhou_2023-03": (("柳啸", "政协委员个人"),),
    "zhangzhou_2023-04": (("詹清凉", "政协委员个人"),),
    "zhangzhou_2023-05": (("民建漳州市委会", "民主党派"),),
    "zhangzhou_2023-06": (("王志固", "政协委员个人"),),
    "zhangzhou_2023-07": (("致公党漳州市委会", "民主党派"),),
    "zhangzhou_2023-08": (("致公党漳州市委会", "民主党派"),),
    "zhangzhou_2023-09": (("李瑞林", "政协委员个人"),),
    "zhangzhou_2023-10": (("蓝爱华", "政协委员个人"),),
    "zhangzhou_2023-11": (("民革漳州市委会", "民主党派"),),
    "zhangzhou_2023-12": (("九三学社漳州市委会", "民主党派"),),
    "zhangzhou_2023-13": (("民盟漳州市委会", "民主党派"),),
    "zhangzhou_2023-14": (("曾景贤", "政协委员个人"),),
    "zhangzhou_2023-15": (("农工党漳州市委会", "民主党派"),),
    "zhangzhou_2023-16": (("台盟漳州市委会", "民主党派"),),
    "zhangzhou_2023-17": (("台盟漳州市委会", "民主党派"),),
}

HOME = {
    "kjcx-01": (("郑州市政协教科文卫体委员会", "政协专门委员会"),),
    "kjcx-02": (("农工党郑州市委会", "民主党派"),),
    "kjcx-03": (("九三学社郑州市委会", "民主党派"),),
    "kjcx-04": (("郑州市工商业联合会", "工商联"),),
    "kjcx-05": (("郑州市政协农业和农村委员会", "政协专门委员会"),),
    "kjcx-06": (("郑州市政协文化和文史委员会", "政协专门委员会"), ("郑州市政协民族和宗教委员会", "政协专门委员会")),
    "kjcx-07": (("中原区政协", "区县(市)政协"),),
    "kjcx-08": (("中牟县政协", "区县(市)政协"),),
    "kjcx-09": (("郑州市政协人口资源环境委员会", "政协专门委员会"),),
    "kjcx-10": (("郑州市政协社会和法制委员会", "政协专门委员会"),),
    "kjcx-11": (("郑州市政协港澳台侨和外事委员会", "政协专门委员会"),),
    "kjcx-12": (("郑州市政协城市建设委员会", "政协专门委员会"),),
    "kjcx-13": (("民革郑州市委会", "民主党派"),),
    "kjcx-14": (("民盟郑州市委会", "民主党派"),),
    "kjcx-15": (("民建郑州市委会", "民主党派"),),
    "kjcx-16": (("民进郑州市委会", "民主党派"),),
    "kjcx-17": (("管城回族区政协", "区县(市)政协"),),
    "kjcx-18": (("惠济区政协", "区县(市)政协"),),
    "kjcx-19": (("巩义市政协", "区县(市)政协"),),
    "kjcx-20": (("登封市政协", "区县(市)政协"),),
    "kjcx-21": (("新密市政协", "区县(市)政协"),),
    "kjcx-22": (("荥阳市政协", "区县(市)政协"),),
    "kjcx-23": (("新郑市政协", "区县(市)政协"),),
    "kjcx-24": (("郑州市政协科技、科协界别组", "界别"),),
    "kjcx-25": (("郑州市政协科技、科协界别组", "界别"),),
    "kjcx-26": (("刘忠明", "政协委员个人"),),
}

MEETINGS = {
    "shanghai_2019": "上海市政协十三届二次会议", "shanghai_2016": "上海市政协十二届四次会议",
    "pingdingshan_10_1": "平顶山市政协十届一次会议", "putian_2024": "莆田市政协八届三次会议",
    "fuyang_2019": "阜阳市政协五届三次会议", "zhangzhou_2023": "漳州市政协十四届二次会议",
    "changzhou_xinbei_2017": "政协常州市新北区第四届委员会第一次会议", "jilin_13_4": "政协吉林市第十三届委员会第四次会议",
}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    if not CORPORA.is_dir():
        pytest.skip(f"{CORPORA} is missing")
    from assistant.eval_corpora import assemble, folders_in
    from assistant.ingest import load_corpus
    return load_corpus(assemble(folders_in(CORPORA), tmp_path_factory.mktemp("corpora") / "c"))


def test_every_item_of_every_collection(corpora):
    got = {p.proposal_id: tuple(zip(p.proposers, p.proposer_types)) for p in corpora.proposals if p.kind == "proposal"}
    assert got == EXPECTED


def test_speakers_meetings_and_the_one_unplaced_proposer(corpora):
    by_id = {p.proposal_id: p for p in corpora.proposals}
    for pid, p in by_id.items():
        assert p.meeting == MEETINGS[pid.rsplit("-", 1)[0]]
        if p.kind == "proposal":
            orgs = [n for n, t in zip(p.proposers, p.proposer_types) if t != M]
            # a member beside an organisation spoke for it; a member alone proposed it
            assert set(p.speakers) == ({n for n, t in zip(p.proposers, p.proposer_types) if t == M} if orgs else set())
    assert [x for x in corpora.problems if "无法归类" in x] == [
        "proposals/shanghai_2016.csv: 提出者 “市政协对外友好协会” 无法归类，按“其他”处理 (可在 proposers.json 中登记类型)。"]


def test_home_corpus_without_a_registry(tmp_path):
    from assistant.ingest import load_corpus
    shutil.copytree(ROOT / "corpus" / "proposals", tmp_path / "proposals")
    c = load_corpus(tmp_path)
    assert {p.proposal_id: tuple(zip(p.proposers, p.proposer_types)) for p in c.proposals if p.kind == "proposal"} == HOME
    assert c.problems == [] and {p.meeting for p in c.proposals} == {"郑州市政协十四届十九次常委会议"}


def test_the_consultative_conference_is_no_chamber_of_commerce():
    from assistant.proposers import classify
    assert classify("温州商会") == "工商联"
    assert classify("中国人民政治协商会议某某省委员会") != "工商联"   # 政治协商会议 holds 商会
