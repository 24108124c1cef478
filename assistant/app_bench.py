"""The Benchmark tab: evaluators run the QA benchmark from the browser and download the report."""
from __future__ import annotations

import html
import shutil
import time
from pathlib import Path

import gradio as gr

from . import evaluate as ev
from .errors import AssistantError


def run_benchmark(engine, split: str, retriever: str, answerer: str, out_root: Path, progress=None) -> tuple[str, list, str]:
    """Run, write the report, return (summary markdown, plot paths, zip path)."""
    items = ev.load_benchmark(ev.DEFAULT_BENCHMARK, split)
    a = engine.answerer_named(answerer)
    previous = a.mode
    a.mode = retriever
    try:
        rep = ev.run_questions(engine, items, a, progress=progress or False)
    finally:
        a.mode = previous
    rep.update(benchmark=ev.DEFAULT_BENCHMARK.name, split=split, retriever=retriever, model=engine.embedder.name,
               created=time.strftime("%Y-%m-%d %H:%M:%S"))
    out = ev.write_report(rep, out_root)
    archive = shutil.make_archive(str(out), "zip", root_dir=out)
    plots = [str(p) for p in (out / "retrievers.png", out / "by_type.png") if p.exists()]
    return (out / "summary.md").read_text(encoding="utf-8"), plots, archive


def benchmark_tab(engine, out_root: Path, answerers=("extractive",)) -> None:
    """Build the tab's components inside the caller's gr.Tabs()."""
    with gr.Tab("评测", id="tab-bench"):
        gr.Markdown(f"在内置问答评测集 ({html.escape(ev.DEFAULT_BENCHMARK.name)}) 上运行检索、归属、引用、拒答与延迟评测；"
                    "BM25 与向量检索作为基线与混合检索并列。阈值只在 dev 上拟合，test 为留出集。")
        with gr.Row():
            split = gr.Dropdown(["test", "dev", "all"], value="test", label="数据划分")
            retr = gr.Radio(["hybrid", "bm25", "dense"], value="hybrid", label="回答所用检索")
            who = gr.Dropdown(list(answerers), value=answerers[0], label="回答器")
        run = gr.Button("运行评测", variant="primary", elem_id="yz-bench-run")
        summary = gr.Markdown(elem_id="yz-bench-summary")
        with gr.Row(elem_id="yz-bench-plots"):
            plot_retr = gr.Image(label="检索方式对比", type="filepath", show_label=True, interactive=False)
            plot_type = gr.Image(label="按题型", type="filepath", show_label=True, interactive=False)
        report = gr.File(label="下载报告 (zip)", elem_id="yz-bench-zip")

        def go(split_v, retr_v, who_v, progress=gr.Progress()):
            progress(0, desc="评测中…")
            try:
                md, plots, archive = run_benchmark(engine, split_v, retr_v, who_v, out_root,
                                                   progress=lambda i, n: progress((i, n), desc="评测中…"))
            except AssistantError as e:
                raise gr.Error(html.escape(e.message))
            plots = plots + [None] * (2 - len(plots))
            return md, plots[0], plots[1], archive

        # one run at a time: it uses both cores
        run.click(go, [split, retr, who], [summary, plot_retr, plot_type, report], concurrency_limit=1,
                  api_visibility="private")
