import zipfile

from assistant.app_bench import run_benchmark


def test_benchmark_tab_runs_the_harness_and_packs_the_report(hash_engine, tmp_path):
    seen = []
    md, plots, archive = run_benchmark(hash_engine, "dev", "bm25", "extractive", tmp_path,
                                       progress=lambda i, n: seen.append((i, n)))
    assert "归属" in md and "| bm25 |" in md and "| hybrid |" in md
    assert len(plots) == 2 and all(p.endswith(".png") for p in plots)
    assert seen and seen[0][0] == 0 and seen[-1][1] == len(seen)
    with zipfile.ZipFile(archive) as z:
        assert {"summary.md", "results.json", "per_question.jsonl"} <= set(z.namelist())
    assert hash_engine.answerer.mode == "hybrid"  # the run's retriever choice doesn't leak
