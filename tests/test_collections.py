"""Corpus management (assistant/collections.py): staging and previewing uploads, accepting them into
the corpus, removing collections, and rebuilding the engine in place. Always over a temporary copy of
corpus/ (the real one is never touched) with the hashing embedder."""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import collections as colls
from assistant.config import ROOT, Settings
from assistant.errors import AssistantError

CSV = ("序号,标题,提案者,会议\n"
       "1,关于建设城市口袋公园的建议,民盟郑州市委会,市政协十五届三次会议\n"
       "2,关于推进老旧小区加装电梯的建议,九三学社郑州市委会,市政协十五届三次会议\n"
       "3,,农工党郑州市委会,市政协十五届三次会议\n")
SECTIONS = ("# 养老服务专题\n\n市政协十五届五次常委会议召开，围绕发展社区养老服务开展专题议政。\n\n"
            "### 发展嵌入式社区养老 民盟\n\n建议在老旧小区建设嵌入式养老服务站，引入专业机构连锁运营。\n\n"
            "### 推进医养结合 某某研究会\n\n建议推动社区卫生服务中心与养老机构签约合作。\n")


def tree_digest(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    d = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", d)
    return d


@pytest.fixture
def uploads(tmp_path) -> Path:
    d = tmp_path / "uploads"
    d.mkdir()
    (d / "目录.csv").write_text(CSV, encoding="utf-8")
    (d / "养老.txt").write_text(SECTIONS, encoding="utf-8")
    (d / "evil.exe").write_bytes(b"MZ\x00\x01")
    (d / "empty.txt").write_bytes(b"")
    (d / "noise.txt").write_text("这只是一句没有任何格式的话", encoding="utf-8")
    (d / "broken.docx").write_bytes(b"this is not a zip file")
    return d


def docx_proposal(path: Path, title: str, who: str, meeting: str, body: str) -> Path:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for t in (f"标题：{title}", f"提案者：{who}", f"会议：{meeting}", body):
        d.add_paragraph(t)
    d.save(str(path))
    return path


# ----------------------------------------------------------------------------------------- staging
def test_stage_previews_items_and_problems_without_touching_the_corpus(corpus_dir, uploads, tmp_path):
    before = tree_digest(corpus_dir)
    doc = docx_proposal(uploads / "内涝.docx", "关于加强城市内涝治理的建议", "民进郑州市委会",
                        "市政协十五届三次会议", "近年来我市汛期内涝频发。建议加快建设海绵城市，完善排水管网。")
    p = colls.stage([uploads / "目录.csv", doc], corpus_dir, name="十五届三次会议")
    try:
        assert p.ok and p.name == "十五届三次会议" and p.kind == "proposals"
        assert p.files == ("目录.csv", "内涝.docx")
        rows = {(i.file, i.title): i for i in p.items}
        park = rows[("目录.csv", "关于建设城市口袋公园的建议")]
        assert park.proposers == ("民盟郑州市委会",) and park.proposer_types == ("民主党派",)
        assert "十五届三次会议" in park.meeting and park.item
        flood = rows[("内涝.docx", "关于加强城市内涝治理的建议")]
        assert flood.proposers == ("民进郑州市委会",) and "十五届三次会议" in flood.meeting
        assert len(p.items) == 3  # the row without a title is skipped…
        (warn,) = [x for x in p.problems if x.file == "目录.csv"]
        assert warn.line == 4 and not warn.fatal  # …and reported with its line
        assert "第 4 行" in str(warn) and "目录.csv" in str(warn)
        assert p.counts["proposals"] == 3 and p.counts["fatal"] == 0
        assert list(p.meetings.values()) == [3]
        assert (p.folder / "目录.csv").is_file() and not str(p.folder).startswith(str(corpus_dir))
    finally:
        colls.discard(p)
    assert not p.staging.exists()
    assert tree_digest(corpus_dir) == before


def test_preview_keeps_the_offices_of_members(corpus_dir, tmp_path):
    f = tmp_path / "职务.csv"
    f.write_text("序号,标题,提案者,会议\n1,关于发展夜间经济的建议,市政协常委 王某某,市政协十五届三次会议\n"
                 "2,关于建设口袋公园的建议,民盟某市委副主委 李某,市政协十五届三次会议\n", encoding="utf-8")
    p = colls.stage([f], corpus_dir)
    try:
        got = [(i.proposers, i.roles) for i in p.items]
        assert got == [(("王某某",), ("常委",)), (("民盟某市委", "李某"), ("", "副主委"))]
    finally:
        colls.discard(p)


def test_unparseable_files_are_fatal_problems_by_file(corpus_dir, uploads):
    before = tree_digest(corpus_dir)
    p = colls.stage([uploads / "养老.txt", uploads / "evil.exe", uploads / "empty.txt", uploads / "broken.docx",
                     uploads / "noise.txt"], corpus_dir)
    try:
        assert p.name == "养老" and not p.ok
        fatal = {x.file: x.message for x in p.fatal}
        assert "不支持的文件类型" in fatal["evil.exe"]
        assert "空" in fatal["empty.txt"]
        assert "broken.docx" in fatal  # unreadable: no item at all
        assert "yizheng-stage" not in fatal["broken.docx"]  # the staging path is not shown
        # a file without any recognizable structure is still read (as one item), with warnings
        assert any(x.file == "noise.txt" and not x.fatal for x in p.problems)
        assert "evil.exe" not in p.files  # never copied
        # the good file is still previewed, with its warnings
        assert {i.title for i in p.items} >= {"发展嵌入式社区养老"}
        assert any(x.file == "养老.txt" and not x.fatal for x in p.problems)
        with pytest.raises(AssistantError, match="无法解析"):
            colls.accept(p, corpus_dir)
    finally:
        colls.discard(p)
    assert tree_digest(corpus_dir) == before


def test_collection_names_are_checked_and_sanitized(corpus_dir, uploads, tmp_path):
    for bad in ["../x", "a/b", "..", ".hidden", "a\\b", "x..y", "名" * 61, "a<b>"]:
        with pytest.raises(AssistantError):
            colls.stage([uploads / "养老.txt"], corpus_dir, name=bad)
    with pytest.raises(AssistantError, match="已有名为"):
        colls.stage([uploads / "养老.txt"], corpus_dir, name="kjcx")
    with pytest.raises(AssistantError, match="请先选择"):
        colls.stage([], corpus_dir)
    with pytest.raises(AssistantError, match="未知的语料类别"):
        colls.stage([uploads / "养老.txt"], corpus_dir, kind="../x")
    # a derived name (no name given) is sanitized and made unique, not refused
    weird = uploads / "kjcx.txt"
    weird.write_text(SECTIONS, encoding="utf-8")
    p = colls.stage([weird], corpus_dir)
    try:
        assert p.name == "kjcx-2" and p.ok
    finally:
        colls.discard(p)
    hostile = uploads / '<img src=x>"; rm -rf .txt'
    hostile.write_text(SECTIONS, encoding="utf-8")
    p = colls.stage([hostile], corpus_dir)
    try:
        assert "/" not in p.name and "<" not in p.name and not p.name.startswith(".")
        assert all("<" not in f and "/" not in f for f in p.files)
    finally:
        colls.discard(p)
    assert colls.clean_name("  ../..//etc  ") == "_.._etc"


# ----------------------------------------------------------------------------------------- accept / remove
def test_accept_moves_files_in_and_never_overwrites(corpus_dir, uploads):
    p1 = colls.stage([uploads / "目录.csv"], corpus_dir, name="新合集")
    p2 = colls.stage([uploads / "养老.txt"], corpus_dir, name="新合集")  # both previewed before either is accepted
    try:
        c = colls.accept(p1, corpus_dir)
        assert c.path == "proposals/新合集" and (corpus_dir / "proposals" / "新合集" / "目录.csv").read_text(
            encoding="utf-8") == CSV
        assert not any(x.name.startswith(".incoming") for x in corpus_dir.iterdir())
        with pytest.raises(AssistantError, match="已有名为"):
            colls.accept(p2, corpus_dir)
        assert sorted(x.name for x in (corpus_dir / "proposals" / "新合集").iterdir()) == ["目录.csv"]
        names = [x.name for x in colls.list_collections(corpus_dir)]
        assert names == ["kjcx", "新合集"]
        # a staged file changed after the preview is refused
        p3 = colls.stage([uploads / "养老.txt"], corpus_dir, name="其他")
        (p3.folder / p3.files[0]).write_text(SECTIONS + "\n### 偷偷加的 民革\n\n正文。\n", encoding="utf-8")
        with pytest.raises(AssistantError, match="改动"):
            colls.accept(p3, corpus_dir)
        colls.discard(p3)
        with pytest.raises(AssistantError, match="失效"):
            colls.accept(p3, corpus_dir)
        with pytest.raises(AssistantError, match="预览"):
            colls.accept(None, corpus_dir)
    finally:
        colls.discard(p1)
        colls.discard(p2)


def test_remove_moves_only_that_collection_to_trash(corpus_dir, uploads, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    p = colls.stage([uploads / "养老.txt"], corpus_dir, name="养老")
    colls.accept(p, corpus_dir)
    colls.discard(p)
    before = tree_digest(corpus_dir)
    trashed = colls.remove("养老", corpus_dir)
    assert not (corpus_dir / "proposals" / "养老").exists()
    assert trashed.is_dir() and (trashed / "养老.txt").is_file()
    assert colls.TRASH in trashed.parts and corpus_dir in trashed.parents
    after = tree_digest(corpus_dir)
    assert {k for k in before if not k.startswith("proposals/养老/")} <= set(after)
    for bad in ["../outside", "..", "", "proposals", "不存在"]:
        with pytest.raises(AssistantError, match="没有名为"):
            colls.remove(bad, corpus_dir)
    assert outside.read_text(encoding="utf-8") == "keep"
    colls.restore(trashed, corpus_dir, "proposals")
    assert (corpus_dir / "proposals" / "养老" / "养老.txt").is_file()


def test_meeting_label_and_collection_of():
    from assistant.records import Document, Proposal
    p = Proposal("a-01", "a", "proposal", "t", ("x",), "", "t", 0, 1)
    assert colls.meeting_label(p) == ""
    doc = Document("a", "proposals/a.txt", "t", "proposals", "t", "", {"meeting": "市政协某次会议"})
    assert colls.meeting_label(p, doc) == "市政协某次会议"
    doc = Document("a", "proposals/a.txt", "t", "proposals", "t", "", {"meeting": {"name": "甲会议", "place": ""}})
    assert colls.meeting_label(p, doc) == "甲会议"
    assert colls.meeting_label(replace(p, meeting="乙会议"), doc) == "乙会议"
    assert colls.collection_of("proposals/kjcx.txt") == "kjcx"
    assert colls.collection_of("proposals/新合集/目录.csv") == "新合集"
    assert colls.collection_of("policies/政策/a.docx") == "政策"


# ----------------------------------------------------------------------------------------- with an engine
@pytest.fixture
def holder(corpus_dir, tmp_path):
    from assistant.engine import Engine, EngineHolder

    def calibrate(eng):  # as in conftest.hash_engine: the margin term is fitted to the real model
        eng.answerer.cal = replace(eng.answerer.cal, margin_weight=0.0)
    settings = Settings.from_env({}, model="hash-bigram-256", corpus_dir=corpus_dir, index_dir=tmp_path / "idx")
    eng = Engine.open(settings)
    calibrate(eng)
    return EngineHolder(eng, on_open=calibrate)


def test_import_rebuilds_and_swaps_the_engine_keeping_old_requests_working(holder, uploads):
    old = holder.engine
    n_old = len(old.index.proposals)
    doc = docx_proposal(uploads / "内涝.docx", "关于加强城市内涝治理的建议", "民进郑州市委会",
                        "市政协十五届三次会议", "近年来我市汛期内涝频发。建议加快建设海绵城市，完善排水管网，建立内涝风险预警平台。")
    p = colls.stage([uploads / "目录.csv", doc], holder.settings.corpus_dir, name="十五届三次会议")
    seen = []
    coll, eng = colls.import_collection(p, holder, progress=lambda f, d: seen.append((f, d)))
    assert holder.engine is eng and eng is not old and holder.generation == 1
    assert not p.staging.exists()  # the staging copy is gone
    assert coll.name == "十五届三次会议"
    assert seen[0][0] < seen[-1][0] == 1.0 and any("向量化" in d for _, d in seen)
    counts = eng.index.manifest["counts"]
    assert 0 < counts["embedded"] < counts["chunks"] and counts["reused"] > 0  # only new chunks embedded
    new = [q for q in eng.index.proposals.values() if q.doc_id.startswith("十五届三次会议")]
    assert len(new) == 3 and len(eng.index.proposals) == n_old + 3
    assert all("十五届三次会议" in q.meeting for q in new)
    assert "kjcx-14" in eng.index.proposals  # existing ids unchanged
    # the old engine (a request in flight) still answers from what it had
    assert len(old.index.proposals) == n_old
    assert old.answerer.answer("民盟提了什么建议").found
    # the new one answers about the new collection, naming the proposer with a citation
    a = eng.answerer.answer("谁建议建设城市口袋公园？")
    assert a.found and "民盟郑州市委会" in a.answer and "[1]" in a.answer, a.answer
    assert a.citations[0].proposal_id in {q.proposal_id for q in new}
    a = eng.answerer.answer("关于城市内涝治理有什么建议？")
    assert a.found and "民进郑州市委会" in a.answer and "[1]" in a.answer, a.answer
    stats = colls.collection_stats(eng, colls.list_collections(holder.settings.corpus_dir))
    assert stats["十五届三次会议"]["proposals"] == 3 and stats["kjcx"]["proposals"] == 26

    # remove it again: the engine goes back to the original corpus
    trashed, eng2 = colls.remove_collection("十五届三次会议", holder)
    assert holder.engine is eng2 and len(eng2.index.proposals) == n_old and trashed.exists()
    assert eng2.index.manifest["counts"]["embedded"] == 0  # every vector reused
    # the last collection cannot go: the corpus would be empty; it is put back
    with pytest.raises(AssistantError, match="没有删除"):
        colls.remove_collection("kjcx", holder)
    assert (holder.settings.corpus_dir / "proposals" / "kjcx.txt").is_file()
    assert holder.engine is eng2


def test_failed_import_changes_nothing(holder, uploads):
    corpus_dir = holder.settings.corpus_dir
    before, eng = tree_digest(corpus_dir), holder.engine
    p = colls.stage([uploads / "evil.exe", uploads / "noise.txt"], corpus_dir, name="坏文件")
    with pytest.raises(AssistantError):
        colls.import_collection(p, holder)
    colls.discard(p)
    assert tree_digest(corpus_dir) == before and holder.engine is eng


def test_a_failing_rebuild_takes_the_collection_out_again(holder, uploads, monkeypatch):
    corpus_dir = holder.settings.corpus_dir
    before, eng = tree_digest(corpus_dir), holder.engine
    p = colls.stage([uploads / "养老.txt"], corpus_dir, name="养老")
    import assistant.engine as engine_mod
    real = engine_mod.build_index
    calls = []

    def boom(*a, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(*a, **kw)
    monkeypatch.setattr(engine_mod, "build_index", boom)
    with pytest.raises(RuntimeError):
        colls.import_collection(p, holder)
    colls.discard(p)
    assert tree_digest(corpus_dir) == before
    assert not (corpus_dir / "proposals" / "养老").exists()


def test_only_broken_files_still_get_their_own_reason(corpus_dir, uploads):
    p = colls.stage([uploads / "broken.docx"], corpus_dir)
    try:
        (only,) = p.problems
        assert only.file == "broken.docx" and only.fatal and "无法读取" in only.message
        assert not p.ok and not p.items and str(p.staging) not in only.message
    finally:
        colls.discard(p)


def test_policy_texts_are_a_collection_of_their_own_kind(corpus_dir, tmp_path):
    doc = tmp_path / "养老政策.txt"
    doc.write_text("郑州市关于加快发展养老服务业的实施意见\n\n为加快发展养老服务业，现提出如下意见。", encoding="utf-8")
    csv = tmp_path / "目录.csv"
    csv.write_text(CSV, encoding="utf-8")
    p = colls.stage([doc, csv], corpus_dir, name="政策文件", kind="policies")
    try:
        assert not p.ok and "不支持的文件类型" in p.fatal[0].message  # catalogues are proposals, not policies
    finally:
        colls.discard(p)
    p = colls.stage([doc], corpus_dir, name="政策文件", kind="policies")
    try:
        assert p.ok and [(i.kind, i.title, i.proposers) for i in p.items] == [
            ("policy", "郑州市关于加快发展养老服务业的实施意见", ())]
        assert p.meetings == {} and p.counts["policies"] == 1
        c = colls.accept(p, corpus_dir)
    finally:
        colls.discard(p)
    assert c.path == "policies/政策文件" and (corpus_dir / "policies" / "政策文件" / "养老政策.txt").is_file()
    found = colls.find_collection("政策文件", corpus_dir)
    assert found.kind == "policies" and found.label == "政策文本"
    # names are unique across kinds, so removing by name is never ambiguous
    with pytest.raises(AssistantError, match="已有名为"):
        colls.stage([csv], corpus_dir, name="政策文件")
    colls.remove("政策文件", corpus_dir)
    assert not (corpus_dir / "policies" / "政策文件").exists()
    assert (corpus_dir / "policies" / "README.md").is_file()
