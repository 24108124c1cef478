"""`assistant bench`: the embedding cache, the three data sets, halves, ratios and --json.
Fast tests run on the hashing embedder and tiny data; the fusion property itself needs the real
model and lives in test_bench_fusion.py (slow)."""
import json
import shutil

import numpy as np
import pytest

from assistant import bench
from assistant.cli import main
from assistant.config import ROOT
from assistant.embed import HashEmbedder

SHARED_CORPORA = ROOT.parent / "shared" / "corpora"
HASH = ["--model", "hash-bigram-256"]


class Counting(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


def test_embedding_cache_is_keyed_by_model_and_text(tmp_path):
    e = Counting()
    vecs, n = bench.embed_cached(e, ["甲乙丙", "丁戊己"], cache_dir=tmp_path)
    assert n == 2 and e.passages == 2
    again, n = bench.embed_cached(e, ["丁戊己", "甲乙丙", "庚辛"], cache_dir=tmp_path)
    assert n == 1 and e.passages == 3  # only the new text is embedded
    assert np.allclose(again[0], vecs[1]) and np.allclose(again[1], vecs[0])
    other = Counting()
    other.fingerprint = "another-model"
    _, n = bench.embed_cached(other, ["甲乙丙"], cache_dir=tmp_path)
    assert n == 1  # another model never reads this model's vectors
    _, n = bench.embed_cached(e, ["甲乙丙"], kind="query", cache_dir=tmp_path)
    assert n == 1  # queries and passages are embedded differently (e5 prefixes)
    _, n = bench.embed_cached(e, ["甲乙丙"])
    assert n == 1  # no cache dir: nothing is read or written


def _squad(path):
    arts = []
    for a in range(3):
        paras = []
        for p in range(2):
            ctx = f"第{a}{p}段讲黄河。郑州在河南省中部。开封古称汴梁，是宋朝都城。洛阳有龙门石窟{a}{p}。"
            paras.append({"id": f"C{a}{p}", "context": ctx, "qas": [
                {"id": f"Q{a}{p}", "question": "宋朝都城是哪里？",
                 "answers": [{"text": "开封", "answer_start": ctx.index("开封")}]},
                {"id": f"R{a}{p}", "question": "龙门石窟在哪里？",
                 "answers": [{"text": "洛阳", "answer_start": ctx.index("洛阳")}]}]})
        arts.append({"title": f"文章{a}", "paragraphs": paras})
    path.write_text(json.dumps({"data": arts}, ensure_ascii=False), encoding="utf-8")
    return path


def test_bench_cmrc_reports_both_halves_side_by_side(tmp_path, capsys):
    data = _squad(tmp_path / "squad.json")
    args = ["bench", "cmrc", "--data", str(data), "--cache", str(tmp_path / "cache"), *HASH]
    assert main(args + ["--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    ds = rep["datasets"]["cmrc"]
    assert ds["dataset"] == {"contexts": 6, "sentences": 24, "questions": 12}
    assert rep["fusion"].startswith("convex")
    for half in ("choose", "held-out"):
        h = ds["halves"][half]
        assert h["n"] == 6  # contexts split by index parity
        assert set(h["results"]) >= {"bigram-bm25 (ref)", "bm25", "dense", "hybrid"}
        assert any(k.startswith("hybrid-rrf") for k in h["results"])
        for r in h["results"].values():
            assert set(r) >= {"hit@1", "hit@5", "mrr@10", "p50_ms", "p95_ms"} and 0 <= r["hit@1"] <= r["hit@5"] <= 1
        v = h["verdict"]
        assert v["hit@1"]["best_single"] == max(h["results"]["bm25"]["hit@1"], h["results"]["dense"]["hit@1"])
    assert ds["halves"]["all"]["n"] == 12
    assert main(args + ["--limit", "2", "--fusion", "rrf"]) == 0
    out = capsys.readouterr().out
    assert "融合 rrf k=60" in out and "hit@1 ×best" in out and "contexts 2" in out
    assert "hybrid-rrf" not in out  # the reference row is the other fusion only
    labels = {ln[10:34].strip() for ln in out.splitlines()}
    assert {"bigram-bm25 (ref)", "bm25", "dense", "hybrid"} <= labels


def test_bench_qa_uses_the_dev_split_to_choose_and_test_to_report(tmp_path, capsys):
    assert main(["bench", "qa", "--limit", "3", "--json", "--cache", str(tmp_path), *HASH]) == 0
    ds = json.loads(capsys.readouterr().out)["datasets"]["qa"]
    assert ds["halves"]["choose"]["n"] == 3 and ds["halves"]["held-out"]["n"] == 3
    assert ds["halves_rule"] == bench.HALF_RULES["qa"]
    assert {"bm25", "dense", "hybrid"} <= set(ds["halves"]["held-out"]["results"])
    assert ds["dataset"]["proposals"] >= 27


@pytest.mark.skipif(not SHARED_CORPORA.is_dir(), reason="../shared/corpora is not here")
def test_bench_corpora_loads_the_folders_as_one_corpus(tmp_path, capsys):
    root = tmp_path / "corpora"
    for name in sorted(p.name for p in SHARED_CORPORA.iterdir() if (p / "proposals").is_dir())[:2]:
        shutil.copytree(SHARED_CORPORA / name, root / name)
    assert main(["bench", "corpora", "--corpora", str(root), "--limit", "2", "--json",
                 "--cache", str(tmp_path / "cache"), *HASH]) == 0
    ds = json.loads(capsys.readouterr().out)["datasets"]["corpora"]
    assert len(ds["dataset"]["folders"]) == 2
    assert ds["halves"]["choose"]["n"] == 2 and ds["halves"]["held-out"]["n"] == 2  # one folder each


def test_bench_all_notes_a_data_set_it_cannot_load_and_goes_on(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    data = _squad(tmp_path / "squad.json")
    assert main(["bench", "all", "--data", str(data), "--corpora", str(tmp_path / "empty"), "--limit", "2",
                 "--cache", str(tmp_path / "cache"), *HASH]) == 0
    out = capsys.readouterr().out
    assert "== corpora: 跳过" in out and "CMRC 2018" in out and "问答评测集" in out
    assert main(["bench", "corpora", "--corpora", str(tmp_path / "empty"), *HASH]) == 2
