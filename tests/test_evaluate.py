import json
import math

import pytest

from assistant import evaluate as ev
from assistant.errors import AssistantError


def test_retrieval_metrics_use_the_real_number_of_gold_items():
    r = ev.retrieval_metrics(["a", "x", "b"], ["a", "b"])
    assert r["hit@1"] == 1 and r["hit@3"] == 1 and r["mrr@10"] == 1
    ideal = 1 + 1 / math.log2(3)
    assert r["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ev.retrieval_metrics(["x", "y", "z", "w", "v", "a"], ["a"])["hit@5"] == 0
    assert ev.retrieval_metrics(["x", "a"], ["a"])["mrr@10"] == 0.5


def test_cmrc_definitions():
    assert ev.cmrc_em_f1("光荣和ω-force", ["光荣和ω-force"]) == (1.0, 1.0)
    em, f1 = ev.cmrc_em_f1("由光荣和ω-force开发", ["光荣和ω-force"])
    assert em == 0 and 0.6 < f1 < 1
    assert ev.cmrc_em_f1("", ["答案"]) == (0.0, 0.0)
    assert ev.cmrc_em_f1("2009年", ["2009年。"])[0] == 1.0  # punctuation is ignored


class Reg:
    def mentioned(self, text):
        return [n for n in ("民盟郑州市委会", "民建郑州市委会") if n in text]


def item(**kw):
    base = dict(id="q", split="test", type="attribution", question="?", history=(), gold_proposals=("p1",),
                gold_proposers=("民盟郑州市委会",), answer_items=(("大院名所",),), answerable=True)
    base.update(kw)
    return ev.QAItem(**base)


def cit(n, pid, quote):
    return {"n": n, "chunk_id": f"{pid}#0", "proposal_id": pid, "quote": quote}


def test_score_answer_attribution_citations_and_items():
    out = {"answer": "共有 2 份建议：\n民盟郑州市委会提出：“引进大院名所”[1]\n民建郑州市委会提出：“内源性”[2][7]", "found": True,
           "citations": [cit(1, "p1", "引进大院名所"), cit(2, "p2", "内源性")], "timings_ms": {"total": 3}}
    s = ev.score_answer(item(), out, Reg(), {"p1#0": "p1", "p2#0": "p2"})
    assert s["tp"] == ["民盟郑州市委会"] and s["fp"] == ["民建郑州市委会"] and s["fn"] == []
    assert s["claims"] == 2 and s["supported_claims"] == 1        # the headline is not a claim
    assert s["citations"] == 2 and s["relevant_citations"] == 1
    assert s["dangling_markers"] == 1 and s["items_hit"] == 1
    agg = ev.aggregate_answers([s])
    assert agg["attribution"]["precision"] == 0.5 and agg["citation_precision"] == 0.5


def test_refusal_is_reported_beside_over_refusal():
    neg = ev.score_answer(item(gold_proposals=(), gold_proposers=(), answer_items=(), answerable=False, type="negative"),
                          {"answer": "没有找到", "found": False, "citations": []}, Reg(), {})
    pos = ev.score_answer(item(), {"answer": "没有找到", "found": False, "citations": []}, Reg(), {})
    agg = ev.aggregate_answers([neg, pos])
    assert agg["rejection_rate"] == 1.0 and agg["over_refusal"] == 1.0


def test_benchmark_file_is_validated(tmp_path):
    p = tmp_path / "b.jsonl"
    p.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(AssistantError, match="第 1 行"):
        ev.load_benchmark(p)
    items = ev.load_benchmark(ev.DEFAULT_BENCHMARK)
    assert len(items) >= 120 and {i.split for i in items} == {"dev", "test"}
    assert {i.type for i in items} >= set(ev.QTYPES)


def test_harness_scores_the_ask_json_objects_and_writes_a_report(hash_engine, tmp_path):
    items = [i for i in ev.load_benchmark(ev.DEFAULT_BENCHMARK, "dev")][:25]
    rep = ev.run_questions(hash_engine, items, hash_engine.answerer, progress=False)
    assert set(rep["retrieval"]) == {"bm25", "dense", "hybrid"}
    assert 0 <= rep["answers"]["attribution"]["f1"] <= 1 and rep["answers"]["dangling_markers"] == 0
    rep.update(benchmark="qa", split="dev", retriever="hybrid", model="hash", created="now")
    out = ev.write_report(rep, tmp_path)
    assert {p.name for p in out.iterdir()} >= {"summary.md", "results.json", "per_question.jsonl", "retrievers.png", "by_type.png"}
    assert "归属" in (out / "summary.md").read_text(encoding="utf-8")
    row = json.loads((out / "per_question.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(row["output"]) == {"question", "answer", "found", "citations", "timings_ms"}
