"""Questions that select speakers by office (常委, 副主委, 正职, 普通委员…), on a catalogue of our own:
the office printed beside each member is kept on the proposal, named in answers and filterable."""
from __future__ import annotations

import pytest

from assistant.question import role_scope
from conftest import engine_on

CATALOGUE = """序号,标题,提案者,发言人,会议,年份,内容
1,建设城市绿道网络,民盟丙市委会,市政协常委吴海平,丙市政协六届二次会议,2023,建议串联公园和河道建设城市绿道网络，完善驿站和标识系统。
2,发展社区托育服务,民进丙市委会,委员郑雅琴,丙市政协六届二次会议,2023,建议在社区新建托育点，落实托育机构用房和运营补贴。
3,推动老旧厂房改造利用,九三学社丙市委会,副主委冯志远,丙市政协六届二次会议,2023,建议把老旧厂房改造为创意园区，简化改造审批手续。
4,加强农村饮水安全,农工党丙市委会,主委黄建业,丙市政协六届二次会议,2023,建议实施农村供水管网改造，建立水质定期检测制度。
5,促进民营企业融资,丙市工商联,副会长林晓彤,丙市政协六届二次会议,2023,建议设立中小企业转贷基金，扩大信用贷款投放。
6,完善夜间公交线路,民建丙市委会,常委何卫东,丙市政协六届二次会议,2023,建议增开夜间公交线路，延长地铁末班车时间。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return engine_on(tmp_path_factory.mktemp("roles"), {"丙市2023.csv": CATALOGUE})


def _ids(out) -> list[str]:
    return sorted(dict.fromkeys(c.proposal_id.rsplit("-", 1)[-1] for c in out.citations))


def test_the_printed_office_is_kept_on_each_member(engine):
    props = {p.proposal_id.rsplit("-", 1)[-1]: p for p in engine.index.proposals.values() if p.kind == "proposal"}
    assert props["01"].role_of("吴海平") == "常委"
    assert props["03"].role_of("冯志远") == "副主委"
    assert props["05"].role_of("林晓彤") == "副会长"
    assert props["01"].role_of("民盟丙市委会") == ""


def test_the_answer_names_the_office_of_who_spoke(engine):
    out = engine.answerer.answer("老旧厂房改造是谁提的？")
    assert _ids(out) == ["03"] and "副主委冯志远发言" in out.answer


def test_which_standing_members_spoke(engine):
    out = engine.answerer.answer("有哪些常委发言？")
    assert out.found and _ids(out) == ["01", "06"]
    assert "常委" in out.answer.split("\n")[0]


def test_speaking_in_an_office(engine):
    assert _ids(engine.answerer.answer("哪几位副主委上台讲了话？")) == ["03"]
    assert _ids(engine.answerer.answer("由正职出面讲话的是哪篇？")) == ["04"]
    assert _ids(engine.answerer.answer("副职讲话的都是谁？")) == ["03", "05"]


def test_plain_members_and_not_standing_members(engine):
    assert _ids(engine.answerer.answer("普通委员发言的都有谁？")) == ["02"]
    assert _ids(engine.answerer.answer("讲话的人里不是常委的有谁？")) == ["02", "03", "04", "05"]


def test_an_office_with_a_topic(engine):
    out = engine.answerer.answer("哪些常委讲了公交？")
    assert _ids(out) == ["06"]


def test_an_office_that_nobody_holds_widens_and_says_so(engine):
    out = engine.answerer.answer("哪些副主席讲了话？")
    assert "没有找到副主席的建议" in out.answer


def test_role_scope_only_where_the_office_is_asked_about():
    assert role_scope("有哪些常委发言")[1] == ("常委",)
    assert role_scope("作为副主委讲话的")[0][:1] == ("副主委",)
    assert role_scope("这次常委会议讲了什么") == ((), ())          # a meeting, not an office
    assert role_scope("常委何卫东讲了什么", names=("何卫东",)) == ((), ())   # names a person
    assert role_scope("哪些委员发言了") == ((), ())                   # bare 委员 is every member
    assert role_scope("常委的有哪几位", anywhere=True)[0][:1] == ("常委",)


def test_a_meeting_named_with_a_district_is_not_the_district_type(engine):
    # one meeting in this corpus: only the parser's stripping of matched meeting words is at stake
    q = engine.answerer.parser.parse("丙市政协六届二次会议上有哪些常委发言？")
    assert q.roles and not q.types


def test_a_list_of_offices(engine):
    assert _ids(engine.answerer.answer("由主委、副会长这样的委员发言的有哪些？")) == ["04", "05"]
