"""Generative answers: an LLM writes the answer from numbered sources, and every answer is verified
before anyone sees it.

- Same interface and the same `Answer` (so the same `ask --json` contract) as ExtractiveAnswerer.
  Retrieval, follow-up resolution and the decision whether the corpus answers at all are the
  extractive answerer's own (`answer()` -> resolve, _candidates, _rank, _select): when it declines,
  the LLM is never asked; when it answers, the chunks it cites (and the best further chunks of the
  same proposals) become the LLM's numbered sources.
- The LLM is any llama-index LLM object passed in explicitly: `OpenAILike` for an OpenAI-compatible
  endpoint (llama.cpp server, Ollama, vLLM…), or `LlamaCppChat` for a local GGUF file (optional
  extra `llm`). llama-index's global `Settings` is never read or written (it would silently fall
  back to OpenAI).
- Verification (`verify`): markers that point to no source are removed and counted; a sentence
  that names a proposer must cite a chunk of that proposer; every cited proposal's proposer must
  be named; sentences without a citation, without substance (only names, framing words,
  placeholders, punctuation) or without lexical support in the chunks they cite (character-bigram
  containment below a threshold) are flagged. Every number (arabic and Chinese, with 亿/万/%/倍),
  year/date and negation (不/未/没有/无/非/禁止/不得/不再…) of a cited sentence must occur in
  the chunks it cites: as tokens, so condensing and paraphrasing stay allowed, but "投入10亿元"
  added to a copied sentence, or 建议 turned into 不建议, is a distortion. An answer with an
  attribution violation, a distortion, a template placeholder ([编号], 【编号】, <资料原文>, a bare
  ……), a sentence repeating the prompt's instructions, no substantive sentence, too many
  unsupported sentences, or no valid citation while claiming an answer is replaced by the
  extractive answer, and the text says so (`FALLBACK_NOTE`). The report is in
  `Answer.context["verification"]`, never in `to_dict()`; the eval harness counts its `fallback`.
- Every [n] of the final text is renumbered onto a Citation whose quote is an exact span of the
  cited chunk (the sentences that support what cites it), so a citation that does not exist can
  never be shown.
"""
from __future__ import annotations

import re
import string
import threading
import time
import unicodedata
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .records import Answer, Citation, Turn
from .chunk import sentences as chunk_sentences
from .errors import AssistantError

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
# prompt file -> exactly the placeholders the code fills in
PROMPT_FIELDS = {"system": frozenset(), "answer": frozenset({"sources", "question"}),
                 "condense": frozenset({"history", "question"})}
FALLBACK_NOTE = "（生成式回答未通过核验，以下为摘录式回答）"
TOO_MANY_NOTE = "（涉及的建议超出生成式回答的资料上限，以下为摘录式回答）"
UNAVAILABLE_NOTE = "（大模型服务暂不可用，以下为摘录式回答）"

# [1] [1,2] [1、3] 【2】 ［3］ [来源1] [资料 2]: whatever a model writes for "source n"
_ANY_MARKER = re.compile(r"[\[【［]\s*(?:来源|资料|出处|文献|编号|source)?\s*(\d{1,3}(?:\s*[,，、;；]\s*\d{1,3})*)\s*[\]】］]", re.I)
_MARK = re.compile(r"\[(\d+)\]")
_SENT_END = re.compile(r"[。！？!?；;]+[”’」』）)]*")
_TRAILING_MARKS = re.compile(r"(?:\s*\[\d+\])+")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•·]\s*|\d{1,2}\s*[.、．)）]\s*|[（(]\d{1,2}[)）]\s*|[一二三四五六七八九十]+[、.．]\s*)")
_MD = re.compile(r"\*\*|__|^#{1,6}\s*", re.M)
_ANSWER_LABEL = re.compile(r"^\s*(?:回答|答案|答)\s*[:：]\s*")
_REFUSAL = re.compile(r"没有相关|无相关|无法回答|不能回答|无法据此|没有找到|未找到|没有提到|未提到|未提及|没有提及|没有涉及|未涉及|并未|没有关于")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LEADING_MARKS = re.compile(r"\s*(?:\[\d+\]\s*)*")
_STANDARD_REFUSAL = re.compile(r"资料中没有相关内容[，,]?无法回答[。.]?")
_LEAD_IN = re.compile(r"(?:[：:]|(?:如下|以下[^。，]{0,10}|几点|几个方面)[。]?)$")
# framing words an answer adds around what it quotes; they are no evidence either way
_FRAMING = re.compile(r"根据资料|根据以上资料|根据上述资料|资料显示|资料中|资料|提出了|提出|建议|认为|指出|强调|表示|主要|包括|以下|如下|分别|方面|其中|此外|另外|同时|等")


# ------------------------------------------------------------------------------------ prompts
@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    fields: frozenset

    def format(self, **values) -> str:
        if set(values) != set(self.fields):
            raise AssistantError(f"提示词 {self.name} 需要的占位符是 {sorted(self.fields)}，实际提供 {sorted(values)}。")
        return self.text.format(**values)


def placeholders(text: str) -> set[str]:
    """The {names} a str.format template fills ({{ and }} are literal braces)."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def load_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    path = Path(prompts_dir or PROMPTS_DIR) / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8").strip() + "\n"
    except FileNotFoundError:
        raise AssistantError(f"找不到提示词文件 {path}。") from None
    try:
        got = placeholders(text)
    except ValueError as e:
        raise AssistantError(f"提示词文件 {path} 格式有误: {e}") from None
    want = PROMPT_FIELDS.get(name)
    if want is not None and got != want:
        raise AssistantError(f"提示词文件 {path} 的占位符应为 {sorted(want)}，实际为 {sorted(got)}。")
    return Prompt(name, text, frozenset(got))


# ------------------------------------------------------------------------------------ sources
@dataclass(frozen=True)
class Source:
    n: int
    chunk: Any           # records.Chunk
    kind: str            # proposal kind: "proposal", "intro", "policy"
    score: float

    @property
    def proposers(self) -> tuple[str, ...]:
        return self.chunk.proposers

    def render(self) -> str:
        # compact on purpose: a small model copies "[n] 提出者：原文" far more reliably than a form
        c = self.chunk
        if self.kind == "intro":
            who = "导语（会议综述）"
        elif self.kind == "policy":
            who = f"政策文本《{c.title}》"
        else:
            who = f"{'、'.join(c.proposers)}（{c.proposer_type}，《{c.title}》）"
        return f"[{self.n}] {who}：{c.text}"


def render_sources(sources: Sequence[Source]) -> str:
    return "\n\n".join(s.render() for s in sources)


def render_history(history: Sequence[Turn], max_turns: int = 3, max_chars: int = 240) -> str:
    lines = []
    for t in list(history)[-max_turns:]:
        lines.append(f"用户：{t.question}")
        if t.answer is not None:
            a = _MARK.sub("", t.answer.answer).replace(FALLBACK_NOTE, "").strip()
            a = re.sub(r"\s+", " ", a)
            lines.append(f"助手：{a[:max_chars]}{'…' if len(a) > max_chars else ''}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ verification
def _bigrams(text: str) -> set[str]:
    s = re.sub(r"[^\w]|_", "", text.lower())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def containment(claim: str, reference: str) -> float:
    """Share of the claim's character bigrams (framing words removed) that occur in the reference."""
    grams = _bigrams(_FRAMING.sub(" ", claim))
    if not grams:
        return 1.0
    ref = reference if isinstance(reference, set) else _bigrams(reference)
    return len(grams & ref) / len(grams)


@dataclass
class _Sentence:
    line: int
    text: str                    # as shown: canonical [n] markers only
    cites: list[int]             # its own markers, or those that open its line ("[2] 某区政协：…")
    content: str                 # without markers and list numbering
    structural: bool = False     # headings, connectives: no claim
    lead_in: bool = False        # "某区政协建议：" introduces the next sentences
    named: list[str] = field(default_factory=list)
    support: float | None = None
    unsupported: str = ""        # why, when flagged
    dropped: bool = False
    empty: bool = False          # cites, but says nothing beyond names, framing and placeholders


@dataclass
class Verification:
    passed: bool
    fallback: bool
    declined: bool
    text: str                                  # the verified text, markers renumbered 1..k
    used: list[int]                            # source numbers, in the order of the new numbers
    report: dict
    claims_for: dict = field(default_factory=dict)  # new number -> the sentences that rely on it


def _split_sentences(line: str) -> list[str]:
    """Sentences of one line; markers after the end punctuation belong to the sentence before."""
    out, pos = [], 0
    for m in _SENT_END.finditer(line):
        end = m.end()
        t = _TRAILING_MARKS.match(line, end)
        if t:
            end = t.end()
        out.append(line[pos:end])
        pos = end
    if pos < len(line):
        out.append(line[pos:])
    return [s for s in out if s.strip()]


def _normalize_markers(text: str, n_sources: int) -> tuple[str, int, list[int]]:
    """Canonical [n] markers; markers pointing to no source are removed. Returns (text, removed, bad)."""
    removed, bad = 0, []

    def sub(m: re.Match) -> str:
        nonlocal removed
        out = []
        for x in re.split(r"[^\d]+", m.group(1)):
            if not x:
                continue
            n = int(x)
            if 1 <= n <= n_sources:
                if f"[{n}]" not in out:
                    out.append(f"[{n}]")
            else:
                removed += 1
                bad.append(n)
        return "".join(out)

    return _ANY_MARKER.sub(sub, text), removed, bad


# ------------------------------------------------------------------------------------ faithfulness
# Template markers a model copies from the prompt instead of filling them in: "[编号]", "[n]",
# "【编号】", "（编号）", "<提出者>", "<资料原文>", "{sources}" (numbered markers are handled above).
_PLACEHOLDER = re.compile(
    r"[\[【［(（<〈＜{｛]\s*(?:编号|序号|数字|标号|来源编号|资料编号|引用编号|来源|资料|出处|提出者|提出者名称|资料原文|原文|"
    r"建议内容|内容|n|x|k|#|sources|question|…+|\.{2,})\s*[\]】］)）>〉＞}｝]", re.I)
_ELLIPSIS = re.compile(r"…+|\.{3,}|。{3,}|·{3,}")
# what a claim may consist of without saying anything: framing, pronouns, particles
_FILLER = re.compile(r"提出者名称|提出者|委员会|政协|他们|它们|该单位|该|还|也|了|的|和|与|及|对此|就此|对|在|将|要|应|并")
_CLAUSE = re.compile(r"[，,、；;：:。！？!?]")
_CIRCLED = re.compile(r"[\u2460-\u2473\u2474-\u2487\u2488-\u249b\u2776-\u277f]")  # ①⑴⒈❶: list numbering

# numbers: arabic (with magnitude 十百千万亿 and %/‰/倍), Chinese numerals; dates reduce to their number
_ARABIC = re.compile(r"(\d+(?:\.\d+)?)[多余]?([十百千万亿]*)([%‰倍]?)")
_ZH_NUM = re.compile(r"第?[零〇一二两三四五六七八九十百千万亿]+")
_ZH_ALONE = set("一十百千万亿")      # alone these are mostly words (一体、十分、百姓、千方百计、万众)…
_MEASURE = set("个项家名人所条座次批类种位户件大年月天元亿万")  # …but 十个、百年、万人 are numbers (一个 stays a word)
_ZH_WORDS = {"一一", "万一", "万万", "千千万万"}
_ENUM_BEFORE = set("，,；;：:。、(（ \n\t") | {""}

# negations: compounds are tokens as they stand, a single 不/未/没/无/非/勿 together with the word it negates
_NEG_COMPOUNDS = ("不得", "不再", "不能", "不宜", "不应", "不要", "不必", "不许", "不准", "不可", "不予", "禁止", "严禁",
                  "没有", "未能", "无需", "无须", "无法", "并非", "绝不", "决不", "毫不")
_NOT_NEGATION = ("不断", "不仅", "不少", "不同", "不论", "不管", "不但", "不久", "不妨", "不止", "不过", "不禁",
                 "未来", "无论", "非常", "无数")
_NEG_CHARS = set("不未没无非勿")


def _norm(text: str) -> str:
    """Full-width digits and signs to ASCII, no spaces, no thousands separators, no ①-style numbering."""
    t = unicodedata.normalize("NFKC", _CIRCLED.sub(" ", text))
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)
    return re.sub(r"\s+", "", t)


def numbers(text: str, *, source: bool = False) -> set[str]:
    """The numbers a text states, as tokens: "10亿", "3.5%", "2025" (from 2025年), "2倍", "十四", "第二".
    A claim's list numbering ("1.", "（2）", "一是", "第一，") is no number; a source keeps everything."""
    t = _norm(text)
    out = set()
    for m in _ARABIC.finditer(t):
        a, b = m.span()
        if a and (t[a - 1].isdigit() or t[a - 1] == "."):
            continue
        if not source and len(m.group(1)) <= 2 and not m.group(2) and not m.group(3) and t[a - 1:a] in _ENUM_BEFORE \
                and t[b:b + 1] in (".", "、", ")") and not t[b + 1:b + 2].isdigit():
            continue
        v = m.group(1)
        if "." in v:
            v = v.rstrip("0").rstrip(".")
        out.add(v + m.group(2) + m.group(3))
    for m in _ZH_NUM.finditer(t):
        a, b = m.span()
        run = m.group(0)
        if a and t[a - 1].isdigit():  # "1.5万亿": the magnitude of an arabic number
            continue
        if not source:
            core = run[1:] if run.startswith("第") else run
            if not core or run in _ZH_WORDS or (len(core) == 1 and core in _ZH_ALONE and not run.startswith("第")
                                                and (core == "一" or t[b:b + 1] not in _MEASURE)):
                continue
            if t[a - 1:a] == "其" or (len(core) <= 2 and t[a - 1:a] in _ENUM_BEFORE and t[b:b + 1] in ("是", "、")) \
                    or (run.startswith("第") and t[b:b + 1] in ("，", ",", "、", ":", "：")):
                continue
        out.add(run)
    return out


def negations(text: str) -> list[str]:
    """The negations a text states: "不得", "没有", or 不/未/无/非… with the word they negate ("不建")."""
    t = _norm(text)
    out, i = [], 0
    while i < len(t):
        skip = next((w for w in _NOT_NEGATION if t.startswith(w, i)), None)
        if skip:
            i += len(skip)
            continue
        comp = next((w for w in _NEG_COMPOUNDS if t.startswith(w, i)), None)
        if comp:
            out.append(comp)
            i += len(comp)
            continue
        if t[i] in _NEG_CHARS:
            nxt = t[i + 1:i + 2]
            out.append(t[i] + nxt if nxt and _CJK.match(nxt) else t[i])
        i += 1
    return list(dict.fromkeys(out))


def _strip_names(text: str, names: Sequence[str]) -> str:
    for n in names:  # longest first
        if n in text:
            text = text.replace(n, " ")
    return text


def distortions(claim: str, reference: str, names: Sequence[str] = ()) -> dict:
    """Numbers and negations of `claim` that its cited `reference` does not contain (proposer names
    are removed from the claim first: 九三学社 is no number, 无党派人士 no negation)."""
    c = _strip_names(claim, names)
    ref = _norm(reference)
    ref_numbers = numbers(ref, source=True)
    missing_n = sorted(n for n in numbers(c) if n not in ref_numbers)
    missing_neg = [w for w in negations(c) if w not in ref]
    return {k: v for k, v in (("numbers", missing_n), ("negations", missing_neg)) if v}


def substance(content: str, names: Sequence[str] = ()) -> str:
    """What a sentence says beyond proposer names, types, framing words, placeholders and punctuation."""
    t = _PLACEHOLDER.sub(" ", _ELLIPSIS.sub(" ", _strip_names(content, names)))
    t = _FILLER.sub(" ", _FRAMING.sub(" ", t))
    return re.sub(r"[\W_]+", "", t)


def placeholders_in(content: str, names: Sequence[str] = ()) -> list[str]:
    """Template markers in a sentence: bracketed ones anywhere, an ellipsis where content should be
    ("某区政协建议……")."""
    found = [m.group(0) for m in _PLACEHOLDER.finditer(content)]
    for clause in _CLAUSE.split(content):
        if _ELLIPSIS.search(clause) and len(substance(clause, names)) < 2:
            found += _ELLIPSIS.findall(clause)
    return list(dict.fromkeys(found))


def instruction_text(prompts: dict | None = None) -> str:
    """The fixed wording of the system and answer prompts (placeholders and the standard refusal
    sentence removed): an answer sentence made of it repeats the instructions."""
    if prompts is None:
        return _default_instructions()
    parts = []
    for name in ("system", "answer"):
        p = prompts.get(name)
        if p is not None:
            parts.append("".join(lit for lit, _, _, _ in string.Formatter().parse(p.text)))
    return _STANDARD_REFUSAL.sub(" ", "\n".join(parts))


@lru_cache(maxsize=1)
def _default_instructions() -> str:
    try:
        return instruction_text({n: load_prompt(n) for n in ("system", "answer")})
    except AssistantError:
        return ""



def verify(raw: str, sources: Sequence[Source], registry, *, support_threshold: float = 0.5,
           max_unsupported: float = 0.25, accept_refusal: bool = False,
           instructions: str | None = None) -> Verification:
    """Check an LLM answer against its numbered sources (see the module docstring).
    `instructions`: the prompts' fixed wording (`instruction_text`); default: the shipped prompts."""
    by_n = {s.n: s for s in sources}
    text = _MD.sub("", raw or "").replace("\r", "")
    text = _ANSWER_LABEL.sub("", text.strip())
    text, dangling, bad = _normalize_markers(text, len(sources))
    ref_text = {s.n: f"{s.chunk.title}\n{s.chunk.text}" for s in sources}
    names_of = {s.n: set(s.proposers) | {a for a, c in registry.aliases.items() if c in s.proposers} for s in sources}
    ref_grams = {n: _bigrams(ref_text[n] + " " + " ".join(names_of[n]) + " " + (by_n[n].chunk.proposer_type or ""))
                 for n in by_n}
    ref_full = {n: f"{ref_text[n]}\n{' '.join(names_of[n])}\n{by_n[n].chunk.proposer_type or ''}" for n in by_n}
    # names and types are no claim: 九三学社 states no number, 无党派人士 no negation
    strip = sorted({x for x in (*getattr(registry, "aliases", {}), *getattr(registry, "types", ()),
                                *(s.chunk.proposer_type or "" for s in sources)) if len(x) >= 2}, key=len, reverse=True)

    sents: list[_Sentence] = []
    seen: set[str] = set()
    duplicates = 0
    for li, line in enumerate(text.split("\n")):
        opening = [int(x) for x in re.findall(r"\[(\d+)\]", _LEADING_MARKS.match(_LIST_PREFIX.sub("", line)).group(0))]
        for st in _split_sentences(line):
            cites = list(dict.fromkeys(int(x) for x in _MARK.findall(st))) or list(dict.fromkeys(opening))
            content = _LIST_PREFIX.sub("", _MARK.sub("", st)).strip()
            key = re.sub(r"\W", "", content)
            if len(key) >= 6 and key in seen:  # a small model repeating itself
                duplicates += 1
                continue
            seen.add(key)
            s = _Sentence(li, st, cites, content)
            s.structural = len(_CJK.findall(content)) < 4
            s.lead_in = not cites and bool(_LEAD_IN.search(content))
            sents.append(s)

    # a trailing fragment cut off by the token limit: ends in neither punctuation nor a marker
    truncated = 0
    while len(sents) > 1 and not sents[-1].structural and not sents[-1].lead_in \
            and not re.search(r"(?:[。！？!?；;…”’」』）)]|\[\d+\])\s*$", sents[-1].text):
        truncated += 1
        sents.pop()
    # the prompt's refusal sentence tacked onto an answer that does cite sources
    refusals_removed = 0
    if any(s.cites for s in sents):
        keep = [s for s in sents if s.cites or not _STANDARD_REFUSAL.fullmatch(re.sub(r"\s", "", s.content))]
        refusals_removed = len(sents) - len(keep)
        sents = keep

    # a line's opening marker only counts while it is still shown (its sentence may be a dropped repeat)
    shown: dict[int, set] = {}
    for s in sents:
        shown.setdefault(s.line, set()).update(int(x) for x in _MARK.findall(s.text))
    for s in sents:
        s.cites = [n for n in s.cites if n in shown[s.line]]

    claims = [s for s in sents if not s.structural]
    valid_cites = [n for s in sents for n in s.cites]
    refusal = not valid_cites and bool(_REFUSAL.search(text))

    # attribution: every proposer a sentence names must be a proposer of a chunk it cites
    violations = []
    for i, s in enumerate(sents):
        if s.structural and not registry.mentioned(s.content):
            continue
        eff = list(s.cites)
        if not eff:
            # "某区政协建议：" + list items: the following sentences' citations carry the attribution,
            # up to the next such introduction
            for t in sents[i + 1:]:
                if t.lead_in or (not t.cites and registry.mentioned(t.content)):
                    break
                eff += t.cites
        # strict: any registry name counts as naming that proposer, even inside a phrase ("新郑航空港"),
        # because that is how a reader (and the benchmark) reads it
        s.named = registry.mentioned(s.content)
        for p in s.named:
            if not any(p in by_n[n].proposers for n in eff):
                violations.append({"sentence": s.text.strip(), "proposer": p, "cites": eff,
                                   "reason": "未标注引用" if not eff else "引用的资料不是该提出者的建议"})
    # completeness: every proposal among the sources is cited and its proposer(s) named. The sources
    # are the proposals retrieval chose, so a passing answer names exactly their proposers: no
    # attribution is lost or added relative to the extractive answer, only the wording changes.
    named_anywhere = {p for s in sents for p in s.named}
    cited_pids = {by_n[n].chunk.proposal_id for n in valid_cites}
    unnamed, uncovered = [], []
    for src in sources:
        if src.kind != "proposal":
            continue
        for p in src.proposers:
            if p not in named_anywhere and p not in unnamed:
                unnamed.append(p)
        if src.chunk.proposal_id not in cited_pids and src.chunk.proposal_id not in uncovered:
            uncovered.append(src.chunk.proposal_id)

    # support: every claim cites something, says something, and shares enough wording with what it cites
    flagged = []
    for s in claims:
        if s.lead_in:
            continue
        if not s.cites:
            s.unsupported = "无引用"
        elif len(substance(s.content, strip)) < 2:
            s.empty = True
            if _LEAD_IN.search(s.content):  # "某区政协建议：[1]" introduces what follows
                continue
            s.unsupported = "没有实质内容"
        else:
            grams = set().union(*(ref_grams[n] for n in s.cites))
            s.support = containment(s.content, grams)
            if s.support < support_threshold:
                s.unsupported = f"与所引资料的字面重合 {s.support:.2f} 低于 {support_threshold}"
        if s.unsupported:
            flagged.append({"sentence": s.text.strip(), "reason": s.unsupported, "cites": s.cites,
                            "support": None if s.support is None else round(s.support, 3)})
    checked = [s for s in claims if not s.lead_in and not (s.empty and not s.unsupported)]
    share = len(flagged) / len(checked) if checked else 0.0

    # faithfulness: no template markers, no repeated instructions, and every number, date and negation
    # of a cited sentence occurs in what it cites (tokens, not the sentence: condensing stays allowed)
    instr = _bigrams(_FRAMING.sub(" ", _default_instructions() if instructions is None else instructions))
    all_grams = set().union(*ref_grams.values()) if ref_grams else set()
    placeholder_hits, echoes, distorted = [], [], []
    for s in sents:
        ph = placeholders_in(s.content, strip)
        if ph:
            placeholder_hits.append({"sentence": s.text.strip(), "placeholders": ph})
        if s.cites:
            d = distortions(s.content, "\n".join(ref_full[n] for n in s.cites), strip)
            if d:
                distorted.append({"sentence": s.text.strip(), "cites": s.cites, **d})
        if instr and not s.structural and not _REFUSAL.search(s.content):
            g = _bigrams(_FRAMING.sub(" ", _strip_names(s.content, strip)))
            if len(g) >= 4:
                to_instr = len(g & instr) / len(g)
                to_src = len(g & (set().union(*(ref_grams[n] for n in s.cites)) if s.cites else all_grams)) / len(g)
                if to_instr >= 0.6 and to_instr > to_src:
                    echoes.append({"sentence": s.text.strip(), "overlap": round(to_instr, 3)})
    substantive = sum(bool(s.cites) and not s.empty for s in claims)

    reasons = []
    if placeholder_hits:
        reasons.append("回答含有提示词模板的占位符: " + "、".join(dict.fromkeys(x for h in placeholder_hits for x in h["placeholders"])))
    if echoes:
        reasons.append(f"{len(echoes)} 句复述了提示词的要求")
    if distorted:
        toks = dict.fromkeys(x for d in distorted for k in ("numbers", "negations") for x in d.get(k, ()))
        reasons.append(f"{len(distorted)} 句的数字、日期或否定词不见于所引资料: " + "、".join(toks))
    if not refusal and valid_cites and not substantive:
        reasons.append("回答没有实质内容")
    if violations:
        reasons.append(f"{len(violations)} 处提出者归属与引用不符")
    if unnamed and not refusal:
        reasons.append("资料中建议的提出者未写明: " + "、".join(unnamed))
    if uncovered and not refusal:
        reasons.append("遗漏了资料中的建议: " + "、".join(uncovered))
    if not refusal and share > max_unsupported:
        reasons.append(f"{len(flagged)}/{len(checked)} 句缺少依据 (上限 {max_unsupported:.0%})")
    if not refusal and not valid_cites:
        reasons.append("回答没有任何有效引用")
    if refusal and not accept_refusal:
        # the extractive answerer found relevant sources; a small model's "无法回答" is not trusted
        reasons.append("大模型认为资料不能回答，但检索到了相关建议")
    passed = not reasons
    declined = passed and refusal

    # the verified text: markers renumbered in order of first use
    used: list[int] = []
    for s in sents:
        for n in s.cites:
            if n not in used:
                used.append(n)
    renum = {n: k for k, n in enumerate(used, 1)}
    lines: dict[int, list[str]] = {}
    for s in sents:
        lines.setdefault(s.line, []).append(_MARK.sub(lambda m: f"[{renum[int(m.group(1))]}]", s.text))
    final = "\n".join("".join(parts).strip() for _, parts in sorted(lines.items()) if "".join(parts).strip())
    final = re.sub(r"\n{3,}", "\n\n", final).strip()
    claims_for: dict[int, list[str]] = {}
    for s in sents:
        for n in s.cites:
            claims_for.setdefault(renum[n], []).append(s.content)

    report = {
        "llm_called": True, "passed": passed, "fallback": not passed, "declined": declined,
        "reasons": reasons, "sentences": len(sents), "claims": len(checked),
        "cited_sentences": sum(bool(s.cites) for s in checked), "unsupported": flagged,
        "unsupported_share": round(share, 3), "attribution_violations": violations,
        "unnamed_proposers": unnamed, "uncovered_proposals": uncovered,
        "dangling_markers": dangling, "dangling_numbers": bad,
        "duplicates_removed": duplicates, "truncated_fragments": truncated, "refusals_removed": refusals_removed,
        "placeholders": placeholder_hits, "instruction_echo": echoes, "distortions": distorted,
        "empty_claims": sum(s.empty for s in claims), "substantive_claims": substantive,
        "support_threshold": support_threshold, "max_unsupported": max_unsupported,
    }
    return Verification(passed, not passed, declined, final, used, report, claims_for)


def _quote_span(doc_text: str, chunk, claims: Sequence[str]) -> tuple[int, int]:
    """The part of a chunk that supports the sentences citing it: its best-matching sentences
    (one contiguous span); the whole chunk when nothing matches."""
    spans = chunk_sentences(doc_text, chunk.start, chunk.end)
    if not spans or not claims:
        return chunk.start, chunk.end
    cg = [_bigrams(_FRAMING.sub(" ", c)) for c in claims]
    scored = []
    for a, b in spans:
        g = _bigrams(doc_text[a:b])
        scored.append((a, b, max((len(x & g) / len(x) if x else 0.0) for x in cg)))
    best = max(x[2] for x in scored)
    if best <= 0.1:
        return chunk.start, chunk.end
    keep = [(a, b) for a, b, v in scored if v >= 0.5 * best]
    return keep[0][0], min(keep[-1][1], chunk.end)


# ------------------------------------------------------------------------------------ LLM calls
def _llm_error(e: Exception, where: str) -> AssistantError:
    """A clear Chinese message for whatever the client raised (never a traceback)."""
    name = type(e).__name__
    try:
        import openai
        if isinstance(e, openai.APITimeoutError):
            return AssistantError(f"大模型服务 {where} 响应超时。",
                                  hint="请检查服务负载，或调大 ASSISTANT_LLM_TIMEOUT。")
        if isinstance(e, openai.APIConnectionError):
            return AssistantError(f"无法连接到大模型服务 {where}。",
                                  hint="请确认服务已启动、ASSISTANT_LLM_BASE_URL 填写正确 (如 http://127.0.0.1:8080/v1)。")
        if isinstance(e, openai.APIStatusError):
            return AssistantError(f"大模型服务 {where} 返回错误 (HTTP {e.status_code})。",
                                  hint="请检查 ASSISTANT_LLM_MODEL 与 ASSISTANT_LLM_API_KEY。")
    except ImportError:
        pass
    if isinstance(e, (ConnectionError, TimeoutError, OSError)):
        return AssistantError(f"无法连接到大模型服务 {where} ({name})。",
                              hint="请确认服务已启动、地址填写正确。")
    return AssistantError(f"调用大模型 {where} 失败 ({name}: {str(e)[:200]})。")


class LLMAnswerer:
    """Generative answers, verified; the same interface as ExtractiveAnswerer."""
    name = "llm"

    def __init__(self, base, llm, *, max_sources: int = 6, support_threshold: float = 0.5,
                 max_unsupported: float = 0.25, prompts_dir: Path | None = None, where: str = "",
                 condense: bool = True, accept_refusal: bool = False):
        if llm is None:
            raise AssistantError("没有提供大模型对象。")
        self.base, self.llm = base, llm
        self.registry = base.registry
        self.max_sources = max(1, int(max_sources))
        self.support_threshold, self.max_unsupported = support_threshold, max_unsupported
        self.where = where or getattr(llm, "api_base", "") or type(llm).__name__
        self.use_condense = condense
        self.accept_refusal = accept_refusal
        self.prompts = {n: load_prompt(n, prompts_dir) for n in PROMPT_FIELDS}
        self.instructions = instruction_text(self.prompts)
        self.max_question_chars = base.max_question_chars
        self._chunks = {c.chunk_id: c for c in base.index.chunks}
        self._doc_text = {d.doc_id: d.text for d in base.index.documents.values()}

    # the eval harness switches the retriever on whatever answerer it runs
    @property
    def mode(self) -> str:
        return self.base.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.base.mode = value

    @property
    def model_name(self) -> str:
        try:
            return self.llm.metadata.model_name
        except Exception:
            return type(self.llm).__name__

    # ------------------------------------------------------------------ sources
    def sources_for(self, ext: Answer) -> list[Source]:
        """The extractive answer's cited chunks (one per proposal first, in its order), then the best
        further chunks of the same proposals, up to max_sources."""
        props = self.base.index.proposals
        cited = list(dict.fromkeys(c.chunk_id for c in ext.citations))
        score = {}
        for c in ext.citations:
            score.setdefault(c.chunk_id, c.score)
        first, rest, seen_p = [], [], set()
        for cid in cited:
            pid = self._chunks[cid].proposal_id
            (rest if pid in seen_p else first).append(cid)
            seen_p.add(pid)
        order = first + rest
        if len(order) < self.max_sources and seen_p:
            query = ext.context.get("query") or ext.question
            for h in self.base.retriever.chunk_hits(query, mode=self.base.mode):
                cid = h.chunk.chunk_id
                if h.chunk.proposal_id in seen_p and cid not in order:
                    order.append(cid)
                    score.setdefault(cid, h.score)
                if len(order) >= self.max_sources:
                    break
        out = []
        for cid in order[: self.max_sources]:
            ch = self._chunks[cid]
            out.append(Source(len(out) + 1, ch, props[ch.proposal_id].kind, float(score.get(cid, 0.0))))
        return out

    # ------------------------------------------------------------------ LLM calls
    def _messages(self, user: str):
        from llama_index.core.llms import ChatMessage, MessageRole
        return [ChatMessage(role=MessageRole.SYSTEM, content=self.prompts["system"].text.strip()),
                ChatMessage(role=MessageRole.USER, content=user)]

    def _chat(self, user: str) -> str:
        try:
            r = self.llm.chat(self._messages(user))
        except AssistantError:
            raise
        except Exception as e:
            raise _llm_error(e, self.where) from None
        return (r.message.content or "") if r is not None and r.message is not None else ""

    def _stream_chat(self, user: str) -> Iterator[str]:
        try:
            for r in self.llm.stream_chat(self._messages(user)):
                if r.delta:
                    yield r.delta
        except AssistantError:
            raise
        except Exception as e:
            raise _llm_error(e, self.where) from None

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A follow-up + the conversation -> one standalone question (for the answer prompt only;
        retrieval uses the extractive answerer's own resolution of the follow-up)."""
        if not history or not self.use_condense:
            return question
        out = self._chat(self.prompts["condense"].format(history=render_history(history), question=question))
        lines = [ln.strip() for ln in out.strip().splitlines() if ln.strip()]
        q = re.sub(r"^(?:改写后的问题|完整问题|问题)\s*[:：]\s*", "", lines[0]) if lines else ""
        q = q.strip("“”\"'「」 ")
        if not q or len(q) > max(200, 4 * len(question)) or _MARK.search(q):
            return question
        return q

    # ------------------------------------------------------------------ answering
    def answer(self, question: str, history: Sequence[Turn] = (), *, proposers: Sequence[str] = (),
               types: Sequence[str] = (), meetings: Sequence[str] = ()) -> Answer:
        final = None
        for piece in self.stream(question, history, proposers=proposers, types=types, meetings=meetings):
            if isinstance(piece, Answer):
                final = piece
        return final

    def stream(self, question: str, history: Sequence[Turn] = (), *, proposers: Sequence[str] = (),
               types: Sequence[str] = (), meetings: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Yields the model's text pieces as they arrive (unverified), then the verified Answer."""
        t0 = time.perf_counter()
        ext = self.base.answer(question, history, proposers=proposers, types=types, meetings=meetings)
        sources = self.sources_for(ext) if ext.found else []
        if not ext.found or not sources:
            # the extractive answerer found nothing relevant: the LLM is not asked either
            ctx = dict(ext.context)
            ctx["verification"] = {"llm_called": False, "passed": True, "fallback": False, "declined": True,
                                   "reasons": ["检索未找到能回答问题的建议，未调用大模型"]}
            yield Answer(ext.question, ext.answer, False, (), dict(ext.timings_ms), ctx)
            return
        n_props = len({c.proposal_id for c in ext.citations})
        if n_props > self.max_sources:
            # the model could not cover every proposal the answer needs: the extractive answer, said so
            ctx = dict(ext.context)
            ctx["verification"] = {"llm_called": False, "passed": False, "fallback": True, "declined": False,
                                   "reasons": [f"回答涉及 {n_props} 份建议，超过资料上限 {self.max_sources}，未调用大模型"]}
            t = (time.perf_counter() - t0) * 1000
            yield Answer(ext.question, f"{TOO_MANY_NOTE}\n{ext.answer}", True, ext.citations,
                         {"retrieve": ext.timings_ms.get("retrieve", 0.0), "answer": t - ext.timings_ms.get("retrieve", 0.0),
                          "total": t}, ctx)
            return
        standalone = self.condense(ext.question, history)
        prompt = self.prompts["answer"].format(sources=render_sources(sources), question=standalone)
        pieces: list[str] = []
        for piece in self._stream_chat(prompt):
            pieces.append(piece)
            yield piece
        raw = "".join(pieces)
        yield self.finish(ext, sources, raw, standalone, t0)

    def finish(self, ext: Answer, sources: Sequence[Source], raw: str, standalone: str, t0: float) -> Answer:
        v = verify(raw, sources, self.registry, support_threshold=self.support_threshold,
                   max_unsupported=self.max_unsupported, accept_refusal=self.accept_refusal,
                   instructions=self.instructions)
        ctx = dict(ext.context)
        ctx["llm"] = {"model": self.model_name, "standalone_question": standalone, "raw": raw,
                      "sources": [s.chunk.chunk_id for s in sources]}
        ctx["verification"] = v.report
        total = (time.perf_counter() - t0) * 1000
        retrieve = ext.timings_ms.get("retrieve", 0.0)
        timings = {"retrieve": retrieve, "answer": total - retrieve, "total": total}
        if v.fallback:
            return Answer(ext.question, f"{FALLBACK_NOTE}\n{ext.answer}", ext.found, ext.citations, timings, ctx)
        if v.declined:
            text = v.text if v.text and len(v.text) <= 200 else "资料中没有相关内容，无法回答。"
            return Answer(ext.question, text, False, (), timings, ctx)
        by_n = {s.n: s for s in sources}
        claims_for = v.claims_for
        citations = []
        for k, n in enumerate(v.used, 1):
            ch = by_n[n].chunk
            doc = self._doc_text[ch.doc_id]
            a, b = _quote_span(doc, ch, claims_for.get(k, []))
            citations.append(Citation(k, ch.chunk_id, ch.proposal_id, ch.title, ch.proposers, ch.proposer_type,
                                      doc[a:b], a, b, by_n[n].score))
        ctx["proposal_ids"] = list(dict.fromkeys(c.proposal_id for c in citations)) or ctx.get("proposal_ids", [])
        return Answer(ext.question, v.text, True, tuple(citations), timings, ctx)


# ------------------------------------------------------------------------------------ backends
def _check_llm_settings(settings) -> None:
    if settings.llm_temperature < 0 or settings.llm_max_tokens < 16 or settings.llm_timeout <= 0:
        raise AssistantError("大模型设置无效: 需要 ASSISTANT_LLM_TEMPERATURE>=0、ASSISTANT_LLM_MAX_TOKENS>=16、"
                             "ASSISTANT_LLM_TIMEOUT>0。")


def llm_configured(settings) -> bool:
    return bool(getattr(settings, "llm_base_url", "") or getattr(settings, "llm_gguf", ""))


def make_llm(settings):
    """The llama-index LLM object the settings describe (passed explicitly, never via Settings)."""
    _check_llm_settings(settings)
    if settings.llm_gguf:
        return LlamaCppChat.load(settings.llm_gguf, n_ctx=settings.llm_context, max_tokens=settings.llm_max_tokens,
                                 temperature=settings.llm_temperature, n_threads=settings.llm_threads or None)
    if settings.llm_base_url:
        try:
            from llama_index.llms.openai_like import OpenAILike
        except ImportError:
            raise AssistantError("缺少 llama-index-llms-openai-like。", hint="它是本项目的依赖: 请运行 pip install -e .") from None
        return OpenAILike(model=settings.llm_model or "local-model", api_base=settings.llm_base_url.rstrip("/"),
                          api_key=settings.llm_api_key or "sk-no-key-required", temperature=settings.llm_temperature,
                          max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout, max_retries=0,
                          is_chat_model=True, is_function_calling_model=False,
                          context_window=settings.llm_context)
    raise AssistantError("没有配置大模型，无法使用生成式回答。",
                         hint="请设置 ASSISTANT_LLM_BASE_URL (OpenAI 兼容服务, 如 llama.cpp server、Ollama、vLLM) "
                              "或 ASSISTANT_LLM_GGUF (本地 GGUF 文件, 需安装可选依赖 llm)。")


_build_lock = threading.Lock()


def llm_answerer_for(engine) -> LLMAnswerer:
    """The engine's LLM answerer, built once (the model is loaded once, even with threads)."""
    with _build_lock:
        return _llm_answerer_for(engine)


def _llm_answerer_for(engine) -> LLMAnswerer:
    a = getattr(engine, "_llm_answerer", None)
    if a is None:
        s = engine.settings
        llm = make_llm(s)
        where = s.llm_base_url or s.llm_gguf
        a = LLMAnswerer(engine.answerer, llm, max_sources=s.llm_max_sources, support_threshold=s.llm_support,
                        max_unsupported=s.llm_max_unsupported, where=where)
        engine._llm_answerer = a
    return a


try:
    from llama_index.core.llms import (ChatMessage, ChatResponse, CompletionResponse, CustomLLM,
                                       LLMMetadata, MessageRole)
    from pydantic import PrivateAttr
except ImportError:  # pragma: no cover - llama-index-core is a core dependency
    CustomLLM = object


class LlamaCppChat(CustomLLM):
    """A local GGUF model through llama-cpp-python (optional extra `llm`), as a llama-index LLM.
    Chat uses the chat template stored in the GGUF file; calls are serialized (one context)."""
    model_path: str = ""
    n_ctx: int = 4096
    max_tokens: int = 512
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default=None)

    @classmethod
    def load(cls, model_path, *, n_ctx: int = 4096, max_tokens: int = 512, temperature: float = 0.0,
             n_threads: int | None = None) -> "LlamaCppChat":
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise AssistantError(f"找不到 GGUF 模型文件 {path}。", hint="请检查 ASSISTANT_LLM_GGUF。")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise AssistantError("使用本地 GGUF 模型需要 llama-cpp-python。",
                                 hint="请运行 make install-llm (可选依赖 llm)。") from None
        self = cls(model_path=str(path), n_ctx=n_ctx, max_tokens=max_tokens, temperature=temperature)
        try:
            self._llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, seed=0, verbose=False)
        except Exception as e:
            raise AssistantError(f"无法加载 GGUF 模型 {path} ({type(e).__name__}: {e})。") from None
        self._lock = threading.Lock()
        return self

    @classmethod
    def class_name(cls) -> str:
        return "LlamaCppChat"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.n_ctx, num_output=self.max_tokens, is_chat_model=True,
                           model_name=Path(self.model_path).name)

    def _msgs(self, messages) -> list[dict]:
        return [{"role": m.role.value, "content": m.content or ""} for m in messages]

    def chat(self, messages, **kwargs) -> ChatResponse:
        with self._lock:
            r = self._llama.create_chat_completion(self._msgs(messages), temperature=self.temperature,
                                                   max_tokens=self.max_tokens, seed=0)
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT,
                                                content=r["choices"][0]["message"]["content"] or ""))

    def stream_chat(self, messages, **kwargs):
        def gen():
            text = ""
            with self._lock:
                for part in self._llama.create_chat_completion(self._msgs(messages), temperature=self.temperature,
                                                               max_tokens=self.max_tokens, seed=0, stream=True):
                    delta = part["choices"][0]["delta"].get("content") or ""
                    text += delta
                    yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta)
        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
        with self._lock:
            r = self._llama.create_completion(prompt, temperature=self.temperature, max_tokens=self.max_tokens, seed=0)
        return CompletionResponse(text=r["choices"][0]["text"])

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
        def gen():
            text = ""
            with self._lock:
                for part in self._llama.create_completion(prompt, temperature=self.temperature,
                                                          max_tokens=self.max_tokens, seed=0, stream=True):
                    delta = part["choices"][0]["text"]
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)
        return gen()
