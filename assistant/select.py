"""Selection: which proposals of the question's scope answer it, and whether any does.

Features shared with composition (IDF, topic coverage) live here too. The two decisions, found
or not and how many proposals an answer includes, use thresholds fitted on dev questions by
`assistant eval --calibrate` and stored in assistant/calibration.json.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .proposers import MEMBER as INDIVIDUAL
from .question import (COUNTED, EXISTENCE_CUE, OTHER_PROPOSAL_CUE, PLURAL_CUE, Query, QuestionParser, role_scope,
                       shared_object)
from .records import Proposal
from .termsim import TermSimilarity

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
_OR = re.compile(r"或者|或是|还是|或")
# a question asking item by item ("分别/各…") or for several proposals ("哪几篇/哪些…") about a list
# ("A、B 和 C"): each item is a topic of its own (dev, spent splits: home multi recall +0.05 on one, precision -0.013 on another)
_EACH = re.compile(r"分别|各自|各是|各由|各为|哪几|哪些")
_LIST = re.compile(r"、|以及|和|与|及")
# a proposer named beside a type adds the type's other proposers only with a word joining them
_UNION = re.compile(_LIST.pattern + r"|跟|同|或|还有|其他|其它|别的|等|各")
_CATEGORY = re.compile(r"(?:这些|这类|那些|那类|之类的?|等等)[^,，。;；?？!！]*")
_QUOTED = re.compile(r"[“\"「『][^”\"」』]{1,30}[”\"」』]")
# "都/同时/既…又" asks for proposals that have every quoted word, not any one
_BOTH = re.compile(r"都有|都提|都写|都讲|同时|既|兼|结合|融合|一起|并重|联动")
# how much retrieval counts beside topic coverage when ranking the proposals of a scope; 0.4 is
# what the reciprocal-rank scores weighed before they were normalized (top RRF score x 10)
RETRIEVAL_WEIGHT = 0.4
# the corpus's cosine distribution is read from an even sample of this many proposals (all of them
# below that size); a scope larger than RANK_ALL proposals is ranked among what retrieval found
SIGNAL_SAMPLE = 5000
# a compound's words may stand this many characters apart and still count as the compound
# (冷链物流园区 for 冷链园区): an inserted word rarely changes what is meant
GAP = 3
RANK_ALL = 500
# soft coverage (termsim.py) is computed for, and reorders, this many of the best-ranked proposals
SOFT_FIRST = 5
# "哪些…有关" over catalogue lines and short summaries: an entry of at most SHORT_ITEM characters
# whose soft coverage (termsim.py) stands SOFT_GAP above the median of the next best-ranked
# SOFT_WIDE entries' is about the topic in other words (养老 for a line on 老年助餐). Long texts
# print their topic's words when they are about it, so the rule leaves them alone (dev, all spent
# splits' plural questions: other cities' recall 0.946 -> 0.964 at equal precision, home precision
# -0.002; a gap of 0.2 cost home 0.010 precision, 0.3 gained less)
SOFT_GAP = 0.25
SOFT_WIDE = 10
SHORT_ITEM = 240
# "哪些…和<a category>有关" where no entry prints the category's words (农业 for a speech on a
# shared farm, 海洋 for a coastal tour line): the corpus answers when its best entry is this like
# the topic (soft coverage) and stands this far above the median of the next SOFT_WIDE. Dev, all
# spent splits: the best entries of plural off-corpus questions reach 0.40 at most; single-answer
# questions keep the fitted threshold, as some of their off-corpus ones reach 0.67. A type of
# proposer in scope ("哪些党派的提案和<category>相关") changes nothing of this; a named proposer or
# office does (their few entries are no distribution to stand out from).
SOFT_FOUND, SOFT_FOUND_GAP = 0.55, 0.15
# the introduction answers a question it covers this much better than any proposal does (what the
# meeting was told, its context); a margin, so a summary line of the intro does not win by a word
# (dev, spent splits: 0.15 lost one question about the intro, 0.05-0.1 change nothing else)
INTRO_MIN, INTRO_MARGIN = 0.5, 0.1
# an entry whose text adds at most this many characters to its title is a catalogue line
SHORT_ENTRY = 40
# "…有没有提到<Z>": at least this IDF share of Z's terms must be in the answer (Z's main term)
FOCUS_MIN = 0.5
# One topic term (or phrase) that carries more than this share of the topic's IDF weight, is
# missing from the best proposal and is like none of its words (its termsim credit discounts the
# share): what was asked about is not there, however well the rest matches ("<absent thing>建设").
# Half of a term found (a quoted phrase printed with a mark inside) is not missing.
# Dev, all spent splits: 10 answered off-corpus questions declined, no right answer lost (two
# were, until 点到/这句话 became question words); in a first count 0.45 lost four more than 0.5.
UNCOVERED_MAX = 0.5
# two missing words joined by one of these marks are one thing asked about when they are this
# alike (termsim likeness: chance 0, same 1). Dev pairs: two names of one thing 0.44-0.57 (碳达峰、
# 碳中和); the different measures listed in paraphrases 0.22 at most (joined whatever their
# likeness, three such paraphrases were declined)
_JOINED, JOINED_LIKE = "、和与及", 0.35


@dataclass(frozen=True)
class Calibration:
    """Decision thresholds, fitted on dev questions of several collections by
    `assistant eval --calibrate`. The found decision is
        (1 - soft_share) * coverage + soft_share * soft
            + margin_weight * margin + z_weight * z + agree_weight * agree >= found_coverage
    and, with a proposer, type or office in scope, coverage >= found_coverage.
    with signals that keep their meaning when the corpus changes (see `Signals`). The dense ones
    are on the embedder's scale, so they are stored with its fingerprint and used only with it."""
    found_coverage: float = 0.3     # threshold of the found score
    soft_share: float = 0.0         # how much of the coverage term is soft coverage (termsim.py)
    margin_weight: float = 4.0      # best proposal's cosine above the next four's
    z_weight: float = 0.0           # best proposal's cosine in standard deviations above all proposals'
    agree_weight: float = 0.0       # BM25 and dense retrieval put the same proposal first
    include_ratio: float = 0.999    # extra proposals must cover this fraction of the best one's coverage…
    include_plural: float = 0.75    # …or, for "哪些/分别" questions, this fraction
    include_min: float = 0.5        # and never less than this absolute coverage
    precedent_semantic: float = 0.92  # precedent finder: a sentence pair this similar is a precedent…
    precedent_lexical: float = 0.3    # …or one sharing this share of its character bigrams
    fingerprint: str = ""           # the embedder the dense weights were fitted with
    source: str = "defaults"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE, fingerprint: str | None = None) -> "Calibration":
        cal = cls()
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            cal = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        if fingerprint is not None and cal.fingerprint and cal.fingerprint != fingerprint:
            return cal.coverage_only()
        return cal

    def score(self, *, coverage: float, soft: float, margin: float, z: float, agree: float, scoped: bool) -> float:
        """The found score above (soft < 0: not computed, the exact coverage stands in). Naming a
        proposer makes their chunks stand out in the embedding space whatever the topic, so for
        scoped questions only the exact topic coverage counts: soft coverage was no better there
        (dev AUC 0.986 vs 0.988), and a share of it answered two more off-corpus questions about a
        named proposer."""
        if scoped:
            return coverage
        mixed = (1 - self.soft_share) * coverage + self.soft_share * (coverage if soft < 0 else soft)
        return mixed + self.margin_weight * margin + self.z_weight * z + self.agree_weight * agree

    def coverage_only(self) -> "Calibration":
        """Without the fitted embedder, dense signals have no known scale: topic coverage decides."""
        return replace(self, margin_weight=0.0, z_weight=0.0, agree_weight=0.0, soft_share=0.0,
                       precedent_semantic=Calibration.precedent_semantic,
                       source=self.source + " (coverage only: other embedder)")


@dataclass(frozen=True)
class Signals:
    """Corpus-relative evidence that the best proposal answers the question at all."""
    margin: float = 0.0   # best proposal cosine minus the mean of the next four
    z: float = 0.0        # (best cosine - mean over all proposals) / their standard deviation
    agree: float = 0.0    # 1 when BM25 alone and dense alone rank the same proposal first


@dataclass(frozen=True)
class Selection:
    """What `Selector.select` decided: the proposals the answer covers, whether the corpus
    answers at all, and the decision no threshold made (`Selector.forced`; None: the threshold)."""
    chosen: tuple
    found: bool
    forced: bool | None = None


@dataclass(frozen=True)
class Ranked:
    proposal: Proposal
    score: float       # best fused retrieval score of its chunks
    coverage: float    # IDF-weighted share of the topic terms it contains
    cosine: float      # best dense similarity of its chunks
    soft: float = -1.0  # coverage in which absent terms earn their similarity to its words (first ones only)


class Features:
    """IDF over the index's chunks and the topic coverage of a text."""

    def __init__(self, index):
        self.analyzer = index.analyzer
        m = index.bm25.matrix
        n = m.shape[0]
        df = np.diff(m.tocsc().indptr)
        self._idf = {t: math.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5)) for t, i in index.bm25.vocab.items()}
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        self._piece_cache: dict[str, list] = {}
        self._gap_cache: dict[str, re.Pattern | None] = {}

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._idf_unknown)

    def coverage(self, terms: Sequence[str], text: str, lenient: bool = False, near: dict | None = None,
                 whole: bool = False, exact: frozenset = frozenset()) -> float:
        """IDF-weighted share of the topic terms that occur in `text` (a substring test, so 产业园区
        is found inside 某某产业园区); an absent compound earns half the share of its pieces
        that occur (研究院所 vs 院所). With `near` (term -> credit, termsim.py), an absent term
        earns its credit when that is more: the soft coverage of a paraphrase. `whole`: terms count
        only whole (what a yes/no question asks about is there or not); `exact` terms never match
        with a word inserted."""
        if not terms:
            return 0.0
        total = got = 0.0
        for t in terms:
            pieces = [x for x in self._pieces(t) if x != t]
            w = self.idf(t) if t in self._idf or not pieces else max(self.idf(x) for x in pieces)
            total += w
            if t in text:
                got += w
                continue
            share = 0.0
            if whole:
                continue
            if pieces and t not in exact and (gapped := self._gapped(t)) is not None and gapped.search(text):
                share = 1.0   # the compound with a word inserted (冷链物流园区 for 冷链园区)
            elif pieces:
                share = 0.5 * sum(x in text for x in pieces) / len(pieces)
            elif lenient:  # picking sentences inside a chosen proposal: 园区 ~ 产业园
                share = 0.5 * sum(ch in text for ch in t) / len(t)
            got += w * max(share, near.get(t, 0.0) if near else 0.0)
        return got / total

    def _gapped(self, term: str):
        """A pattern for `term` cut into its words, each at most GAP characters from the last,
        or None when the term is not made of words of two characters or more."""
        if term not in self._gap_cache:
            words = sorted((w for w in self._pieces(term) if w != term), key=len, reverse=True)
            parts, i = [], 0
            while i < len(term):
                w = next((w for w in words if term.startswith(w, i)), None)
                if w is None:
                    parts = []
                    break
                parts.append(w)
                i += len(w)
            self._gap_cache[term] = (re.compile(f".{{0,{GAP}}}".join(map(re.escape, parts)))
                                     if len(parts) > 1 else None)
        return self._gap_cache[term]

    def _pieces(self, term: str) -> list[str]:
        p = self._piece_cache.get(term)
        if p is None:
            p = self._piece_cache[term] = [x for x in self.analyzer(term) if len(x) > 1]
        return p


class Selector:
    def __init__(self, index, retriever, parser: QuestionParser, features: Features, calibration: Calibration):
        self.index, self.retriever, self.parser, self.f, self.cal = index, retriever, parser, features, calibration
        self.sim = TermSimilarity(index, getattr(retriever, "embedder", None))
        self.proposals = list(index.proposals.values())
        self.answerable = [p for p in self.proposals if p.kind != "intro"]
        self._intros = [p for p in self.proposals if p.kind == "intro"]
        self._answerable_ids = frozenset(p.proposal_id for p in self.answerable)
        # members (speakers, or proposers typed as individuals): naming one pins the question down
        self._persons = frozenset(
            {s for p in self.proposals for s in p.speakers}
            | {n for p in self.proposals for n, t in zip(p.proposers, p.proposer_types) if t == INDIVIDUAL})
        # a proposal's types for a type scope (Proposal.org_types)
        self._types = {p.proposal_id: frozenset(p.org_types()) for p in self.proposals}
        self._text = {p.proposal_id: (p.title + "\n" + p.text).lower() for p in self.proposals}
        self._pids = list(index.proposals)
        self._pos = {pid: i for i, pid in enumerate(self._pids)}
        self._chunk_prop = np.array([self._pos[c.proposal_id] for c in index.chunks], dtype=np.int64)
        self._dist = None
        # a question's topic alternatives and their word vectors, read by ranking, the found
        # decision and the inclusion alike: parsed and embedded once per question
        self._alts = lru_cache(maxsize=256)(self.alternatives)
        self._vecs = lru_cache(maxsize=256)(lambda q: self._term_vectors(self._alts(q)))

    def text_of(self, proposal_id: str) -> str:
        return self._text[proposal_id]

    def candidates(self, q: Query) -> tuple[list[Proposal], Query]:
        """The proposals in the question's scope. A scope that leaves nothing is dropped (the
        answer says so) instead of declining: a user's wording is no reason to find nothing."""
        pool = self._intros if q.meta else self.answerable
        if q.restrict:
            pool = [p for p in pool if p.proposal_id in q.restrict]
        if q.titles:
            pool = [p for p in pool if p.title in q.titles]
        if q.exclude or q.exclude_proposers:
            pool = [p for p in pool if p.proposal_id not in q.exclude
                    and not set(p.proposers) & set(q.exclude_proposers)]
        if q.joint:
            # made together: two or more proposers besides the members who spoke for them
            scoped = [p for p in pool if len(p.own_proposers()) > 1]
            pool = scoped or pool
            q = q if scoped else replace(q, widened="联合提出", joint=False)
        if q.meetings:
            scoped = [p for p in pool if p.meeting in q.meetings]
            if scoped:
                pool = scoped
            else:
                q = replace(q, widened="、".join(q.meetings), meetings=())
        if q.roles or q.exclude_roles:
            # by the office printed beside a member ("哪些<office>…", "不是<office>的…")
            scoped = [p for p in pool if (not q.roles or set(p.roles) & set(q.roles))
                      and not set(p.roles) & set(q.exclude_roles)]
            if scoped:
                pool = scoped
            else:
                q = replace(q, widened="、".join(role_scope("、".join(q.scope_words), anywhere=True)[1]) or "所问职务",
                            roles=(), exclude_roles=())
        if q.proposers or q.types:
            named, types = set(q.proposers), set(q.types)
            # a proposer printed under a type's own name ("无党派人士") stands for that type too
            types |= named & set(self.parser.all_types)
            if named & self._persons:
                # "<member>代表哪个党派…": with a member named, a type word asks about them, and an
                # organisation named beside them ("经济界委员<member>") qualifies them, it adds nobody
                types = set()
                both = [p for p in pool if named <= set(p.proposers)]
                pool = both or pool
            # "哪位委员…" asks which member, whether they spoke for a body or for themselves;
            # "以个人名义/委员个人" means members on their own (Proposal.org_types)
            any_member = INDIVIDUAL in types and any(w.startswith("哪") for w in q.scope_words)
            if any_member and named:
                types, any_member = set(), False   # a body named beside 哪位委员: the member who spoke for it
            if named and types and not _UNION.search(q.question):
                # "<type>中的<proposer>", "作为<type>，<proposer>…": a type every named proposer
                # belongs to qualifies them, it adds nobody ("<proposer>和其他<type>" does)
                of_named = set().union(*(self._types[p.proposal_id] for p in pool if set(p.proposers) & named))
                if types <= of_named:
                    types = set()
            # named proposers and named types together: either one qualifies
            scoped = [p for p in pool if set(p.proposers) & named
                      or self._types[p.proposal_id] & types or (any_member and p.speakers)]
            if scoped and q.units:
                scoped = [p for p in scoped if any(u in n for n, _ in p.own_proposers() for u in q.units)] or scoped
            if scoped:
                pool = scoped
            elif not (q.restrict or q.titles or q.exclude or q.exclude_proposers):
                q = replace(q, widened="、".join(q.proposers or q.types), proposers=(), types=())
            else:
                # "它还提了什么" of a proposer whose one proposal was just cited: more of that one
                pool = [] if OTHER_PROPOSAL_CUE.search(q.question) else [
                    p for p in self.answerable if p.proposal_id in q.exclude and set(p.proposers) & named]
                q = replace(q, exclude=()) if pool else q
        return pool, q

    def _distribution(self):
        """Chunk rows and their vectors for an even sample of at most SIGNAL_SAMPLE proposals (all of
        them in any corpus of that size, so the signals are exact where they were fitted); None
        when the store keeps no vectors here (then the retrieved candidates stand in)."""
        if self._dist is None:
            n = len(self._pids)
            step = max(1, -(-n // SIGNAL_SAMPLE))
            rows = np.flatnonzero(self._chunk_prop % step == 0) if step > 1 else np.arange(len(self._chunk_prop))
            try:
                fi = self.index.faiss
                vecs = fi.reconstruct_n(0, fi.ntotal)[rows] if step == 1 else np.vstack([fi.reconstruct(int(r)) for r in rows])
            except Exception:  # e.g. vectors kept in Milvus
                vecs = None
            self._dist = (rows, vecs)
        return self._dist

    def signals(self, text: str, hits) -> Signals:
        """Over the whole corpus (a scope must not hide that nothing stands out): the best
        proposal's cosine against the next ones and against the corpus's own distribution, and
        whether BM25 alone and dense alone put the same proposal first."""
        per_hit: dict[int, float] = {}
        b_first = d_first = None
        pos = self._pos
        for h in hits:
            if h.dense_rank is not None:
                i = pos[h.chunk.proposal_id]
                per_hit[i] = max(per_hit.get(i, -1.0), h.cosine)
                if h.dense_rank == 1:
                    d_first = i
            if h.bm25_rank == 1:
                b_first = pos[h.chunk.proposal_id]
        rows, vecs = self._distribution()
        if vecs is not None:
            cos = vecs @ self.retriever.embed_query(text)
            per = np.full(len(self._pids), -np.inf)
            np.maximum.at(per, self._chunk_prop[rows], cos)
            for i, c in per_hit.items():
                per[i] = max(per[i], c)
            per = per[np.isfinite(per)]
        else:
            per = np.array(list(per_hit.values()) or [0.0])
        order = np.sort(per)[::-1]
        margin = float(order[0] - order[1:5].mean()) if len(order) > 1 else 0.0
        z = float((order[0] - per.mean()) / (float(per.std()) or 1.0))
        return Signals(margin, z, float(b_first is not None and b_first == d_first))

    def rank(self, q: Query, cands: list[Proposal], mode: str = "hybrid") -> tuple[list[Ranked], Signals]:
        """[Ranked], best first, and the corpus-wide signals of the question."""
        # the unscoped pool is the common case: its ids are kept, not rebuilt per question
        allowed = self._answerable_ids if cands is self.answerable else {p.proposal_id for p in cands}
        hits = self.retriever.chunk_hits(q.text, mode=mode)
        best: dict[str, tuple[float, float]] = {}
        for h in hits:
            pid = h.chunk.proposal_id
            if pid in allowed:
                s, c = best.get(pid, (0.0, -1.0))
                best[pid] = (max(s, h.score), max(c, h.cosine))
        alts = self._alts(q)
        # in a large scope, only what retrieval found is worth a coverage test (the rest scores 0)
        pool = cands if len(cands) <= RANK_ALL else ([self.index.proposals[i] for i in best] or cands[:RANK_ALL])
        # a quoted phrase is asked about as printed, never with a word inserted
        exact = frozenset(m.group(0)[1:-1].strip().lower() for m in _QUOTED.finditer(q.text))
        out = []
        for p in pool:
            s, c = best.get(p.proposal_id, (0.0, -1.0))
            text = p.title.lower() if q.title_scope else self._text[p.proposal_id]
            out.append(Ranked(p, s, max(self.f.coverage(a, text, exact=exact) for a in alts), c))
        # retrieval relative to its best candidate, so the mix does not depend on the fusion's scale
        top_score = max((r.score for r in out), default=0.0) or 1.0
        out.sort(key=lambda r: (-(r.coverage + RETRIEVAL_WEIGHT * r.score / top_score), -r.score, r.proposal.proposal_id))
        if out and not q.title_scope and self.sim:
            # the first few again, by soft coverage in place of exact coverage: a paraphrase's own
            # proposal shares its meaning, not its words (dev, home: hit@1 0.857 -> 0.870)
            vecs = self._vecs(q)
            head = [replace(r, soft=self.soft(alts, r, vecs)) for r in out[:SOFT_FIRST]]
            head.sort(key=lambda r: (-(r.soft + RETRIEVAL_WEIGHT * r.score / top_score), -r.score, r.proposal.proposal_id))
            out[:SOFT_FIRST] = head
        return out, self.signals(q.text, hits)

    def alternatives(self, q: Query) -> list[list[str]]:
        """The topic's terms, or its alternatives when any one of them is enough: "A 或者 B", and the
        items of a list asked about one by one ("A、B 和 C 的发言分别是谁讲的")."""
        parts: list[str] = []
        quoted = [m.group(0) for m in _QUOTED.finditer(q.text)]
        either = len(q.text) <= 40 and bool(_OR.search(q.text))
        if either:
            parts = _OR.split(q.text)
        elif len(q.text) <= 60 and _EACH.search(q.question) and _LIST.search(q.text) and not _BOTH.search(q.question):
            # "A、B 这些<category>": the items are the topics; the category only names what they share
            parts = _LIST.split(_CATEGORY.sub(" ", q.text))
        elif len(quoted) > 1 and (_EACH.search(q.question) or COUNTED.search(q.question)) and not _BOTH.search(q.question):
            parts = quoted   # "题目里有“A”“B”字样的有几篇": either word
        alts = [a for a in (self.parser.topic_terms(part) for part in parts) if a]
        if either:
            alts = shared_object(alts)
        return alts if len(alts) > 1 else [self.parser.topic_terms(q.text)]

    def _term_vectors(self, alts: list) -> dict:
        terms = sorted({t for a in alts for t in a})
        return dict(zip(terms, self.sim.term_vectors(terms))) if terms else {}

    def soft(self, alts: list, r: Ranked, vecs: dict) -> float:
        """Coverage in which an absent term earns its similarity to the proposal's words (termsim.py)."""
        if r.coverage >= 1.0:
            return r.coverage
        text = self._text[r.proposal.proposal_id]
        words = self.sim.words_of(r.proposal.proposal_id, text)
        best = 0.0
        for terms in alts:
            absent = [t for t in terms if t not in text]
            credit = self.sim.credits(np.array([vecs[t] for t in absent]), words) if absent else []
            best = max(best, self.f.coverage(terms, text, near=dict(zip(absent, map(float, credit)))))
        return best

    def uncovered(self, q: Query, top: Ranked) -> float:
        """The largest IDF share of the topic that one term, or one phrase of adjacent terms,
        leaves uncovered in `top`: its share times what neither its occurrence (coverage) nor its
        likeness to `top`'s words (termsim credit) makes up; of the best alternative (UNCOVERED_MAX)."""
        text = self._text[top.proposal.proposal_id]
        words = None
        best = 0.0
        vecs = self._vecs(q)
        for i, terms in enumerate(t for t in self._alts(q) if t):
            have = {t: self.f.coverage([t], text) for t in terms}
            absent = [t for t in terms if have[t] < 1.0]
            if not absent:
                return 0.0
            if words is None:
                words = self.sim.words_of(top.proposal.proposal_id, text)
            credit = dict(zip(absent, map(float, self.sim.credits(np.array([vecs[t] for t in absent]), words))))
            total = sum(self.f.idf(t) for t in terms)
            miss = {t: self.f.idf(t) / total * (1.0 - max(have[t], credit[t])) for t in absent}
            # words printed next to each other in the question are one missing phrase (海水+淡化),
            # and so are two like words joined by a list mark (A、B): one thing named twice
            at = sorted((q.text.find(t), t) for t in absent if t in q.text)
            worst, run, end, last = max(miss.values()), 0.0, None, None
            for pos, t in at:
                joined = (end is not None and pos == end + 1 and q.text[end] in _JOINED
                          and self.sim.likeness(vecs[last], vecs[t]) >= JOINED_LIKE)
                run = run + miss[t] if pos == end or joined else miss[t]
                last = t
                end = pos + len(t)
                worst = max(worst, run)
            best = worst if i == 0 else min(best, worst)
        return best

    def found_score(self, q: Query, top: Ranked, sig: Signals) -> float:
        return self.cal.score(coverage=top.coverage, soft=top.soft, margin=sig.margin, z=sig.z, agree=sig.agree,
                              scoped=bool(q.proposers or q.types or q.roles))

    def intro_answers(self, q: Query, terms, ranked: list[Ranked]) -> bool:
        """The question is about the meeting's own introduction rather than a proposal."""
        if (q.meta or q.proposers or q.types or q.roles or q.titles or q.restrict or q.exclude or q.intent == "followup"
                or not terms or EXISTENCE_CUE.search(q.question)):
            return False
        if not ranked:
            return False
        # the introduction of the meeting(s) asked about, or of the best proposal's meeting (an
        # archive holds hundreds of meetings; the others' introductions are not in question)
        where = set(q.meetings) or {ranked[0].proposal.meeting}
        intros = [p for p in self._intros if p.meeting in where]
        best = max((self.f.coverage(terms, self._text[p.proposal_id]) for p in intros), default=0.0)
        return best >= INTRO_MIN and best >= ranked[0].coverage + INTRO_MARGIN

    @staticmethod
    def listing(q: Query, terms) -> bool:
        """Nothing topical to decide on: list the scope (a proposer, a quoted title, the meeting)."""
        return not terms or bool(q.titles) or q.meta

    def forced(self, q: Query, ranked: list[Ranked]) -> bool | None:
        """A found decision that no threshold makes: False when what was asked about is missing,
        True when the conversation or the catalogue has already settled it; None: the threshold
        decides (`assistant eval --calibrate` fits it on the questions left to it)."""
        top = ranked[0]
        if q.absent and not q.proposers:
            return False  # a party the corpus holds nothing from (the composer says which it holds)
        if q.focus and self.f.coverage(q.focus, self._text[top.proposal.proposal_id], whole=True) < FOCUS_MIN:
            return False  # where to look was found, what was asked about was not
        if (self.sim and not (q.proposers or q.types or q.roles or q.title_scope or q.intent == "followup")
                and self.uncovered(q, top) > UNCOVERED_MAX):
            return False
        if (self.sim and PLURAL_CUE.search(q.question) and not (q.proposers or q.roles or q.title_scope)
                and q.intent != "followup" and self._stands_out(q, ranked)):
            return True
        if q.intent == "followup" and (q.proposers or q.restrict) and len(ranked) <= max(1, len(q.proposers)):
            # a follow-up about the one proposal of the proposer being discussed (or comparing it
            # with one proposal of another): the conversation has already found them; the wording
            # of the follow-up ("跟它相比…") is no reason to lose them
            return True
        if q.proposers and len(ranked) == 1 and len(top.proposal.text) <= len(top.proposal.title) + SHORT_ENTRY:
            # the one entry of the proposer asked about is a catalogue line (a title, a speaker):
            # there is no text to cover the question's words, and that line is what the corpus has
            return True
        return None

    def select(self, q: Query, terms, ranked: list[Ranked], sig: Signals) -> Selection:
        """Which proposals the answer covers, and whether the corpus answers at all. Every one of
        them: how many the answer shows is the composer's choice, the count it states is this."""
        if self.listing(q, terms):
            return Selection(tuple(ranked), True)
        top = ranked[0]
        found = forced = self.forced(q, ranked)
        if found and q.intent == "followup" and len(ranked) > 1:
            return Selection(tuple(ranked), True, forced)  # the proposals being compared, whatever their words
        if found is None:
            found = self.found_score(q, top, sig) >= self.cal.found_coverage
        if not found:
            return Selection((top,), False, forced)
        plural = bool(PLURAL_CUE.search(q.question)) or bool(q.types or q.roles)
        ratio = self.cal.include_plural if plural else self.cal.include_ratio
        keep = [top] + [r for r in ranked[1:]
                        if r.coverage >= max(self.cal.include_min, ratio * top.coverage) and r.coverage > 0]
        if PLURAL_CUE.search(q.question) and self.sim and not q.title_scope and not _QUOTED.search(q.text):
            keep += self._soft_outliers(q, ranked, keep)
        return Selection(tuple(keep), True, forced)

    def _stands_out(self, q: Query, ranked: list[Ranked]) -> bool:
        """The best entry is about the topic in other words, and clearly more than the next ones (SOFT_FOUND)."""
        top, rest = ranked[0], ranked[1:SOFT_WIDE]
        if top.soft < SOFT_FOUND or len(rest) < 3:
            return False
        alts, vecs = self._alts(q), self._vecs(q)
        base = float(np.median([r.soft if r.soft >= 0 else self.soft(alts, r, vecs) for r in rest]))
        return top.soft - base >= SOFT_FOUND_GAP

    def _soft_outliers(self, q: Query, ranked: list[Ranked], keep: list[Ranked]) -> list[Ranked]:
        """Short entries about the topic in other words (SOFT_GAP)."""
        kept = {r.proposal.proposal_id for r in keep}
        rest = [r for r in ranked[1:SOFT_WIDE] if r.proposal.proposal_id not in kept]
        if len(rest) < 3:
            return []
        alts, vecs = self._alts(q), self._vecs(q)
        soft = [r.soft if r.soft >= 0 else self.soft(alts, r, vecs) for r in rest]
        base = float(np.median(soft))
        return [r for r, s in zip(rest, soft) if s >= self.cal.include_min and s - base >= SOFT_GAP
                and len(r.proposal.text) <= SHORT_ITEM]
