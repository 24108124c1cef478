"""Recognise the layouts a CPPCC office keeps its proposals in, with exact character offsets.

Layouts (the `layout` of a ParsedCollection):

- "sections"  (a) `### <title> <proposer(s)>` sections under a `# headline` and an introduction;
- "numbered"  (b) a numbered list (`1、` `1.` `（一）` `一、` …), the proposer on a `提案者:` line,
  before the title (`<提案者>：…`), opening the text on the next line, or after either
  (`…（<提案者>）`);
- "catalogue" (c) a table, one row per item (CSV text or the first sheet of an .xlsx);
- "single"    (d) one item per file: a `key：value` header block, a blank line, the body;
- "plain"     nothing recognised: the whole text is one item, and a problem says so.

Every offset points into ParsedCollection.text, and text[s:e] is the value it stands for, without
surrounding whitespace. The one exception is a quoted CSV field holding `""` escapes: its span
covers the raw characters inside the quotes, so text[s:e] still has the doubled quotes while the
value (title, …) has them undone. This module knows layouts only: no place, meeting or proposer
names. Whether a string is a proposer is the caller's call (`is_proposer`).
"""
from __future__ import annotations

import bisect
import csv
import datetime as _dt
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Callable, Iterable

from .util import strip_span

# Column names and header keys, by the role they play. Matching ignores spaces (Word files pad
# keys as `案  由`). "field" keys are recognised (so a header block may hold them) but only kept
# in ParsedItem.fields. Within a role, the earlier synonym wins when a table has two of them.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "item": ("序号", "编号", "案号", "提案号"),
    "title": ("标题", "题目", "案由", "提案题目", "提案名称"),
    "proposer": ("提案者", "提案人", "领衔人", "提出者", "第一提案人", "提案单位", "发言单位"),
    "cosigners": ("联名", "附议", "联名人", "附议人", "联名提案人"),
    "speaker": ("发言人",),
    "meeting": ("会议", "届次", "会次"),
    "year": ("年份", "年度", "提交年份", "时间", "日期"),
    "body": ("内容", "正文", "摘要", "办理情况"),
    "field": ("类别", "提案类别", "承办单位", "主办单位", "协办单位", "会办单位", "界别", "党派",
              "办理结果", "答复", "状态"),
}
_ROLE = {k: role for role, keys in SYNONYMS.items() for k in keys}
# ParsedItem attribute for each role that has one.
_ATTR = {"proposer": "proposer_text", "speaker": "speaker_text", "cosigners": "cosigners_text",
         "meeting": "meeting_text", "year": "year_text"}

_WS = " \t\u3000\r"
_KEYLINE = re.compile(rf"[{_WS}]*(?P<key>[\u4e00-\u9fff][\u4e00-\u9fff{_WS}]{{0,12}}?)[{_WS}]*[：:]"
                      rf"[{_WS}]*(?P<val>.*?)[{_WS}]*")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*?)[ \t\r]*$", re.M)
_CN_NUM = "一二三四五六七八九十百零〇两"
# Numbering families of layout (b), keyed by how they print. `1、` and `1.` are one family (lists
# mix them by mistake); `1.` must not be a decimal (`1.5亿`).
_NUMBERING = {
    "1、": re.compile(rf"[{_WS}]*(\d{{1,3}})(?:[ \t]*、|[.．](?!\d))"),
    "（一）": re.compile(rf"[{_WS}]*[（(][ \t]*([{_CN_NUM}]{{1,4}})[ \t]*[）)]"),
    "一、": re.compile(rf"[{_WS}]*([{_CN_NUM}]{{1,4}})[ \t]*、"),
    "（1）": re.compile(rf"[{_WS}]*[（(][ \t]*(\d{{1,3}})[ \t]*[）)]"),
}
# A number may skip this many (a lost item) and still continue the list; a bigger jump is a
# number inside a body.
_MAX_GAP = 3
# "【<提案者>】<title>" opening each item (pages of speeches printed in digest form): a family of
# its own, counted in order, whose bracket must hold a proposer
_BRACKET_LEAD = re.compile(rf"[{_WS}]*【(?P<who>[^】\n]{{1,40}})】")
# "<提案者>：<title>" opening each item without a number: a family like 【】, when the colon's left
# side is a proposer and its right side reads as a title (no full stop)
_COLON_LEAD = re.compile(rf"[{_WS}]*(?P<who>[^：:\n]{{2,40}}?)[{_WS}]*[：:][{_WS}]*(?P<rest>[^\n。！？]{{4,60}})[{_WS}]*$")
_PAREN_TAIL = re.compile(r"[（(](?P<who>[^（）()\n]{1,40})[）)][ \t\r\u3000。.]*$")
_PROPOSER_PREFIX_MAX = 40
PLAIN_TITLE_MAX = 60


@dataclass(frozen=True)
class ParsedItem:
    item: str                      # number as printed, zero-padded when numeric ("03"); a file stem for (d)
    title: str                     # "" when the layout has none
    title_span: tuple[int, int] | None
    span: tuple[int, int]          # the item's whole text (what is chunked and cited); never empty
    heading: str = ""              # (a) only: the raw `### …` heading text (title and proposers)
    proposer_text: str = ""
    speaker_text: str = ""
    cosigners_text: str = ""
    meeting_text: str = ""
    year_text: str = ""
    fields: dict = field(default_factory=dict, hash=False, compare=False)
    line: int = 0                  # 1-based line (sheet row for .xlsx) where the item starts


@dataclass(frozen=True)
class ParsedCollection:
    layout: str                    # "sections" | "numbered" | "catalogue" | "single" | "plain"
    text: str
    headline: str
    intro_span: tuple[int, int] | None
    items: tuple[ParsedItem, ...]
    problems: tuple[str, ...]


# ----------------------------------------------------------------------------- small helpers
class _Lines:
    """Line starts of a text (split on \\n only, as the file's own line numbers count)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __len__(self) -> int:
        return len(self.starts)

    def bounds(self, i: int) -> tuple[int, int]:
        """0-based line i -> (start, end) without its \\n (a \\r may remain; callers strip)."""
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.text)
        return self.starts[i], end

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def blank(self, i: int) -> bool:
        s, e = self.bounds(i)
        return not self.text[s:e].strip()


def _key(raw: str) -> str:
    return re.sub(r"\s+", "", raw).strip("\ufeff")


def _role(key: str) -> str | None:
    """Role of a column name or header key; `提案人(单位)` falls back to `提案人`."""
    k = _key(key)
    if k in _ROLE:
        return _ROLE[k]
    bare = re.sub(r"[（(].*?[）)]", "", k)
    return _ROLE.get(bare)


def key_line_role(line: str) -> str | None:
    """The role of a header line of layout (d) ("会议：…" -> "meeting"), None for any other line."""
    m = _KEYLINE.fullmatch(line.strip())
    return _role(m.group("key")) if m else None


def is_key_line(line: str) -> bool:
    """A header line of layout (d) ("会议：…", "提案人：…"): it ends a field, never a broken sentence."""
    return key_line_role(line) is not None


def _cn_int(s: str) -> int:
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
    total = cur = 0
    for ch in s:
        if ch in digits:
            cur = digits[ch]
        elif ch == "十":
            total, cur = total + (cur or 1) * 10, 0
        elif ch == "百":
            total, cur = total + (cur or 1) * 100, 0
    return total + cur


def _number(s: str) -> int | None:
    s = s.strip()
    if s.isdecimal():   # int() reads full-width digits too
        return int(s)
    if s and all(c in _CN_NUM for c in s):
        return _cn_int(s)
    return None


def item_label(printed: str) -> str:
    """The item key: "3" / "（二）" / "第3号" -> "03" / "02" / "03"; anything else as printed."""
    core = re.sub(r"^[（(\[【第]+|[）)\]】、.．号条]+$", "", printed.strip())
    n = _number(core)
    return f"{n:02d}" if n is not None else printed.strip()


def _problem(name: str, line: int, msg: str) -> str:
    return f"{name} 第 {line} 行: {msg}"


def _headline(text: str) -> str:
    m = re.search(r"^#[ \t]+(\S.*?)[ \t\r]*$", text, re.M)
    return m.group(1) if m else ""


def _intro(text: str, lines: _Lines, end: int) -> tuple[int, int] | None:
    """Text before the first item, without the `#`/`##` heading lines that open the file."""
    i, start = 0, 0
    while i < len(lines) and lines.starts[i] < end:
        s, e = lines.bounds(i)
        if lines.blank(i) or _HEADING.match(text, s, e):
            start, i = min(e + 1, end), i + 1
            continue
        break
    s, e = strip_span(text, start, end)
    return (s, e) if e > s else None


def _duplicates(name: str, items: Iterable[ParsedItem]) -> list[str]:
    seen, out = {}, []
    for it in items:
        if it.item in seen:
            out.append(_problem(name, it.line, f"编号 {it.item} 与第 {seen[it.item]} 行重复。"))
        else:
            seen[it.item] = it.line
    return out


def _key_lines(text: str, lines: _Lines, j: int, stop: int, values: dict, fields: dict) -> None:
    """Read the `key：value` lines from line j on (blank lines between them allowed) while the key
    is a known one; fill `values` (ParsedItem attribute -> text) and `fields`. A body line that
    merely looks like one further down is left alone."""
    while j < stop:
        if lines.blank(j):
            j += 1
            continue
        s, e = lines.bounds(j)
        m = _KEYLINE.fullmatch(text, s, e)
        role = _role(m.group("key")) if m else None
        if role is None:
            break
        attr = _ATTR.get(role)
        if attr and attr not in values:
            values[attr] = m.group("val")
        else:
            fields.setdefault(_key(m.group("key")), m.group("val"))
        j += 1


# ----------------------------------------------------------------------------- layout (a)
def _sections(name: str, text: str, lines: _Lines) -> tuple[list[ParsedItem], list[str], int] | None:
    heads = list(_HEADING.finditer(text))
    secs = [h for h in heads if len(h.group(1)) == 3]
    if not secs:
        return None
    # A section runs to the next heading of level 1-3 (#### stays inside the body).
    bounds = [h for h in heads if len(h.group(1)) <= 3 and h.start() >= secs[0].start()]
    items, problems = [], []
    for k, h in enumerate(bounds):
        end = bounds[k + 1].start() if k + 1 < len(bounds) else len(text)
        s, e = strip_span(text, h.end(), end)
        if len(h.group(1)) < 3:
            if e > s:
                problems.append(_problem(name, lines.number(h.start()),
                                         f"“{h.group(0).strip()}”之下的文字不在任何 ### 小节里，未收录。"))
            continue
        hs, he = strip_span(text, *h.span(2))
        span = (s, e) if e > s else (hs, he)
        items.append(ParsedItem(f"{len(items) + 1:02d}", "", None, span, heading=text[hs:he],
                                fields={"heading_span": (hs, he)}, line=lines.number(h.start())))
    return items, problems, secs[0].start()


# ----------------------------------------------------------------------------- layout (d)
def _single(name: str, text: str, lines: _Lines) -> tuple[list[ParsedItem], list[str]] | None:
    first = next((i for i in range(len(lines)) if not lines.blank(i)), None)
    if first is None:
        return None
    # The header block: key lines, blank lines allowed between them (text taken from .docx comes
    # one paragraph per line with a blank line between); the body starts at the first other line.
    entries, problems, i = [], [], first
    while i < len(lines):
        if lines.blank(i):
            i += 1
            continue
        s, e = lines.bounds(i)
        m = _KEYLINE.fullmatch(text, s, e)
        role = _role(m.group("key")) if m else None
        if role is None:
            break
        entries.append((role, m, i + 1))
        i += 1
    if not any(role in ("title", "proposer", "speaker") for role, _, _ in entries):
        return None
    values, fields, spans = {}, {}, {}
    for role, m, ln in entries:
        key, val = _key(m.group("key")), m.group("val")
        if role in ("title", "proposer") or role in _ATTR:
            attr = "title" if role == "title" else _ATTR[role]
            if attr in values:
                problems.append(_problem(name, ln, f"表头“{key}”重复，只取第一个。"))
                continue
            values[attr], spans[attr] = val, m.span("val")
        elif key in fields:
            problems.append(_problem(name, ln, f"表头“{key}”重复，只取第一个。"))
        else:
            # 案号/编号 and any body-like key in a header are kept as fields: the item is the file.
            fields[key] = val
    body = strip_span(text, lines.starts[i], len(text)) if i < len(lines) else (len(text), len(text))
    title = values.pop("title", "")
    title_span = spans["title"] if title else None
    if body[1] > body[0]:
        span = body
    elif title:
        span = title_span
    elif values.get("proposer_text"):
        span = spans["proposer_text"]
    else:
        last = lines.bounds(entries[-1][2] - 1)
        span = strip_span(text, lines.starts[first], last[1])
    item = ParsedItem(item_label(PurePath(name).stem), title, title_span, span,
                      fields=fields, line=first + 1, **values)
    return [item], problems


# ----------------------------------------------------------------------------- layout (b)
@dataclass
class _Mark:
    family: str
    value: int
    line: int          # 0-based
    after: int         # offset just after the number marker


def _numbered_run(text: str, lines: _Lines, is_proposer: Callable[[str], bool] = lambda s: False,
                  lo: int = 0, hi: int | None = None) -> list[_Mark] | None:
    """The markers of the numbering family whose numbers repeat and increase (in lines lo..hi)."""
    found: dict[str, list[_Mark]] = {f: [] for f in (*_NUMBERING, "【】", "X：")}
    for i in range(lo, len(lines) if hi is None else hi):
        s, e = lines.bounds(i)
        for fam, rx in _NUMBERING.items():
            if m := rx.match(text, s, e):
                found[fam].append(_Mark(fam, _number(m.group(1)) or 0, i, m.end()))
                break
        else:
            if (m := _BRACKET_LEAD.match(text, s, e)) and is_proposer(m.group("who")):
                found["【】"].append(_Mark("【】", len(found["【】"]) + 1, i, m.start("who") - 1))
            elif ((m := _COLON_LEAD.fullmatch(text, s, e)) and _role(_key(m.group("who"))) is None
                  and is_proposer(m.group("who"))):
                found["X："].append(_Mark("X：", len(found["X："]) + 1, i, m.start("who")))
    best = None
    for fam, marks in found.items():
        if len(marks) < 2:
            continue
        start = next((k for k, mk in enumerate(marks) if mk.value == 1), 0)
        run, last = [marks[start]], marks[start].value
        for mk in marks[start + 1:]:
            if last < mk.value <= last + _MAX_GAP:
                run.append(mk)
                last = mk.value
        if len(run) < 2:
            continue
        # A family that starts again at 1 is a list nested inside items of another family.
        nested = sum(mk.value == 1 for mk in marks) > 1
        # Prefer an un-nested family, then the one whose list starts first, then the longest.
        key = (nested, run[0].line, -len(run))
        if best is None or key < best[0]:
            best = (key, run)
    return best[1] if best else None


def _numbered(name: str, text: str, lines: _Lines, is_proposer: Callable[[str], bool],
              region: tuple[int, int] | None = None):
    """Items of the outer numbered list (within `region`'s lines when given). A part of the list
    that names no proposer but holds a list of items that mostly do ("一、大会发言" over
    "【<提案者>】…" speeches) gives those items instead, its heading kept as their 栏目."""
    lo, hi = region or (0, len(lines))
    picked = _numbered_run(text, lines, is_proposer, lo, hi)
    if picked is None:
        return None
    run = picked  # numbers outside the run (a list nested in a body) stay in their item's body

    def proposer(cand: str) -> bool:
        cand = cand.strip()
        if not cand:
            return False
        if is_proposer(cand):
            return True
        parts = [p.strip() for p in re.split(r"[、，,；;]", cand)]
        return len(parts) > 1 and all(p and is_proposer(p) for p in parts)

    def lead_colon(s: int, e: int) -> int | None:
        """Offset of the colon after a proposer that opens text[s:e] ("<提案者>：…"), else None."""
        colon = re.search(r"[：:]", text[s:e])
        if colon and colon.start() <= _PROPOSER_PREFIX_MAX and proposer(text[s:s + colon.start()]):
            return s + colon.start()
        return None

    items, problems = [], []
    for k, mk in enumerate(run):
        if k and mk.value != run[k - 1].value + 1:
            problems.append(_problem(name, mk.line + 1, f"编号从 {run[k - 1].value} 跳到 {mk.value}，中间的条目缺失。"))
        stop_line = run[k + 1].line if k + 1 < len(run) else hi
        end = lines.starts[stop_line] if stop_line < len(lines) else len(text)
        span = strip_span(text, mk.after, end)
        if span[1] <= span[0]:
            problems.append(_problem(name, mk.line + 1, f"编号 {mk.value} 之后没有内容，已跳过。"))
            continue
        values, fields = {}, {}
        if mk.family == "【】":  # the bracket holds the proposer; the title follows it
            who = _BRACKET_LEAD.match(text, lines.bounds(mk.line)[0])
            values["proposer_text"] = who.group("who").strip()
            mk = replace(mk, after=who.end())
        elif mk.family == "X：":  # the proposer before the colon (taken below), the title after it
            mk = replace(mk, after=lines.bounds(mk.line)[0])
        # title: the rest of the marker's line, else the next non-empty line
        ts, te = strip_span(text, mk.after, lines.bounds(mk.line)[1])
        nxt = mk.line + 1
        if te <= ts:
            while nxt < stop_line and lines.blank(nxt):
                nxt += 1
            if nxt < stop_line:
                ts, te = strip_span(text, *lines.bounds(nxt))
                nxt += 1
        # "<提案者>：关于…" - a proposer before a colon opens the item
        if (colon := lead_colon(ts, te)) is not None:
            values["proposer_text"] = text[ts:colon].strip()
            ts, te = strip_span(text, colon + 1, te)
        # "…的建议（<提案者>）" on the title line
        if "proposer_text" not in values and (m := _PAREN_TAIL.search(text, ts, te)) and proposer(m.group("who")):
            values["proposer_text"] = m.group("who").strip()
            ts, te = strip_span(text, ts, m.start())
        # `提案者：X`, `联名：Y` … lines right after the title
        _key_lines(text, lines, nxt, stop_line, values, fields)
        # "<提案者>：……" opening the item's text on the line after the title (摘登 layouts)
        if "proposer_text" not in values:
            first = next((i for i in range(nxt, stop_line) if not lines.blank(i)), None)
            if first is not None:
                bs, be = strip_span(text, *lines.bounds(first))
                if (colon := lead_colon(bs, be)) is not None:
                    values["proposer_text"] = text[bs:colon].strip()
        # "……（<提案者>）" closing the item's text
        if "proposer_text" not in values and (m := _PAREN_TAIL.search(text, span[0], span[1])) and proposer(m.group("who")):
            values["proposer_text"] = m.group("who").strip()
        title = text[ts:te]
        if region is None and "proposer_text" not in values and (
                inner := _numbered(name, text, lines, is_proposer, (mk.line + 1, stop_line))):
            parts, inner_problems, _ = inner
            if len(parts) > 1 and 2 * sum(bool(it.proposer_text) for it in parts) > len(parts):
                items += [replace(it, item=f"{mk.value:02d}.{it.item}", fields={"栏目": title, **it.fields})
                          for it in parts]
                problems += inner_problems
                continue
        items.append(ParsedItem(f"{mk.value:02d}", title, (ts, te) if title else None, span,
                                fields=fields, line=mk.line + 1, **values))
    return items, problems, lines.starts[run[0].line]


# ----------------------------------------------------------------------------- text files
def parse_text(name: str, text: str, is_proposer: Callable[[str], bool] = lambda s: False) -> ParsedCollection:
    """A text file (.txt/.md, or text the caller extracted from .docx/.pdf); offsets into `text`.

    Tried in this order: (d) a header block at the top, (a) `###` sections, (b) a numbered list,
    then "plain". (d) goes first because a single proposal's body often has numbered points."""
    lines = _Lines(text)
    headline = _headline(text)
    if (d := _single(name, text, lines)) is not None:
        items, problems = d
        return ParsedCollection("single", text, headline, None, tuple(items), tuple(problems))
    for layout, parse in (("sections", lambda: _sections(name, text, lines)),
                          ("numbered", lambda: _numbered(name, text, lines, is_proposer))):
        found = parse()
        if found is not None and found[0]:
            items, problems, first = found
            problems += _duplicates(name, items)
            return ParsedCollection(layout, text, headline, _intro(text, lines, first), tuple(items), tuple(problems))
    span = strip_span(text, 0, len(text))
    if span[1] <= span[0]:
        return ParsedCollection("plain", text, headline, None, (), (_problem(name, 1, "文件没有文字。"),))
    ls, le = strip_span(text, *lines.bounds(lines.number(span[0]) - 1))
    if m := _HEADING.fullmatch(text, ls, le):
        ls, le = m.span(2)
    title_span = (ls, le) if le - ls <= PLAIN_TITLE_MAX else None
    line = lines.number(span[0])
    item = ParsedItem("01", text[ls:le] if title_span else "", title_span, span, line=line)
    msg = "没有识别出提案结构（### 小节、编号条目、“标题：”表头都没有），全文作为一条处理。"
    return ParsedCollection("plain", text, headline, None, (item,), (_problem(name, line, msg),))


# ----------------------------------------------------------------------------- catalogues
@dataclass
class _Row:
    line: int
    values: list[str]                       # stripped
    spans: list[tuple[int, int] | None]     # stripped, or None where a value has no place in text


def _columns(header: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """role -> column index (earliest synonym wins), and the remaining named columns."""
    ranked: dict[str, tuple[int, int]] = {}
    for j, h in enumerate(header):
        role = _role(h)
        if role and role != "field":
            k = _key(h)
            rank = SYNONYMS[role].index(k) if k in SYNONYMS[role] else len(SYNONYMS[role])
            if role not in ranked or rank < ranked[role][0]:
                ranked[role] = (rank, j)
    cols = {role: j for role, (_, j) in ranked.items()}
    taken = set(cols.values())
    return cols, [(j, _key(h)) for j, h in enumerate(header) if j not in taken and _key(h)]


def _catalogue_items(name: str, header: list[str], rows: list[_Row], header_line: int):
    cols, others = _columns(header)
    if "title" not in cols:
        names = "、".join(_key(h) for h in header if _key(h)) or "（空）"
        return [], [_problem(name, header_line, f"表头里没有标题列（{names}），无法读取条目。")]
    items, problems = [], []
    for pos, row in enumerate(rows, 1):
        get = lambda role: row.values[cols[role]] if role in cols else ""  # noqa: E731
        title, body = get("title"), get("body")
        if not title and not body:
            problems.append(_problem(name, row.line, "这一行没有标题也没有正文，已跳过。"))
            continue
        title_span = row.spans[cols["title"]] if title else None
        span = row.spans[cols["body"]] if body else title_span
        values = {attr: get(role) for role, attr in _ATTR.items() if get(role)}
        fields = {h: row.values[j] for j, h in others if row.values[j]}
        item = item_label(get("item")) if get("item") else f"{pos:02d}"
        items.append(ParsedItem(item, title, title_span, span, fields=fields, line=row.line, **values))
    return items, problems + _duplicates(name, items)


def _csv_spans(text: str, pos: int) -> list[tuple[int, int, bool]]:
    """Raw (start, end, quoted) of each field of the record starting at `pos`, inside the quotes
    for quoted fields. The csv module gives values but no offsets, hence this scanner; its result
    is checked against csv's values, so the two can't silently disagree."""
    out = []
    n = len(text)
    while True:
        if pos < n and text[pos] == '"':
            q = pos + 1
            while True:
                q = text.find('"', q)
                if q == -1:
                    q = n
                    break
                if text.startswith('""', q):
                    q += 2
                    continue
                break
            out.append((pos + 1, q, True))
            pos = q + 1
            while pos < n and text[pos] not in ",\r\n":   # junk after a closing quote
                pos += 1
        else:
            e = pos
            while e < n and text[e] not in ",\r\n":
                e += 1
            out.append((pos, e, False))
            pos = e
        if pos < n and text[pos] == ",":
            pos += 1
            continue
        return out


def parse_catalogue(name: str, text: str) -> ParsedCollection:
    """(c) a CSV catalogue, one row per item (RFC 4180; BOM and \\r\\n allowed); offsets into `text`."""
    # Line starts as csv counts lines (newline="": \n, \r\n and a lone \r each end a line).
    starts, pos = [], 0
    for ln in io.StringIO(text, newline=""):
        starts.append(pos)
        pos += len(ln)
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, int, list[str]]] = []   # (first line, last line, values)
    problems: list[str] = []
    prev = 0
    try:
        for values in reader:
            records.append((prev + 1, reader.line_num, values))
            prev = reader.line_num
    except csv.Error as e:
        problems.append(_problem(name, prev + 1, f"CSV 格式错误（{e}），其后的行未读取。"))
    records = [r for r in records if any(x.strip().strip("\ufeff") for x in r[2])]
    if not records:
        return ParsedCollection("catalogue", text, "", None, (), tuple(problems) or (_problem(name, 1, "文件没有数据。"),))
    header_line, _, header = records[0]
    rows = []
    for ln, last, values in records[1:]:
        if len(values) != len(header):
            # a record running over several lines usually means an unclosed quote: say which lines
            where = f"这条记录（第 {ln}–{last} 行，引号可能未闭合）" if last > ln else "这一行"
            problems.append(_problem(name, ln, f"{where}有 {len(values)} 个字段，表头有 {len(header)} 个，已跳过。"))
            continue
        raw = _csv_spans(text, starts[ln - 1])
        if len(raw) != len(values) or any(
                (text[s:e].replace('""', '"') if q else text[s:e]) != v for (s, e, q), v in zip(raw, values)):
            problems.append(_problem(name, ln, "引号用法不规范，无法定位字段，已跳过。"))
            continue
        rows.append(_Row(ln, [v.strip() for v in values], [strip_span(text, s, e) for s, e, _ in raw]))
    items, more = _catalogue_items(name, header, rows, header_line)
    return ParsedCollection("catalogue", text, "", None, tuple(items), tuple(problems + more))


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v).strip()


def parse_xlsx(name: str, path: Path) -> ParsedCollection:
    """(c) the first sheet of an .xlsx. A sheet has no text of its own, so each row is rendered
    as one line `key：value；key：value` (non-empty cells, column order) and offsets point into
    that rendering. `line` and problem line numbers are sheet row numbers."""
    try:
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = wb.worksheets[0]
            table = [(r, [_cell(v) for v in row]) for r, row in enumerate(sheet.iter_rows(values_only=True), 1)]
        finally:
            wb.close()
    except Exception as e:  # openpyxl raises many types for a broken or mislabelled file
        raise ValueError(f"{name}: 无法作为 Excel 工作簿打开（{type(e).__name__}: {e}）。") from e
    table = [(r, vals) for r, vals in table if any(vals)]
    if not table:
        return ParsedCollection("catalogue", "", "", None, (), (_problem(name, 1, "工作表没有数据。"),))
    header_line, header = table[0]
    while header and not header[-1]:
        header.pop()
    parts, rows, problems, pos = [], [], [], 0
    for r, vals in table[1:]:
        extra = [j + 1 for j, v in enumerate(vals) if v and (j >= len(header) or not header[j])]
        if extra:
            problems.append(_problem(name, r, f"第 {'、'.join(map(str, extra))} 列没有表头，其内容未收录。"))
        vals = (vals + [""] * len(header))[:len(header)]
        line, spans = [], [None] * len(header)
        for j, v in enumerate(vals):
            if v and header[j]:
                if line:
                    line.append("；")
                    pos += 1
                key = f"{header[j]}："
                line.append(key + v)
                spans[j] = (pos + len(key), pos + len(key) + len(v))
                pos += len(key) + len(v)
        parts.append("".join(line))
        pos += 1  # the "\n" joining rows
        rows.append(_Row(r, vals, spans))
    text = "\n".join(parts)
    items, more = _catalogue_items(name, header, rows, header_line)
    return ParsedCollection("catalogue", text, "", None, tuple(items), tuple(problems + more))
