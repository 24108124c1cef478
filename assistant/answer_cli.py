"""`assistant ask`: one question, or one question per stdin line with models loaded once."""
from __future__ import annotations

import json
import sys

from .errors import AssistantError


def cmd_ask(args) -> int:
    from .cli import _settings
    from .engine import Engine
    eng = Engine.open(_settings(args))
    ans = eng.answerer_named(eng.settings.answerer)  # ASSISTANT_ANSWERER=llm selects the LLM
    if args.question == "-":
        # One JSON object per input line; a bad line gets an object with an "error", the rest go on.
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                out = ans.answer(line.rstrip("\n"), proposers=args.proposer or (), types=args.type or ()).to_dict()
            except AssistantError as e:
                out = {"question": line.rstrip("\n"), "error": e.message}
            print(json.dumps(out, ensure_ascii=False) if args.json else _plain(out), flush=True)
        return 0
    a = ans.answer(args.question, proposers=args.proposer or (), types=args.type or ())
    print(json.dumps(a.to_dict(), ensure_ascii=False, indent=1) if args.json else _plain(a.to_dict()))
    return 0


def _plain(d: dict) -> str:
    if "error" in d:
        return f"错误: {d['error']}"
    lines = [d["answer"], ""]
    for c in d["citations"]:
        lines.append(f"[{c['n']}] {'、'.join(c['proposers'])}《{c['title']}》 {c['chunk_id']} "
                     f"[{c['start']}:{c['end']}] “{c['quote']}”")
    return "\n".join(lines)


def register(sub, common) -> None:
    p = sub.add_parser("ask", parents=[common], help="提问, 回答注明每条建议的提出者并附引文")
    p.add_argument("question", help="问题; 用 - 从标准输入逐行读取")
    p.add_argument("--json", action="store_true", help="输出 JSON (逐行模式下每行一个对象)")
    p.add_argument("--proposer", action="append", help="只看某提出者")
    p.add_argument("--type", action="append", help="只看某类提出者")
    p.set_defaults(func=cmd_ask)
