"""assistant.formats: the layouts a CPPCC office keeps its proposals in, with exact offsets.

The development corpora live in shared/corpora beside the repository (they belong to their
publishers and are not copied into the project); those tests skip when it is absent.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import formats
from assistant.formats import ParsedCollection, item_label, parse_catalogue, parse_text, parse_xlsx

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


@pytest.fixture(scope="module")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"development corpora not found at {CORPORA}")
    return CORPORA


def check_offsets(pc: ParsedCollection, csv_escapes: bool = False) -> None:
    """Every span is non-empty, has no surrounding whitespace and reads as the value it stands for."""
    t = pc.text
    for it in pc.items:
        s, e = it.span
        assert 0 <= s < e <= len(t), it
        assert t[s:e] == t[s:e].strip(), it
        if it.title_span is None:
            assert it.title == "" or pc.layout == "sections", it
        else:
            raw = t[slice(*it.title_span)]
            assert (raw.replace('""', '"') if csv_escapes else raw) == it.title, it
            assert it.title == it.title.strip() and it.title
        if it.heading:
            assert t[slice(*it.fields["heading_span"])] == it.heading
        for v in (it.proposer_text, it.speaker_text, it.cosigners_text, it.meeting_text, it.year_text):
            assert v == v.strip()
    if pc.intro_span:
        s, e = pc.intro_span
        assert e > s and t[s:e] == t[s:e].strip()


def load_folder(root: Path, folder: str) -> list[ParsedCollection]:
    out = []
    for path in sorted((root / folder / "proposals").rglob("*")):
        if path.suffix == ".csv":
            out.append(parse_catalogue(path.name, path.read_text(encoding="utf-8")))
        elif path.suffix == ".txt":
            out.append(parse_text(path.name, path.read_text(encoding="utf-8")))
    return out


def items_of(pcs: list[ParsedCollection]) -> dict:
    return {it.item: it for pc in pcs for it in pc.items}


# ----------------------------------------------------------------------------- development corpora
FOLDERS = {  # folder -> (layout, number of items)
    "shanghai_2019": ("sections", 14),
    "putian_2024": ("sections", 11),
    "zhangzhou_2023": ("numbered", 17),
    "shanghai_2016": ("catalogue", 15),
    "fuyang_2019": ("catalogue", 9),
    "pingdingshan_10_1": ("single", 8),
    "changzhou_xinbei_2017": ("single", 5),
    "jilin_13_4": ("single", 9),
}


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_layout_counts_offsets(corpora, folder):
    layout, n = FOLDERS[folder]
    pcs = load_folder(corpora, folder)
    assert {pc.layout for pc in pcs} == {layout}
    assert all(pc.problems == () for pc in pcs), [pc.problems for pc in pcs]
    items = [it for pc in pcs for it in pc.items]
    assert [it.item for it in items] == [f"{i:02d}" for i in range(1, n + 1)]
    for pc in pcs:
        check_offsets(pc)


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_agrees_with_gold_questions(corpora, folder):
    """Each gold item exists, carries its gold titles, and names its gold proposers."""
    items = items_of(load_folder(corpora, folder))
    for line in (corpora / folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if not q["answerable"]:
            continue
        gold = [items[i] for i in q["gold_items"]]
        for title in q["gold_titles"]:
            assert any(title in (it.title or it.heading) for it in gold), (q["id"], title)
        for who in q["gold_proposers"]:
            assert any(who in f"{it.proposer_text} {it.speaker_text} {it.heading}" for it in gold), (q["id"], who)


def test_sections_shanghai_2019(corpora):
    (pc,) = load_folder(corpora, "shanghai_2019")
    assert pc.headline == "上海市政协十三届二次会议举行第一次大会发言"
    intro = pc.text[slice(*pc.intro_span)]
    assert intro.startswith("市政协十三届二次会议举行第一次大会发言 , 李强听取意见建议")
    assert intro.endswith("委员们直陈意见建议 。") and "###" not in intro and "# " not in intro
    it = {i.item: i for i in pc.items}
    assert it["01"].heading == "发挥上海优势 , 打造‘技术转移之都’ 民进市委 胡卫委员"
    assert it["01"].title == "" and it["01"].title_span is None and it["01"].line == 13
    assert pc.text[slice(*it["01"].span)] == "胡卫委员代表民进市委作“发挥上海优势 , 打造‘技术转移之都’”"
    assert it["04"].heading.endswith(" 左燕委员")
    assert it["14"].heading == "以智能化 无党派人士 游闽键委员"           # cut off on the page
    assert pc.text[slice(*it["14"].span)] == "游闽键委员代表无党派人士作“以智能化"


def test_sections_putian_2024(corpora):
    (pc,) = load_folder(corpora, "putian_2024")
    assert pc.headline.startswith("市政协八届三次会议举行第二次全体会议")
    assert pc.text[slice(*pc.intro_span)].startswith("【发布日期:2024-01-12】")
    it = {i.item: i for i in pc.items}
    assert it["01"].heading == "发挥司法行政职能,全力助推市域社会治理现代化 民革莆田市委会 温斌委员"
    assert it["09"].heading == "发挥“中国食品产业名城”引领作用,推动食品产业高质量发展 经济界委员陈俊杰"
    assert it["11"].heading == "促进莆田特色农产品高质量发展 农业界委员吴政锋"


def test_numbered_zhangzhou_2023(corpora):
    (pc,) = load_folder(corpora, "zhangzhou_2023")
    assert pc.headline == ""
    intro = pc.text[slice(*pc.intro_span)]
    assert intro.startswith("为树立典型、鼓励先进") and intro.endswith("20件优秀提案具体如下:")
    it = {i.item: i for i in pc.items}
    assert (it["01"].title, it["01"].proposer_text) == ("关于加快推进我市“快递进村”工作的建议", "民进漳州市委会")
    assert (it["03"].title, it["03"].proposer_text) == ("关于进一步发挥我市政府引导基金作用的建议", "柳啸委员")
    assert it["05"].title == "加快推进我市分布式光伏发电产业的建议"          # no 关于
    assert it["14"].title == "关于深化改革创新,提升我市产业工人职业技能的建议"
    assert (it["17"].title, it["17"].proposer_text) == ("关于促进我市线上和线下教育融合发展的建议", "台盟漳州市委会")
    assert it["16"].proposer_text == it["17"].proposer_text
    assert pc.text[slice(*it["02"].span)] == "关于做大做优我市“五泡茶”的建议\n提案者:农工党漳州市委会"
    assert it["01"].line == 3 and it["17"].line == 35
    assert all(i.speaker_text == "" for i in pc.items)


def test_catalogue_shanghai_2016(corpora):
    (pc,) = load_folder(corpora, "shanghai_2016")
    it = {i.item: i for i in pc.items}
    assert (it["01"].title, it["01"].proposer_text, it["01"].speaker_text, it["01"].meeting_text) == (
        "建设生命科创中心 打造健康产业高地", "九三学社上海市委", "李青峰", "市政协十二届四次会议")
    assert it["05"].proposer_text == "市政协经济委员会和经济界"
    assert (it["06"].proposer_text, it["06"].speaker_text) == ("李可庄", "")
    assert it["08"].title == "充分发挥宗教文化作用 为‘一带一路,国家战略服务"   # a quoted field
    assert it["14"].title == "保障社会公共安全 扫清‘信息雾霾,构建和谐社会"
    assert it["15"].proposer_text == "市政协人口资源环境建设委员会及社会福利和社会保障界"
    assert it["08"].line == 9 and it["08"].span == it["08"].title_span   # no body column
    assert pc.text[it["08"].title_span[0] - 1] == '"'


def test_catalogue_fuyang_2019(corpora):
    (pc,) = load_folder(corpora, "fuyang_2019")
    it = {i.item: i for i in pc.items}
    assert (it["01"].title, it["01"].proposer_text, it["01"].speaker_text) == (
        "推进城市低效用地再开发提高土地集约利用水平", "民革阜阳市委员会", "市政协常委陶颖")
    assert (it["02"].proposer_text, it["02"].speaker_text) == ("致公党阜阳市基层委员会", "委员张艳")
    assert (it["07"].proposer_text, it["07"].speaker_text) == ("市工商联", "常委李丽娟")
    assert it["09"].meeting_text == "市政协五届三次会议"


def test_single_pingdingshan_10_1(corpora):
    it = items_of(load_folder(corpora, "pingdingshan_10_1"))
    assert (it["01"].title, it["01"].proposer_text, it["01"].speaker_text, it["01"].meeting_text) == (
        "大力推动中国尼龙城建设 打造世界尼龙产业特色城市", "民革平顶山市委会", "曹振华委员", "市政协十届一次会议")
    assert (it["08"].title, it["08"].proposer_text, it["08"].speaker_text) == ("弘扬三苏文化 坚定文化自信", "郏县政协", "鲁长法委员")
    assert it["07"].proposer_text == "平顶山市工商联"
    # the span is the body line, not the header
    pc = parse_text("05.txt", (corpora / "pingdingshan_10_1/proposals/pingdingshan_10_1/05.txt").read_text())
    assert pc.text[slice(*pc.items[0].span)] == "陈刚正委员代表农工党平顶山市委会作题为《加大支持力度 推进我市“省级区域医疗中心”建设》的发言"


def test_single_changzhou_header_only(corpora):
    pcs = load_folder(corpora, "changzhou_xinbei_2017")
    it = items_of(pcs)
    assert (it["01"].title, it["01"].proposer_text, it["01"].speaker_text) == ("我区地铁时代城市经济发展", "民革新北区基层委员会", "副主委陈振华")
    assert (it["02"].proposer_text, it["02"].speaker_text) == ("西夏墅镇政协工作委员会", "主任朱晓杰")
    assert it["05"].speaker_text == "主委孙永华"
    assert all(i.span == i.title_span for i in it.values())     # no body: the title is the text
    assert it["03"].meeting_text == "政协常州市新北区第四届委员会第一次会议"


def test_single_jilin_no_title_ascii_colons(corpora):
    pcs = load_folder(corpora, "jilin_13_4")
    it = items_of(pcs)
    assert all(i.title == "" and i.title_span is None for i in it.values())
    assert it["01"].proposer_text == "委员李文革" and it["09"].proposer_text == "委员李含冰"
    assert it["06"].meeting_text == "政协吉林市第十三届委员会第四次会议"
    pc6 = next(pc for pc in pcs if pc.items[0].item == "06")
    assert pc6.text[slice(*pc6.items[0].span)] == "就发挥律师队伍的专业优势,助推市域社会治理现代化,委员张龙提出了5条具体建议"
    assert it["06"].line == 1


# ----------------------------------------------------------------------------- hand-written: text
PROPOSERS = {"民革市委会", "九三学社市委会", "民盟市委会", "致公党市委会", "王某委员（经济界）"}


def is_proposer(s: str) -> bool:
    return s in PROPOSERS


def test_numbered_inline_and_trailing_proposers():
    text = ("# 优秀提案选登\n\n本次共选登三件。文中提到一、二两点不是条目。\n\n"
            "1、民革市委会：关于加强甲工作的建议\n正文甲。\n"
            "2、关于完善乙机制的建议（九三学社市委会）\n正文乙。\n"
            "3．关于推进丙改革的建议\n正文丙写完。(民革市委会、民盟市委会)\n"
            "4、关于丁的建议\n正文丁。\n")
    pc = parse_text("list.txt", text, is_proposer)
    check_offsets(pc)
    assert pc.layout == "numbered" and pc.headline == "优秀提案选登" and pc.problems == ()
    assert pc.text[slice(*pc.intro_span)] == "本次共选登三件。文中提到一、二两点不是条目。"
    a, b, c, d = pc.items
    assert (a.item, a.title, a.proposer_text) == ("01", "关于加强甲工作的建议", "民革市委会")
    assert pc.text[slice(*a.span)] == "民革市委会：关于加强甲工作的建议\n正文甲。"
    assert (b.title, b.proposer_text) == ("关于完善乙机制的建议", "九三学社市委会")
    assert (c.title, c.proposer_text) == ("关于推进丙改革的建议", "民革市委会、民盟市委会")
    assert (d.title, d.proposer_text) == ("关于丁的建议", "")
    assert [i.line for i in pc.items] == [5, 7, 9, 11]


def test_numbered_digest_with_the_proposer_opening_the_text():
    # a 摘登: "一、<title>" then "<proposer>：<text>" on the next line; a trailing bracket still works
    text = ("某省政协大会发言摘登\n\n现将部分发言摘登如下。\n\n"
            "一、推进甲产业发展\n民革省委：甲产业规模不大。建议扩大。\n\n"
            "二、完善乙服务\n省政协委员、省工商联副主席赵某：乙服务不足。建议完善。\n\n"
            "三、加强丙保护\n丙资源丰富，但保护不够：建议立法。（九三学社省委会）\n\n"
            "四、关于丁\n目前丁情况如下：一是不足。\n")
    from assistant.proposers import parse_proposers, placed
    pc = parse_text("digest.txt", text, lambda x: placed(parse_proposers(x)))
    check_offsets(pc)
    a, b, c, d = pc.items
    assert (a.title, a.proposer_text) == ("推进甲产业发展", "民革省委")
    assert pc.text[slice(*a.span)] == "推进甲产业发展\n民革省委：甲产业规模不大。建议扩大。"
    assert (b.title, b.proposer_text) == ("完善乙服务", "省政协委员、省工商联副主席赵某")
    assert (c.title, c.proposer_text) == ("加强丙保护", "九三学社省委会")
    assert (d.title, d.proposer_text) == ("关于丁", "")   # "目前丁情况如下" is no proposer


def test_bracketed_proposers_open_items():
    # a digest of speeches: "【<proposer>】<title>", counted in order; a bracket without a proposer
    # inside a body ("【案例】") opens nothing
    text = ("# 大会发言摘登\n\n本次会议共有三位委员发言。\n\n"
            "【民革市委会】关于加强甲工作的建议\n正文甲。\n【案例】某地做法。\n"
            "【王某委员（经济界）】推进乙改革\n正文乙。\n")
    pc = parse_text("digest.txt", text, is_proposer)
    check_offsets(pc)
    assert pc.layout == "numbered" and pc.text[slice(*pc.intro_span)] == "本次会议共有三位委员发言。"
    a, b = pc.items
    assert (a.item, a.title, a.proposer_text) == ("01", "关于加强甲工作的建议", "民革市委会")
    assert pc.text[slice(*a.span)] == "【民革市委会】关于加强甲工作的建议\n正文甲。\n【案例】某地做法。"
    assert (b.item, b.title, b.proposer_text) == ("02", "推进乙改革", "王某委员（经济界）")


def test_proposer_colon_title_lines_open_items():
    # no numbers: "<proposer>：<title>" lines; a colon inside a body sentence opens nothing
    text = ("大会发言摘要\n\n民革市委会：关于加强甲工作的建议\n正文甲。群众反映：问题突出。\n"
            "九三学社市委会：推进乙改革\n正文乙。\n")
    pc = parse_text("colon.txt", text, is_proposer)
    check_offsets(pc)
    assert pc.layout == "numbered"
    a, b = pc.items
    assert (a.item, a.title, a.proposer_text) == ("01", "关于加强甲工作的建议", "民革市委会")
    assert pc.text[slice(*a.span)] == "民革市委会：关于加强甲工作的建议\n正文甲。群众反映：问题突出。"
    assert (b.item, b.title, b.proposer_text) == ("02", "推进乙改革", "九三学社市委会")


def test_numbered_unknown_prefix_stays_in_title():
    pc = parse_text("x.txt", "1、某某：关于甲的建议\n2、关于乙的建议（某单位）\n", lambda s: False)
    assert [(i.title, i.proposer_text) for i in pc.items] == [("某某：关于甲的建议", ""), ("关于乙的建议（某单位）", "")]


def test_numbered_key_lines_and_chinese_numbering():
    text = ("（一）关于甲的建议\n提案人：张三\n联名：李四、王五\n承办单位：某局\n年度：2022\n正文甲。\n时间：这是正文，不是表头\n"
            "(二)关于乙的建议\n领衔人：赵六\n发言人：委员钱七\n"
            "（三）\n")
    pc = parse_text("y.md", text)
    check_offsets(pc)
    a, b = pc.items
    assert (a.item, a.title, a.proposer_text, a.cosigners_text, a.year_text) == ("01", "关于甲的建议", "张三", "李四、王五", "2022")
    assert a.fields == {"承办单位": "某局"}
    assert pc.text[slice(*a.span)].endswith("时间：这是正文，不是表头")
    assert (b.item, b.proposer_text, b.speaker_text) == ("02", "赵六", "委员钱七")
    assert pc.problems == ("y.md 第 11 行: 编号 3 之后没有内容，已跳过。",)


def test_numbered_picks_the_outer_list():
    outer_cn = "一、关于甲的建议\n1、第一点\n2、第二点\n二、关于乙的建议\n1、第一点\n三、关于丙的建议\n"
    pc = parse_text("a.txt", outer_cn)
    assert [i.title for i in pc.items] == ["关于甲的建议", "关于乙的建议", "关于丙的建议"]
    assert pc.text[slice(*pc.items[0].span)] == "关于甲的建议\n1、第一点\n2、第二点"
    outer_arabic = "1、关于甲的建议\n一、问题\n二、对策\n2、关于乙的建议\n正文。\n"
    pc = parse_text("b.txt", outer_arabic)
    assert [i.title for i in pc.items] == ["关于甲的建议", "关于乙的建议"]
    # a lone 一、 inside a body is not a list
    pc = parse_text("c.txt", "1、关于甲的建议\n一、只有这一点\n2、关于乙的建议\n")
    assert [i.item for i in pc.items] == ["01", "02"]


def test_numbered_sections_each_holding_a_list_of_proposals():
    # a digest page in parts: "一、<part>" over "【proposer】" speeches, "二、<part>" over "（一）" items
    # with the proposer opening the text; each speech is an item, its part kept as a field
    text = ("某市政协全会发言摘登\n\n本次全会安排了大会发言和书面发言。\n\n"
            "一、大会发言\n【民革市委会】关于加强甲工作的建议\n正文甲。\n"
            "【九三学社市委会】推进乙改革\n正文乙。\n\n"
            "二、书面发言摘登\n（一）完善丙机制\n民盟市委会：丙机制不健全。建议完善。\n"
            "（二）发展丁产业\n致公党市委会：丁产业起步晚。\n（三）关于戊\n戊的情况如下：一是少。\n")
    pc = parse_text("parts.txt", text, is_proposer)
    check_offsets(pc)
    assert pc.layout == "numbered" and pc.problems == ()
    assert [(i.item, i.title, i.proposer_text) for i in pc.items] == [
        ("01.01", "关于加强甲工作的建议", "民革市委会"), ("01.02", "推进乙改革", "九三学社市委会"),
        ("02.01", "完善丙机制", "民盟市委会"), ("02.02", "发展丁产业", "致公党市委会"), ("02.03", "关于戊", "")]
    assert [i.fields.get("栏目") for i in pc.items] == ["大会发言"] * 2 + ["书面发言摘登"] * 3
    assert pc.text[slice(*pc.items[1].span)] == "【九三学社市委会】推进乙改革\n正文乙。"
    assert [i.line for i in pc.items] == [6, 8, 12, 14, 16]
    # a part whose list names no proposers stays one item (points of one proposal, as before)
    plain = "一、关于甲的建议（民革市委会）\n正文。\n二、关于乙的建议\n（一）问题\n（二）对策\n"
    pc = parse_text("plain.txt", plain, is_proposer)
    assert [(i.item, i.title) for i in pc.items] == [("01", "关于甲的建议"), ("02", "关于乙的建议")]


def test_numbered_gap_is_reported_not_dropped():
    pc = parse_text("g.txt", "1、甲\n2、乙\n4、丁\n")
    assert [i.item for i in pc.items] == ["01", "02", "04"]
    assert pc.problems == ("g.txt 第 3 行: 编号从 2 跳到 4，中间的条目缺失。",)


def test_sections_layout_small():
    text = "## 栏目\n\n# 大标题\n\n引言。\n\n### 题目一 某单位\n\n正文一。\n\n#### 小标题\n正文续。\n\n### 题目二 某人委员\n"
    pc = parse_text("s.md", text)
    check_offsets(pc)
    assert pc.layout == "sections" and pc.headline == "大标题"
    assert pc.text[slice(*pc.intro_span)] == "引言。"
    one, two = pc.items
    assert one.heading == "题目一 某单位" and pc.text[slice(*one.span)] == "正文一。\n\n#### 小标题\n正文续。"
    assert two.heading == "题目二 某人委员" and two.span == two.fields["heading_span"]   # empty body
    assert (one.line, two.line) == (7, 14)


def test_single_header_variants():
    text = "题  目：关于甲的建议\n\n提案人：张三\n\n案号：第12号\n\n类别：经济\n\n一、问题\n正文。\n二、建议\n正文。\n"
    pc = parse_text("proposals/x/7.docx", text)
    check_offsets(pc)
    (it,) = pc.items
    assert pc.layout == "single" and it.item == "07"
    assert (it.title, it.proposer_text, it.fields) == ("关于甲的建议", "张三", {"案号": "第12号", "类别": "经济"})
    assert pc.text[slice(*it.span)].startswith("一、问题")
    # no title and no body: the proposer value is the text
    pc = parse_text("b.txt", "提案者:某委员会\r\n会议:某次会议\r\n")
    check_offsets(pc)
    assert pc.items[0].span == (4, 8) and pc.items[0].meeting_text == "某次会议"
    # a header key repeated is reported
    pc = parse_text("c.txt", "标题：甲\n标题：乙\n\n正文\n")
    assert pc.items[0].title == "甲" and pc.problems == ("c.txt 第 2 行: 表头“标题”重复，只取第一个。",)


def test_plain_fallback():
    pc = parse_text("z.txt", "\n  这是一篇没有结构的文章\n\n内容内容。\n")
    check_offsets(pc)
    assert pc.layout == "plain" and len(pc.items) == 1
    (it,) = pc.items
    assert (it.item, it.title, it.line) == ("01", "这是一篇没有结构的文章", 2)
    assert pc.text[slice(*it.span)] == "这是一篇没有结构的文章\n\n内容内容。"
    assert len(pc.problems) == 1 and pc.problems[0].startswith("z.txt 第 2 行: ")
    long = parse_text("l.txt", "长" * 61 + "\n正文")
    assert long.items[0].title == "" and long.items[0].title_span is None
    empty = parse_text("e.txt", " \n\n")
    assert empty.items == () and empty.problems == ("e.txt 第 1 行: 文件没有文字。",)


def test_item_label():
    assert [item_label(s) for s in ("3", "（二）", "第3号", "十二", "12", "A-7")] == ["03", "02", "03", "12", "12", "A-7"]


# ----------------------------------------------------------------------------- hand-written: CSV
def test_csv_quoting_bom_crlf_and_bad_rows():
    text = ('\ufeff序号, 标题 ,提案人,附议人,内容,类别,会次\r\n'
            '1,"关于""甲""的建议, 含逗号",张三,"李四,王五","第一行\r\n第二行",经济,十四届二次\r\n'
            '2,乙,李四\r\n'                          # wrong number of fields
            '3,,王五,,,,\r\n'                         # no title, no body
            '\r\n'
            '4, 丁 ,赵六,,,,\r\n'
            ',,,,,,\r\n'                              # an empty row is no item
            '5,"戊",孙七,,"",社会,\r\n')
    pc = parse_catalogue("c.csv", text)
    check_offsets(pc, csv_escapes=True)
    assert pc.problems == ("c.csv 第 4 行: 这一行有 3 个字段，表头有 7 个，已跳过。",
                           "c.csv 第 5 行: 这一行没有标题也没有正文，已跳过。")
    a, d, e = pc.items
    assert (a.item, a.title, a.proposer_text, a.cosigners_text, a.meeting_text) == (
        "01", '关于"甲"的建议, 含逗号', "张三", "李四,王五", "十四届二次")
    assert pc.text[slice(*a.title_span)] == '关于""甲""的建议, 含逗号'      # raw CSV characters
    assert pc.text[slice(*a.span)] == "第一行\r\n第二行" and a.fields == {"类别": "经济"} and a.line == 2
    assert (d.item, d.title, d.line, d.span) == ("04", "丁", 7, d.title_span)
    assert (e.item, e.title, e.fields, e.line) == ("05", "戊", {"类别": "社会"}, 9)


def test_csv_synonym_priority_and_missing_title():
    pc = parse_catalogue("a.csv", "案号,序号,提案题目,第一提案人,年度,主办单位\nA-1,1,甲,张三,2023,某局\n")
    (it,) = pc.items
    assert (it.item, it.title, it.proposer_text, it.year_text) == ("01", "甲", "张三", "2023")
    assert it.fields == {"案号": "A-1", "主办单位": "某局"}
    pc = parse_catalogue("b.csv", "序号,提案者\n1,张三\n")
    assert pc.items == () and pc.problems == ("b.csv 第 1 行: 表头里没有标题列（序号、提案者），无法读取条目。",)
    # no 序号 column: the row's position is the item; a body without a title is still an item
    pc = parse_catalogue("c.csv", "标题,正文\n甲,\n,只有正文\n")
    assert [(i.item, i.title, pc.text[slice(*i.span)]) for i in pc.items] == [("01", "甲", "甲"), ("02", "", "只有正文")]


def test_csv_duplicate_items_reported():
    pc = parse_catalogue("d.csv", "序号,标题\n1,甲\n1,乙\n")
    assert len(pc.items) == 2 and pc.problems == ("d.csv 第 3 行: 编号 01 与第 2 行重复。",)


# ----------------------------------------------------------------------------- hand-written: xlsx
def test_xlsx(tmp_path):
    import datetime

    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "标题", "提案人", "年度", "承办单位", "日期"])
    ws.append([1, "关于甲的建议", "张三", 2023, "某局", None])
    ws.append([None] * 6)
    ws.append([2.0, " 关于乙的建议 ", "李四", None, None, datetime.datetime(2023, 1, 5), "无表头"])
    ws.append([3, None, "王五"])
    path = tmp_path / "目录.xlsx"
    wb.save(path)
    pc = parse_xlsx("目录.xlsx", path)
    check_offsets(pc)
    assert pc.layout == "catalogue"
    assert pc.text.splitlines()[0] == "序号：1；标题：关于甲的建议；提案人：张三；年度：2023；承办单位：某局"
    a, b = pc.items
    assert (a.item, a.title, a.proposer_text, a.year_text, a.fields, a.line) == ("01", "关于甲的建议", "张三", "2023", {"承办单位": "某局"}, 2)
    # 年度 outranks 日期 as the year column, so 日期 is a field
    assert (b.item, b.title, b.year_text, b.fields, b.line) == ("02", "关于乙的建议", "", {"日期": "2023-01-05"}, 4)
    assert pc.problems == ("目录.xlsx 第 4 行: 第 7 列没有表头，其内容未收录。",
                           "目录.xlsx 第 5 行: 这一行没有标题也没有正文，已跳过。")
    again = parse_xlsx("目录.xlsx", path)
    assert again.text == pc.text          # stable rendering


def test_xlsx_unreadable(tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_text("不是表格", encoding="utf-8")
    with pytest.raises(ValueError, match="坏.xlsx: 无法作为 Excel 工作簿打开"):
        parse_xlsx("坏.xlsx", bad)


# ----------------------------------------------------------------------------- the module itself
def test_module_knows_layouts_not_names(corpora):
    """No proposer, place or meeting from the development data is written into the module."""
    src = Path(formats.__file__).read_text(encoding="utf-8")
    names = set()
    for q in corpora.glob("*/questions.jsonl"):
        for line in q.read_text(encoding="utf-8").splitlines():
            names.update(json.loads(line)["gold_proposers"])
    names |= {"上海", "漳州", "莆田", "阜阳", "平顶山", "常州", "新北", "吉林", "郑州", "市委会", "委员会"}
    assert [n for n in names if n in src] == []


def test_csv_unclosed_quote_names_the_lines():
    pc = parse_catalogue("u.csv", '标题,提案者\n甲,张三\n"乙,李四\n丙,王五\n')
    assert [i.title for i in pc.items] == ["甲"]
    assert pc.problems == ("u.csv 第 3 行: 这条记录（第 3–4 行，引号可能未闭合）有 1 个字段，表头有 2 个，已跳过。",)
    pc = parse_catalogue("j.csv", '标题,提案者\n"甲"x,张三\n乙,李四\n')
    assert [i.title for i in pc.items] == ["乙"]
    assert pc.problems == ("j.csv 第 2 行: 引号用法不规范，无法定位字段，已跳过。",)


def test_sections_text_outside_any_section_is_reported():
    pc = parse_text("o.md", "### 甲 某单位\n正文甲。\n## 附录\n附录文字。\n### 乙 某人\n正文乙。\n")
    assert [pc.text[slice(*i.span)] for i in pc.items] == ["正文甲。", "正文乙。"]
    assert pc.problems == ("o.md 第 3 行: “## 附录”之下的文字不在任何 ### 小节里，未收录。",)


FRAGMENTS = ["\n", "\r\n", "\n\n", " ", "\u3000", "# 头", "### 节 某人", "1、", "2、", "3.", "（一）", "(二)", "一、",
             "二、", "标题：", "提案者:", "联名：", "会议：", "甲乙", "关于丙的建议", "（民革市委会）", "民革市委会：",
             '"', ",", '""', "，"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_text_keeps_the_offset_invariant(text):
    pc = parse_text("f.txt", text, is_proposer)
    check_offsets(pc)
    assert pc.items or pc.problems
    cat = parse_catalogue("f.csv", text)
    check_offsets(cat, csv_escapes=True)


def test_digest_pages_answer_from_the_body_and_name_both_proposers(tmp_path):
    from conftest import engine_on
    page = ("# 某省政协五届四次全会发言摘登\n\n全会期间，三位委员上台发言。\n\n"
            "【民进某省委会】关于加快发展学前教育的建议\n建议扩大普惠性幼儿园覆盖面，完善学前教育经费保障机制。\n\n"
            "【张某某委员（民盟某省委会副主委）】关于加强耕地保护的建议\n建议落实耕地保护责任，严格耕地占用审批。\n\n"
            "【农工党某省委会】推进分级诊疗制度建设\n建议加强基层医疗卫生机构能力建设。\n")
    a = engine_on(tmp_path, {"摘登.txt": page}).answerer
    out = a.answer("张某某委员讲了什么？")
    assert out.found and out.citations[0].proposers == ("民盟某省委会", "张某某")
    assert "副主委张某某" in out.answer and "严格耕地占用审批" in out.answer
    # the quote is the body's recommendation, not the heading line
    assert "【" not in out.answer and all("】" not in c.quote for c in out.citations)
