"""Draft paragraph or topic -> precedent proposals, with the sentences that overlap the draft.

For drafters: who already proposed what, in their own words. Overlap is judged per sentence pair
by character-bigram containment (same wording) or embedding similarity (same idea, other words).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from .answer import clean_question
from .chunk import sentences
from .errors import AssistantError
from .records import Proposal

_KEEP = re.compile(r"[\w\u3400-\u9fff]")


@dataclass(frozen=True)
class Overlap:
    start: int              # offsets into the proposal's document text
    end: int
    text: str
    draft_sentence: str     # the draft sentence it overlaps
    lexical: float          # share of the shorter sentence's character bigrams found in the other
    semantic: float         # cosine of the two sentence embeddings


@dataclass(frozen=True)
class Precedent:
    proposal: Proposal
    score: float
    overlaps: tuple[Overlap, ...]

    def to_dict(self) -> dict:
        p = self.proposal
        return {"proposal_id": p.proposal_id, "title": p.title, "proposers": list(p.proposers),
                "proposer_type": p.proposer_type, "score": round(float(self.score), 6),
                "overlaps": [{"start": o.start, "end": o.end, "text": o.text, "draft_sentence": o.draft_sentence,
                              "lexical": round(o.lexical, 3), "semantic": round(o.semantic, 3)} for o in self.overlaps]}


@dataclass(frozen=True)
class PrecedentResult:
    draft: str
    found: bool
    precedents: tuple[Precedent, ...]
    message: str
    timings_ms: dict


def _bigrams(text: str) -> set:
    chars = [c for c in text if _KEEP.match(c)]
    return {a + b for a, b in zip(chars, chars[1:])}


def containment(a: set, b: set) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


class PrecedentFinder:
    # Thresholds read off the dev split (eval/qa.jsonl): true precedents reach lexical >= 0.33 or
    # cosine >= 0.927 on their best sentence pair, drafts on topics not in the corpus stay below
    # 0.17 and 0.903 (multilingual-e5-small compresses cosines into 0.8-0.95).
    def __init__(self, index, retriever, embedder, *, max_chars: int = 8000, min_semantic: float = 0.92,
                 min_lexical: float = 0.3, found_semantic: float = 0.92, found_lexical: float = 0.3):
        self.index, self.retriever, self.embedder = index, retriever, embedder
        self.max_chars = max_chars
        self.min_semantic, self.min_lexical = min_semantic, min_lexical
        self.found_semantic, self.found_lexical = found_semantic, found_lexical
        self._doc = {d.doc_id: d.text for d in index.documents.values()}

    def find(self, draft: str, k: int = 5, *, proposers=(), types=()) -> PrecedentResult:
        t0 = time.perf_counter()
        draft = clean_question(draft, self.max_chars)
        hits = self.retriever.search(draft, k, proposers=proposers, types=types)
        hits = [h for h in hits if h.proposal.kind != "intro"]
        d_spans = sentences(draft) or [(0, len(draft))]
        d_sents = [draft[s:e] for s, e in d_spans if len(_bigrams(draft[s:e])) >= 3] or [draft]
        cands = []
        for h in hits:
            p = h.proposal
            text = self._doc[p.doc_id]
            cands += [(p.proposal_id, s, e, text[s:e]) for s, e in sentences(text, p.start, p.end)]
        if not cands:
            return PrecedentResult(draft, False, (), "没有可比较的建议。", {"total": (time.perf_counter() - t0) * 1000})
        dv = self.embedder.embed_queries(d_sents)
        pv = self.embedder.embed_passages([c[3] for c in cands])
        sim = pv @ dv.T                                        # proposal sentence x draft sentence
        d_bi = [_bigrams(s) for s in d_sents]
        out = []
        for h in hits:
            rows = [i for i, c in enumerate(cands) if c[0] == h.proposal.proposal_id]
            overl = []
            for row in rows:
                _, s, e, text = cands[row]
                lex = [containment(_bigrams(text), b) for b in d_bi]
                jl, js = int(np.argmax(lex)), int(np.argmax(sim[row]))
                if lex[jl] >= self.min_lexical or sim[row, js] >= self.min_semantic:
                    j = jl if lex[jl] >= self.min_lexical else js
                    overl.append(Overlap(s, e, text, d_sents[j], float(lex[j]), float(sim[row, j])))
            score = float(sim[rows].max()) if rows else 0.0
            out.append(Precedent(h.proposal, score, tuple(overl)))
        out.sort(key=lambda p: (not p.overlaps, -p.score))
        found = [p for p in out if p.overlaps and (p.score >= self.found_semantic
                                                   or max(o.lexical for o in p.overlaps) >= self.found_lexical)]
        t = {"total": (time.perf_counter() - t0) * 1000}
        if not found:
            closest = out[0].proposal if out else None
            msg = "没有找到先例：现有建议中没有与这段文字相同或相近的主张。"
            if closest is not None:
                msg += f"最接近的是{'、'.join(closest.proposers) or closest.title}的《{closest.title}》。"
            return PrecedentResult(draft, False, tuple(out[:1]), msg, t)
        msg = f"找到 {len(found)} 份相近的建议。"
        return PrecedentResult(draft, True, tuple(found), msg, t)
