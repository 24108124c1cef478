"""The QA benchmark: load questions, run any answerer, score the `ask --json` objects it returns.

Scores: retrieval (hit@1/3/5, MRR@10, nDCG@10), attribution (proposer P/R/F1, micro and per
proposer), ALCE-style citation recall/precision checked without a model (a citation supports a
statement when its chunk is gold evidence or its quote holds a required answer item), refusal
(rejection on negatives next to over-refusal on answerable questions), answer-item recall and
latency per stage. The BM25-only and dense-only retrievers are always scored beside hybrid.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .config import ROOT
from .errors import AssistantError

DEFAULT_BENCHMARK = ROOT / "eval" / "qa.jsonl"
QTYPES = ("attribution", "multi_proposer", "group", "detail", "paraphrase", "precedent", "negative", "followup", "meta")
_MARK = re.compile(r"\[(\d+)\]")
MIN_ITEM_CHARS = 3


@dataclass(frozen=True)
class QAItem:
    id: str
    split: str
    type: str
    question: str
    history: tuple[str, ...]
    gold_proposals: tuple[str, ...]
    gold_proposers: tuple[str, ...]
    answer_items: tuple[tuple[str, ...], ...]
    answerable: bool
    note: str = ""


def load_benchmark(path: Path, split: str = "all") -> list[QAItem]:
    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"找不到评测集 {path}。")
    items, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            # an answer item of one or two characters is found by chance in any answer: not scored
            kept = tuple(t for t in (tuple(x for x in alts if len(x) >= MIN_ITEM_CHARS) for alts in r["answer_items"]) if t)
            it = QAItem(r["id"], r["split"], r["type"], r["question"], tuple(r.get("history", [])),
                        tuple(r["gold_proposals"]), tuple(r["gold_proposers"]), kept, bool(r["answerable"]),
                        r.get("note", ""))
        except (ValueError, KeyError, TypeError) as e:
            raise AssistantError(f"{path.name} 第 {n} 行格式有误: {type(e).__name__}: {e}")
        if it.id in seen:
            raise AssistantError(f"{path.name} 第 {n} 行: 重复的 id {it.id}")
        seen.add(it.id)
        if split == "all" or it.split == split:
            items.append(it)
    if not items:
        raise AssistantError(f"{path.name} 中没有 split={split} 的问题。")
    return items


# ----------------------------------------------------------------------------- metrics
def retrieval_metrics(ranked: Sequence[str], gold: Sequence[str]) -> dict:
    gold = set(gold)
    rank = next((i for i, x in enumerate(ranked[:10], 1) if x in gold), None)
    dcg = sum(1 / math.log2(i + 1) for i, x in enumerate(ranked[:10], 1) if x in gold)
    idcg = sum(1 / math.log2(i + 1) for i in range(1, min(len(gold), 10) + 1))  # real number of gold items
    return {"hit@1": float(rank == 1), "hit@3": float(bool(rank and rank <= 3)), "hit@5": float(bool(rank and rank <= 5)),
            "mrr@10": 1 / rank if rank else 0.0, "ndcg@10": dcg / idcg if idcg else 0.0}


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def statements(answer: str) -> list[str]:
    """Answer statements that make a claim: lines (or sentences) carrying a citation marker or a
    proposer. Headlines like '共有 3 份建议：' are structure, not claims."""
    # a line ending in a colon introduces a list ("民盟某市委会共有 1 份建议："): structure, not a claim
    return [ln.strip() for ln in answer.splitlines() if ln.strip() and not ln.strip().endswith(("：", ":"))]


def score_answer(item: QAItem, out: dict, registry, chunk_proposal: dict) -> dict:
    """Score one `ask --json` object against its gold. Returns per-question numbers and counts."""
    text = out.get("answer", "")
    found = bool(out.get("found"))
    cits = {c["n"]: c for c in out.get("citations", [])}
    named = set(registry.mentioned(text)) if found else set()
    gold_p = set(item.gold_proposers)
    gold_ids = set(item.gold_proposals)

    def supports(c: dict) -> bool:
        if not item.answerable:
            return False
        if chunk_proposal.get(c["chunk_id"], c.get("proposal_id")) in gold_ids:
            return True
        q = _squeeze(c.get("quote", ""))
        return any(_squeeze(a) in q for alts in item.answer_items for a in alts)

    claims = [s for s in statements(text) if _MARK.search(s) or registry.mentioned(s)] if found else []
    supported = 0
    dangling = 0
    for s in claims:
        marks = [int(m) for m in _MARK.findall(s)]
        dangling += sum(m not in cits for m in marks)
        if any(m in cits and supports(cits[m]) for m in marks):
            supported += 1
    relevant = sum(supports(c) for c in cits.values())
    items_hit = sum(any(_squeeze(a) in _squeeze(text) for a in alts) for alts in item.answer_items) if found else 0
    return {
        "id": item.id, "type": item.type, "split": item.split, "answerable": item.answerable, "found": found,
        "gold_proposers": sorted(gold_p), "named": sorted(named), "tp": sorted(named & gold_p), "fp": sorted(named - gold_p), "fn": sorted(gold_p - named),
        "claims": len(claims), "supported_claims": supported, "citations": len(cits), "relevant_citations": relevant,
        "dangling_markers": dangling, "items": len(item.answer_items), "items_hit": items_hit,
        "timings_ms": out.get("timings_ms", {}),
    }


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def aggregate_answers(scores: list[dict]) -> dict:
    ans = [s for s in scores if s["answerable"]]
    neg = [s for s in scores if not s["answerable"]]
    # attribution is defined where the gold names proposers (not for questions about the meeting itself)
    attr = [s for s in ans if s["gold_proposers"]]
    tp = sum(len(s["tp"]) for s in attr)
    fp = sum(len(s["fp"]) for s in attr)
    fn = sum(len(s["fn"]) for s in attr)
    per: dict[str, list[int]] = {}
    for s in attr:
        for k, key in ((0, "tp"), (1, "fp"), (2, "fn")):
            for name in s[key]:
                per.setdefault(name, [0, 0, 0])[k] += 1
    per_proposer = {n: _prf(*v) for n, v in sorted(per.items())}
    claims = sum(s["claims"] for s in scores)
    cits = sum(s["citations"] for s in scores)
    lat = {k: [s["timings_ms"][k] for s in scores if k in s["timings_ms"]] for k in ("retrieve", "answer", "total")}
    items = sum(s["items"] for s in ans)
    return {
        "n": len(scores), "answerable": len(ans), "negatives": len(neg),
        "attribution": _prf(tp, fp, fn),
        "attribution_macro_f1": float(np.mean([v["f1"] for v in per_proposer.values()])) if per_proposer else 0.0,
        "per_proposer": per_proposer,
        "citation_recall": sum(s["supported_claims"] for s in scores) / claims if claims else 0.0,
        "citation_precision": sum(s["relevant_citations"] for s in scores) / cits if cits else 0.0,
        "dangling_markers": sum(s["dangling_markers"] for s in scores),
        "rejection_rate": sum(not s["found"] for s in neg) / len(neg) if neg else float("nan"),
        # proposers an answer to an off-corpus question named anyway (each one a false attribution)
        "negative_attribution_fp": sum(len(s["named"]) for s in neg),
        "over_refusal": sum(not s["found"] for s in ans) / len(ans) if ans else float("nan"),
        "item_recall": sum(s["items_hit"] for s in ans) / items if items else float("nan"),
        "latency_ms": {k: {"p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))} if v else {}
                       for k, v in lat.items()},
    }


# ----------------------------------------------------------------------------- running
def conversation(answerer, item: QAItem) -> tuple[object, list]:
    """Ask the history first (a real conversation), then the question. Returns (answer, turns)."""
    from .answer import Turn
    turns: list = []
    for q in item.history:
        turns.append(Turn(q, answerer.answer(q, turns)))
    return answerer.answer(item.question, turns), turns


def run_questions(engine, items: list[QAItem], answerer, *, modes=("bm25", "dense", "hybrid"), progress=True) -> dict:
    """Ask every item (follow-ups as real conversations) and score it. `progress`: True for a
    terminal bar, or a callable(done, total)."""
    chunk_proposal = {c.chunk_id: c.proposal_id for c in engine.index.chunks}
    reg = engine.corpus.registry
    engine.retriever._qcache.clear()  # latency must include the query embedding
    rows, scores = [], []
    verifications = []  # the LLM answerer's verification reports (fallback rate)
    retr = {m: [] for m in modes}
    it = items
    if progress is True:
        from tqdm import tqdm
        it = tqdm(items, desc=f"eval {answerer.name}", file=sys.stderr, leave=False)
    for n, item in enumerate(it):
        if callable(progress):  # the web app's progress bar
            progress(n, len(items))
        ans, turns = conversation(answerer, item)
        verifications.append(ans.context.get("verification"))
        out = ans.to_dict()
        sc = score_answer(item, out, reg, chunk_proposal)
        if item.answerable and item.gold_proposals:
            # in a conversation the retriever sees the question as resolved, with its carried-over proposers
            rq = engine.answerer.resolve(item.question, turns) if turns else None
            q, props = (rq.text, rq.proposers) if rq else (item.question, ())
            for m in modes:
                ranked = [h.proposal.proposal_id for h in engine.retriever.search(q, 10, mode=m, proposers=props)]
                r = retrieval_metrics(ranked, item.gold_proposals)
                retr[m].append(r)
                sc.setdefault("retrieval", {})[m] = r
        scores.append(sc)
        rows.append({"item": item.__dict__, "output": out, "score": sc})
    retrieval = {m: {k: float(np.mean([r[k] for r in v])) for k in v[0]} if v else {} for m, v in retr.items()}
    finder = precedent_finder_scores(engine, items)
    by_type = {}
    for t in QTYPES:
        sub = [s for s in scores if s["type"] == t]
        if not sub:
            continue
        agg = aggregate_answers(sub)
        with_gold = [s for s in sub if s["answerable"] and s["gold_proposers"]]
        hyb = [s["retrieval"]["hybrid"]["hit@3"] for s in sub if "retrieval" in s and "hybrid" in s["retrieval"]]
        by_type[t] = {"n": len(sub), "attribution_f1": agg["attribution"]["f1"] if with_gold else float("nan"), "item_recall": agg["item_recall"],
                      "found_rate": sum(s["found"] for s in sub) / len(sub), "citation_precision": agg["citation_precision"],
                      "hit@3": float(np.mean(hyb)) if hyb else float("nan")}
    answers = aggregate_answers(scores)
    if any(verifications):
        answers["llm_fallback"] = llm_fallback(verifications)
    return {"answerer": answerer.name, "answers": answers, "retrieval": retrieval,
            "by_type": by_type, "precedent_finder": finder, "rows": rows}


def llm_fallback(verifications: Sequence[dict | None]) -> dict:
    """How often the LLM answerer's answer was replaced by the extractive one (`fallback` in each
    Answer.context["verification"]): over all questions (including "too many proposals, model not
    asked") and over the questions the model answered (verification failed). Reasons are counted."""
    vs = [v or {} for v in verifications]
    called = [v for v in vs if v.get("llm_called")]
    fell = sum(bool(v.get("fallback")) for v in vs)
    failed = sum(bool(v.get("fallback")) for v in called)
    reasons: dict[str, int] = {}
    for v in vs:
        if v.get("fallback"):
            for r in v.get("reasons", []):
                k = re.sub(r"\d+(?:/\d+)?", "N", re.split(r"[:：]", r)[0])
                reasons[k] = reasons.get(k, 0) + 1
    return {"n": len(vs), "llm_called": len(called), "fallback": fell, "fallback_rate": fell / len(vs) if vs else float("nan"),
            "verification_failed": failed, "verification_failed_rate": failed / len(called) if called else float("nan"),
            "reasons": dict(sorted(reasons.items(), key=lambda x: -x[1]))}


def precedent_finder_scores(engine, items: list[QAItem]) -> dict:
    """The drafters' precedent finder on precedent drafts (must find gold in its top 3) and on
    negative questions (must report no precedent)."""
    pos = [i for i in items if i.type == "precedent"]
    neg = [i for i in items if not i.answerable and not i.history]
    hits = []
    for i in pos:
        r = engine.precedents.find(i.question, 5)
        hits.append(r.found and bool(set(p.proposal.proposal_id for p in r.precedents[:3]) & set(i.gold_proposals)))
    rejected = [not engine.precedents.find(i.question, 5).found for i in neg]
    return {"precedent_hit@3": float(np.mean(hits)) if hits else float("nan"), "precedents": len(hits),
            "no_precedent_on_negatives": float(np.mean(rejected)) if rejected else float("nan"), "negatives": len(rejected)}


# ----------------------------------------------------------------------------- calibration
def found_observations(answerer, asked, group: str = "") -> list[dict]:
    """Ask each (question, history, gold ids, answerable) once and keep the found decision's
    signals (Answer.context["signals"]) beside the truth, for fitting without re-asking."""
    from .answer import Turn
    rows = []
    for question, history, gold, answerable in asked:
        turns = []
        for h in history:
            turns.append(Turn(h, answerer.answer(h, turns)))
        sig = answerer.answer(question, turns).context.get("signals")
        if sig and not sig["listing"] and sig.get("forced") is None:  # no threshold decides the others
            rows.append({**sig, "answerable": answerable, "top_is_gold": sig["top"] in set(gold), "group": group})
    return rows


def fit_found(rows: list[dict], base, grid=None, min_declined: float = 0.9):
    """The found rule that answers the most answerable questions while still declining at least
    `min_declined` of the off-corpus ones of every group of collections (the product's bar is 0.8).
    Questions whose decision no threshold makes (`Selector.forced`: the asked-about word is missing,
    a follow-up on the one proposal being discussed) are left out, so the negatives left are the
    hard ones and few (56 home, 26 other cities): 0.85 on them held only 0.69 on a spent held-out
    split's home negatives, hence bar + 0.1 on each group;
    among ties, the middle of the threshold range. A question whose right proposal ranks first
    must be answered, so misses of those cost double."""
    from dataclasses import replace as _replace
    grid = grid or {"margin_weight": (0.0, 2.0, 4.0), "z_weight": (0.0, 0.02, 0.05, 0.1),
                    "agree_weight": (0.0, 0.1, 0.2), "soft_share": (0.0, 0.25, 0.5, 0.75, 1.0),
                    "found_coverage": tuple(round(0.15 + 0.05 * i, 2) for i in range(17))}
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    weight = [2 if r["top_is_gold"] else 1 for r in pos]
    group_of = np.array([r.get("group", "") for r in neg])
    groups = sorted(set(group_of.tolist()))
    scored = []
    for mw, zw, aw, ss in itertools.product(grid["margin_weight"], grid["z_weight"], grid["agree_weight"],
                                            grid["soft_share"]):
        cal = _replace(base, margin_weight=mw, z_weight=zw, agree_weight=aw, soft_share=ss)

        def score(r):
            return cal.score(coverage=r["coverage"], soft=r.get("soft", -1.0), margin=r["margin"], z=r["z"],
                             agree=r["agree"], scoped=r["scoped"])
        s_pos = np.array([score(r) for r in pos])
        s_neg = np.array([score(r) for r in neg])
        for t in grid["found_coverage"]:
            answered = float(np.dot(s_pos >= t, weight) / max(1, sum(weight)))
            declined = float(np.mean(s_neg < t)) if len(neg) else 0.0
            worst = min((float(np.mean(s_neg[group_of == g] < t)) for g in groups), default=1.0)
            key = (worst >= min_declined, round(answered, 6), round(declined, 6))
            scored.append((key, (mw, zw, aw, ss, t), answered, declined))
    best = max(x[0] for x in scored)
    ties = sorted((x for x in scored if x[0] == best), key=lambda x: x[1])
    pick = ties[len(ties) // 2]
    mw, zw, aw, ss, t = pick[1]
    return (_replace(base, margin_weight=mw, z_weight=zw, agree_weight=aw, soft_share=ss, found_coverage=t),
            pick, len(ties))


def load_drafts(path: Path) -> list[dict]:
    """Precedent drafts (eval/precedent_dev.jsonl): draft, corpus, gold_proposals, answerable."""
    if not Path(path).is_file():
        return []
    return [json.loads(ln) for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]


def fit_precedent(obs: list[tuple[list, set, bool]], base):
    """Precedent thresholds: a candidate counts when its best sentence pair reaches the cosine
    or the lexical threshold; a true draft must get its gold among the first three that count,
    an off-topic draft none at all. Mean of both rates; among ties, the middle."""
    from dataclasses import replace as _replace
    scored = []
    for sem in (0.88, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95):
        for lex in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
            pos, neg = [], []
            for ev, gold, answerable in obs:
                counted = sorted((x for x in ev if x[1] >= sem or x[2] >= lex), key=lambda x: -x[1])
                if answerable:
                    pos.append(bool({x[0] for x in counted[:3]} & gold))
                else:
                    neg.append(not counted)
            rate = (np.mean(pos) if pos else 1.0) / 2 + (np.mean(neg) if neg else 1.0) / 2
            scored.append((round(float(rate), 6), (sem, lex), float(np.mean(pos)) if pos else float("nan"),
                           float(np.mean(neg)) if neg else float("nan")))
    best = max(x[0] for x in scored)
    ties = [x for x in scored if x[0] == best]
    pick = ties[len(ties) // 2]
    return _replace(base, precedent_semantic=pick[1][0], precedent_lexical=pick[1][1]), pick


def calibrate(engine, items: list[QAItem], path: Path | None = None, log=print, corpora_root: Path | None = None,
              drafts: Path | None = None, spent: Sequence[Path] = ()):
    """Fit the extractive answerer's thresholds: when to answer, on dev questions of several
    collections (these `items` on their corpus, plus every collection of `corpora_root` loaded
    as one corpus, plus the questions of `spent` held-out files, which were reported once and
    may only be development data since); then how many proposals to include (attribution F1 on
    `items`)."""
    from .answer import CALIBRATION_FILE, Calibration
    ans = engine.answerer
    reg = engine.corpus.registry
    cmap = {c.chunk_id: c.proposal_id for c in engine.index.chunks}

    def score(cal):
        ans.cal = cal
        return aggregate_answers([score_answer(i, conversation(ans, i)[0].to_dict(), reg, cmap) for i in items])

    base = replace(Calibration.load(), fingerprint=engine.embedder.fingerprint)
    ans.cal = base
    extra = []
    if spent:
        from . import eval_corpora
        extra = [q for f in spent for q in eval_corpora.load_holdout(Path(f))]
    rows = found_observations(ans, [(i.question, i.history, i.gold_proposals, i.answerable) for i in items]
                              + [(q.question, q.history, q.gold_items, q.answerable) for q in extra if q.folder == "home"], "home")
    n_home = len(rows)
    other, qs = None, []
    if corpora_root is not None and Path(corpora_root).is_dir():
        from . import eval_corpora
        import tempfile
        folders = eval_corpora.folders_in(corpora_root)
        qs = eval_corpora.load_questions(folders) + [q for q in extra if q.folder != "home"]
        work = Path(tempfile.mkdtemp(prefix="yz-calib-"))
        settings = engine.settings.with_(corpus_dir=eval_corpora.assemble(folders, work / "corpus"), index_dir=work / "index")
        from .engine import Engine
        other = Engine.open(settings, log=log)
        other.answerer.cal = base
        rows += found_observations(other.answerer, [(q.question, q.history, q.gold_items, q.answerable) for q in qs],
                                   "corpora")
    best, pick, ties = fit_found(rows, base)
    log(f"拒答规则 (在 {n_home} + {len(rows) - n_home} 个开发题上拟合, {ties} 组并列取中间): "
        f"{1 - best.soft_share:g}*coverage + {best.soft_share:g}*soft + "
        f"{best.margin_weight}*margin + {best.z_weight}*z + {best.agree_weight}*agree >= {best.found_coverage} "
        f"(回答率 {pick[2]:.3f}, 拒答率 {pick[3]:.3f})")
    # the precedent finder: true drafts of the benchmark plus the dev drafts file (both corpora)
    obs = [(engine.precedents.evidence(i.question), set(i.gold_proposals), True) for i in items if i.type == "precedent"]
    for d in load_drafts(drafts or DEFAULT_BENCHMARK.with_name("precedent_dev.jsonl")):
        eng = engine if d.get("corpus", "home") == "home" else other
        if eng is not None:
            obs.append((eng.precedents.evidence(d["draft"]), set(d["gold_proposals"]), bool(d["answerable"])))
    if obs:
        best, pick = fit_precedent(obs, best)
        log(f"先例阈值 ({len(obs)} 篇开发稿): 余弦 >= {best.precedent_semantic} 或 字二元组重合 >= {best.precedent_lexical} "
            f"(命中 {pick[2]:.3f}, 无先例 {pick[3]:.3f})")
    stage1 = best
    best_key2 = None
    # how many proposals an answer includes: attribution F1 on these items and, where loaded, the
    # proposer F1 of the other collections' several-proposal questions (one rule for every corpus)
    several = [q for q in qs if len(q.gold_items) > 1] if other is not None else []

    def other_f1(cal):
        if not several:
            return 0.0
        from . import eval_corpora
        other.answerer.cal = cal
        sm = eval_corpora.summarize(eval_corpora.ask_all(other.answerer, several))
        r, p = sm["proposer_recall"], sm["multi_proposer_precision"]
        return 2 * r * p / (r + p) if r + p else 0.0
    for ratio in (0.9, 0.999):
        for plural in (0.5, 0.6, 0.75, 0.9):
            for mn in (0.4, 0.5, 0.6, 0.7):
                cal = replace(stage1, include_ratio=ratio, include_plural=plural, include_min=mn)
                a = score(cal)
                f1 = (a["attribution"]["f1"] + other_f1(cal)) / 2 if several else a["attribution"]["f1"]
                key = (round(f1, 6), a["citation_precision"])
                if best_key2 is None or key > best_key2:
                    best, best_key2 = cal, key
    a = score(best)
    where = (f"{len(items)} dev questions" + (f" + the collections in {Path(corpora_root).name}/" if corpora_root else "")
             + (f" + spent {', '.join(Path(f).name for f in spent)}" if spent else ""))
    best = replace(best, source=f"assistant eval --calibrate on {where}, {time.strftime('%Y-%m-%d')}")
    ans.cal = best
    log(f"纳入阈值: ratio={best.include_ratio} plural={best.include_plural} min={best.include_min} "
        f"(归属 F1={a['attribution']['f1']:.3f}, 其他语料多提出者 F1={other_f1(best):.3f}, "
        f"拒答率={a['rejection_rate']:.3f}, 过度拒答={a['over_refusal']:.3f})")
    path = path or CALIBRATION_FILE
    path.write_text(json.dumps(best.__dict__, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return best


# ----------------------------------------------------------------------------- CMRC
def _cmrc_norm(s: str) -> str:
    # CMRC 2018's evaluate script: lowercase, drop punctuation and spaces
    return re.sub(r"[\s\W_]+", "", s.lower())


def _cmrc_segments(s: str) -> list[str]:
    # CMRC's mixed segmentation: CJK characters one by one, Latin/digit runs as words
    return re.findall(r"[\u3400-\u9fff]|[a-z0-9]+", s.lower())


def _lcs(a: list, b: list) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def cmrc_em_f1(prediction: str, answers: Sequence[str]) -> tuple[float, float]:
    em = float(any(_cmrc_norm(prediction) == _cmrc_norm(a) for a in answers))
    f1 = 0.0
    p = _cmrc_segments(prediction)
    for a in answers:
        g = _cmrc_segments(a)
        lcs = _lcs(p, g)
        if lcs:
            prec, rec = lcs / len(p), lcs / len(g)
            f1 = max(f1, 2 * prec * rec / (prec + rec))
    return em, f1


def extract_span(question: str, sentence: str) -> str:
    """No reader model: answer with the clause of the retrieved sentence that shares the most
    character bigrams with the question, minus the question's own words at its edges."""
    clauses = [c for c in re.split(r"[，,；;：:、]", sentence) if c.strip()] or [sentence]
    qb = {question[i:i + 2] for i in range(len(question) - 1)}
    best = max(clauses, key=lambda c: sum(c[i:i + 2] in qb for i in range(len(c) - 1)))
    return best.strip("。！？!? ")


def run_cmrc_eval(embedder, data: Path, limit: int | None = None, modes=("bm25", "dense", "hybrid"), progress=True) -> dict:
    from .bench import build_memory_index, load_cmrc
    from .bm25 import Analyzer
    from .retrieve import Retriever
    ds = load_cmrc(data, limit)
    analyzer = Analyzer()
    index, build = build_memory_index(ds.chunks, embedder, analyzer)
    retr = Retriever(index, embedder)
    row = {c.chunk_id: i for i, c in enumerate(ds.chunks)}
    res = {}
    for m in modes:
        rs, ems, f1s, lat = [], [], [], []
        qs = ds.questions
        if progress:
            from tqdm import tqdm
            qs = tqdm(qs, desc=f"cmrc {m}", file=sys.stderr, leave=False)
        for q, gold, answers, _ in qs:
            t0 = time.perf_counter()
            hits = retr.chunk_hits(q, mode=m)[:10]
            lat.append((time.perf_counter() - t0) * 1000)
            ranked = [str(row[h.chunk.chunk_id]) for h in hits]
            rs.append(retrieval_metrics(ranked, [str(g) for g in gold]))
            em, f1 = cmrc_em_f1(extract_span(q, hits[0].chunk.text) if hits else "", answers)
            ems.append(em)
            f1s.append(f1)
        res[m] = {**{k: float(np.mean([r[k] for r in rs])) for k in rs[0]}, "em": float(np.mean(ems)),
                  "f1": float(np.mean(f1s)), "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95))}
    return {"dataset": {"sentences": len(ds.chunks), "questions": len(ds.questions)}, "build": build, "retrieval": res}


# ----------------------------------------------------------------------------- report
def write_report(report: dict, out_dir: Path) -> Path:
    out_dir = Path(out_dir) / time.strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = report.pop("rows", [])
    (out_dir / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if rows:
        with open(out_dir / "per_question.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out_dir / "summary.md").write_text(format_summary(report), encoding="utf-8")
    _plots(report, out_dir)
    report["rows"] = rows
    return out_dir


def format_summary(report: dict) -> str:
    lines = [f"# 议政助手评测报告", "", f"- 评测集: {report.get('benchmark', '')} (split={report.get('split', '')})",
             f"- 回答器: {report.get('answerer', '')}; 回答所用检索: {report.get('retriever', '')}; 模型: {report.get('model', '')}",
             f"- 时间: {report.get('created', '')}", ""]
    if report.get("retrieval"):
        lines += ["## 检索 (基线 BM25 / 向量 与混合并列)", "", "| 检索 | hit@1 | hit@3 | hit@5 | MRR@10 | nDCG@10 |", "|---|---|---|---|---|---|"]
        for m, r in report["retrieval"].items():
            if r:
                lines.append(f"| {m} | {r['hit@1']:.3f} | {r.get('hit@3', float('nan')):.3f} | {r['hit@5']:.3f} | "
                             f"{r['mrr@10']:.3f} | {r['ndcg@10']:.3f} |" + (f" EM {r['em']:.3f} F1 {r['f1']:.3f} p95 {r['p95_ms']:.1f} ms |" if "em" in r else ""))
        lines.append("")
    a = report.get("answers")
    if a:
        at = a["attribution"]
        lat = a["latency_ms"]
        lines += ["## 回答", "", "| 指标 | 值 |", "|---|---|",
                  f"| 归属 precision / recall / F1 (micro) | {at['precision']:.3f} / {at['recall']:.3f} / {at['f1']:.3f} |",
                  f"| 归属 F1 (按提出者宏平均) | {a['attribution_macro_f1']:.3f} |",
                  f"| 引用 recall / precision | {a['citation_recall']:.3f} / {a['citation_precision']:.3f} |",
                  f"| 悬空引用标记 | {a['dangling_markers']} |",
                  f"| 拒答率 (负例, {a['negatives']} 题) / 过度拒答 (可答, {a['answerable']} 题) | {a['rejection_rate']:.3f} / {a['over_refusal']:.3f} |",
                  f"| 负例中被点名的提出者 (归属误报) | {a.get('negative_attribution_fp', 0)} |",
                  f"| 答案要点召回 | {a['item_recall']:.3f} |"]
        for k, v in lat.items():
            if v:
                lines.append(f"| 延迟 {k} p50 / p95 (ms) | {v['p50']:.1f} / {v['p95']:.1f} |")
        if a.get("llm_fallback"):
            lines.append(f"| 生成式回答被摘录式回答替换 | {_fallback_line(a['llm_fallback'])} |")
        lines += ["", "## 按题型", "", "| 题型 | n | hit@3 | 归属 F1 | 要点召回 | 回答率 | 引用 precision |", "|---|---|---|---|---|---|---|"]
        for t, r in report.get("by_type", {}).items():
            lines.append(f"| {t} | {r['n']} | {r['hit@3']:.3f} | {r['attribution_f1']:.3f} | {r['item_recall']:.3f} | "
                         f"{r['found_rate']:.3f} | {r['citation_precision']:.3f} |")
        lines += ["", "## 按提出者 (归属)", "", "| 提出者 | P | R | F1 | tp/fp/fn |", "|---|---|---|---|---|"]
        for n, r in a["per_proposer"].items():
            lines.append(f"| {n} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1']:.2f} | {r['tp']}/{r['fp']}/{r['fn']} |")
    pf = report.get("precedent_finder")
    if pf:
        lines += ["", "## 先例查找", "", f"- 先例草稿 ({pf['precedents']} 篇) 前 3 命中: {pf['precedent_hit@3']:.3f}",
                  f"- 负例问题 ({pf['negatives']} 个) 报告“没有先例”: {pf['no_precedent_on_negatives']:.3f}"]
    if report.get("compare"):
        lines += ["", "## 回答器对比", "", "| 回答器 | 归属 P | 归属 F1 | 引用 P | 引用 R | 拒答率 | 过度拒答 | 延迟 p95 ms |", "|---|---|---|---|---|---|---|---|"]
        for name, a in report["compare"].items():
            lines.append(f"| {name} | {a['attribution']['precision']:.3f} | {a['attribution']['f1']:.3f} | {a['citation_precision']:.3f} | "
                         f"{a['citation_recall']:.3f} | {a['rejection_rate']:.3f} | {a['over_refusal']:.3f} | "
                         f"{a['latency_ms'].get('total', {}).get('p95', float('nan')):.0f} |")
        for name, a in report["compare"].items():
            if a.get("llm_fallback"):
                lines.append(f"\n- {name} 生成式回答被摘录式回答替换: {_fallback_line(a['llm_fallback'])}")
    return "\n".join(lines) + "\n"


def _fallback_line(f: dict) -> str:
    top = "; ".join(f"{k} ×{n}" for k, n in list(f["reasons"].items())[:3])
    return (f"{f['fallback']}/{f['n']} 题 ({f['fallback_rate']:.1%}); 调用大模型 {f['llm_called']} 题中核验未通过 "
            f"{f['verification_failed']} 题 ({f['verification_failed_rate']:.1%})" + (f"; 主要原因: {top}" if top else ""))


def _plots(report: dict, out_dir: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if report.get("retrieval"):
        ms = [m for m, r in report["retrieval"].items() if r]
        keys = [k for k in ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10") if k in report["retrieval"][ms[0]]]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        w = 0.8 / len(ms)
        for i, m in enumerate(ms):
            ax.bar(np.arange(len(keys)) + i * w, [report["retrieval"][m][k] for k in keys], w, label=m)
        ax.set_xticks(np.arange(len(keys)) + w * (len(ms) - 1) / 2, keys)
        ax.set_ylim(0, 1.05)
        ax.set_title("Retrievers side by side")
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "retrievers.png", dpi=110)
        plt.close(fig)
    if report.get("by_type"):
        types = list(report["by_type"])
        keys = ["hit@3", "attribution_f1", "item_recall", "found_rate"]
        fig, ax = plt.subplots(figsize=(9, 3.8))
        w = 0.8 / len(keys)
        for i, k in enumerate(keys):
            vals = [report["by_type"][t][k] for t in types]
            ax.bar(np.arange(len(types)) + i * w, [0 if v != v else v for v in vals], w, label=k)
        ax.set_xticks(np.arange(len(types)) + w * (len(keys) - 1) / 2, types, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_title("By question type")
        ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
        fig.tight_layout()
        fig.savefig(out_dir / "by_type.png", dpi=110)
        plt.close(fig)
