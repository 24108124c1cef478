"""议政助手 web UI (Gradio 6): presentation only. It calls the library and formats what comes back.

Tabs: 问答 (chat with cited answers + sources panel + Markdown export; filters by proposer, type
and meeting), 先例查找 (drafters paste a draft or topic), 建议浏览 (every proposal, readable in full),
语料管理 (upload a collection, preview what was parsed, import it, remove one; the index is rebuilt
and the chat uses the new engine without a restart). Named API endpoints for scripts:
/ask, /precedents, /proposal, /proposals (see `build_app`).

Every handler reads the current engine from an `EngineHolder` once and uses it to the end, so a
corpus change never mixes two indexes inside one request.

Safety rule of this module: every string that comes from a user or a document is escaped
(`esc` for HTML, `md_text` for the chatbot's Markdown) before it is put into markup, and errors
reach the user as gr.Error with the library's Chinese message, never as a traceback.
"""
from __future__ import annotations

import functools
import html
import logging
import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no network: no telemetry, no version check

import gradio as gr  # noqa: E402

from . import collections as colls  # noqa: E402
from .answer import Answer, Citation, Turn, clean_question  # noqa: E402
from .errors import AssistantError  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "议政助手"
# Examples come from the corpus being served (its proposers, types and titles), never from a
# list written for one city.


def example_questions(engine, n: int = 6) -> list[str]:
    from .proposers import LOCAL, short_names
    props = [p for p in engine.index.proposals.values() if p.kind == "proposal"]
    out: list[str] = []
    types = sorted({t for p in props for t in (p.proposer_types or (p.proposer_type,)) if t and t != "其他"})
    if "民主党派" in types:
        out.append("各民主党派提了哪些建议？")
    shorts = list(dict.fromkeys(s for p in props for s in short_names(p.proposers[0]) if p.proposers))
    if len(shorts) >= 2:
        out += [f"{shorts[0]}提了什么建议？", f"那{shorts[1]}呢？"]
    for p in props[:: max(1, len(props) // 3)][:3]:
        out.append(f"谁提出了“{p.title[:20]}”？")
    if LOCAL in types:
        out.append("哪些区县政协提交了建议？")
    return out[:n] or ["有哪些建议？"]


def example_drafts(engine, n: int = 2) -> list[str]:
    """A drafter's paragraph is shown as one proposal's own first recommending sentences."""
    out = []
    for p in [p for p in engine.index.proposals.values() if p.kind == "proposal"][:: 7][:n]:
        sents = [s for s in re.split(r"(?<=[。；])", p.text) if "建议" in s or "要" in s] or [p.text]
        out.append("".join(sents)[:120])
    return out


STREAM_PIECE = 24          # characters per streamed piece of an answer
STREAM_DELAY = 0.015       # seconds between pieces (the answer is computed at once; this only paces display)
INTERNAL_ERROR = "服务内部出错，请稍后再试；如果反复出现，请联系管理员。"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
# Markdown punctuation that could start formatting, links, images, lists or code. `<`, `>`, `&`
# and quotes are left to html.escape (a backslash before `&` would show "&lt;" literally).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")

CSS = """
.gradio-container { max-width: 1380px !important; margin: 0 auto !important; }
#yz-header h1 { margin: 0 0 .2em 0; font-size: 1.9em; letter-spacing: .06em; }
#yz-header .yz-sub { color: var(--body-text-color-subdued); font-size: .98em; margin: 0; }
#yz-header { padding: .4em .2em .6em .2em; border-bottom: 1px solid var(--border-color-primary); margin-bottom: .4em; }
.yz-panel-title { font-weight: 600; margin: .2em 0 .5em 0; }
.yz-empty { color: var(--body-text-color-subdued); padding: 1.2em .6em; line-height: 1.7; }
.yz-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .7em .9em; margin: 0 0 .8em 0;
           background: var(--background-fill-primary); }
.yz-card-head { display: flex; flex-wrap: wrap; gap: .35em .6em; align-items: baseline; margin-bottom: .35em; }
.yz-n { font-weight: 700; color: #b42318; }
.yz-who { font-weight: 600; }
.yz-tag { font-size: .8em; padding: .05em .5em; border-radius: 999px; background: #fdecea; color: #912018; white-space: nowrap; }
.yz-tag.yz-muted { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.yz-title { font-weight: 600; margin: .1em 0 .3em 0; }
.yz-meta { font-size: .8em; color: var(--body-text-color-subdued); margin-bottom: .4em; word-break: break-all; }
.yz-text { white-space: pre-wrap; line-height: 1.85; font-size: .95em; max-height: 22em; overflow-y: auto;
           padding-right: .3em; }
.yz-text mark { background: #ffe58f; color: inherit; padding: .05em .1em; border-radius: 3px; }
.yz-text sup { color: #b42318; font-weight: 700; margin: 0 .1em; }
.yz-note { font-size: .85em; color: var(--body-text-color-subdued); margin: .3em 0 0 0; }
.yz-msg { padding: .7em .9em; border-radius: 10px; margin-bottom: .8em; line-height: 1.7; }
.yz-msg.yz-ok { background: #ecfdf3; border: 1px solid #abefc6; }
.yz-msg.yz-none { background: #fff6ed; border: 1px solid #f9dbaf; }
.yz-doc { white-space: pre-wrap; line-height: 1.9; font-size: 1em; }
.yz-dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; font-size: .88em; margin: .4em 0 .8em 0; }
.yz-dl dt { color: var(--body-text-color-subdued); }
.yz-dl dd { margin: 0; }
.yz-text mark.yz-weak, .yz-legend mark.yz-weak, .yz-overlaps mark.yz-weak { background: #dbeafe; }
.yz-legend mark.yz-strong, .yz-overlaps mark.yz-strong { background: #ffe58f; }
.yz-legend { font-size: .85em; color: var(--body-text-color-subdued); margin: 0 0 .8em 0; }
.yz-legend mark { padding: .05em .3em; border-radius: 3px; color: inherit; }
.yz-overlaps { font-size: .85em; margin: .5em 0 0 0; }
.yz-overlaps summary { cursor: pointer; color: var(--body-text-color-subdued); }
.yz-overlaps ul { padding-left: 1.2em; margin: .3em 0 0 0; }
.yz-overlaps li { margin: .3em 0; line-height: 1.6; }
.yz-overlaps mark { color: inherit; border-radius: 3px; }
#yz-header .yz-meetings { display: flex; flex-wrap: wrap; gap: .3em .5em; margin: .45em 0 0 0; padding: 0; list-style: none; }
#yz-header .yz-meetings li { font-size: .85em; padding: .1em .6em; border-radius: 999px;
                             background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
#yz-header .yz-meetings b { color: #b42318; font-weight: 600; }
.yz-problems { margin: .3em 0 .6em 0; padding-left: 1.2em; line-height: 1.7; }
.yz-problems li.yz-fatal { color: #b42318; font-weight: 600; }
.yz-problems li.yz-warn { color: #93370d; }
.yz-problems .yz-where { font-family: var(--font-mono); font-size: .9em; margin-right: .4em; }
.yz-msg.yz-bad { background: #fef3f2; border: 1px solid #fecdca; }
#yz-remove { align-self: flex-end; flex-grow: 0 !important; margin-bottom: .55em; }
#yz-remove-confirm { max-width: 520px; }
"""


# ---------------------------------------------------------------------------------------- escaping
def esc(text) -> str:
    """HTML-escape text for any markup this module builds. Also neutralizes `$`, `{`, `}` and
    backticks so gr.HTML's template engine can never read document or user text as a template."""
    s = html.escape("" if text is None else str(text), quote=True)
    return (s.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;"))


def md_text(text) -> str:
    """Plain text -> Markdown that renders as exactly that text (gr.Chatbot renders Markdown + HTML)."""
    s = _CONTROL.sub("", "" if text is None else str(text))
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return html.escape(s, quote=True)


def _error(e: AssistantError) -> gr.Error:
    # gr.Error renders its message as HTML in the toast: escape (it may quote user input).
    return gr.Error(esc(e.message), title="无法处理", print_exception=False)


def _edge(fn):
    """Library errors -> gr.Error with their Chinese message; anything else -> a generic message
    (the traceback goes to the server log, never to the page)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except AssistantError as e:
            raise _error(e) from None
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(INTERNAL_ERROR, title="出错了", print_exception=False) from None
    return wrapper


# ---------------------------------------------------------------------------------------- helpers
def _who(proposers: Sequence[str], kind: str = "proposal") -> str:
    if proposers:
        return "、".join(proposers)
    return {"intro": "导语", "policy": "政策文本"}.get(kind, "—")


def with_roles(names: Sequence[str], roles: Sequence[str]) -> list[str]:
    """"某某（常委）": the office printed beside a member, so a reviewer sees it was read."""
    return [f"{n}（{r}）" if r else n for n, r in zip(names, list(roles) + [""] * len(names))]


def _type_label(p) -> str:
    return p.proposer_type or {"intro": "导语", "policy": "政策文本"}.get(p.kind, "")


def highlight(text: str, base: int, spans: Iterable[tuple]) -> str:
    """Escape `text` (which starts at document offset `base`) and wrap each document-offset span
    (start, end, after, title[, css_class]) in <mark>; `after` is trusted markup placed after the mark
    (e.g. <sup>[1]</sup>), `title` is plain text for a tooltip. Overlapping or out-of-range spans are clipped."""
    out, pos = [], 0
    for span in sorted(spans, key=lambda x: (x[0], x[1])):
        s, e, after, title = span[:4]
        cls = span[4] if len(span) > 4 else ""
        s, e = max(s - base, pos), min(e - base, len(text))
        if e <= s:
            continue
        attrs = (f' class="{esc(cls)}"' if cls else "") + (f' title="{esc(title)}"' if title else "")
        out.append(esc(text[pos:s]))
        out.append(f"<mark{attrs}>{esc(text[s:e])}</mark>{after}")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def meeting_counts(engine) -> dict[str, int]:
    """Meeting label -> number of proposals in the index, in corpus order ("未注明会议" for none)."""
    docs, out = engine.index.documents, {}
    for p in engine.index.proposals.values():
        if p.kind == "proposal":
            label = colls.meeting_label(p, docs.get(p.doc_id)) or colls.NO_MEETING
            out[label] = out.get(label, 0) + 1
    return out


def meeting_choices(engine) -> list[str]:
    """Every meeting label the 会议 filter can select (what `Proposal.meeting` says)."""
    docs = engine.index.documents
    return list(dict.fromkeys(lab for p in engine.index.proposals.values() if p.kind == "proposal"
                              if (lab := colls.meeting_label(p, docs.get(p.doc_id)))))


def corpus_summary(engine) -> dict:
    docs = [d for d in engine.index.documents.values() if d.kind == "proposals"]
    props = [p for p in engine.index.proposals.values() if p.kind == "proposal"]
    counts = meeting_counts(engine)
    meetings = [m for m in counts if m != colls.NO_MEETING]
    topics = list(dict.fromkeys(d.title for d in docs if d.title))
    return {"proposals": len(props), "proposers": len({x for p in props for x in p.proposers}),
            "meetings": meetings, "meeting_counts": counts, "topics": topics,
            "documents": len(engine.index.documents)}


def subtitle_html(engine) -> str:
    """The header: what the corpus holds, with every meeting and its number of proposals."""
    s = corpus_summary(engine)
    counts = s["meeting_counts"]
    tail = "回答只摘录原文，每条建议都注明提出者，并可查看引文出处。"
    if len(counts) <= 1:
        where = "、".join(s["meetings"]) or "本库"
        topic = "".join(f"“{t}”" for t in s["topics"][:1])
        line = (f"收录{where}{('围绕' + topic + '专题议政') if topic else ''}的 {s['proposals']} 份建议"
                f"（{s['proposers']} 个提出单位）。{tail}")
        chips = ""
    else:
        line = f"收录 {len(counts)} 个会议的 {s['proposals']} 份建议（{s['proposers']} 个提出单位）。{tail}"
        chips = '<ul class="yz-meetings">' + "".join(
            f"<li>{esc(m)} <b>{n}</b> 份</li>" for m, n in counts.items()) + "</ul>"
    return (f'<div id="yz-header"><h1>{esc(TITLE)}</h1><p class="yz-sub">{esc(line)}</p>{chips}</div>')


# ---------------------------------------------------------------------------------------- 问答
def _document_of(engine, proposal_id: str):
    p = engine.index.proposals[proposal_id]
    return p, engine.index.documents[p.doc_id]


def sources_html(engine, answer: Answer | None) -> str:
    """One card per cited proposal: [n] numbers, proposer(s), type, title, and the full proposal text
    with every quoted span highlighted (followed by its [n])."""
    if answer is None:
        return ('<div class="yz-empty">提问后，这里会列出回答引用的每一处原文：编号、提出者、类型、建议标题，'
                '以及在建议全文中高亮的引文。</div>')
    if not answer.citations:
        msg = "这次回答没有引用任何建议原文。" if not answer.found else "没有引文。"
        return f'<div class="yz-empty">{esc(msg)}</div>'
    groups: dict[str, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.proposal_id, []).append(c)
    cards = []
    for pid, cites in groups.items():
        p, doc = _document_of(engine, pid)
        nums = "".join(f'<span class="yz-n">[{c.n}]</span>' for c in cites)
        spans = [(c.start, c.end, f"<sup>[{c.n}]</sup>", f"引文 [{c.n}]") for c in cites]
        body = highlight(doc.text[p.start:p.end], p.start, spans)
        offsets = "；".join(f"[{c.n}] {c.chunk_id} 字符 {c.start}–{c.end}" for c in cites)
        cards.append(
            f'<div class="yz-card" data-proposal="{esc(pid)}">'
            f'<div class="yz-card-head">{nums}<span class="yz-who">{esc(_who(p.proposers, p.kind))}</span>'
            f'<span class="yz-tag">{esc(_type_label(p))}</span></div>'
            f'<div class="yz-title">《{esc(p.title)}》</div>'
            f'<div class="yz-meta">建议编号 {esc(pid)} · {esc(offsets)}</div>'
            f'<div class="yz-text">{body}</div></div>')
    return "".join(cards)


def answer_markdown(answer: Answer) -> str:
    """The chat bubble: the answer text, escaped so it renders as plain text with its [n] markers."""
    return md_text(answer.answer)


def export_markdown(engine, answer: Answer, filters: dict | None = None) -> str:
    """The last answer with its sources, as a Markdown document (text escaped against HTML)."""
    def t(s) -> str:  # neutralize HTML in a Markdown file that someone may render
        return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    s = corpus_summary(engine)
    lines = [f"# {TITLE} · 回答导出", "",
             f"- 问题：{t(answer.question)}",
             f"- 导出时间：{datetime.now().strftime('%Y-%m-%d %H:%M:%S')}",
             f"- 语料：{t('、'.join(s['meetings']) or '本库')}，{s['proposals']} 份建议"]
    if filters:
        for k, v in filters.items():
            if v:
                lines.append(f"- {k}：{t('、'.join(v))}")
    status = verification_status(answer)
    lines += ["", "## 回答", "", t(answer.answer), ""] + ([t(status), ""] if status else []) + ["## 来源", ""]
    if not answer.citations:
        lines.append("（本回答没有引用原文。）")
    for c in answer.citations:
        p, doc = _document_of(engine, c.proposal_id)
        lines += [f"### [{c.n}] {t(_who(c.proposers, p.kind))}（{t(c.proposer_type or _type_label(p))}）《{t(c.title)}》", "",
                  f"- 提出者：{t(_who(c.proposers, p.kind))}",
                  f"- 建议标题：{t(c.title)}",
                  f"- 建议编号：{t(c.proposal_id)}",
                  f"- 文本块：{t(c.chunk_id)}",
                  f"- 位置：{t(doc.path)} 字符 {c.start}–{c.end}",
                  "", "> " + t(c.quote).replace("\n", "\n> "), ""]
    return "\n".join(lines).rstrip() + "\n"


def _pieces(text: str, size: int = STREAM_PIECE) -> list[str]:
    """Growing prefixes of `text`, cut after punctuation or a citation where possible."""
    out, pos = [], 0
    while pos < len(text):
        end = min(len(text), pos + size)
        if end < len(text):
            window = text[pos:end]
            cut = max(window.rfind(ch) for ch in "，。；：、]\n")
            if cut >= size // 3:
                end = pos + cut + 1
        out.append(text[:end])
        pos = end
    return out or [""]


def _shown_question(text: str) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub("", str(text or ""))).strip()


MODE_EXTRACTIVE = "摘录式"
MODE_LLM = "生成式（大模型，回答前核验）"
LLM_PENDING = "（生成中，尚未核验……）"
LLM_STREAM_EVERY = 0.08    # seconds between chat updates while the model streams


def verification_status(answer: Answer) -> str:
    """One line about how a generative answer was checked ("" for extractive answers)."""
    ctx = answer.context or {}
    if ctx.get("llm_error"):
        return f"【核验】大模型服务不可用（{ctx['llm_error']}），以下为摘录式回答。"
    v = ctx.get("verification")
    if not v:
        return ""
    if not v.get("llm_called"):
        if v.get("fallback"):
            return "【核验】" + "；".join(v.get("reasons") or []) + "，以下为摘录式回答。"
        return "【核验】检索没有找到能回答问题的建议，未调用大模型。"
    if v.get("fallback"):
        return "【核验】未通过：" + "；".join(v.get("reasons") or []) + "。已改用摘录式回答。"
    if v.get("declined"):
        return "【核验】大模型判断资料不能回答这个问题。"
    msg = f"【核验】通过：{v.get('cited_sentences', 0)}/{v.get('claims', 0)} 句标注了出处，提出者与引文一致"
    if v.get("unsupported"):
        msg += f"；{len(v['unsupported'])} 句与原文字面重合较低，请对照来源核实"
    if v.get("dangling_markers"):
        msg += f"；已删除 {v['dangling_markers']} 个无对应资料的引用编号"
    return msg + "。"


# ---------------------------------------------------------------------------------------- 先例
def precedent_dict(result) -> dict:
    return {"draft": result.draft, "found": result.found, "message": result.message,
            "precedents": [p.to_dict() for p in result.precedents],
            "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()}}


def precedents_html(engine, result, strong: float = 0.35) -> str:
    """Ranked precedents: proposer(s), type, score, and the proposal text with overlapping sentences
    marked: `yz-strong` for shared wording (lexical containment >= `strong`), `yz-weak` for a similar
    idea in other words (embedding similarity only)."""
    if result is None:
        return ('<div class="yz-empty">粘贴一段建议草稿或输入一个主题，点击“查找先例”，'
                '看看哪些单位已经提过相同或相近的主张，以及他们的原话。</div>')
    if result.found:
        head = (f'<div class="yz-msg yz-ok">{esc(result.message)}</div>'
                '<div class="yz-legend"><mark class="yz-strong">黄色</mark> 与草稿措辞重合　'
                '<mark class="yz-weak">蓝色</mark> 意思相近、措辞不同（把鼠标停在高亮处可看到对应的草稿句）</div>')
    else:
        msg = result.message if result.message.startswith("没有找到先例") else "没有找到先例。" + result.message
        head = f'<div class="yz-msg yz-none">{esc(msg)}</div>'
        if result.precedents:
            head += '<div class="yz-note">以下是最接近的一份建议，仅供参考：</div>'
    cards = []
    for rank, pr in enumerate(result.precedents, 1):
        p = pr.proposal
        doc = engine.index.documents[p.doc_id]
        spans = [(o.start, o.end, "", f"对应草稿句：{o.draft_sentence}（字面重合 {o.lexical:.2f}，语义相似 {o.semantic:.2f}）",
                  "yz-strong" if o.lexical >= strong else "yz-weak") for o in pr.overlaps]
        body = highlight(doc.text[p.start:p.end], p.start, spans)
        n_strong = sum(o.lexical >= strong for o in pr.overlaps)
        ol = "".join(f'<li><mark class="{"yz-strong" if o.lexical >= strong else "yz-weak"}">{esc(o.text)}</mark>'
                     f"<br>↔ 草稿：“{esc(o.draft_sentence)}”（字面 {o.lexical:.2f} · 语义 {o.semantic:.2f}）</li>"
                     for o in pr.overlaps)
        details = (f'<details class="yz-overlaps"{" open" if rank == 1 and result.found else ""}>'
                   f"<summary>重合句对照（{len(pr.overlaps)} 句）</summary><ul>{ol}</ul></details>") if ol else ""
        cards.append(
            f'<div class="yz-card" data-proposal="{esc(p.proposal_id)}">'
            f'<div class="yz-card-head"><span class="yz-n">{rank}.</span>'
            f'<span class="yz-who">{esc(_who(p.proposers, p.kind))}</span>'
            f'<span class="yz-tag">{esc(_type_label(p))}</span>'
            f'<span class="yz-tag yz-muted">相似度 {pr.score:.3f}</span>'
            f'<span class="yz-tag yz-muted">措辞重合 {n_strong} 句 · 意思相近 {len(pr.overlaps) - n_strong} 句</span></div>'
            f'<div class="yz-title">《{esc(p.title)}》</div>'
            f'<div class="yz-meta">建议编号 {esc(p.proposal_id)}</div>'
            f'<div class="yz-text">{body}</div>{details}</div>')
    return head + "".join(cards)


# ---------------------------------------------------------------------------------------- 浏览
def proposal_dict(engine, proposal_id: str) -> dict:
    pid = (proposal_id or "").strip()
    if pid not in engine.index.proposals:
        raise AssistantError(f"没有编号为 “{pid[:60]}” 的建议。",
                             hint="可用编号: " + "、".join(engine.index.proposals))
    p, doc = _document_of(engine, pid)
    d = p.to_dict()
    # not "path": gradio_client takes any dict with a "path" string for a file and tries to download it
    d["document"] = {"doc_id": doc.doc_id, "title": doc.title, "source_file": doc.path, "kind": doc.kind,
                     "meta": dict(doc.meta)}
    d["chunks"] = [{"chunk_id": c.chunk_id, "start": c.start, "end": c.end} for c in engine.index.chunks_of(pid)]
    return d


def _meeting_of(engine, p) -> str:
    if p.kind == "policy":
        return ""
    return colls.meeting_label(p, engine.index.documents.get(p.doc_id)) or colls.NO_MEETING


def proposal_rows(engine) -> list[list[str]]:
    return [[p.proposal_id, p.title, _who(with_roles(p.proposers, p.roles), p.kind), _type_label(p), _meeting_of(engine, p)]
            for p in engine.index.proposals.values()]


def proposal_choices(engine) -> list[tuple[str, str]]:
    return [(f"{p.proposal_id}  {p.title} — {_who(p.proposers, p.kind)}", p.proposal_id)
            for p in engine.index.proposals.values()]


def proposal_html(engine, proposal_id: str | None) -> str:
    if not proposal_id or proposal_id not in engine.index.proposals:
        return '<div class="yz-empty">在上面的表格中点选一行，或从下拉框选择一份建议，即可阅读全文。</div>'
    p, doc = _document_of(engine, proposal_id)
    meta = doc.meta or {}
    rows = [("建议编号", p.proposal_id), ("提出者", _who(p.proposers, p.kind)), ("类型", _type_label(p)),
            ("所属文件", f"{doc.title}（{doc.path}）")]
    if p.kind != "policy":
        rows.append(("会议", _meeting_of(engine, p)))
        m = next((x for x in meta.get("meetings") or () if x.get("name") == p.meeting), meta.get("meeting"))
        if isinstance(m, dict):
            extra = " · ".join(str(x) for x in (m.get("level"), m.get("kind"),
                                          m.get("year") and f"{m['year']} 年",
                                          m.get("reports") and f"{m['reports']} 篇报告") if x)
            if extra:
                rows.append(("会议信息", extra))
    if meta.get("column"):
        rows.append(("栏目", meta["column"]))
    if meta.get("bylines"):
        rows.append(("署名", "；".join(meta["bylines"])))
    rows.append(("原文位置", f"字符 {p.start}–{p.end}，共 {len(p.text)} 字，{len(engine.index.chunks_of(p.proposal_id))} 个文本块"))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return (f'<div class="yz-card"><div class="yz-title" style="font-size:1.2em">《{esc(p.title)}》</div>'
            f'<dl class="yz-dl">{dl}</dl><div class="yz-doc">{esc(p.text)}</div></div>')


# ---------------------------------------------------------------------------------------- 语料管理
KIND_CHOICES = [(label, kind) for kind, label in colls.KINDS.items()]
PREVIEW_HEADERS = ["文件", "序号", "标题", "提出者", "类型", "会议"]
COLLECTION_HEADERS = ["合集", "类别", "文件", "建议数", "会议"]
UPLOAD_HELP = ("**上传一个合集**（一次上传的文件为一个合集，存放在语料目录的 `proposals/<合集名>/` 或 "
               "`policies/<合集名>/` 下）。支持：`.txt` `.md` 建议汇编（`### 标题 提出者` 分节或编号列表）、"
               "`.csv` `.xlsx` 目录表（表头含 标题、提案者/提出者、会议 等列）、`.docx` `.pdf` `.txt` 单篇建议"
               "（开头写 `标题：` `提案者：` `会议：`），以及政策文本。先“解析预览”核对解析结果，再“确认导入”；"
               "有无法解析的文件时不会导入任何内容。")


def preview_rows(preview) -> list[list[str]]:
    if preview is None:
        return []
    return [[i.file, i.item, i.title, "、".join(with_roles(i.proposers, i.roles)) or ("政策文本" if i.kind == "policy" else "—"),
             "、".join(i.proposer_types) or ("政策文本" if i.kind == "policy" else ""),
             "" if i.kind == "policy" else (i.meeting or colls.NO_MEETING)] for i in preview.items]


def problems_html(problems) -> str:
    if not problems:
        return ""
    lis = "".join(
        f'<li class="{"yz-fatal" if p.fatal else "yz-warn"}">{"无法导入" if p.fatal else "提示"}：'
        f'<span class="yz-where">{esc(p.file or "上传")}{esc(f" 第 {p.line} 行") if p.line else ""}</span>'
        f'{esc(p.message)}</li>' for p in problems)
    return f'<ul class="yz-problems">{lis}</ul>'


def preview_html(preview) -> str:
    """Summary of a staged upload: counts, meetings, and every problem with its file and line."""
    if preview is None:
        return '<div class="yz-empty">选择文件后点“解析预览”：这里会显示解析出的每一份建议和所有问题，确认无误后再导入。</div>'
    c = preview.counts
    what = f"{c['proposals']} 份建议" + (f"、{c['policies']} 份政策文本" if c["policies"] else "")
    meetings = "；".join(f"{m}（{n} 份）" for m, n in preview.meetings.items())
    head = (f"合集 “{preview.name}”（{colls.KINDS.get(preview.kind, preview.kind)}）：{c['files']} 个文件，解析出 {what}"
            + (f"，{c['proposers']} 个提出者" if c["proposers"] else "")
            + (f"，另有导语 {c['intros']} 段" if c["intros"] else "") + "。"
            + (f"会议：{meetings}。" if meetings else ""))
    renamed = "".join(f"文件 {a} 已存为 {b}。" for a, b in preview.renamed)
    if preview.ok:
        tail = (f"有 {c['problems']} 条提示（不影响导入，请核对）。" if c["problems"] else "没有发现问题。") + "确认无误后点“确认导入”。"
        msg = f'<div class="yz-msg yz-ok">{esc(head)}{esc(renamed)}{esc(tail)}</div>'
    else:
        n = c["fatal"] or 1
        msg = (f'<div class="yz-msg yz-bad">{esc(head)}{esc(renamed)}'
               f'{esc(f"有 {n} 个问题使这次上传无法导入：修正或移除有问题的文件后重新预览。语料没有任何改动。")}</div>')
    return msg + problems_html(sorted(preview.problems, key=lambda p: (not p.fatal, p.file, p.line or 0)))


def collections_rows(engine) -> list[list[str]]:
    cs = colls.list_collections(engine.settings.corpus_dir)
    stats = colls.collection_stats(engine, cs)
    rows = []
    for c in cs:
        st = stats.get(c.name, {})
        n = st.get("proposals", 0) if c.kind == "proposals" else st.get("policies", 0)
        meetings = "、".join(f"{m}（{k}）" for m, k in st.get("meetings", {}).items())
        rows.append([c.name, c.label, "、".join(c.files[:6]) + (f" 等 {len(c.files)} 个" if len(c.files) > 6 else ""),
                     str(n), meetings])
    return rows


def collection_names(engine) -> list[str]:
    return [c.name for c in colls.list_collections(engine.settings.corpus_dir)]


def status_html(message: str, ok: bool = True) -> str:
    return f'<div class="yz-msg {"yz-ok" if ok else "yz-bad"}">{esc(message)}</div>'


def _accepts(fn, name: str) -> bool:
    import inspect
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _filters(fn, proposers, types, meetings) -> dict:
    """Keyword filters for an answerer's answer()/stream(); the meeting filter only where supported."""
    kw = {"proposers": tuple(proposers or ()), "types": tuple(types or ())}
    if meetings:
        if not _accepts(fn, "meetings"):
            raise AssistantError("当前的回答方式还不支持按会议筛选，请清空“只看这些会议”后再问。")
        kw["meetings"] = tuple(meetings)
    return kw


# ---------------------------------------------------------------------------------------- the app
def build_app(engine) -> gr.Blocks:
    """The whole UI over an Engine or an `EngineHolder` (which the 语料管理 tab swaps after a corpus
    change). Launch with `launch()` (or `app.launch(**launch_kwargs())`)."""
    from .engine import EngineHolder
    holder = engine if isinstance(engine, EngineHolder) else EngineHolder(engine)
    first = holder.engine
    first.answerer, first.precedents, first.retriever  # built once, before threads
    from .llm import UNAVAILABLE_NOTE, llm_configured
    settings = getattr(first, "settings", None)
    llm_available = settings is not None and llm_configured(settings)
    default_mode = MODE_LLM if llm_available and settings.answerer == "llm" else MODE_EXTRACTIVE
    export_dir = Path(tempfile.mkdtemp(prefix="yizheng-export-"))

    def current():
        eng = holder.engine
        return eng, eng.answerer, eng.precedents

    # ---- API endpoints (also what the UI handlers call) -----------------------------------------
    @_edge
    def ask(question: str, proposers: list[str] | None = None, types: list[str] | None = None,
            meetings: list[str] | None = None) -> dict:
        """Answer one question (no conversation history). Returns Answer.to_dict(): question, answer,
        found, citations [{n, chunk_id, proposal_id, title, proposers, proposer_type, quote, start, end,
        score}], timings_ms. Optional filters: proposers, proposer types, meeting labels."""
        eng = holder.engine
        a = eng.answerer_named("llm") if default_mode == MODE_LLM else eng.answerer
        return a.answer(question, **_filters(a.answer, proposers, types, meetings)).to_dict()

    @_edge
    def precedents(draft: str, k: int = 5, proposers: list[str] | None = None,
                   types: list[str] | None = None) -> dict:
        """Find precedent proposals for a draft paragraph or topic. Returns {draft, found, message,
        precedents: [{proposal_id, title, proposers, proposer_type, score, overlaps}], timings_ms}."""
        return precedent_dict(holder.engine.precedents.find(draft, _k(k), proposers=proposers or (), types=types or ()))

    @_edge
    def proposal(proposal_id: str) -> dict:
        """One proposal in full: Proposal fields (text, offsets…) plus its document and chunks."""
        return proposal_dict(holder.engine, proposal_id)

    @_edge
    def proposals() -> list[dict]:
        """Every proposal: proposal_id, title, proposers, proposer_type, kind, meeting."""
        eng = holder.engine
        return [{"proposal_id": p.proposal_id, "title": p.title, "proposers": list(p.proposers),
                 "proposer_type": p.proposer_type, "kind": p.kind, "meeting": _meeting_of(eng, p)}
                for p in eng.index.proposals.values()]

    def _k(k) -> int:
        try:
            return max(1, min(20, int(k)))
        except (TypeError, ValueError):
            raise AssistantError("k 必须是 1 到 20 之间的整数。") from None

    # ---- UI handlers: 问答 ---------------------------------------------------------------------
    def respond(message, chat, answers, who, kinds, mode=None, meetings=None):
        eng, answerer, _ = current()   # this request uses this engine to the end
        chat, answers = list(chat or []), list(answers or [])
        keep = gr.skip()
        history = [Turn(a.question, a) for a in answers]
        ans = None
        if llm_available and (mode or default_mode) == MODE_LLM:
            # generative: the model's tokens stream in (marked unverified), then the verified answer
            # replaces them; an unreachable model falls back to the extractive answer with a note
            from .llm import LLMAnswerer
            try:  # an unsupported filter is the user's to change, not a model failure
                _filters(LLMAnswerer.stream, who, kinds, meetings)
            except AssistantError as e:
                raise _error(e) from None
            started = False
            try:
                llm_answerer = eng.answerer_named("llm")
                acc, last = "", 0.0
                stream = llm_answerer.stream(message, history, **_filters(llm_answerer.stream, who, kinds, meetings))
                for piece in stream:
                    if isinstance(piece, Answer):
                        ans = piece
                        break
                    acc += piece
                    if not started:
                        chat.append({"role": "user", "content": md_text(_shown_question(message))})
                        chat.append({"role": "assistant", "content": ""})
                        started = True
                    if time.monotonic() - last >= LLM_STREAM_EVERY:
                        chat[-1] = {"role": "assistant", "content": md_text(acc) + "\n\n" + md_text(LLM_PENDING)}
                        last = time.monotonic()
                        yield chat, keep, keep, keep, ""
            except AssistantError as e:
                try:  # a question the extractive answerer also refuses is the user's to fix
                    ext = answerer.answer(message, history, **_filters(answerer.answer, who, kinds, meetings))
                except AssistantError as e2:
                    raise _error(e2) from None
                log.warning("LLM unavailable, extractive fallback: %s", e.message)
                ans = Answer(ext.question, f"{UNAVAILABLE_NOTE}\n{ext.answer}", ext.found, ext.citations,
                             ext.timings_ms, {**ext.context, "llm_error": e.message})
            except Exception:
                log.exception("unexpected error while answering")
                raise gr.Error(INTERNAL_ERROR, title="出错了", print_exception=False) from None
            if started:
                chat = chat[:-2]
        if ans is None:
            try:
                ans = answerer.answer(message, history, **_filters(answerer.answer, who, kinds, meetings))
            except AssistantError as e:
                raise _error(e) from None
            except Exception:
                log.exception("unexpected error while answering")
                raise gr.Error(INTERNAL_ERROR, title="出错了", print_exception=False) from None
        answers.append(ans)
        chat.append({"role": "user", "content": md_text(_shown_question(message))})
        chat.append({"role": "assistant", "content": ""})
        status = verification_status(ans)
        for part in _pieces(ans.answer)[:-1]:
            chat[-1] = {"role": "assistant", "content": md_text(part)}
            yield chat, keep, keep, keep, ""
            time.sleep(STREAM_DELAY)
        chat[-1] = {"role": "assistant", "content": answer_markdown(ans) + (f"\n\n{md_text(status)}" if status else "")}
        path = export_dir / f"yizheng-answer-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{len(answers)}-{id(ans) % 10000}.md"
        try:
            path.write_text(export_markdown(eng, ans, {"提出者筛选": who, "类型筛选": kinds, "会议筛选": meetings}),
                            encoding="utf-8")
            download = gr.DownloadButton(value=str(path), interactive=True)
        except Exception:
            log.exception("could not write the export file")
            download = gr.DownloadButton(value=None, interactive=False)
        yield chat, answers, sources_html(eng, ans), download, ""

    def _check(text, limit) -> dict:
        try:
            clean_question(text, limit)
            return gr.validate(True, "")
        except AssistantError as e:
            return gr.validate(False, e.message)

    def check_question(message, chat, answers, who, kinds, *rest):
        """Runs before `respond`: a bad question gets its message under the textbox, nothing else moves."""
        return (_check(message, holder.engine.answerer.max_question_chars),) + (gr.validate(True, ""),) * (4 + len(rest))

    def check_draft(draft, k, who, kinds):
        return (_check(draft, holder.engine.precedents.max_chars),) + (gr.validate(True, ""),) * 3

    def clear():
        return [], [], sources_html(holder.engine, None), gr.DownloadButton(value=None, interactive=False), ""

    # ---- 先例查找 / 建议浏览 ---------------------------------------------------------------------
    @_edge
    def find_ui(draft, k, who, kinds):
        eng, _, finder = current()
        res = finder.find(draft, _k(k), proposers=who or (), types=kinds or ())
        return precedents_html(eng, res, strong=finder.min_lexical)

    def pick_row(evt: gr.SelectData):
        eng = holder.engine
        row = evt.row_value or []
        pid = row[0] if row else None
        if pid is None and isinstance(evt.index, (list, tuple)):
            ids = list(eng.index.proposals)
            i = evt.index[0]
            pid = ids[i] if 0 <= i < len(ids) else None
        return gr.Dropdown(value=pid) if pid in eng.index.proposals else gr.skip()

    def show(pid):
        return proposal_html(holder.engine, pid)

    # ---- 语料管理 --------------------------------------------------------------------------------
    def corpus_views(eng) -> tuple:
        """Everything that shows the corpus, for `refresh_outputs` (same order)."""
        who_c, type_c = list(eng.retriever.all_proposers), list(eng.retriever.all_types)
        def multi(choices):
            return gr.Dropdown(choices=choices, value=[], multiselect=True)
        return (subtitle_html(eng), multi(who_c), multi(type_c), multi(meeting_choices(eng)), multi(who_c), multi(type_c),
                browse_note(eng), proposal_rows(eng), gr.Dropdown(choices=proposal_choices(eng), value=None),
                collections_rows(eng), gr.Dropdown(choices=collection_names(eng), value=None))

    def refresh():
        """On page load: a page opened after a corpus change shows the current corpus."""
        return corpus_views(holder.engine)

    @_edge
    def preview_ui(files, name, kind, old):
        paths = [f if isinstance(f, str) else getattr(f, "name", None) or (f or {}).get("path") for f in (files or [])]
        preview = colls.stage([p for p in paths if p], holder.settings.corpus_dir, name=(name or "").strip() or None,
                              kind=kind or "proposals")
        colls.discard(old)
        rows = preview_rows(preview)
        return (preview, gr.Dataframe(value=rows, visible=bool(rows)), preview_html(preview),
                gr.Button(interactive=preview.ok), "")

    def check_preview(files, name, kind, old):
        """Runs before `preview_ui`: a missing upload or a bad collection name gets its message at the
        field, and nothing else on the page moves."""
        ok = gr.validate(True, "")
        files_v = ok if files else gr.validate(False, "请先选择要上传的文件。")
        name_v = ok
        if (name or "").strip():
            try:
                clean = colls.check_name(name)
                if clean in collection_names(holder.engine):
                    name_v = gr.validate(False, f"已有名为 “{clean}” 的合集，请换一个名称，或先删除原合集。")
            except AssistantError as e:
                name_v = gr.validate(False, e.message)
        return files_v, name_v, ok, ok

    @_edge
    def accept_ui(preview, progress=gr.Progress()):
        if preview is None:
            raise AssistantError("请先上传文件并点“解析预览”。")
        progress(0.0, desc="开始导入")
        coll, eng = colls.import_collection(preview, holder, progress=lambda f, d: progress(f, desc=d))
        counts = eng.index.manifest.get("counts", {})
        stats = colls.collection_stats(eng, [coll]).get(coll.name, {})
        n = stats.get("proposals", 0) if coll.kind == "proposals" else stats.get("policies", 0)
        msg = (f"已导入合集 “{coll.name}”：{len(coll.files)} 个文件，{n} 份{'建议' if coll.kind == 'proposals' else '政策文本'}。"
               f"索引已更新（新向量化 {counts.get('embedded', '?')} 个文本块，复用 {counts.get('reused', '?')} 个），"
               "问答中即可检索。")
        return ((status_html(msg), None, gr.Dataframe(value=[], visible=False), preview_html(None),
                 gr.Button(interactive=False), None) + corpus_views(eng))

    def ask_remove(name):
        if not name:
            return gr.Row(visible=False), status_html("请先在下拉框中选择要删除的合集。", ok=False)
        eng = holder.engine
        try:
            c = colls.find_collection(name, eng.settings.corpus_dir)
        except AssistantError as e:
            return gr.Row(visible=False), status_html(e.message, ok=False)
        st = colls.collection_stats(eng, [c]).get(c.name, {})
        n = st.get("proposals", 0) + st.get("policies", 0)
        msg = (f"确定删除合集 “{c.name}” 吗？它的 {len(c.files)} 个文件、{n} 份{'建议' if c.kind == 'proposals' else '文本'}"
               f"将从索引中移除（文件移到语料目录的 {colls.TRASH}/ 下，可以找回）。")
        return gr.Row(visible=True), status_html(msg, ok=False)

    def cancel_remove():
        return gr.Row(visible=False), ""

    @_edge
    def remove_ui(name, progress=gr.Progress()):
        if not name:
            raise AssistantError("请先选择要删除的合集。")
        progress(0.0, desc="开始删除")
        trashed, eng = colls.remove_collection(name, holder, progress=lambda f, d: progress(f, desc=d))
        msg = f"已删除合集 “{name}”，索引已更新。文件已移到 {trashed.parent.name}/{trashed.name}（在语料目录的 {colls.TRASH}/ 下）。"
        return (gr.Row(visible=False), status_html(msg), "") + corpus_views(eng)

    def browse_note(eng) -> str:
        return f"共 {len(eng.index.proposals)} 条（含导语）。点选表格中的一行，或在下拉框中选择，即可阅读全文。"

    # ---- layout ----------------------------------------------------------------------------------
    eng0 = first
    proposer_choices, type_choices = list(eng0.retriever.all_proposers), list(eng0.retriever.all_types)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        header = gr.HTML(subtitle_html(eng0), elem_id="yz-header-wrap")
        with gr.Tabs():
            with gr.Tab("问答", id="tab-ask"):
                answers_state = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=420):
                        chatbot = gr.Chatbot(
                            label="对话", show_label=False, height=520, elem_id="yz-chat", layout="bubble",
                            latex_delimiters=[], sanitize_html=True, allow_tags=False, render_markdown=True,
                            line_breaks=True, buttons=["copy", "copy_all"], feedback_options=None,
                            placeholder="**请提问**：例如“各民主党派提了哪些建议？”<br>回答逐条注明提出者，方括号数字是引文编号，对应右侧“来源”。")
                        with gr.Row(equal_height=False):
                            question = gr.Textbox(label="问题", show_label=False, placeholder="输入问题，按回车或点“提问”", lines=1,
                                                  max_lines=4, scale=6, elem_id="yz-question", autofocus=True)
                            ask_btn = gr.Button("提问", variant="primary", scale=1, min_width=90, elem_id="yz-ask")
                        with gr.Row():
                            who = gr.Dropdown(proposer_choices, multiselect=True, label="只看这些提出者",
                                              info="可多选；留空表示全部", elem_id="yz-who")
                            kinds = gr.Dropdown(type_choices, multiselect=True, label="只看这些类型",
                                                info="民主党派、界别…", elem_id="yz-kinds")
                            meetings = gr.Dropdown(meeting_choices(eng0), multiselect=True, label="只看这些会议",
                                                   info="语料中的全部会议", elem_id="yz-meetings")
                        mode = gr.Radio([MODE_EXTRACTIVE, MODE_LLM], value=default_mode, label="回答方式",
                                        info="生成式回答先经核验（引用编号、提出者归属、原文依据），未通过则改用摘录式回答",
                                        visible=llm_available, elem_id="yz-mode")
                        with gr.Row():
                            clear_btn = gr.Button("清空对话", variant="secondary", size="sm", elem_id="yz-clear")
                            download = gr.DownloadButton("导出上一条回答 (Markdown)", value=None, interactive=False,
                                                         size="sm", elem_id="yz-export")
                        gr.Examples(example_questions(eng0), inputs=question, label="示例问题（“那…呢？”接在上一问之后）",
                                    examples_per_page=10)
                    with gr.Column(scale=4, min_width=360):
                        gr.HTML('<div class="yz-panel-title">来源</div>')
                        sources = gr.HTML(sources_html(eng0, None), elem_id="yz-sources", max_height=720)

            with gr.Tab("先例查找", id="tab-precedent"):
                gr.Markdown("粘贴一段建议草稿或输入一个主题，查找已经提出过相同或相近主张的建议；"
                            "高亮的是与草稿重合的句子（把鼠标停在高亮处可看到对应的草稿句）。")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=4, min_width=380):
                        draft = gr.Textbox(label="草稿或主题", lines=10, max_lines=24, elem_id="yz-draft",
                                           placeholder="例如：粘贴一段建议草稿……")
                        k = gr.Slider(1, 10, value=5, step=1, label="最多查看几份建议 (k)", elem_id="yz-k")
                        p_who = gr.Dropdown(proposer_choices, multiselect=True, label="只看这些提出者")
                        p_kinds = gr.Dropdown(type_choices, multiselect=True, label="只看这些类型")
                        find_btn = gr.Button("查找先例", variant="primary", elem_id="yz-find")
                        gr.Examples(example_drafts(eng0), inputs=draft, label="示例草稿")
                    with gr.Column(scale=6, min_width=420):
                        found = gr.HTML(precedents_html(eng0, None), elem_id="yz-precedents")

            with gr.Tab("建议浏览", id="tab-browse"):
                note = gr.Markdown(browse_note(eng0), elem_id="yz-browse-note")
                table = gr.Dataframe(value=proposal_rows(eng0), headers=["编号", "标题", "提出者", "类型", "会议"],
                                     datatype=["str", "str", "str", "str", "str"], interactive=False, wrap=True,
                                     max_height=420, elem_id="yz-table", show_label=False)
                pick = gr.Dropdown(proposal_choices(eng0), label="选择建议", value=None, elem_id="yz-pick")
                detail = gr.HTML(proposal_html(eng0, None), elem_id="yz-detail")

            with gr.Tab("语料管理", id="tab-corpus"):
                # a session that ends (or a preview left for a day) takes its staging copy with it
                preview_state = gr.State(None, time_to_live=24 * 3600, delete_callback=colls.discard)
                gr.Markdown(UPLOAD_HELP)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=380):
                        uploads = gr.File(file_count="multiple", type="filepath", label="上传文件",
                                          file_types=sorted(set(colls.SUFFIXES["proposals"]) | set(colls.SUFFIXES["policies"])),
                                          elem_id="yz-upload", height=210)
                    with gr.Column(scale=4, min_width=300):
                        coll_name = gr.Textbox(label="合集名称", placeholder="留空则用第一个文件名，例如“2024年全会提案”",
                                               max_lines=1, elem_id="yz-coll-name")
                        coll_kind = gr.Radio(KIND_CHOICES, value="proposals", label="类别", elem_id="yz-coll-kind")
                        with gr.Row():
                            preview_btn = gr.Button("解析预览", variant="secondary", elem_id="yz-preview")
                            accept_btn = gr.Button("确认导入", variant="primary", interactive=False, elem_id="yz-accept")
                        import_status = gr.HTML("", elem_id="yz-import-status")
                preview_box = gr.HTML(preview_html(None), elem_id="yz-preview-report")
                preview_table = gr.Dataframe(value=[], headers=PREVIEW_HEADERS, datatype=["str"] * 6, interactive=False,
                                             wrap=True, max_height=360, elem_id="yz-preview-table", show_label=False,
                                             visible=False)
                gr.HTML('<div class="yz-panel-title">语料中的合集</div>')
                coll_table = gr.Dataframe(value=collections_rows(eng0), headers=COLLECTION_HEADERS,
                                          datatype=["str"] * 5, interactive=False, wrap=True, max_height=300,
                                          elem_id="yz-collections", show_label=False)
                with gr.Row(equal_height=False):
                    coll_pick = gr.Dropdown(collection_names(eng0), value=None, label="选择合集", scale=4,
                                            elem_id="yz-coll-pick")
                    remove_btn = gr.Button("删除所选合集", variant="stop", scale=0, min_width=140, elem_id="yz-remove")
                remove_status = gr.HTML("", elem_id="yz-remove-status")
                with gr.Row(visible=False, elem_id="yz-remove-confirm") as confirm_row:
                    confirm_btn = gr.Button("确认删除", variant="primary", elem_id="yz-remove-yes")
                    cancel_btn = gr.Button("取消", variant="secondary", elem_id="yz-remove-no")

            from .app_bench import benchmark_tab
            from .config import ROOT
            benchmark_tab(eng0, ROOT / "eval" / "reports",
                          answerers=("extractive", "llm") if llm_available else ("extractive",))

        # ---- events: UI ones are private (not in the API docs, not callable by clients) ----------
        ui = dict(api_visibility="private")
        outs = [chatbot, answers_state, sources, download, question]
        ins = [question, chatbot, answers_state, who, kinds, mode, meetings]
        question.submit(respond, ins, outs, show_progress="minimal", validator=check_question, **ui)
        ask_btn.click(respond, ins, outs, show_progress="minimal", validator=check_question, **ui)
        clear_btn.click(clear, None, outs, **ui)
        chatbot.clear(clear, None, outs, **ui)  # the chatbot's own trash icon: forget the history too
        find_btn.click(find_ui, [draft, k, p_who, p_kinds], found, validator=check_draft, **ui)
        table.select(pick_row, None, pick, **ui)
        pick.change(show, pick, detail, **ui)

        views = [header, who, kinds, meetings, p_who, p_kinds, note, table, pick, coll_table, coll_pick]
        preview_btn.click(preview_ui, [uploads, coll_name, coll_kind, preview_state],
                          [preview_state, preview_table, preview_box, accept_btn, import_status],
                          validator=check_preview, **ui)
        # a new file selection invalidates the preview: import only what was previewed
        for field in (uploads, coll_name, coll_kind):
            field.change(lambda: gr.Button(interactive=False), None, accept_btn, **ui)
        accept_btn.click(accept_ui, preview_state,
                         [import_status, preview_state, preview_table, preview_box, accept_btn, uploads] + views,
                         show_progress_on=import_status, concurrency_limit=1, concurrency_id="corpus", **ui)
        remove_btn.click(ask_remove, coll_pick, [confirm_row, remove_status], **ui)
        cancel_btn.click(cancel_remove, None, [confirm_row, remove_status], **ui)
        confirm_btn.click(remove_ui, coll_pick, [confirm_row, remove_status, import_status] + views,
                          show_progress_on=remove_status, concurrency_limit=1, concurrency_id="corpus", **ui)
        app.load(refresh, None, views, **ui)

        # ---- named API ---------------------------------------------------------------------------
        gr.api(ask, api_name="ask")
        gr.api(precedents, api_name="precedents")
        gr.api(proposal, api_name="proposal")
        gr.api(proposals, api_name="proposals")
    return app


def theme():
    # Local CJK fonts only: no web fonts are fetched (the app must work offline).
    fonts = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "sans-serif"]
    return gr.themes.Soft(primary_hue="red", secondary_hue="orange", neutral_hue="slate",
                          font=fonts, font_mono=["WenQuanYi Zen Hei Mono", "monospace"])


def launch_kwargs() -> dict:
    """What app.launch() needs besides host/port (in Gradio 6 theme and css belong to launch)."""
    return dict(theme=theme(), css=CSS, show_error=False, ssr_mode=False, footer_links=["api"], quiet=True,
                max_file_size=f"{colls.MAX_FILE_BYTES // 1048576}mb")


def launch(settings=None, *, engine=None, host: str | None = None, port: int | None = None,
           prevent_thread_lock: bool = False, concurrency: int = 4, **kwargs) -> gr.Blocks:
    """Open (or reuse) the engine, build the app and serve it. Returns the running app."""
    from .config import Settings
    from .engine import shared_engine
    settings = settings or Settings.from_env()
    engine = engine or shared_engine(settings)
    app = build_app(engine)  # an Engine or an EngineHolder
    app.queue(default_concurrency_limit=concurrency, max_size=128)
    opts = launch_kwargs()
    opts.update(kwargs)
    app.launch(server_name=host or settings.host, server_port=port or settings.port,
               prevent_thread_lock=prevent_thread_lock, **opts)
    return app
