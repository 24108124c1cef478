"""Question (+ conversation) -> a Chinese answer in which every recommendation names its proposer
and cites the exact sentences it comes from. No LLM, no network: retrieval, metadata and sentence
selection. Every [n] in the text is built from a Citation, so a citation that does not exist can
never be shown.
"""
from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .chunk import sentences
from .errors import AssistantError
from .question import ORDINAL, MeetingWords, ProposerWords, question_words, strip_type_words, type_scope
from .records import Answer, Citation, Proposal, Turn  # noqa: F401  (re-exported)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

# Characters that never make a topic on their own; what is left of an unknown run is kept.
FUNCTION_CHARS = frozenset("的了吗呢吧啊是有在和与及或也都还又就才把被让给对向从以为于之其这那些个们着过得地很更最并而且但"
                           "提讲说做搞中里上下哪谁什么怎样几多少各每啥嘛呀吗么")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]")
_UNIT_LEFTOVER = re.compile(r"(?:(?<=\s)|^)(?:委员会|委会|委)")
# A question about the meeting itself (its theme, how many reports), not about one proposal.
META_CUE = re.compile(r"会议|大会|导语|主题|议题")
META_COUNT_CUE = re.compile(r"几篇|多少篇|多少份|几份|多少件|几件|几位|多少位|篇数")
# "除了民主党派…以外", "不算…": types named here are excluded, not asked for
NEGATION = re.compile(r"(?:除了|除去|不算|不含|不包括|排除)([^,，。;；?？!！]*?)(?:以外|之外|外|[)）,，。;；?？!！]|$)")
TITLE_CUE = re.compile(r"题目|标题|题为|题名")
ELLIPSIS_CUE = re.compile(r"^(那|那么|还有|再|又|另外)|呢[?？。!！]*$")
_OR = re.compile(r"或者|或是|还是|或")
PLURAL_CUE = re.compile(r"哪些|都有|都有谁|分别|各自|各|几份|几篇|哪几|还有谁|还有哪些|所有|全部|一共")
DETAIL_CUE = re.compile(r"哪些|哪几|具体|包括|分别|什么样|怎么|如何|措施|举措|哪[两三四五六]")
PRONOUN_CUE = re.compile(r"他们|它们|他|她|它|该单位|这个单位|这家|这篇|那篇|里面|其中|上述|前面|这份|该建议|这个建议|这条")
OTHERS_CUE = re.compile(r"还有谁|还有哪些单位|别的单位|其他单位|其它单位|还有别的单位|还有哪个")
ANOTHER_PROPOSAL_CUE = re.compile(r"别的建议|其他建议|其它建议|还提了|另外.{0,4}建议|还有.{0,4}建议")
SAME_TITLE_CUE = re.compile(r"(一样|相同|同样|同名).{0,4}(题目|标题)|(题目|标题).{0,4}(一样|相同|同样)")
REC_CUE = re.compile(r"建议|要|应|需|加快|推进|建立|完善|加大|强化|打造|提升|鼓励|支持|培育|实施|优化|探索")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_TAG = re.compile(r"<[^>]{0,200}>")
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.I | re.S)


@dataclass(frozen=True)
class Calibration:
    """Decision thresholds, fitted on the dev split by `assistant eval --calibrate`."""
    found_coverage: float = 0.3     # answer when coverage + margin_weight * margin reaches this, where the
    margin_weight: float = 4.0      # margin is how far the best cosine stands above the next proposals
    include_ratio: float = 0.999    # extra proposals must cover this fraction of the best one's coverage…
    include_plural: float = 0.75    # …or, for "哪些/分别" questions, this fraction
    include_min: float = 0.5        # and never less than this absolute coverage
    source: str = "defaults"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def clean_question(text: str, max_chars: int) -> str:
    """Normalize what a user typed or pasted; raise a clear message for what we can't take."""
    if text is None or not str(text).strip():
        raise AssistantError("请输入问题。")
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub("", text)
    text = _SCRIPT.sub(" ", text)  # pasted HTML: code and styles are not words
    text = _TAG.sub(" ", text)     # keep the words, drop the markup
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise AssistantError("问题里没有可识别的文字。")
    if len(text) > max_chars:
        raise AssistantError(f"问题太长 ({len(text)} 字)，请缩短到 {max_chars} 字以内；查找先例请用“先例查找”。")
    return text


@dataclass
class _Query:
    text: str                       # what retrieval sees
    proposers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    restrict: tuple[str, ...] = ()  # only these proposal ids (follow-ups: "其中…")
    exclude: tuple[str, ...] = ()   # never these proposal ids ("还有谁…", "别的建议")
    exclude_proposers: tuple[str, ...] = ()
    meta: bool = False
    titles: tuple[str, ...] = ()    # proposals whose title the question quotes
    title_scope: bool = False       # "题目就是讲人才的": match the topic against titles only
    meetings: tuple[str, ...] = ()  # meeting labels the question names ("在…市政协…会议上")
    scope_words: tuple[str, ...] = ()
    widened: str = ""               # the scope that matched nothing and was dropped


class ExtractiveAnswerer:
    name = "extractive"
    mode = "hybrid"   # which retriever ranks the proposals (the eval harness switches it)

    def __init__(self, index, retriever, registry, *, calibration: Calibration | None = None,
                 max_question_chars: int = 2000, meta: dict | None = None):
        self.index, self.retriever, self.registry = index, retriever, registry
        self.cal = calibration or Calibration.load()
        self.max_question_chars = max_question_chars
        self.analyzer = index.analyzer
        m = index.bm25.matrix
        n = m.shape[0]
        df = np.diff(m.tocsc().indptr)
        self._idf = {t: math.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5)) for t, i in index.bm25.vocab.items()}
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        self.proposals = [p for p in index.proposals.values()]
        self.answerable = [p for p in self.proposals if p.kind != "intro"]
        self._text = {p.proposal_id: (p.title + "\n" + p.text).lower() for p in self.proposals}
        self._doc_text = {d.doc_id: d.text for d in index.documents.values()}
        self.meta = meta or next((d.meta for d in index.documents.values() if d.kind == "proposals"), {})
        self.names = ProposerWords.from_registry(registry)
        self.meeting_words = MeetingWords.from_documents(index.documents.values())
        self.meetings = sorted({p.meeting for p in self.answerable if p.meeting})
        self.generic = question_words() | set(self.meeting_words.all_words()) | self._boilerplate()
        # multi-word framing ("优秀提案", "基层委员会") goes before segmentation splits it
        self._meeting_phrases = [w for w in question_words() if len(w) >= 3]
        self._piece_cache: dict[str, list] = {}
        self._chunks_by_pid: dict[str, list] = {}
        for c in index.chunks:
            self._chunks_by_pid.setdefault(c.proposal_id, []).append(c)

    def _boilerplate(self, share: float = 0.5, min_docs: int = 6) -> set:
        """Words that most proposals share (the city's name, 建议, 政协 …) say nothing about a
        topic: found by document frequency over this corpus, not listed by hand."""
        props = [p for p in self.answerable if p.kind == "proposal"]
        if len(props) < min_docs:
            return set()
        df: dict[str, int] = {}
        for p in props:
            for w in set(self.analyzer(p.title + " " + p.text)):
                df[w] = df.get(w, 0) + 1
        return {w for w, n in df.items() if n / len(props) > share}

    # ------------------------------------------------------------------ features
    def idf(self, term: str) -> float:
        return self._idf.get(term, self._idf_unknown)

    def topic_terms(self, text: str) -> list[str]:
        """Content words of a question: no scaffolding, no proposer names, no type words.
        Quoted phrases (“全社会研发投入”) are kept whole, as exact phrases."""
        phrases = [m.group(1).strip().lower() for m in _QUOTED.finditer(text)]
        text = _QUOTED.sub(" ", text)
        text = ORDINAL.sub(" ", strip_type_words(self.names.strip(text)))
        for w in sorted(self._meeting_phrases, key=len, reverse=True):
            text = text.replace(w, " ")
        for w in self.meeting_words.all_words():
            text = text.replace(w, " ")
        # what is left of "上海市委" once the place is gone is a unit word, not a topic
        text = _UNIT_LEFTOVER.sub(" ", text)
        # Without HMM, jieba invents no words from leftovers ("界别组提了" -> 组提); single
        # characters are nearly all function words in a question (里/过/让/给…).
        all_spans = self.analyzer.spans(text)
        spans = [(w, a, b) for w, a, b in all_spans if len(w) > 1 and w not in self.generic]
        # A word jieba doesn't know (碳达峰) comes out as single characters: keep such runs whole.
        low = text.lower()
        covered = [False] * len(low)
        for w, a, b in all_spans:
            if len(w) > 1:
                covered[a:b] = [True] * (b - a)
        run_start = None
        for i in range(len(low) + 1):
            free = i < len(low) and not covered[i] and "\u3400" <= low[i] <= "\u9fff" and low[i] not in FUNCTION_CHARS
            if free and run_start is None:
                run_start = i
            elif not free and run_start is not None:
                if i - run_start >= 2:
                    spans.append((low[run_start:i], run_start, i))
                run_start = None
        # jieba's search mode also yields the pieces of a compound (新型研发机构 -> 新型, 研发, 机构);
        # only the longest form counts, or a text with 创新型 + 研发 + 机构 would "cover" it.
        terms = [w for w, a, b in spans if not any((a2 <= a and b <= b2) and (b2 - a2) > (b - a) for _, a2, b2 in spans)]
        phrases = [p for p in phrases if p]
        # “全社会研发投入”: a quoted phrase is what is asked about; the rest is scaffolding
        return list(dict.fromkeys(phrases)) if phrases else list(dict.fromkeys(terms))

    def coverage(self, terms: Sequence[str], text: str, lenient: bool = False) -> float:
        """IDF-weighted share of the topic terms that occur in `text` (a substring test, so 产业园区
        is found inside 健康医疗产业园区); an absent compound earns half the share of its pieces
        that occur (研究院所 vs 院所)."""
        if not terms:
            return 0.0
        total = got = 0.0
        for t in terms:
            pieces = [x for x in self._pieces(t) if x != t]
            w = self.idf(t) if t in self._idf or not pieces else max(self.idf(x) for x in pieces)
            total += w
            if t in text:
                got += w
            elif pieces:
                got += 0.5 * w * sum(x in text for x in pieces) / len(pieces)
            elif lenient:  # picking sentences inside a chosen proposal: 园区 ~ 产业园
                got += 0.5 * w * sum(ch in text for ch in t) / len(t)
        return got / total

    def _pieces(self, term: str) -> list[str]:
        p = self._piece_cache.get(term)
        if p is None:
            p = self._piece_cache[term] = [x for x in self.analyzer(term) if len(x) > 1]
        return p

    # ------------------------------------------------------------------ conversation
    def resolve(self, question: str, history: Sequence[Turn]) -> _Query:
        negated = " ".join(m.group(1) for m in NEGATION.finditer(question))
        positive = NEGATION.sub(" ", question)
        mentioned = self.names.mentioned(positive)
        bare = self.names.strip(positive)
        types, type_words, inside = type_scope(bare)
        if inside and not types and not self.topic_terms(positive):
            # "哪些发言来自民主党派的基层委员会": the type is all there is to ask about
            types, type_words = inside, inside
        # a type named in the negation is excluded, unless the question also asks for part of it
        excluded = tuple(t for t in type_scope(negated)[0] + type_scope(negated)[2] if t not in types)
        if excluded:
            # "除了民主党派…以外，还有哪些单位": every other type
            types = tuple(dict.fromkeys(types + tuple(t for t in self.retriever.all_types if t not in excluded)))
        meetings, meeting_words = self.meeting_words.match(question)
        q = _Query(question, mentioned, types, meetings=meetings,
                   scope_words=tuple(dict.fromkeys(type_words + meeting_words)))
        terms = self.topic_terms(question)
        q.titles = self._quoted_titles(question)
        if q.titles and PLURAL_CUE.search(question) and not TITLE_CUE.search(question):
            q.titles = ()  # "哪些建议提出要打造黄河流域人才高地": the title is the topic, not the target
        q.title_scope = bool(TITLE_CUE.search(question)) and not q.titles
        q.meta = (not mentioned and not types and not q.titles and not terms
                  and bool(META_CUE.search(question) or META_COUNT_CUE.search(question))
                  and any(p.kind == "intro" and (not meetings or p.meeting in meetings) for p in self.proposals))
        if not history:
            return q
        prev = history[-1]
        pctx = prev.answer.context if prev.answer is not None else {}
        prev_query = pctx.get("query") or prev.question
        prev_props = tuple(pctx.get("proposers") or self.names.mentioned(prev.question))
        q.meetings = q.meetings or tuple(pctx.get("meetings") or ())
        prev_ids = tuple(pctx.get("proposal_ids") or ())
        elliptic = bool(ELLIPSIS_CUE.search(question.strip()))
        pronoun = bool(PRONOUN_CUE.search(bare))
        if mentioned and pronoun:
            # "它和工商联那篇有什么不同?": the one we were talking about, and the one named now
            q.proposers = tuple(dict.fromkeys(prev_props + mentioned))
        elif mentioned and not terms and elliptic:
            # "那民盟呢?": the previous question, asked of someone else
            q.text = f"{question} {self.names.strip(prev_query, keep=mentioned)}"
            q.titles = ()
        elif not mentioned:
            if SAME_TITLE_CUE.search(question) and prev_ids:
                q.titles = tuple(dict.fromkeys(self.index.proposals[i].title for i in prev_ids))
                q.exclude = prev_ids
            elif OTHERS_CUE.search(question):
                q.exclude_proposers = prev_props
            elif "其中" in question and prev_ids:
                q.restrict = prev_ids
            elif pronoun or ANOTHER_PROPOSAL_CUE.search(question) or (elliptic and not types):
                q.proposers = prev_props
                if not prev_props and prev_ids:
                    q.restrict = prev_ids
                if not terms and not ANOTHER_PROPOSAL_CUE.search(question):
                    q.text = f"{question} {prev_query}"
            if ANOTHER_PROPOSAL_CUE.search(question) and prev_ids:
                q.exclude = prev_ids
        return q

    def _quoted_titles(self, question: str) -> tuple[str, ...]:
        squeezed = re.sub(r"[\s《》“”\"'「」]", "", question)
        return tuple(dict.fromkeys(p.title for p in self.answerable
                                   if re.sub(r"\s", "", p.title) in squeezed and len(p.title) >= 4))

    # ------------------------------------------------------------------ answering
    def answer(self, question: str, history: Sequence[Turn] = (), *, proposers: Sequence[str] = (),
               types: Sequence[str] = (), meetings: Sequence[str] = ()) -> Answer:
        t0 = time.perf_counter()
        question = clean_question(question, self.max_question_chars)
        q = self.resolve(question, history)
        if proposers:  # explicit UI filters win over what the question implies
            q.proposers = tuple(self.retriever.resolve_proposer(p) for p in proposers)
        if types:
            self.retriever.make_filters((), types)
            q.types = tuple(types)
        if meetings:
            unknown = [m for m in meetings if m not in self.meetings]
            if unknown:
                raise AssistantError(f"未知的会议 “{unknown[0]}”。", hint="可选: " + "、".join(self.meetings))
            q.meetings = tuple(meetings)
        cands = self._candidates(q)
        terms = self.topic_terms(q.text)
        t1 = time.perf_counter()
        ranked, margin = self._rank(q, cands) if cands else ([], 0.0)
        t2 = time.perf_counter()
        result = self._compose(question, q, cands, terms, ranked, margin)
        t3 = time.perf_counter()
        timings = {"retrieve": (t2 - t1) * 1000, "answer": ((t1 - t0) + (t3 - t2)) * 1000, "total": (t3 - t0) * 1000}
        return Answer(question, result[0], result[1], result[2], timings, result[3])

    def _candidates(self, q: _Query) -> list[Proposal]:
        """The proposals in the question's scope. A scope that leaves nothing is dropped (the
        answer says so) instead of declining: a user's wording is no reason to find nothing."""
        pool = [p for p in self.proposals if p.kind == "intro"] if q.meta else self.answerable
        if q.restrict:
            pool = [p for p in pool if p.proposal_id in q.restrict]
        if q.titles:
            pool = [p for p in pool if p.title in q.titles]
        pool = [p for p in pool if p.proposal_id not in q.exclude
                and not set(p.proposers) & set(q.exclude_proposers)]
        if q.meetings:
            scoped = [p for p in pool if p.meeting in q.meetings]
            if scoped:
                pool = scoped
            else:
                q.widened, q.meetings = "、".join(q.meetings), ()
        if q.proposers or q.types:
            # "工商联和政协委员个人各提了什么": named proposers and named types together
            scoped = [p for p in pool if set(p.proposers) & set(q.proposers)
                      or set(p.proposer_types or (p.proposer_type,)) & set(q.types)]
            if scoped:
                pool = scoped
            elif not (q.restrict or q.titles or q.exclude or q.exclude_proposers):
                q.widened = "、".join(q.proposers or q.types)
                q.proposers, q.types = (), ()
            else:
                pool = []
        return pool

    def _rank(self, q: _Query, cands: list[Proposal]):
        """[(proposal, hybrid score, topic coverage, best chunk cosine)], best first, and the
        corpus-wide margin of the best proposal's cosine over the next four proposals'."""
        allowed = {p.proposal_id for p in cands}
        hits = self.retriever.chunk_hits(q.text, mode=self.mode)
        best: dict[str, tuple[float, float]] = {}
        cos_all: dict[str, float] = {}
        for h in hits:
            pid = h.chunk.proposal_id
            if h.dense_rank is not None:
                cos_all[pid] = max(cos_all.get(pid, -1.0), h.cosine)
            if pid in allowed:
                s, c = best.get(pid, (0.0, -1.0))
                best[pid] = (max(s, h.score), max(c, h.cosine))
        cs = sorted(cos_all.values(), reverse=True)
        margin = cs[0] - float(np.mean(cs[1:5])) if len(cs) > 1 else 0.0
        # "容错或者宽容失败": either alternative is enough
        alts = ([a for a in (self.topic_terms(part) for part in _OR.split(q.text)) if a]
                if _OR.search(q.text) and len(q.text) <= 40 else [])
        alts = alts if len(alts) > 1 else [self.topic_terms(q.text)]
        out = []
        for p in cands:
            s, c = best.get(p.proposal_id, (0.0, -1.0))
            text = p.title.lower() if q.title_scope else self._text[p.proposal_id]
            out.append((p, s, max(self.coverage(a, text) for a in alts), c))
        out.sort(key=lambda x: (-(x[2] + x[1] * 10), -x[1], x[0].proposal_id))
        return out, margin

    def _select(self, question: str, q: _Query, terms, ranked, margin: float) -> tuple[list, bool]:
        """Which proposals the answer covers, and whether the corpus answers at all."""
        listing = not terms or bool(q.titles) or q.meta
        if listing:
            return [r for r in ranked][: 30], True
        top = ranked[0]
        # Naming a proposer makes their chunks stand out in the embedding space whatever the topic,
        # so for scoped questions ("中牟县政协关于旅游业…") only the topic coverage counts.
        distinct = 0.0 if (q.proposers or q.types) else margin
        found = top[2] + self.cal.margin_weight * distinct >= self.cal.found_coverage
        if not found:
            return [top], False
        plural = bool(PLURAL_CUE.search(question)) or bool(q.types)
        ratio = self.cal.include_plural if plural else self.cal.include_ratio
        keep = [top] + [r for r in ranked[1:] if r[2] >= max(self.cal.include_min, ratio * top[2]) and r[2] > 0]
        return keep[:12], True

    def _key_sentences(self, text: str, spans, n: int) -> list[tuple[int, int, float]]:
        """What a proposal proposes, for listings: sentences with a recommendation verb; the
        opening sentence is usually context, so it comes last in line."""
        rec = [sp for sp in spans if REC_CUE.search(text[sp[0]:sp[1]])]
        order = rec[1:] + rec[:1] if len(rec) > n else rec
        picked = sorted(order[:n]) or spans[:1]
        return [(a, b, 0.0) for a, b in picked]

    def _sentences_for(self, p: Proposal, terms, detail: bool, listing_size: int = 1) -> list[tuple[int, int, float]]:
        text = self._doc_text[p.doc_id]
        spans = sentences(text, p.start, p.end)
        if not spans:
            return []
        if not terms:
            return self._key_sentences(text, spans, 3 if listing_size <= 2 else 1)
        scored = []
        for s, e in spans:
            scored.append((s, e, self.coverage(terms, text[s:e].lower(), lenient=True)))
        best = max(x[2] for x in scored)
        if best <= 0:
            first = next((s for s in spans[:3] if REC_CUE.search(text[s[0]:s[1]])), spans[0])
            return [(first[0], first[1], 0.0)]
        # detail questions ("哪些园区") want every item, which may sit in sentences sharing one word
        limit, share = (3, 0.3) if detail else (2, 0.5)
        keep = sorted((x for x in scored if x[2] >= share * best), key=lambda x: -x[2])[:limit]
        return sorted(keep)

    def _compose(self, question, q: _Query, cands, terms, ranked, margin):
        ctx = {"query": q.text, "proposers": list(q.proposers), "proposal_ids": [], "meetings": list(q.meetings)}
        scope = "、".join(q.proposers) or "、".join(q.types)
        if not cands:
            if q.proposers or q.types or q.restrict or q.exclude or q.exclude_proposers:
                msg = f"没有找到符合条件的建议{f'（{scope}）' if scope else ''}。"
            else:
                msg = "语料中没有可用的建议。"
            return msg, False, (), ctx
        chosen, found = self._select(question, q, terms, ranked, margin)
        if not found:
            return self._decline(q, terms, chosen[0][0], scope), False, (), ctx
        detail = bool(DETAIL_CUE.search(question))
        citations: list[Citation] = []
        lines = []
        for p, score, cov, cos in chosen:
            quotes = []
            for s, e, _ in self._sentences_for(p, terms, detail, len(chosen)):
                chunk = next((c for c in self._chunks_by_pid[p.proposal_id] if c.start <= s < c.end), None)
                if chunk is None:
                    continue
                e = min(e, chunk.end)
                text = self._doc_text[p.doc_id][s:e]
                if citations and citations[-1].chunk_id == chunk.chunk_id and citations[-1].end <= s:
                    # neighbouring sentences of one chunk share one citation
                    prev = citations[-1]
                    joined = self._doc_text[p.doc_id][prev.start:e]
                    citations[-1] = Citation(prev.n, prev.chunk_id, prev.proposal_id, prev.title, prev.proposers,
                                             prev.proposer_type, joined, prev.start, e, prev.score)
                    quotes[-1] = (joined, prev.n)
                    continue
                n = len(citations) + 1
                citations.append(Citation(n, chunk.chunk_id, p.proposal_id, p.title, p.proposers, p.proposer_type,
                                          text, s, e, float(score)))
                quotes.append((text, n))
            if not quotes:
                continue
            ctx["proposal_ids"].append(p.proposal_id)
            body = "".join(f"“{t}”[{n}]" for t, n in quotes)
            where = f"（{p.meeting}）" if len(self.meetings) > 1 and p.meeting else ""
            if p.kind == "intro":
                lines.append(f"据{p.meeting or '本期'}的导语：{body}")
            elif p.kind == "policy":
                lines.append(f"政策文本《{p.title}》：{body}")
            else:
                lines.append(f"{self.who(p)}在《{p.title}》{where}中提出：{body}")
        if not lines:
            return self._decline(q, terms, chosen[0][0], scope), False, (), ctx
        ctx["proposers"] = list(q.proposers) or list(dict.fromkeys(x for c in citations for x in c.proposers))
        head = self._headline(q, terms, chosen)
        if q.widened:
            head = f"没有找到{q.widened}的建议，以下是在全部建议中找到的：" + ("\n" + head if head else "")
        if len(lines) == 1:
            text = (head + "\n" if head else "") + lines[0]
        else:
            text = head + "\n" + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1))
        return text, True, tuple(citations), ctx

    def _headline(self, q: _Query, terms, chosen) -> str:
        n = len(chosen)
        if chosen and chosen[0][0].kind == "intro":
            return ""
        if q.titles:
            return f"题为《{'》《'.join(q.titles)}》的建议共 {n} 份："
        if q.proposers and not terms:
            return f"{'、'.join(q.proposers)}共有 {n} 份建议："
        if q.types and not terms:
            return f"{'、'.join(q.types)}共提交 {n} 份建议："
        if n > 1:
            return f"共有 {n} 份建议涉及这一问题："
        return ""

    def who(self, p: Proposal) -> str:
        """'民进市委（民主党派；胡卫委员发言）', '左燕（政协委员个人）'."""
        kinds = p.proposer_types or (p.proposer_type,) * len(p.proposers)
        orgs = [(n, t) for n, t in zip(p.proposers, kinds) if n not in p.speakers]
        label = "、".join(n for n, _ in orgs) or "、".join(p.proposers)
        typ = "、".join(dict.fromkeys(t for _, t in orgs if t)) or p.proposer_type
        if p.speakers:
            return f"{label}（{typ}；{'、'.join(p.speakers)}委员发言）"
        return f"{label}（{typ}）" if typ else label

    def _decline(self, q: _Query, terms, closest: Proposal, scope: str) -> str:
        missing = [t for t in sorted(terms, key=lambda t: (-len(t), -self.idf(t)))
                   if t not in self._text[closest.proposal_id]]
        topic = "、".join(dict.fromkeys(missing[:3])) or "这一问题"
        if scope:
            where = f"{scope}的建议中"
        else:
            in_scope = [p for p in self.answerable if p.kind == "proposal" and (not q.meetings or p.meeting in q.meetings)]
            named = q.meetings or tuple(self.meetings)
            label = named[0] if len(named) == 1 else (f"本库 {len(named)} 次会议" if named else "本库")
            where = f"在{label}的 {len(in_scope)} 份建议中"
        who = "、".join(closest.proposers) or closest.title
        return (f"{where}没有找到关于“{topic}”的内容，无法据此回答。"
                f"最接近的是{who}的《{closest.title}》，但它并未涉及这一点。")
