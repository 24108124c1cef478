"""QA on collections from other cities (`../shared/corpora/`, or any folder laid out like it).

Each folder holds `proposals/` (one collection, any format) and `questions.jsonl` (gold titles,
gold proposers as printed, gold item numbers). All folders are loaded together as ONE corpus,
as an office would load its archive, built into a temporary index, and asked through the same
`ask --json` objects users get. Scores follow the issue's contract:
- single-answer hit@1 / hit@3: the gold item among the first 1 / 3 proposals the answer cites;
- multi-proposer recall / precision over the proposers named in `citations[].proposers`
  (names match as substrings either way, spaces ignored, as the data's README says);
- answered (answerable questions with found=true) and declined (negatives with found=false).
The data is read where it lies; the temporary corpus copy lives outside the project.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import ROOT, Settings
from .errors import AssistantError

DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"


@dataclass(frozen=True)
class CorpusQuestion:
    id: str
    folder: str
    question: str
    type: str
    gold_items: tuple[str, ...]     # proposal ids "<folder>-<NN>"
    gold_titles: tuple[str, ...]
    gold_proposers: tuple[str, ...]
    answerable: bool
    all: bool = False
    answer_items: tuple[tuple[str, ...], ...] = ()
    history: tuple[str, ...] = ()


def folders_in(root: Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise AssistantError(f"找不到语料集目录 {root}。")
    return sorted(p for p in root.iterdir() if (p / "proposals").is_dir())


def _item_id(folder: str, item) -> str:
    s = str(item)
    return f"{folder}-{int(s):02d}" if s.isdigit() else f"{folder}-{s}"


def load_questions(folders: Sequence[Path]) -> list[CorpusQuestion]:
    out = []
    for f in folders:
        path = f / "questions.jsonl"
        if not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                out.append(CorpusQuestion(
                    r["id"], f.name, r["question"], r.get("type", ""),
                    tuple(_item_id(f.name, i) for i in r.get("gold_items", [])), tuple(r.get("gold_titles", [])),
                    tuple(r.get("gold_proposers", [])), bool(r["answerable"]), bool(r.get("all", False)),
                    tuple(tuple(a) for a in r.get("answer_items", [])), tuple(r.get("history", []))))
            except (ValueError, KeyError, TypeError) as e:
                raise AssistantError(f"{path} 第 {n} 行格式有误: {type(e).__name__}: {e}")
    return out


def assemble(folders: Sequence[Path], dest: Path) -> Path:
    """One corpus folder holding every folder's `proposals/` entries (copied, never linked, so
    that the ingestion sees ordinary files)."""
    dest = Path(dest)
    (dest / "proposals").mkdir(parents=True, exist_ok=True)
    for f in folders:
        for entry in sorted((f / "proposals").iterdir()):
            target = dest / "proposals" / entry.name
            if entry.is_dir():
                shutil.copytree(entry, target, dirs_exist_ok=True)
            else:
                shutil.copy2(entry, target)
    return dest


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _same_person(a: str, b: str) -> bool:
    a, b = _squeeze(a), _squeeze(b)
    return bool(a and b) and (a in b or b in a)


def score(q: CorpusQuestion, out: dict) -> dict:
    found = bool(out.get("found"))
    cited = list(dict.fromkeys(c["proposal_id"] for c in out.get("citations", [])))
    named = list(dict.fromkeys(p for c in out.get("citations", []) for p in c.get("proposers", [])))
    gold = set(q.gold_items)
    row = {"id": q.id, "folder": q.folder, "type": q.type, "answerable": q.answerable, "found": found,
           "cited": cited[:5], "gold": sorted(gold)}
    if q.answerable:
        row["hit@1"] = float(bool(cited[:1]) and cited[0] in gold)
        row["hit@3"] = float(bool(set(cited[:3]) & gold))
        hit = [g for g in q.gold_proposers if any(_same_person(g, n) for n in named)]
        good = [n for n in named if any(_same_person(g, n) for g in q.gold_proposers)]
        row["proposer_recall"] = len(hit) / len(q.gold_proposers) if q.gold_proposers else float("nan")
        row["proposer_precision"] = len(good) / len(named) if named else 0.0
        if q.answer_items:
            text = _squeeze(out.get("answer", ""))
            row["item_recall"] = sum(any(_squeeze(a) in text for a in alts) for alts in q.answer_items) / len(q.answer_items)
    return row


def summarize(rows: list[dict]) -> dict:
    def mean(key, sel):
        v = [r[key] for r in rows if sel(r) and key in r and r[key] == r[key]]
        return float(np.mean(v)) if v else float("nan")
    single = lambda r: r["answerable"] and len(r["gold"]) == 1  # noqa: E731
    multi = lambda r: r["answerable"] and len(r["gold"]) > 1     # noqa: E731
    neg = [r for r in rows if not r["answerable"]]
    ans = [r for r in rows if r["answerable"]]
    return {
        "n": len(rows), "single": sum(map(single, rows)), "multi": sum(map(multi, rows)), "negatives": len(neg),
        "single_hit@1": mean("hit@1", single), "single_hit@3": mean("hit@3", single),
        "multi_proposer_recall": mean("proposer_recall", multi), "multi_proposer_precision": mean("proposer_precision", multi),
        "proposer_recall": mean("proposer_recall", lambda r: r["answerable"]),
        "item_recall": mean("item_recall", lambda r: r["answerable"]),
        "answered": float(np.mean([r["found"] for r in ans])) if ans else float("nan"),
        "declined": float(np.mean([not r["found"] for r in neg])) if neg else float("nan"),
    }


def ask_all(answerer, questions: Sequence[CorpusQuestion]) -> list[dict]:
    from .answer import Turn
    rows = []
    for q in questions:
        turns = []
        for h in q.history:
            turns.append(Turn(h, answerer.answer(h, turns)))
        out = answerer.answer(q.question, turns).to_dict()
        rows.append({**score(q, out), "question": q.question, "answer": out["answer"]})
    return rows


def open_engine(folders: Sequence[Path], settings: Settings | None = None, work: Path | None = None, log=print):
    """An engine over the folders' collections loaded together, in a temporary place."""
    from .engine import Engine
    work = Path(work or tempfile.mkdtemp(prefix="yz-corpora-"))
    corpus_dir = assemble(folders, work / "corpus")
    settings = (settings or Settings.from_env()).with_(corpus_dir=corpus_dir, index_dir=work / "index")
    return Engine.open(settings, log=lambda m: log(m))


def run(root: Path = DEFAULT_CORPORA, *, folders: Sequence[str] = (), settings: Settings | None = None,
        work: Path | None = None, answerer: str = "extractive", questions: Sequence[CorpusQuestion] | None = None,
        log=print) -> dict:
    """Build the folders into one temporary corpus + index, ask every question, score."""
    chosen = [f for f in folders_in(root) if not folders or f.name in folders]
    if not chosen:
        raise AssistantError(f"{root} 中没有可用的语料集。")
    questions = load_questions(chosen) if questions is None else questions
    engine = open_engine(chosen, settings, work, log)
    rows = ask_all(engine.answerer_named(answerer), questions)
    return {"folders": [f.name for f in chosen], "summary": summarize(rows), "rows": rows,
            "problems": engine.corpus.problems}


def load_holdout(path: Path) -> list[CorpusQuestion]:
    """The held-out test split (eval/holdout.jsonl): home questions and other-city ones, each
    with gold proposal ids, in one format."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            out.append(CorpusQuestion(r["id"], r["corpus"], r["question"], r["type"], tuple(r["gold_proposals"]), (),
                                      tuple(r["gold_proposers"]), bool(r["answerable"]), r["type"] == "multi_proposer",
                                      tuple(tuple(a) for a in r.get("answer_items", [])), tuple(r.get("history", []))))
        except (ValueError, KeyError, TypeError) as e:
            raise AssistantError(f"{Path(path).name} 第 {n} 行格式有误: {type(e).__name__}: {e}")
    return out


def run_holdout(path: Path, root: Path = DEFAULT_CORPORA, *, settings: Settings | None = None,
                answerer: str = "extractive", log=print) -> dict:
    """Home questions on the home corpus, the others on every collection of `root` loaded together."""
    from .engine import Engine
    qs = load_holdout(path)
    settings = settings or Settings.from_env()
    home = [q for q in qs if q.folder == "home"]
    other = [q for q in qs if q.folder != "home"]
    out = {}
    if home:
        rows = ask_all(Engine.open(settings, log=log).answerer_named(answerer), home)
        out["home"] = {"summary": summarize(rows), "rows": rows, "folders": ["home"]}
    if other:
        out["corpora"] = run(root, settings=settings, answerer=answerer, questions=other, log=log)
    return out


def format_report(res: dict) -> str:
    s = res["summary"]
    lines = [f"语料集: {', '.join(res['folders'])} ({s['n']} 题: 单一答案 {s['single']}, 多提出者 {s['multi']}, 拒答 {s['negatives']})",
             "| 指标 | 值 |", "|---|---|"]
    for k in ("single_hit@1", "single_hit@3", "multi_proposer_recall", "multi_proposer_precision", "proposer_recall",
              "item_recall", "answered", "declined"):
        lines.append(f"| {k} | {s[k]:.3f} |")
    misses = [r for r in res["rows"] if (r["answerable"] and (r.get("hit@1", 1) < 1 or not r["found"])) or
              (not r["answerable"] and r["found"])]
    if misses:
        lines.append("\n未答好的题:")
        for r in misses:
            lines.append(f"- {r['id']} found={r['found']} cited={r['cited']} gold={r['gold']}")
    return "\n".join(lines)


def main_cli(args) -> int:
    from .cli import _settings
    if getattr(args, "holdout", None):
        res = run_holdout(Path(args.holdout), settings=_settings(args), answerer=args.answerer,
                          log=lambda m: print(m, file=sys.stderr))
        if args.json:
            print(json.dumps(res, ensure_ascii=False, indent=1))
        else:
            for part, r in res.items():
                print(f"## {part}\n" + format_report(r) + "\n")
        return 0
    root = DEFAULT_CORPORA if args.corpora == "default" else Path(args.corpora)
    res = run(root, folders=[x for x in (args.folders or "").split(",") if x],
              settings=_settings(args), answerer=args.answerer, log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
    else:
        print(format_report(res))
    return 0
