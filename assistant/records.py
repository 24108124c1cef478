"""Frozen records that flow through the pipeline stages.

ingest -> Document/Proposal, chunk -> Chunk, retrieve -> Hit/ProposalHit, answer -> Answer/Citation.
Offsets are always into `Document.text`, the normalized text of one corpus file.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str              # relative to the corpus folder
    title: str
    kind: str              # "proposals" (a collection of proposals) or "policy"
    text: str              # normalized text; every offset below points into it
    raw_sha256: str
    meta: dict = field(default_factory=dict, hash=False, compare=False)
    # (norm_start, raw_start, length) runs; normalization only deletes text, so this maps back
    segments: tuple = field(default=(), hash=False, compare=False)

    def to_raw(self, offset: int) -> int:
        """Character offset in the raw (decoded) file for a normalized offset."""
        for ns, rs, n in self.segments:
            if ns <= offset < ns + n:
                return rs + (offset - ns)
        if self.segments:
            ns, rs, n = self.segments[-1]
            if offset == ns + n:
                return rs + n
        raise ValueError(f"offset {offset} outside document {self.doc_id}")


@dataclass(frozen=True)
class Meeting:
    """The meeting a collection comes from, parsed from its headline, introduction or fields."""
    name: str                   # as printed, place prefixed when the text names it: "某某市政协九届三次会议"
    place: str = ""             # "某某市", "某某区"; "" when nothing names it
    level: str = ""             # 全国 / 省 / 市 / 区县 / ""
    session: str = ""           # 届次/会次 as printed: "十三届二次"
    kind: str = ""              # 全体会议 / 常委会议 / 专题协商 / 大会发言 / 优秀提案 …
    year: int | None = None     # where printed
    reports: int | None = None  # number of reports/speeches where printed

    @property
    def label(self) -> str:
        return self.name or self.place or "未注明会议"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    doc_id: str
    kind: str              # "proposal", "intro" or "policy"
    title: str
    proposers: tuple[str, ...]   # organisations first, then members (a member speaking for one is kept too)
    proposer_type: str     # type of the first proposer; "" for intro/policy texts
    text: str              # == document.text[start:end]
    start: int
    end: int
    proposer_types: tuple[str, ...] = ()   # one per proposer
    speakers: tuple[str, ...] = ()         # members among `proposers` who spoke for an organisation
    meeting: str = ""                      # Meeting.label of its collection
    item: str = ""                         # position or file stem as printed ("03"), for citing by number
    roles: tuple[str, ...] = ()            # one per proposer: a member's office as printed (常委, 副主委), else ""

    def own_proposers(self) -> tuple[tuple[str, str], ...]:
        """(name, type) of its proposers besides the members who spoke for them."""
        kinds = self.proposer_types or (self.proposer_type,) * len(self.proposers)
        return tuple((n, t) for n, t in zip(self.proposers, kinds) if n not in self.speakers)

    def org_types(self) -> tuple[str, ...]:
        """Types of its proposers, not of the members who spoke for them (a party's speech is not
        an individual member's proposal)."""
        own = [t for _, t in self.own_proposers() if t]
        kinds = self.proposer_types or (self.proposer_type,) * len(self.proposers)
        return tuple(dict.fromkeys(own or [t for t in kinds if t]))

    def role_of(self, name: str) -> str:
        """The office printed beside a member ("常委", "副主委"); "" for organisations or when none."""
        return dict(zip(self.proposers, self.roles)).get(name, "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("proposers", "proposer_types", "speakers", "roles"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Proposal":
        return cls(**{**d, **{k: tuple(d.get(k) or ()) for k in ("proposers", "proposer_types", "speakers", "roles")}})


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    proposal_id: str
    doc_id: str
    title: str
    proposers: tuple[str, ...]
    proposer_type: str
    text: str              # == document.text[start:end]
    start: int
    end: int

    @property
    def header(self) -> str:
        return f"{self.title} {'、'.join(self.proposers)}".strip()

    @property
    def index_text(self) -> str:
        """What gets embedded and BM25-indexed: body plus who proposed it under which title."""
        return f"{self.header}\n{self.text}"


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    bm25: float = 0.0          # raw BM25 score (0 when no query word matched)
    cosine: float = 0.0        # raw dense similarity


@dataclass(frozen=True)
class ProposalHit:
    proposal: Proposal
    score: float
    best: Hit
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        p, c = self.proposal, self.best.chunk
        return {
            "proposal_id": p.proposal_id,
            "title": p.title,
            "proposers": list(p.proposers),
            "proposer_type": p.proposer_type,
            "kind": p.kind,
            "score": round(float(self.score), 6),
            "chunk": {"chunk_id": c.chunk_id, "text": c.text, "start": c.start, "end": c.end},
        }


@dataclass(frozen=True)
class Citation:
    n: int
    chunk_id: str
    proposal_id: str
    title: str
    proposers: tuple[str, ...]
    proposer_type: str
    quote: str              # == document.text[start:end]
    start: int
    end: int
    score: float

    def to_dict(self) -> dict:
        return {"n": self.n, "chunk_id": self.chunk_id, "proposal_id": self.proposal_id, "title": self.title,
                "proposers": list(self.proposers), "proposer_type": self.proposer_type, "quote": self.quote,
                "start": self.start, "end": self.end, "score": round(float(self.score), 6)}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    found: bool
    citations: tuple[Citation, ...]
    timings_ms: dict
    # what a follow-up question may carry over: resolved query, proposers, proposal ids
    context: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer, "found": self.found,
                "citations": [c.to_dict() for c in self.citations],
                "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()}}


@dataclass(frozen=True)
class Turn:
    question: str
    answer: Answer | None = None
