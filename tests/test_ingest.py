import re
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.ingest import Registry, load_corpus, normalize, read_text

SEED = Path(__file__).resolve().parents[1] / "corpus" / "proposals" / "kjcx.txt"


def by_id(corpus):
    return {p.proposal_id: p for p in corpus.proposals}


def test_one_record_per_section_plus_intro(corpus):
    props = [p for p in corpus.proposals if p.kind == "proposal"]
    assert len(props) == 26 == corpus.documents[0].meta["report_count"]
    assert [p.proposal_id for p in props] == [f"kjcx-{i:02d}" for i in range(1, 27)]
    intro = by_id(corpus)["kjcx-00"]
    assert intro.kind == "intro" and "市政协十四届十九次常委会议" in intro.text and "26篇调研报告" in intro.text
    m = corpus.documents[0].meta["meeting"]
    assert (m["name"], m["place"], m["level"], m["session"], m["kind"], m["reports"]) == (
        "郑州市政协十四届十九次常委会议", "郑州市", "市", "十四届十九次", "常委会议", 26)
    assert {p.meeting for p in corpus.proposals} == {"郑州市政协十四届十九次常委会议"}
    assert corpus.problems == []


def test_page_breaks_are_joined(corpus):
    p = by_id(corpus)
    assert "增强自主创新能力" in p["kjcx-01"].text
    assert "发挥更大作用,让研究生" in p["kjcx-26"].text
    for prop in corpus.proposals:
        # the only paragraph break left inside a proposal is a real one, after a full stop
        for m in re.finditer(r"\n+", prop.text):
            assert prop.text[m.start() - 1] in "。！？；", (prop.proposal_id, prop.text[m.start() - 5:m.end() + 5])
    assert p["kjcx-25"].text.count("\n\n") == 1  # 具体来说 starts a real paragraph
    assert corpus.documents[0].meta["page_breaks_joined"] == 25


def test_byline_is_metadata_not_text(corpus):
    p = by_id(corpus)
    assert p["kjcx-14"].proposers == ("民盟郑州市委会",)
    assert "赵文静" not in p["kjcx-14"].text and p["kjcx-14"].text.endswith("聚焦重点引进创新资源。")
    assert corpus.documents[0].meta["bylines"] == ["郑报全媒体记者 赵文静 整理"]
    assert all("郑报" not in x.text for x in corpus.proposals)


def test_tricky_headings(corpus):
    p = by_id(corpus)
    assert p["kjcx-06"].proposers == ("郑州市政协文化和文史委员会", "郑州市政协民族和宗教委员会")
    assert p["kjcx-06"].title == "发挥国家自创区核心作用" and p["kjcx-06"].proposer_type == "政协专门委员会"
    group = [x.proposal_id for x in corpus.proposals if "郑州市政协科技、科协界别组" in x.proposers]
    assert group == ["kjcx-24", "kjcx-25"] and p["kjcx-25"].proposer_type == "界别"
    same = [x for x in corpus.proposals if x.title == "不断提升企业创新活力"]
    assert [(x.proposers[0], x.proposer_type) for x in same] == [("郑州市工商业联合会", "工商联"), ("登封市政协", "区县(市)政协")]
    assert p["kjcx-26"].proposers == ("郑州市政协常委 刘忠明",) and p["kjcx-26"].proposer_type == "政协委员个人"
    types = {x.proposer_type for x in corpus.proposals if x.kind == "proposal"}
    assert types == {"民主党派", "政协专门委员会", "区县(市)政协", "界别", "工商联", "政协委员个人"}


def test_offsets_are_exact_and_map_back_to_the_raw_file(corpus):
    doc = corpus.documents[0]
    raw = read_text(SEED)
    for p in corpus.proposals:
        assert doc.text[p.start:p.end] == p.text
    assert all(raw[doc.to_raw(i)] == ch for i, ch in enumerate(doc.text))


def test_registry_aliases(corpus):
    reg = corpus.registry
    for alias in ["民盟", "中国民主同盟郑州市委员会", "民盟郑州市委会"]:
        assert reg.canonical(alias) == "民盟郑州市委会"
    assert set(reg.mentioned("民盟和九三学社还有惠济区政协提了什么")) == {"九三学社郑州市委会", "惠济区政协", "民盟郑州市委会"}
    assert reg.split_heading("提升高端人才供给能力 郑州市政协常委 刘忠明") == ("提升高端人才供给能力", ("郑州市政协常委 刘忠明",))


def _mini_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "proposals").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "proposers.json").write_text(
        '{"proposers": [{"name": "民盟郑州市委会", "type": "民主党派", "aliases": ["民盟"]}]}', encoding="utf-8")
    (root / "proposals" / "a.txt").write_text(
        "# 专题\n\n导语一句。\n\n### 建议甲 民盟郑州市委会\n\n第一句话很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长被分\n\n页了。第二句。\n\n### 建议乙 某未登记单位\n\n内容。\n",
        encoding="utf-8")
    return root


def test_policy_files_in_any_supported_format_and_encoding(tmp_path):
    root = _mini_corpus(tmp_path)
    pol = root / "policies"
    (pol / "utf8.md").write_text("# 郑州市科技创新条例\n\n第一条 为了促进科技创新。", encoding="utf-8")
    (pol / "gbk.txt").write_bytes("关于加快新型研发机构发展的意见\n\n支持新型研发机构。".encode("gb18030"))
    import docx
    d = docx.Document()
    d.add_paragraph("人才政策汇编")
    d.add_paragraph("引进高层次人才。")
    d.save(pol / "talent.docx")
    _write_pdf(pol / "plan.pdf", "Zhengzhou innovation plan 2025")
    (pol / "broken.docx").write_bytes(b"this is not a zip file")
    (pol / "bad.txt").write_bytes(b"\x80\x80\x80 not text \xff")
    (pol / "image.png").write_bytes(b"\x89PNG")
    c = load_corpus(root)
    titles = {p.proposal_id: p.title for p in c.proposals if p.kind == "policy"}
    assert set(titles.values()) >= {"郑州市科技创新条例", "关于加快新型研发机构发展的意见", "人才政策汇编"}
    assert any("Zhengzhou innovation plan" in p.text for p in c.proposals)
    probs = "\n".join(c.problems)
    for name in ["broken.docx", "bad.txt", "image.png", "某未登记单位"]:
        assert name in probs
    # the rest is still there; a proposer the grammar cannot place is kept verbatim as 其他 and reported
    a = {p.title: p for p in c.proposals if p.kind == "proposal"}
    assert a["建议甲"].text.endswith("很长被分页了。第二句。")
    assert a["建议乙"].proposers == ("某未登记单位",) and a["建议乙"].proposer_types == ("其他",)


def _write_pdf(path: Path, text: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matplotlib.rcParams["pdf.fonttype"] = 42
    fig = plt.figure()
    fig.text(0.1, 0.5, text)
    fig.savefig(path)
    plt.close(fig)


def test_missing_corpus_and_registry_give_clear_errors(tmp_path):
    with pytest.raises(AssistantError, match="不存在"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "c").mkdir()
    with pytest.raises(AssistantError, match="没有可用的文本"):
        load_corpus(tmp_path / "c")
    with pytest.raises(AssistantError, match="格式有误"):
        (tmp_path / "c" / "proposers.json").write_text("{", encoding="utf-8")
        Registry.load(tmp_path / "c" / "proposers.json")


def test_a_header_block_is_no_broken_paragraph(tmp_path):
    # "会议：…" ends a field: the body after the blank line stays the body (it was once glued to the
    # meeting and lost)
    head = "案由：关于推动夜间经济发展的提案\n提案人：孙某某（市政协委员、某公司董事长）\n联名：周某、吴某\n会议：某市政协十五届三次会议"
    body = "近年来我市夜间经济发展迅速，建议规划建设夜间消费集聚区，延长公共交通运营时间。"
    text, _, meta = normalize(f"{head}\n\n{body}\n")
    assert text == f"{head}\n\n{body}\n" and meta["page_breaks_joined"] == 0
    (tmp_path / "proposals").mkdir()
    (tmp_path / "proposals" / "夜间经济.txt").write_text(f"{head}\n\n{body}\n", encoding="utf-8")
    (p,) = [p for p in load_corpus(tmp_path).proposals if p.kind == "proposal"]
    assert p.text == body and p.title == "关于推动夜间经济发展的提案"
    # the 提案人 with titles in brackets and the 联名 list are members each
    assert p.proposers == ("孙某某", "周某", "吴某") and p.roles[0] == "政协委员"
    assert set(p.proposer_types) == {"政协委员个人"}


def test_a_heading_organisation_keeps_the_speaker_its_text_names(tmp_path):
    page = ("# 某省政协某届某次会议大会发言\n\n上午举行大会发言。\n\n### 发展林下经济 民革某省委会\n"
            "民革某省委会副主委 郑某某代表民革某省委会发言，建议扶持林下种养。\n\n"
            "### 保护古村落 某省文化艺术界\n古村落保护要规划先行。\n\n"
            # a heading that is all title: the text names the organisation and its speaker
            "### 稳定粮食生产\n省政协常委冯某代表九三学社某省委会发言，建议稳定种粮补贴。\n\n"
            "### 拓宽青年就业渠道\n共青团某省委副书记 褚某某建议，扩大见习岗位。\n")
    (tmp_path / "proposals").mkdir()
    (tmp_path / "proposals" / "page.txt").write_text(page, encoding="utf-8")
    items = {p.title: p for p in load_corpus(tmp_path).proposals if p.kind == "proposal"}
    assert items["发展林下经济"].proposers == ("民革某省委会", "郑某某")
    assert items["发展林下经济"].speakers == ("郑某某",) and items["发展林下经济"].roles[1] == "副主委"
    assert items["保护古村落"].proposers == ("某省文化艺术界",)  # no name in its text: nobody added
    assert items["稳定粮食生产"].proposers == ("九三学社某省委会", "冯某") and items["稳定粮食生产"].roles[1] == "政协常委"
    assert items["拓宽青年就业渠道"].proposers == ("共青团某省委", "褚某某")
    assert items["拓宽青年就业渠道"].proposer_types == ("人民团体", "政协委员个人")


def test_normalize_only_deletes():
    raw = "正文一二三四五六七八九十" * 4 + "正文一\n\n段被分开。\n\n记者 张三 整理\n\n### 标题 民盟"
    text, segs, meta = normalize(raw)
    assert text == "正文一二三四五六七八九十" * 4 + "正文一段被分开。\n\n### 标题 民盟"
    assert meta["bylines"] == ["记者 张三 整理"]
    assert sum(n for _, _, n in segs) == len(text)


def test_a_catalogue_spanning_several_meetings_gives_each_row_its_own(tmp_path):
    (tmp_path / "proposals").mkdir()
    (tmp_path / "proposals" / "提案目录.csv").write_text(
        "序号,标题,提案者,会议,年份\n"
        "1,加快冷链物流建设,民建己市委会,己市政协九届三次会议,2023\n"
        "2,推动社区养老服务,民盟己市委会,己市政协九届四次会议,2024\n"
        "3,完善公交线网,己市政协经济委员会,己市政协九届四次会议,2024\n", encoding="utf-8")
    c = load_corpus(tmp_path)
    got = {p.title: p.meeting for p in c.proposals if p.kind == "proposal"}
    assert got == {"加快冷链物流建设": "己市政协九届三次会议", "推动社区养老服务": "己市政协九届四次会议",
                   "完善公交线网": "己市政协九届四次会议"}
    doc = c.documents[0]
    assert {m["name"] for m in doc.meta["meetings"]} == {"己市政协九届三次会议", "己市政协九届四次会议"}
    assert {m["year"] for m in doc.meta["meetings"]} == {2023, 2024}
