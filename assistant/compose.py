"""Composition: the chosen proposals -> answer text and citations. Each recommendation names who
made it (organisation, type, the member who spoke for it) and quotes the exact sentences; every
[n] is built from a Citation, so a marker that points nowhere cannot be produced."""
from __future__ import annotations

import re

from .chunk import sentences
from .formats import key_line_role
from .proposers import parties_in
from .question import DETAIL_CUE, MEETING_ASK, META_COUNT_CUE, Query, role_scope
from .records import Citation, Proposal
from .select import Features, Ranked, Selector
from .util import strip_span

REC_CUE = re.compile(r"建议|要|应|需|加快|推进|建立|完善|加大|强化|打造|提升|鼓励|支持|培育|实施|优化|探索")
# a heading line may print the proposer beside the title ("【某某委员（某党派省委会副主委）】")
HEADING_EXTRA = 45
# how many proposals one answer shows: a listing of a whole scope (a proposer's, a type's), and
# an answer to a topic, whose extra proposals each add less; the headline still counts them all
LIST_SHOWN, ANSWER_SHOWN = 30, 12
# who took part, asked of the whole collection ("哪些单位提交了…", "都有哪些方面"): the answer
# opens with its proposers grouped by type, after what the introduction says of them
ROSTER_ASK = re.compile(r"谁|哪(?:些|几|一)?类?(?:单位|方面|部门|机构|组织|人)|哪几(?:家|个|方面)|哪家|什么(?:单位|人)")
# the introduction's sentence that counts or names who submitted
ROSTER_SENTENCE = re.compile(r"\d+\s*[篇份件个]|提交|报送|参加|参与")
# a question on what one or two proposals say wants the measures, which often follow the
# sentence that names the topic ("完善某某机制。" and then how): the quote runs on into the next
# sentences, adding up to this many characters per proposal
RUN_ON_CHARS = 240
# at most this many characters quoted from one proposal (one run-on sentence may fill pages)
QUOTE_MAX = 600


def _run_on(spans: list[tuple[int, int, float]], keep, budget: int) -> list[tuple[int, int, float]]:
    """`keep` (best first) plus the sentences following each, in order, while the characters
    added stay within `budget`."""
    index = {(s, e): i for i, (s, e, _) in enumerate(spans)}
    picked = {index[(s, e)] for s, e, _ in keep}
    used = 0
    for s, e, _ in keep:
        j = index[(s, e)] + 1
        while j < len(spans) and (j in picked or used + spans[j][1] - spans[j][0] <= budget):
            if j not in picked:
                picked.add(j)
                used += spans[j][1] - spans[j][0]
            j += 1
    return [spans[i] for i in sorted(picked)]


class Composer:
    def __init__(self, index, features: Features, text_of):
        self.f, self._text_of = features, text_of
        self._doc_text = {d.doc_id: d.text for d in index.documents.values()}
        self._chunks_by_pid: dict[str, list] = {}
        for c in index.chunks:
            self._chunks_by_pid.setdefault(c.proposal_id, []).append(c)
        props = list(index.proposals.values())
        self.answerable = [p for p in props if p.kind != "intro"]
        self.meetings = sorted({p.meeting for p in self.answerable if p.meeting})
        self._intros = {p.meeting: p for p in props if p.kind == "intro"}

    def _key_sentences(self, text: str, spans, n: int) -> list[tuple[int, int, float]]:
        """What a proposal proposes, for listings: sentences with a recommendation verb; the
        opening sentence is usually context, so it comes last in line."""
        rec = [sp for sp in spans if REC_CUE.search(text[sp[0]:sp[1]])]
        order = rec[1:] + rec[:1] if len(rec) > n else rec
        picked = sorted(order[:n]) or spans[:1]
        return [(a, b, 0.0) for a, b in picked]

    def _sentences_for(self, p: Proposal, terms, detail: bool, listing_size: int = 1,
                       run_on: bool = False) -> list[tuple[int, int, float]]:
        text = self._doc_text[p.doc_id]
        spans = sentences(text, p.start, p.end)
        if not spans:
            return []
        # the item's own heading line ("民革市委会：<title>", "【…】<title>") names it, it proposes nothing
        # nor do header lines ("提案者：…", "会议：…"); an item that is only a title and its header
        # (a list of titles) is quoted by its title
        plain = [sp for sp in spans if key_line_role(text[sp[0]:sp[1]]) in (None, "title", "body")]
        body = [sp for sp in plain if not (p.title and text[sp[0]:sp[1]].rstrip().endswith(p.title)
                                           and sp[1] - sp[0] <= len(p.title) + HEADING_EXTRA)]
        spans = body or plain or spans
        if not terms:
            return self._key_sentences(text, spans, 3 if listing_size <= 2 else 1)
        scored = []
        for s, e in spans:
            scored.append((s, e, self.f.coverage(terms, text[s:e].lower(), lenient=True)))
        best = max(x[2] for x in scored)
        if best <= 0:
            first = next((s for s in spans[:3] if REC_CUE.search(text[s[0]:s[1]])), spans[0])
            return [(first[0], first[1], 0.0)]
        # detail questions ("哪些园区") want every item, which may sit in sentences sharing one word
        limit, share = (3, 0.3) if detail else (2, 0.5)
        keep = sorted((x for x in scored if x[2] >= share * best), key=lambda x: -x[2])[:limit]
        if run_on and listing_size <= 2:
            return _run_on(scored, keep, RUN_ON_CHARS)
        return sorted(keep)

    def compose(self, q: Query, cands, terms, chosen: list[Ranked], found: bool):
        """-> (text, found, citations, conversation context)."""
        ctx = {"query": q.text, "proposers": list(q.proposers), "proposal_ids": [], "meetings": list(q.meetings)}
        if q.absent and not q.proposers:
            return self._absent(q), False, (), ctx
        scope = self._scope(q, cands)
        if not cands:
            if q.proposers or q.types or q.roles or q.restrict or q.exclude or q.exclude_proposers:
                msg = f"没有找到符合条件的建议{f'（{scope}）' if scope else ''}。"
            else:
                msg = "语料中没有可用的建议。"
            return msg, False, (), ctx
        if not found:
            return self._decline(q, terms, chosen[0].proposal, scope), False, (), ctx
        detail = bool(DETAIL_CUE.search(q.question))
        run_on = detail or q.intent == "what"
        total, listing = len(chosen), Selector.listing(q, terms)
        chosen = chosen[:LIST_SHOWN if listing else ANSWER_SHOWN]
        roster = self._roster(q, terms, cands)
        if roster and (intro := self._intros.get(roster[0])) is not None:
            chosen = [Ranked(intro, 0.0, 0.0, 0.0)] + list(chosen)
        # the meeting is named when there are several, or when the question asks which it was
        name_meeting = len(self.meetings) > 1 or bool(MEETING_ASK.search(q.question))
        citations: list[Citation] = []
        lines = []
        for r in chosen:
            p, score = r.proposal, r.score
            quotes = []
            spans = (self._roster_sentences(p) if roster and p.kind == "intro" else
                     self._sentences_for(p, terms, detail, len(chosen), run_on))
            # a sentence running over a chunk boundary is quoted as one piece per chunk
            pieces = [(max(s, c.start), min(e, c.end), c) for s, e, _ in spans
                      for c in self._chunks_by_pid[p.proposal_id] if c.start < e and s < c.end]
            quoted = 0
            for s, e, chunk in pieces:
                s, e = strip_span(self._doc_text[p.doc_id], s, e)
                if e <= s or quotes and quoted + e - s > QUOTE_MAX:
                    continue
                quoted += e - s
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
            where = f"（{p.meeting}）" if name_meeting and p.meeting else ""
            if p.kind == "intro":
                lines.append(f"据{p.meeting or '本期'}的导语：{body}")
            elif p.kind == "policy":
                lines.append(f"政策文本《{p.title}》：{body}")
            else:
                lines.append(f"{self.who(p)}在《{p.title}》{where}中提出：{body}")
        if not lines:
            return self._decline(q, terms, chosen[0].proposal, scope), False, (), ctx
        ctx["proposers"] = list(q.proposers) or list(dict.fromkeys(x for c in citations for x in c.proposers))
        head = roster[1] if roster else self._headline(q, terms, total, chosen, scope)
        if head and not roster and total > len(chosen):
            head = head.rstrip("：") + (f"，以下列出其中 {len(chosen)} 份：" if listing else
                                        f"，以下是最相关的 {len(chosen)} 份：")
        if q.widened:
            head = f"没有找到{q.widened}的建议，以下是在全部建议中找到的：" + ("\n" + head if head else "")
        if q.absent:
            head = f"本库中没有{'、'.join(q.absent)}的建议。" + ("\n" + head if head else "")
        if len(lines) == 1:
            text = (head + "\n" if head else "") + lines[0]
        else:
            text = head + "\n" + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1))
        return text, True, tuple(citations), ctx

    def _roster(self, q: Query, terms, cands) -> tuple[str, str] | None:
        """(meeting, headline) naming every proposer of one meeting by type, when the question asks
        who took part in the whole of it; None otherwise."""
        if (terms or q.meta or q.joint or q.proposers or q.types or q.roles or q.titles or q.restrict or q.exclude
                or q.exclude_proposers or not ROSTER_ASK.search(q.question)):
            return None
        props = [p for p in cands if p.kind == "proposal"]
        meetings = {p.meeting for p in props}
        if len(props) < 2 or len(meetings) != 1:
            return None
        groups: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for p in props:
            # each proposer under its own type (a joint proposal counts for each of its types)
            own = [(n, t or "其他") for n, t in p.own_proposers()]
            for typ in dict.fromkeys(t for _, t in own):
                counts[typ] = counts.get(typ, 0) + 1
            for n, typ in own:
                names = groups.setdefault(typ, [])
                names += [n] if n not in names else []
        meeting = next(iter(meetings))
        parts = [f"{t}（{counts[t]} 份）：{'、'.join(groups[t])}" for t in sorted(groups, key=lambda t: -counts[t])]
        return meeting, f"{meeting or '本库'}的 {len(props)} 份建议的提出者：\n" + "\n".join(parts)

    def _roster_sentences(self, intro: Proposal) -> list[tuple[int, int, float]]:
        text = self._doc_text[intro.doc_id]
        spans = sentences(text, intro.start, intro.end)
        hit = next(((s, e) for s, e in spans if ROSTER_SENTENCE.search(text[s:e])), spans[0] if spans else None)
        return [(*hit, 0.0)] if hit else []

    @staticmethod
    def _scope(q: Query, cands) -> str:
        """The named proposers / types that the scope actually holds: a short name stands for
        every city's committee, "不是<a type>" for every other type; the answer names only those
        of the proposals it searched."""
        if q.proposers:
            held = [n for n in q.proposers if any(n in p.proposers for p in cands)]
            return "、".join(held or q.proposers)
        if q.types:
            held = [t for t in q.types if any(t in p.org_types() for p in cands)]
            return "、".join(held or q.types)
        if q.roles or q.exclude_roles:
            return "、".join(role_scope("、".join(q.scope_words), anywhere=True)[1])
        return ""

    def _headline(self, q: Query, terms, n: int, chosen, scope: str) -> str:
        if chosen and chosen[0].proposal.kind == "intro":
            if not META_COUNT_CUE.search(q.question):
                return ""
            # "how many": the collection's own count, whether or not the introduction prints one
            meeting = chosen[0].proposal.meeting
            count = sum(p.kind == "proposal" and p.meeting == meeting for p in self.answerable)
            return f"本库收录{meeting or '这一合集'}的建议 {count} 份。"
        if q.titles:
            return f"题为《{'》《'.join(q.titles)}》的建议共 {n} 份："
        if q.joint and not terms:
            return f"{scope + '的' if scope else ''}联合提出的建议共 {n} 份："
        if q.proposers and not terms:
            return f"{scope}共有 {n} 份建议："
        if q.types and not terms:
            return f"{scope}共提交 {n} 份建议："
        if q.roles and not terms:
            return f"由{scope}发言或提出的建议共 {n} 份："
        if n > 1:
            return f"共有 {n} 份建议涉及这一问题："
        return ""

    def who(self, p: Proposal) -> str:
        """'民进市委（民主党派；胡卫委员发言）', '左燕（政协委员个人）'."""
        label = "、".join(n for n in p.proposers if n not in p.speakers) or "、".join(p.proposers)
        typ = "、".join(p.org_types()) or p.proposer_type
        if p.speakers:
            # the office as printed ("副主委陈某发言"); a member with none printed is a 委员
            spoke = "、".join(f"{p.role_of(s)}{s}" if p.role_of(s) else f"{s}委员" for s in p.speakers)
            return f"{label}（{typ}；{spoke}发言）"
        return f"{label}（{typ}）" if typ else label

    def _searched(self, q: Query) -> tuple[str, list[Proposal]]:
        """The meeting(s) a question searched, as a declining answer names them, and their proposals."""
        props = [p for p in self.answerable if p.kind == "proposal" and (not q.meetings or p.meeting in q.meetings)]
        named = q.meetings or tuple(self.meetings)
        label = named[0] if len(named) == 1 else (f"本库 {len(named)} 次会议" if named else "本库")
        return label, props

    def _absent(self, q: Query) -> str:
        """A party the corpus holds nothing from: say so, and which parties it does hold."""
        label, props = self._searched(q)
        held = list(dict.fromkeys(x for p in props for n in p.proposers for x in parties_in(n)))
        also = f"收录的民主党派有：{'、'.join(held)}。" if held else "收录的建议中没有民主党派提出的。"
        return f"在{label}的 {len(props)} 份建议中没有{'、'.join(q.absent)}的建议或发言，无法据此回答。{also}"

    def _decline(self, q: Query, terms, closest: Proposal, scope: str) -> str:
        missing = [t for t in sorted(terms, key=lambda t: (-len(t), -self.f.idf(t)))
                   if t not in self._text_of(closest.proposal_id)]
        topic = "、".join(dict.fromkeys(missing[:3])) or "这一问题"
        if scope:
            where = f"{scope}的建议中"
        else:
            label, in_scope = self._searched(q)
            where = f"在{label}的 {len(in_scope)} 份建议中"
        who = "、".join(closest.proposers) or closest.title
        return (f"{where}没有找到关于“{topic}”的内容，无法据此回答。"
                f"最接近的是{who}的《{closest.title}》，但它并未涉及这一点。")
