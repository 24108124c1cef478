"""`assistant eval`: run the QA benchmark (or CMRC 2018) and write a report."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .errors import AssistantError


def cmd_eval(args) -> int:
    from . import evaluate as ev
    from .cli import _settings
    from .engine import Engine
    settings = _settings(args)
    if args.corpora or args.holdout:
        from . import eval_corpora
        return eval_corpora.main_cli(args)
    eng = Engine.open(settings)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    out_dir = Path(args.out)
    if args.benchmark == "cmrc":
        from .bench import DEFAULT_DATA
        rep = ev.run_cmrc_eval(eng.embedder, Path(args.data or DEFAULT_DATA), args.limit, progress=not args.json)
        rep.update(benchmark="CMRC 2018 dev (sentence-level)", split="dev", model=eng.embedder.name,
                   created=time.strftime("%Y-%m-%d %H:%M:%S"), answerer="extractive-clause", retriever="all")
    else:
        if args.calibrate:
            from .eval_corpora import DEFAULT_CORPORA
            ev.calibrate(eng, ev.load_benchmark(Path(args.benchmark), args.calibrate_split), log=log,
                         corpora_root=DEFAULT_CORPORA if DEFAULT_CORPORA.is_dir() else None,
                         spent=[Path(f) for f in (args.calibrate_with or "").split(",") if f])
        items = ev.load_benchmark(Path(args.benchmark), args.split)
        if args.limit:
            items = items[: args.limit]
        names = args.answerer.split(",")
        compare = {}
        rep = None
        for name in names:
            a = eng.answerer_named(name)
            a.mode = args.retriever
            r = ev.run_questions(eng, items, a, progress=not args.json)
            compare[name] = r["answers"]
            rep = rep or r
        rep.update(benchmark=str(args.benchmark), split=args.split, retriever=args.retriever, model=eng.embedder.name,
                   created=time.strftime("%Y-%m-%d %H:%M:%S"))
        if len(names) > 1:
            rep["compare"] = compare
    path = ev.write_report(rep, out_dir)
    if args.json:
        rep.pop("rows", None)
        print(json.dumps(rep, ensure_ascii=False, indent=1))
    else:
        print(ev.format_summary(rep))
    log(f"报告已写入 {path}")
    return 0


def register(sub, common) -> None:
    from .evaluate import DEFAULT_BENCHMARK
    p = sub.add_parser("eval", parents=[common], help="运行问答评测集 (或 CMRC 2018) 并生成报告")
    p.add_argument("--benchmark", default=str(DEFAULT_BENCHMARK), help="评测集 JSONL, 或 cmrc")
    p.add_argument("--split", choices=["dev", "test", "all"], default="test")
    p.add_argument("--retriever", choices=["bm25", "dense", "hybrid"], default="hybrid", help="回答时使用的检索")
    p.add_argument("--answerer", default="extractive", help="回答器, 逗号分隔可并列比较 (如 extractive,llm)")
    p.add_argument("--calibrate", action="store_true",
                   help="先拟合拒答/纳入阈值 (本评测集的 --calibrate-split 加 ../shared/corpora 的全部语料集) 并写入 assistant/calibration.json")
    p.add_argument("--calibrate-split", choices=["dev", "test", "all"], default="dev",
                   help="拟合用本评测集的哪部分 (默认 dev; 已用过的旧 test 也可作开发集)")
    p.add_argument("--calibrate-with", default="",
                   help="拟合时另加的已用掉的留出集 (逗号分隔, 如 eval/holdout.jsonl,eval/holdout2.jsonl; 报告过一次后只能作开发集)")
    p.add_argument("--limit", type=int, help="只跑前 N 题 (CMRC: 前 N 段)")
    p.add_argument("--data", help="CMRC 数据文件 (默认 ../shared/benchmarks/cmrc2018/cmrc2018_dev.squad.json)")
    p.add_argument("--corpora", nargs="?", const="default", default=None,
                   help="改为评测其他城市的语料集目录 (默认 ../shared/corpora): 全部载入一个语料库后逐题提问")
    p.add_argument("--folders", help="与 --corpora 同用: 只用这些子目录 (逗号分隔)")
    p.add_argument("--holdout", nargs="?", const=str(Path(__file__).resolve().parents[1] / "eval" / "holdout.jsonl"),
                   help="留出测试集 (默认 eval/holdout.jsonl): 本地问题用本地语料, 其他城市的问题用 ../shared/corpora; 只在最后报告一次")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "eval" / "reports"), help="报告目录")
    p.set_defaults(func=cmd_eval)
