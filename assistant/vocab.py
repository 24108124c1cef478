"""The jieba user dictionary, derived at build time from the corpus itself and the proposer grammar.

No hand-picked term list: a word enters because the corpus says so.
- the names of every proposer the corpus names, and the grammar's CPPCC vocabulary (party names,
  unit and role words), so that "民盟某市委" or "九三学社" stay one token;
- phrases the corpus puts in quotes or book-title marks (“快递进村”, 《…条例》): coined terms;
- recurring phrases: 3-6 character runs that several proposals share, made of whole words of
  jieba's dictionary but not one word there, and not just a piece of a longer shared run.
An office may still add `terms.txt` (one word a line) to its corpus folder.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from .proposers import knowledge

_QUOTED = re.compile(r"[“‘「『《]([\u4e00-\u9fff]{2,8})[”’」』》]")
_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
# a phrase never starts or ends on a function character
_EDGE = set("的了和与及或在是为对把被将从以于之也都而并其这那有个中上下等我市省区县各该此就")


def grammar_words() -> list[str]:
    k = knowledge()
    words = [p["short"] for p in k["parties"]] + [f for p in k["parties"] for f in p["full"] if len(f) > 2]
    words += k["federation"] + k["people_orgs"] + k["nonparty"] + k["sector_words"] + k["officer_roles"]
    words += [w for ws in k["type_words"].values() for w in ws if len(w) > 2]
    return words


def recurring_phrases(texts: Iterable[str], *, min_docs: int = 3, sizes=(3, 4, 5, 6), limit: int = 3000) -> list[str]:
    """Runs of 3-6 CJK characters found in at least `min_docs` texts, closed (no longer run
    containing them is in as many texts), not already one word for jieba."""
    import jieba
    df: Counter = Counter()
    for t in texts:
        seen = set()
        for run in _RUN.findall(t):
            for n in sizes:
                for i in range(len(run) - n + 1):
                    g = run[i:i + n]
                    if g[0] not in _EDGE and g[-1] not in _EDGE:
                        seen.add(g)
        df.update(seen)
    frequent = {g: c for g, c in df.items() if c >= min_docs}
    longer: dict[str, int] = {}
    for g, c in frequent.items():
        for n in range(len(g) - 1, 2, -1):
            for i in range(len(g) - n + 1):
                sub = g[i:i + n]
                longer[sub] = max(longer.get(sub, 0), c)
    dictionary = jieba.dt
    dictionary.check_initialized()

    def compound(g: str) -> bool:
        # whole known words only: 科技+创新 yes, 创新+活 (a word cut in half) no
        parts = dictionary.lcut(g, HMM=False)
        return len(parts) >= 2 and all(len(x) >= 2 for x in parts)
    keep = [g for g, c in frequent.items()
            if longer.get(g, 0) < c and dictionary.FREQ.get(g, 0) == 0 and compound(g)]
    keep.sort(key=lambda g: (-frequent[g] * len(g), g))
    return keep[:limit]


# n-gram counting grows with the archive; an even sample of this many proposals finds the same
# recurring phrases at a bounded cost
SAMPLE = 5000


def user_words(corpus, registry=None) -> list[str]:
    texts = [f"{p.title}\n{p.text}" for p in corpus.proposals]
    words = list(grammar_words())
    if registry is not None:
        words += [a for a in registry.aliases if len(a) >= 2]
    words += [m.group(1) for t in texts for m in _QUOTED.finditer(t)]
    words += recurring_phrases(texts[:: max(1, len(texts) // SAMPLE)])
    extra = Path(corpus.root) / "terms.txt"
    if extra.is_file():
        words += [ln.strip() for ln in extra.read_text(encoding="utf-8").splitlines()
                  if ln.strip() and not ln.startswith("#")]
    return sorted(set(words))
