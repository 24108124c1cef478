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
    # Defaults read off the dev split once; `assistant eval --calibrate` refits them on dev drafts
    # (precedent_semantic / precedent_lexical in calibration.json, with the embedder's fingerprint).
    def __init__(self, index, retriever, embedder, *, max_chars: int = 8000, min_semantic: float = 0.92,
                 min_lexical: float = 0.3, found_semantic: float = 0.92, found_lexical: float = 0.3):
        self.index, self.retriever, self.embedder = index, retriever, embedder
        self.max_chars = max_chars
        self.min_semantic, self.min_lexical = min_semantic, min_lexical
        self.found_semantic, self.found_lexical = found_semantic, found_lexical
        self._doc = {d.doc_id: d.text for d in index.documents.values()}

    def _compare(self, draft: str, k: int, proposers=(), types=()):
        """The draft's sentences against every sentence of its top-k proposals:
        (draft sentences, [(proposal, [(s, e, text, lexical per draft sentence, cosine per draft sentence)])])."""
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
            return d_sents, []
        dv = self.embedder.embed_queries(d_sents)
        pv = self.embedder.embed_passages([c[3] for c in cands])
        sim = pv @ dv.T                                        # proposal sentence x draft sentence
        d_bi = [_bigrams(x) for x in d_sents]
        out = []
        for h in hits:
            rows = [(cands[i][1], cands[i][2], cands[i][3], [containment(_bigrams(cands[i][3]), b) for b in d_bi], sim[i])
                    for i, c in enumerate(cands) if c[0] == h.proposal.proposal_id]
            out.append((h.proposal, rows))
        return d_sents, out

    def evidence(self, draft: str, k: int = 5) -> list[tuple[str, float, float]]:
        """(proposal id, best cosine, best lexical containment) per candidate: what the found
        thresholds are fitted on (`assistant eval --calibrate`)."""
        _, compared = self._compare(clean_question(draft, self.max_chars), k)
        return [(p.proposal_id, max((float(max(r[4])) for r in rows), default=0.0),
                 max((max(r[3]) for r in rows), default=0.0)) for p, rows in compared]

    def find(self, draft: str, k: int = 5, *, proposers=(), types=()) -> PrecedentResult:
        t0 = time.perf_counter()
        draft = clean_question(draft, self.max_chars)
        d_sents, compared = self._compare(draft, k, proposers, types)
        if not compared:
            return PrecedentResult(draft, False, (), "没有可比较的建议。", {"total": (time.perf_counter() - t0) * 1000})
        out = []
        for proposal, rows in compared:
            overl = []
            for s, e, text, lex, sims in rows:
                jl, js = int(np.argmax(lex)), int(np.argmax(sims))
                if lex[jl] >= self.min_lexical or sims[js] >= self.min_semantic:
                    j = jl if lex[jl] >= self.min_lexical else js
                    overl.append(Overlap(s, e, text, d_sents[j], float(lex[j]), float(sims[j])))
            score = max((float(max(r[4])) for r in rows), default=0.0)
            out.append(Precedent(proposal, score, tuple(overl)))
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
