"""Proposals -> chunks: Chinese sentence boundaries, a tiktoken budget, never across proposals.

Every chunk is an exact slice of its document's normalized text (`doc.text[start:end]`).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from .records import Chunk, Proposal
from .util import strip_span

ENCODING = "cl100k_base"
# A sentence ends at 。！？； (or their half-width forms) plus any closing quotes/brackets.
_SENT = re.compile(r"[^。！？；;!?\n]*(?:[。！？；;!?]+[”’」』）)]*|\n|$)")
_CLAUSE = re.compile(r"[^，,、：:]*(?:[，,、：:]|$)")


@lru_cache(maxsize=1)
def _encoding():
    # tiktoken downloads its BPE file on first use; llama-index-core ships a copy for offline use.
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        try:
            import llama_index.core
            cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
            if cache.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        except ImportError:
            pass
    import tiktoken
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def _spans(regex: re.Pattern, text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for m in regex.finditer(text, start, end):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) inside text[start:end]."""
    return _spans(_SENT, text, start, len(text) if end is None else end)


def _fit(text: str, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at clause marks, then by characters as a last resort."""
    if count_tokens(text[s:e]) <= max_tokens:
        return [(s, e)]
    pieces = _spans(_CLAUSE, text, s, e)
    if len(pieces) == 1:
        step = max(1, max_tokens // 2)  # a CJK character is at most ~2 cl100k tokens
        cut = [strip_span(text, i, min(i + step, e)) for i in range(s, e, step)]
        return [(a, b) for a, b in cut if b > a]
    out: list[tuple[int, int]] = []
    for ps, pe in pieces:
        for a, b in _fit(text, ps, pe, max_tokens):
            if out and count_tokens(text[out[-1][0]:b]) <= max_tokens:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


def chunk_proposal(p: Proposal, doc_text: str, max_tokens: int = 160, overlap: int = 0) -> list[Chunk]:
    units: list[tuple[int, int]] = []
    for s, e in sentences(doc_text, p.start, p.end):
        units.extend(_fit(doc_text, s, e, max_tokens))
    groups: list[list[tuple[int, int]]] = []
    i = 0
    while i < len(units):
        g = [units[i]]
        j = i + 1
        while j < len(units) and count_tokens(doc_text[g[0][0]:units[j][1]]) <= max_tokens:
            g.append(units[j])
            j += 1
        groups.append(g)
        # step forward, keeping `overlap` sentences, but always make progress
        i = max(i + 1, j - overlap) if j < len(units) else j
    out = []
    for k, g in enumerate(groups):
        s, e = g[0][0], g[-1][1]
        out.append(Chunk(f"{p.proposal_id}#{k}", p.proposal_id, p.doc_id, p.title, p.proposers,
                         p.proposer_type, doc_text[s:e], s, e))
    return out


def chunk_corpus(corpus, max_tokens: int = 160, overlap: int = 0) -> list[Chunk]:
    texts = {d.doc_id: d.text for d in corpus.documents}
    return [c for p in corpus.proposals for c in chunk_proposal(p, texts[p.doc_id], max_tokens, overlap)]
