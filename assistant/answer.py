"""Question (+ conversation) -> a Chinese answer in which every recommendation names its proposer
and cites the exact sentences it comes from. No LLM, no network: retrieval, metadata and sentence
selection. Every [n] in the text is built from a Citation, so a citation that does not exist can
never be shown.
"""
from __future__ import annotations

import time
from typing import Sequence

from .compose import Composer
from .errors import AssistantError
from .question import Query, QuestionParser, clean_question  # noqa: F401  (re-exported)
from .records import Answer, Citation, Proposal, Turn  # noqa: F401  (re-exported)
from .select import CALIBRATION_FILE, Calibration, Features, Selection, Selector, Signals  # noqa: F401  (re-exported)


class ExtractiveAnswerer:
    """question -> QuestionParser (Query) -> Selector (scope, ranking, found/include) -> Composer."""
    name = "extractive"
    mode = "hybrid"   # which retriever ranks the proposals (the eval harness switches it)

    def __init__(self, index, retriever, registry, *, calibration: Calibration | None = None,
                 max_question_chars: int = 2000, meta: dict | None = None):
        self.index, self.retriever, self.registry = index, retriever, registry
        self.max_question_chars = max_question_chars
        self.features = Features(index)
        self.parser = QuestionParser(index, registry, retriever.all_types)
        fingerprint = getattr(getattr(retriever, "embedder", None), "fingerprint", None)
        self.selector = Selector(index, retriever, self.parser, self.features,
                                 calibration or Calibration.load(fingerprint=fingerprint))
        self.composer = Composer(index, self.features, self.selector.text_of)
        self.meetings = self.composer.meetings

    @property
    def cal(self) -> Calibration:
        return self.selector.cal

    @cal.setter
    def cal(self, value: Calibration) -> None:
        self.selector.cal = value

    def resolve(self, question: str, history: Sequence[Turn] = ()) -> Query:
        return self.parser.parse(question, history)

    def topic_terms(self, text: str) -> list[str]:
        return self.parser.topic_terms(text)

    def answer(self, question: str, history: Sequence[Turn] = (), *, proposers: Sequence[str] = (),
               types: Sequence[str] = (), meetings: Sequence[str] = ()) -> Answer:
        from dataclasses import replace
        t0 = time.perf_counter()
        question = clean_question(question, self.max_question_chars)
        q = self.parser.parse(question, history)
        if proposers:  # explicit UI filters win over what the question implies
            q = replace(q, proposers=tuple(self.retriever.resolve_proposer(p) for p in proposers))
        if types:
            self.retriever.make_filters((), types)
            q = replace(q, types=tuple(types))
        if meetings:
            unknown = [m for m in meetings if m not in self.meetings]
            if unknown:
                raise AssistantError(f"未知的会议 “{unknown[0]}”。", hint="可选: " + "、".join(self.meetings))
            q = replace(q, meetings=tuple(meetings))
        cands, q = self.selector.candidates(q)
        terms = self.parser.topic_terms(q.text)
        t1 = time.perf_counter()
        ranked, sig = self.selector.rank(q, cands, self.mode) if cands else ([], Signals())
        if self.selector.intro_answers(q, terms, ranked):
            q = replace(q, meta=True, intent="meta")
            cands, q = self.selector.candidates(q)
            ranked, sig = self.selector.rank(q, cands, self.mode) if cands else ([], Signals())
        t2 = time.perf_counter()
        sel = self.selector.select(q, terms, ranked, sig) if ranked else Selection((), False)
        text, found, citations, ctx = self.composer.compose(q, cands, terms, sel.chosen, sel.found)
        if ranked:  # what `assistant eval --calibrate` refits the found decision from
            ctx["signals"] = {"coverage": ranked[0].coverage, "soft": ranked[0].soft, "margin": sig.margin, "z": sig.z, "agree": sig.agree,
                              "scoped": bool(q.proposers or q.types or q.roles), "listing": self.selector.listing(q, terms),
                              "forced": sel.forced,
                              "top": ranked[0].proposal.proposal_id}
        t3 = time.perf_counter()
        timings = {"retrieve": (t2 - t1) * 1000, "answer": ((t1 - t0) + (t3 - t2)) * 1000, "total": (t3 - t0) * 1000}
        return Answer(question, text, found, citations, timings, ctx)
