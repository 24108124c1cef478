"""Web UI: the app served in-process on a free loopback port, driven through gradio_client, plus
the HTML/Markdown builders tested directly (escaping, highlighting, export)."""
from __future__ import annotations

import html
import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from assistant import app as appmod  # noqa: E402
from assistant.answer import Answer, Citation  # noqa: E402

XSS = ['<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '"><svg onload=alert(1)>',
       "${alert(1)}", "{{constructor.constructor('alert(1)')()}}", "[x](javascript:alert(1))"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(hash_engine, hash_settings):
    app = appmod.launch(hash_settings, engine=hash_engine, host="127.0.0.1", port=free_port(),
                        prevent_thread_lock=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="module")
def client(served):
    return gradio_client.Client(served.local_url, verbose=False)


def _err(client, *args, api_name):
    with pytest.raises(Exception) as ei:
        client.predict(*args, api_name=api_name)
    return str(ei.value)


# ------------------------------------------------------------------------------------------- API
def test_api_lists_named_endpoints_only(client):
    info = client.view_api(print_info=False, return_format="dict")
    named = set(info["named_endpoints"])
    assert {"/ask", "/precedents", "/proposal", "/proposals"} <= named
    # UI handlers (chat stream, clear, table select…) are private: not in the API
    assert not info["unnamed_endpoints"]
    assert named == {"/ask", "/precedents", "/proposal", "/proposals"}


def test_ask_returns_answer_dict(client, hash_engine):
    d = client.predict("民盟提了什么建议", api_name="/ask")
    assert set(d) >= {"question", "answer", "found", "citations", "timings_ms"}
    assert d["found"] is True
    assert "民盟郑州市委会" in d["answer"]
    assert "[1]" in d["answer"]
    c = d["citations"][0]
    assert c["proposal_id"] == "kjcx-14"
    # every quote is an exact slice of its document
    for c in d["citations"]:
        p = hash_engine.index.proposals[c["proposal_id"]]
        assert hash_engine.index.documents[p.doc_id].text[c["start"]:c["end"]] == c["quote"]
        assert f"[{c['n']}]" in d["answer"]


def test_ask_filters(client):
    d = client.predict("有哪些建议？", [], ["界别"], api_name="/ask")
    assert d["citations"]
    assert {c["proposer_type"] for c in d["citations"]} == {"界别"}
    d = client.predict("提升科技创新", ["民盟"], [], api_name="/ask")
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-14"}


def test_precedents_and_proposal(client):
    d = client.predict("建议成立郑州市产业园区联盟，由园区型企业牵头，产业园区全员参与。", 3, api_name="/precedents")
    assert d["found"] is True
    assert d["precedents"][0]["proposal_id"] == "kjcx-25"
    assert d["precedents"][0]["overlaps"]
    assert len(d["precedents"]) <= 3
    p = client.predict("kjcx-25", api_name="/proposal")
    assert p["proposal_id"] == "kjcx-25" and p["title"] == "建立产业园区联盟"
    assert p["proposers"] == ["郑州市政协科技、科协界别组"] and p["proposer_type"] == "界别"
    assert "产业园区联盟" in p["text"]
    assert "市政协十四届十九次常委会议" in p["document"]["meta"]["meeting"]["name"]
    assert "市政协十四届十九次常委会议" in p["meeting"]
    rows = client.predict(api_name="/proposals")
    assert sum(r["kind"] == "proposal" for r in rows) == 26


def test_bad_inputs_give_clear_errors_and_server_keeps_serving(client):
    assert "请输入问题" in _err(client, "", api_name="/ask")
    assert "请输入问题" in _err(client, "   \n\t ", api_name="/ask")
    assert "问题太长" in _err(client, "科" * 20000, api_name="/ask")
    assert "没有可识别的文字" in _err(client, "\x00\x01\x02\x1f", api_name="/ask")
    assert "没有编号为" in _err(client, "kjcx-99", api_name="/proposal")
    assert "未知" in _err(client, "科技", ["不存在的单位"], [], api_name="/ask")
    assert "未知的提出者类型" in _err(client, "科技", [], ["外星人"], api_name="/ask")
    assert "太长" in _err(client, "创新" * 5000, 5, api_name="/precedents")
    assert "请输入" in _err(client, " ", 5, api_name="/precedents")
    msg = _err(client, "kjcx-<b>1</b>", api_name="/proposal")
    assert "<b>" not in msg  # the toast renders HTML: the echoed id is escaped
    # HTML / script in a question: no markup survives into the answer, and it is still answered
    d = client.predict("<script>alert(1)</script>民盟提了什么建议", api_name="/ask")
    assert "<script" not in d["answer"] and "<script" not in d["question"]
    # still serving
    assert client.predict("民盟提了什么建议", api_name="/ask")["found"] is True


def test_concurrent_clients_get_their_own_answers(served):
    cases = {
        "民盟提了什么建议": ("民盟郑州市委会", "kjcx-14"),
        "民革提了什么建议": ("民革郑州市委会", "kjcx-13"),
        "民建提了什么建议": ("民建郑州市委会", "kjcx-15"),
        "民进提了什么建议": ("民进郑州市委会", "kjcx-16"),
        "九三学社提了什么建议": ("九三学社郑州市委会", "kjcx-03"),
        "农工党提了什么建议": ("农工党郑州市委会", "kjcx-02"),
        "惠济区政协提了什么建议": ("惠济区政协", "kjcx-18"),
        "哪个单位建议建立产业园区联盟？": ("郑州市政协科技、科协界别组", "kjcx-25"),
    }

    def run(q):
        c = gradio_client.Client(served.local_url, verbose=False)
        return q, [c.predict(q, api_name="/ask") for _ in range(2)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, cases))
    assert len(results) == 8
    for q, answers in results:
        who, pid = cases[q]
        for d in answers:
            assert d["question"] == q
            assert who in d["answer"], (q, d["answer"])
            assert pid in {c["proposal_id"] for c in d["citations"]}, (q, d["citations"])


# ------------------------------------------------------------------------------------------- UI handlers
def _fn(app, name):
    fns = [f.fn for f in app.fns.values()] + [getattr(f, "validator", None) for f in app.fns.values()]
    return next(f for f in fns if getattr(f, "__name__", "") == name)


def test_chat_stream_keeps_history_and_escapes(hash_engine):
    app = appmod.build_app(hash_engine)
    respond = _fn(app, "respond")
    outs = list(respond("民革提了什么建议？", [], [], [], []))
    assert len(outs) >= 2  # streamed in pieces
    chat, answers, sources, download, box = outs[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "民革郑州市委会" in chat[1]["content"] and "\\[1\\]" in chat[1]["content"]
    assert isinstance(answers[0], Answer) and answers[0].citations[0].proposal_id == "kjcx-13"
    assert "<mark " in sources and "kjcx-13" in sources
    assert box == ""
    path = download.value if isinstance(download.value, str) else download.value["path"]
    text = open(path, encoding="utf-8").read()
    assert "民革郑州市委会" in text and "kjcx-13" in text and "kjcx-13#" in text and "[1]" in text
    # partial pieces grow towards the full answer
    lens = [len(o[0][1]["content"]) for o in outs]
    assert lens == sorted(lens)
    # follow-up: "那民盟呢?" uses the previous Answer from the state
    outs2 = list(respond("那民盟呢？", chat, answers, [], []))
    chat2, answers2 = outs2[-1][0], outs2[-1][1]
    assert len(chat2) == 4 and len(answers2) == 2
    assert answers2[1].citations and answers2[1].citations[0].proposal_id == "kjcx-14"
    assert "民盟郑州市委会" in chat2[3]["content"]
    # an XSS question is shown as text
    outs3 = list(respond('<img src=x onerror="alert(1)">民盟提了什么建议', [], [], [], []))
    shown = outs3[-1][0][0]["content"]
    assert "<img" not in shown and "&lt;img" in shown
    # bad input: a clear gr.Error, nothing yielded
    for bad in ["", "  ", "问" * 20000, "\x00\x07"]:
        with pytest.raises(gr.Error) as ei:
            list(respond(bad, [], [], [], []))
        assert re.search(r"请输入问题|问题太长|没有可识别", ei.value.message)


def test_ui_precedent_and_browse_handlers(hash_engine):
    app = appmod.build_app(hash_engine)
    find_ui = _fn(app, "find_ui")
    h = find_ui("建议成立郑州市产业园区联盟，由园区型企业牵头。", 3, [], [])
    assert "kjcx-25" in h and "<mark" in h and "郑州市政协科技、科协界别组" in h
    with pytest.raises(gr.Error):
        find_ui("   ", 3, [], [])
    show = _fn(app, "show")
    d = show("kjcx-18")
    assert "惠济区政协" in d and "市政协十四届十九次常委会议" in d and "郑报全媒体记者" in d


# ------------------------------------------------------------------------------------------- builders
def test_escape_helpers():
    for x in XSS:
        e = appmod.esc(x)
        assert "<" not in e and ">" not in e and "$" not in e and "{" not in e and '"' not in e
        assert html.unescape(e) == x
        m = appmod.md_text(x)
        assert "<" not in m and ">" not in m
    # markdown links / images / emphasis are neutralized
    assert appmod.md_text("[a](javascript:x) ![i](x) **b**") == r"\[a\]\(javascript\:x\) \!\[i\]\(x\) \*\*b\*\*"
    assert appmod.md_text("a\x00b\u200bc") == "abc"


def test_highlight_marks_and_escapes():
    text = "前文<b>甲</b>。引文<i>乙</i>。后文&。"
    base = 100
    s = base + text.index("引文")
    e = base + text.index("后文")
    out = appmod.highlight(text, base, [(s, e, "<sup>[1]</sup>", 'tip "x"<y>')])
    assert out.count("<mark") == 1 and "<sup>[1]</sup>" in out
    assert "<b>" not in out and "&lt;b&gt;" in out and "&amp;" in out
    assert 'title="tip &quot;x&quot;&lt;y&gt;"' in out
    assert re.sub(r"<[^>]+>", "", out.replace("<sup>[1]</sup>", "")) == appmod.esc(text)
    # out-of-range and overlapping spans are clipped, not crashing
    out = appmod.highlight("abcdef", 0, [(2, 4, "", ""), (3, 99, "", ""), (-5, 1, "", "")])
    assert re.sub(r"</?mark>", "", out) == "abcdef"


def _fake_answer(engine, quote_html=False):
    p = engine.index.proposals["kjcx-14"]
    doc = engine.index.documents[p.doc_id]
    s, e = p.start, p.start + 20
    c = Citation(1, "kjcx-14#0", "kjcx-14", p.title, p.proposers, p.proposer_type, doc.text[s:e], s, e, 0.5)
    text = "民盟郑州市委会提出：“" + doc.text[s:e] + "”[1] <script>alert(1)</script>"
    return Answer("<img src=x onerror=alert(1)>问题", text, True, (c,), {"total": 1.0})


def test_sources_html_full_text_with_mark(hash_engine):
    ans = _fake_answer(hash_engine)
    h = appmod.sources_html(hash_engine, ans)
    p = hash_engine.index.proposals["kjcx-14"]
    assert "[1]" in h and "民盟郑州市委会" in h and "民主党派" in h and p.title in h
    assert f"<mark title=\"引文 [1]\">{appmod.esc(ans.citations[0].quote)}</mark>" in h
    # the full proposal text is there, not just the quote
    plain = html.unescape(re.sub(r"<sup>\[\d+\]</sup>", "", re.sub(r"<(?!/?sup)[^>]+>", "", h)))
    assert p.text[-30:] in plain
    assert "<script" not in h
    assert "提问后" in appmod.sources_html(hash_engine, None)


def test_answer_markdown_and_export_escape(hash_engine):
    ans = _fake_answer(hash_engine)
    md = appmod.answer_markdown(ans)
    assert "<script" not in md and "&lt;script&gt;" in md and "\\[1\\]" in md
    ex = appmod.export_markdown(hash_engine, ans, {"提出者筛选": ["民盟郑州市委会"]})
    assert "<script" not in ex and "<img" not in ex
    for want in ("## 回答", "## 来源", "### [1] 民盟郑州市委会", "kjcx-14", "kjcx-14#0", "提升科技创新原动力",
                 f"字符 {ans.citations[0].start}–{ans.citations[0].end}", "> " + ans.citations[0].quote[:10]):
        assert want in ex, want


def test_precedents_html_not_found_message(hash_engine):
    res = hash_engine.precedents.find("量子引力与弦论的数学结构研究", 3)
    h = appmod.precedents_html(hash_engine, res)
    if not res.found:
        assert "没有找到先例" in h
    from assistant.precedent import PrecedentResult
    empty = PrecedentResult("x", False, (), "没有找到先例：现有建议中没有与这段文字相同或相近的主张。", {"total": 1.0})
    assert "没有找到先例" in appmod.precedents_html(hash_engine, empty)


def test_subtitle_names_corpus(hash_engine):
    h = appmod.subtitle_html(hash_engine)
    assert "议政助手" in h and "26 份建议" in h and "市政协十四届十九次常委会议" in h


def test_pieces_rebuild_text():
    text = "民盟郑州市委会（民主党派）在《提升科技创新原动力》中提出：“引进大院名所,提升郑州科技创新原动力。”[1]\n2. 第二条" * 3
    ps = appmod._pieces(text)
    assert ps[-1] == text and all(text.startswith(p) for p in ps) and len(ps) > 3


def test_validators_flag_bad_input_before_answering(hash_engine):
    app = appmod.build_app(hash_engine)
    check = _fn(app, "check_question")
    ok = check("民盟提了什么建议", [], [], [], [])
    assert all(v["is_valid"] for v in ok)
    for bad, want in [("", "请输入问题"), ("  \t", "请输入问题"), ("问" * 20000, "问题太长"), ("\x01\x02", "没有可识别")]:
        v = check(bad, [], [], [], [])
        assert v[0]["is_valid"] is False and want in v[0]["message"]
        assert all(x["is_valid"] for x in v[1:])
    draft = _fn(app, "check_draft")
    assert draft("创新" * 5000, 5, [], [])[0]["is_valid"] is False
    assert draft("建立产业园区联盟", 5, [], [])[0]["is_valid"] is True


def test_precedents_html_escapes_and_marks_strength(hash_engine):
    from assistant.precedent import Overlap, Precedent, PrecedentResult
    p = hash_engine.index.proposals["kjcx-25"]
    doc = hash_engine.index.documents[p.doc_id]
    s1 = p.start
    e1 = doc.text.index("。", s1) + 1
    e2 = doc.text.index("。", e1) + 1
    hostile = '<img src=x onerror="alert(1)"> ${x} {{y}}'
    res = PrecedentResult(hostile, True, (Precedent(p, 0.9, (
        Overlap(s1, e1, doc.text[s1:e1], hostile, 0.8, 0.9),
        Overlap(e1, e2, doc.text[e1:e2], hostile, 0.1, 0.9))),), "找到 1 份相近的建议。", {"total": 1.0})
    h = appmod.precedents_html(hash_engine, res, strong=0.35)
    assert "<img" not in h and "${" not in h and "{{" not in h and "&lt;img" in h
    assert h.count('<mark class="yz-strong"') >= 1 and h.count('<mark class="yz-weak"') >= 1
    assert "郑州市政协科技、科协界别组" in h and "界别组" in h and "相似度 0.900" in h


# ------------------------------------------------------------------------------------------- 语料管理 + meetings
CSV = ("序号,标题,提案者,会议\n"
       "1,关于建设城市口袋公园的建议,民盟郑州市委会,市政协十五届三次会议\n"
       "2,关于推进老旧小区加装电梯的建议,九三学社郑州市委会,市政协十五届三次会议\n"
       "3,关于发展夜间经济的建议,民建郑州市委会,市政协十五届三次会议\n")


@pytest.fixture
def holder(tmp_path):
    import shutil
    from dataclasses import replace

    from assistant.config import ROOT, Settings
    from assistant.engine import Engine, EngineHolder

    def calibrate(eng):
        eng.answerer.cal = replace(eng.answerer.cal, margin_weight=0.0)
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    settings = Settings.from_env({}, model="hash-bigram-256", corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "idx")
    eng = Engine.open(settings)
    calibrate(eng)
    return EngineHolder(eng, on_open=calibrate)


def _quiet(*a, **k):  # stands in for gr.Progress outside a request
    return None


def test_corpus_tab_preview_accept_ask_remove(holder, tmp_path):
    from assistant import collections as colls
    app = appmod.build_app(holder)
    preview_ui, accept_ui = _fn(app, "preview_ui"), _fn(app, "accept_ui")
    ask_remove, remove_ui, respond, refresh = (_fn(app, n) for n in ("ask_remove", "remove_ui", "respond", "refresh"))
    corpus_dir = holder.settings.corpus_dir
    listing = sorted(p.relative_to(corpus_dir).as_posix() for p in corpus_dir.rglob("*"))
    up = tmp_path / "up"
    up.mkdir()
    (up / "<b>目录<b>.csv").write_text(CSV, encoding="utf-8")
    (up / "bad.exe").write_bytes(b"MZ")

    # the validator flags a missing upload and a bad or taken name at their fields, before anything runs
    check = _fn(app, "check_preview")
    v = check([], "../<b>x", "proposals", None)
    assert v[0]["is_valid"] is False and "请先选择" in v[0]["message"]
    assert v[1]["is_valid"] is False and "无效" in v[1]["message"]
    assert check(["a.csv"], "kjcx", "proposals", None)[1]["is_valid"] is False
    assert all(x["is_valid"] for x in check(["a.csv"], "新合集", "proposals", None))
    assert all(x["is_valid"] for x in check(["a.csv"], "", "proposals", None))

    # a bad upload: a fatal problem by file, the import button stays off, nothing changes
    state, rows, report, button, status = preview_ui([str(up / "bad.exe")], "", "proposals", None)
    assert not state.ok and button.interactive is False and rows.value["data"] in ([], [[]]) and rows.visible is False
    assert "bad.exe" in report and "不支持的文件类型" in report and "yz-fatal" in report
    with pytest.raises(gr.Error, match="无法解析"):
        accept_ui(state, progress=_quiet)
    for bad_name in ["../x", "kjcx"]:
        with pytest.raises(gr.Error):
            preview_ui([str(up / "<b>目录<b>.csv")], bad_name, "proposals", state)
    with pytest.raises(gr.Error, match="请先选择"):
        preview_ui([], "", "proposals", None)
    with pytest.raises(gr.Error, match="预览"):
        accept_ui(None, progress=_quiet)
    assert sorted(p.relative_to(corpus_dir).as_posix() for p in corpus_dir.rglob("*")) == listing

    # a good one: the table shows file, 序号, title, proposer, type, meeting; names are escaped
    old_staging = state.staging
    state, rows, report, button, status = preview_ui([str(up / "<b>目录<b>.csv")], "", "proposals", state)
    assert not old_staging.exists()  # the replaced preview's staging copy is gone
    assert state.ok and button.interactive is True and rows.visible is True
    rows = appmod.preview_rows(state)
    assert rows[0][1:5] == ["01", "关于建设城市口袋公园的建议", "民盟郑州市委会", "民主党派"] and "十五届三次会议" in rows[0][5]
    assert "<b>" not in report and "3 份建议" in report
    name = state.name
    out = accept_ui(state, progress=_quiet)
    msg, new_state, new_rows, _, new_button, files = out[:6]
    header, who, kinds, meetings, p_who, p_kinds, note, table, pick, coll_rows, coll_pick = out[6:]
    assert "已导入合集" in msg and "3 份建议" in msg and new_state is None and new_button.interactive is False
    assert (corpus_dir / "proposals" / name).is_dir()
    eng = holder.engine
    assert len(eng.index.proposals) == 27 + 3
    # the header and the meeting filter now list both meetings, with counts
    assert "市政协十四届十九次常委会议" in header and "十五届三次会议" in header and "<b>3</b> 份" in header
    assert len(meetings.choices) == 2
    assert any(r[0] == name and r[3] == "3" for r in coll_rows) and name in [c[0] for c in coll_pick.choices]
    assert len(table) == 30 and any("十五届三次会议" in r[4] for r in table)
    # the chat sees the new collection without a restart, with the meeting filter
    meeting = next(m for m, _ in meetings.choices if "十五届三次" in m)
    chat, answers, sources, *_ = list(respond("谁建议建设城市口袋公园？", [], [], [], [], None, [meeting]))[-1]
    assert "民盟郑州市委会" in chat[-1]["content"] and "\\[1\\]" in chat[-1]["content"]
    assert answers[-1].citations[0].proposal_id.startswith(colls._slug(name))
    # a page opened now shows the new corpus
    assert "十五届三次会议" in refresh()[0]

    # removal asks first, then takes it out of the corpus and the index
    row, warn = ask_remove(name)
    assert row.visible is True and "确定删除" in warn and "3 份建议" in warn
    out = remove_ui(name, progress=_quiet)
    assert out[0].visible is False and "已删除合集" in out[1]
    assert not (corpus_dir / "proposals" / name).exists() and len(holder.engine.index.proposals) == 27
    assert out[2] == "" and "十五届三次会议" not in out[3]
    with pytest.raises(gr.Error, match="没有名为"):
        remove_ui("../../etc", progress=_quiet)
    with pytest.raises(gr.Error, match="没有删除"):
        remove_ui("kjcx", progress=_quiet)  # the corpus would be empty


def test_corpus_tab_unexpected_errors_are_generic(holder, monkeypatch):
    from assistant import collections as colls
    app = appmod.build_app(holder)

    def boom(*a, **k):
        raise RuntimeError("secret path /etc/shadow")
    monkeypatch.setattr(colls, "stage", boom)
    with pytest.raises(gr.Error) as ei:
        _fn(app, "preview_ui")(["x.csv"], "", "proposals", None)
    assert ei.value.message == appmod.INTERNAL_ERROR and "shadow" not in ei.value.message


def test_header_and_rows_show_meetings(hash_engine):
    assert appmod.meeting_choices(hash_engine) and len(appmod.meeting_counts(hash_engine)) == 1
    (label, n), = appmod.meeting_counts(hash_engine).items()
    assert "市政协十四届十九次常委会议" in label and n == 26
    rows = appmod.proposal_rows(hash_engine)
    assert all(len(r) == 5 for r in rows) and rows[1][4] == label
    # a member's office is shown beside the name, so a reviewer sees it was read
    assert appmod.with_roles(["民盟某市委", "李某"], ["", "副主委"]) == ["民盟某市委", "李某（副主委）"]
    assert appmod.with_roles(["王某"], []) == ["王某"]
    html_ = appmod.preview_html(None) + appmod.problems_html([])
    assert "解析预览" in html_


def test_meeting_filter_reaches_the_answerer(client, hash_engine):
    (meeting,) = appmod.meeting_choices(hash_engine)
    d = client.predict("民盟提了什么建议", [], [], [meeting], api_name="/ask")
    assert d["found"] and "民盟郑州市委会" in d["answer"] and d["citations"]

    def old_style(question, history=(), *, proposers=(), types=()):
        return None

    def new_style(question, history=(), *, proposers=(), types=(), meetings=()):
        return None
    assert appmod._filters(old_style, ["民盟"], [], []) == {"proposers": ("民盟",), "types": ()}
    with pytest.raises(appmod.AssistantError, match="会议"):
        appmod._filters(old_style, [], [], [meeting])
    assert appmod._filters(new_style, [], [], [meeting])["meetings"] == (meeting,)
