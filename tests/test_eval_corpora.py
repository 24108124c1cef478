"""Scoring for other-city collections and the held-out split, and the threshold fits."""
from __future__ import annotations

from assistant.eval_corpora import CorpusQuestion, score, summarize
from assistant.evaluate import fit_found, fit_precedent
from assistant.select import Calibration


def _out(found, cited):
    return {"found": found, "answer": "x", "citations": [{"proposal_id": p, "proposers": names} for p, names in cited]}


def test_score_uses_citation_order_and_names_either_way():
    q = CorpusQuestion("q1", "f", "问", "single", ("f-02",), (), ("民进某市委", "王某"), True)
    r = score(q, _out(True, [("f-02", ["民进某市委", "王某某"]), ("f-05", ["甲"])]))
    assert r["hit@1"] == 1.0 and r["proposer_recall"] == 1.0 and r["proposer_precision"] == 2 / 3
    r = score(q, _out(True, [("f-05", ["甲"]), ("f-02", ["民进某市委"])]))
    assert r["hit@1"] == 0.0 and r["hit@3"] == 1.0
    neg = CorpusQuestion("q2", "f", "问", "negative", (), (), (), False)
    s = summarize([score(q, _out(False, [])), score(neg, _out(False, []))])
    assert s["answered"] == 0.0 and s["declined"] == 1.0 and s["single"] == 1


def test_fit_found_separates_answerable_from_negatives():
    rows = [{"coverage": c, "margin": 0.0, "z": 0.0, "agree": 0.0, "scoped": False, "answerable": a, "top_is_gold": a}
            for c, a in [(0.9, True), (0.8, True), (0.7, True), (0.2, False), (0.1, False)]]
    cal, pick, _ = fit_found(rows, Calibration())
    assert 0.2 < cal.found_coverage <= 0.7 and pick[2] == 1.0 and pick[3] == 1.0


def test_fit_precedent_keeps_gold_and_refuses_off_topic():
    obs = [([("a", 0.95, 0.1)], {"a"}, True), ([("b", 0.6, 0.6)], {"b"}, True), ([("c", 0.9, 0.1)], set(), False)]
    cal, pick = fit_precedent(obs, Calibration())
    assert cal.precedent_semantic > 0.9 and cal.precedent_lexical <= 0.5 and pick[2] == 1.0 and pick[3] == 1.0
