"""Validate the held-out splits written from the texts alone against those texts:
eval/holdout2.jsonl (split "test3", ids ``h2-…``), eval/holdout3.jsonl (split "test4", ids ``h3-…``),
eval/holdout4.jsonl (split "test5", ids ``h4-…``), eval/holdout5.jsonl (split "test6", ids ``h5-…``),
eval/holdout6.jsonl (split "test7", ids ``h6-…``), eval/holdout7.jsonl (split "test8", ids ``h7-…``)
eval/holdout8.jsonl (split "test9", ids ``h8-…``), eval/holdout9.jsonl (split "test10", ids ``h9-…``),
eval/holdout10.jsonl (split "test11", ids ``h10-…``), eval/holdout11.jsonl (split "test12", ids ``h11-…``)
eval/holdout12.jsonl (split "test13", ids ``h12-…``), eval/holdout13.jsonl (split "test14", ids ``h13-…``)
eval/holdout14.jsonl (split "test15", ids ``h14-…``), eval/holdout15.jsonl (split "test16", ids ``h15-…``),
eval/holdout16.jsonl (split "test17", ids ``h16-…``), eval/holdout17.jsonl (split "test18", ids ``h17-…``)
and eval/holdout18.jsonl (split "test19", ids ``h18-…``).

Every data check is parametrized over the seventeen files. Fast and self-contained: parses the corpus files
itself and imports nothing from the assistant.
Checks on the shared development corpora skip when /work/shared/corpora
(``Path(__file__).resolve().parents[2] / "shared" / "corpora"``) is absent.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
# file -> (split, id prefix)
SPLITS = {"holdout2.jsonl": ("test3", "h2"), "holdout3.jsonl": ("test4", "h3"),
          "holdout4.jsonl": ("test5", "h4"), "holdout5.jsonl": ("test6", "h5"),
          "holdout6.jsonl": ("test7", "h6"), "holdout7.jsonl": ("test8", "h7"),
          "holdout8.jsonl": ("test9", "h8"), "holdout9.jsonl": ("test10", "h9"),
          "holdout10.jsonl": ("test11", "h10"), "holdout11.jsonl": ("test12", "h11"),
          "holdout12.jsonl": ("test13", "h12"), "holdout13.jsonl": ("test14", "h13"),
          "holdout14.jsonl": ("test15", "h14"), "holdout15.jsonl": ("test16", "h15"),
          "holdout16.jsonl": ("test17", "h16"), "holdout17.jsonl": ("test18", "h17"),
          "holdout18.jsonl": ("test19", "h18")}
# file -> earlier eval files whose wording it must not repeat (besides the corpora's questions.jsonl).
# holdout2 is checked against qa.jsonl only, as when it was written: two of its questions
# (h2-home-014, h2-jilin_13_4-06) repeat holdout.jsonl verbatim.
NOT_FROM = {"holdout2.jsonl": ["qa.jsonl"],
            "holdout3.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl"],
            "holdout4.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl"],
            "holdout5.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl"],
            "holdout6.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                               "holdout5.jsonl"],
            "holdout7.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                               "holdout5.jsonl", "holdout6.jsonl"],
            "holdout8.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                               "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl"],
            "holdout9.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                               "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl"],
            "holdout10.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl"],
            "holdout11.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl"],
            "holdout12.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl"],
            "holdout13.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl"],
            "holdout14.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl",
                                "holdout13.jsonl"],
            "holdout15.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl",
                                "holdout13.jsonl", "holdout14.jsonl"],
            "holdout16.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl",
                                "holdout13.jsonl", "holdout14.jsonl", "holdout15.jsonl"],
            "holdout17.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl",
                                "holdout13.jsonl", "holdout14.jsonl", "holdout15.jsonl", "holdout16.jsonl"],
            "holdout18.jsonl": ["qa.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl",
                                "holdout5.jsonl", "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl",
                                "holdout9.jsonl", "holdout10.jsonl", "holdout11.jsonl", "holdout12.jsonl",
                                "holdout13.jsonl", "holdout14.jsonl", "holdout15.jsonl", "holdout16.jsonl",
                                "holdout17.jsonl"]}
HOME_TXT = ROOT / "corpus" / "proposals" / "kjcx.txt"
PROPOSERS = ROOT / "corpus" / "proposers.json"

TYPES = {"attribution", "multi_proposer", "group", "detail", "paraphrase", "negative", "followup", "meta"}
FIELDS = {"id", "split", "corpus", "type", "question", "history", "gold_proposals", "gold_proposers",
          "answer_items", "answerable"}
OPTIONAL = {"topic_words", "note", "all"}
FOLDERS = ["shanghai_2019", "shanghai_2016", "pingdingshan_10_1", "putian_2024", "fuyang_2019",
           "zhangzhou_2023", "changzhou_xinbei_2017", "jilin_13_4"]
PLACES = {"shanghai_2019": "上海市政协十三届二次会议", "shanghai_2016": "上海市政协十二届四次会议",
          "pingdingshan_10_1": "平顶山市政协十届一次会议", "putian_2024": "莆田市政协",
          "fuyang_2019": "阜阳市政协五届三次会议", "zhangzhou_2023": "漳州",
          "changzhou_xinbei_2017": "新北区政协四届一次会议", "jilin_13_4": "吉林市政协十三届四次会议"}
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared corpora not present")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _in(needle: str, text: str) -> bool:
    """Verbatim, or verbatim once whitespace (page breaks inside words) is removed."""
    return needle in text or _flat(needle) in _flat(text)


def _rows(name: str) -> list[dict]:
    return _jsonl(ROOT / "eval" / name)


def _home_rows(name: str) -> list[dict]:
    return [r for r in _rows(name) if r["corpus"] == "home"]


def _shared_rows(name: str) -> list[dict]:
    return [r for r in _rows(name) if r["corpus"] != "home"]


per_file = pytest.mark.parametrize("name", list(SPLITS))


# ---------------------------------------------------------------- home corpus

def _canonical() -> list[str]:
    return [p["name"] for p in json.loads(PROPOSERS.read_text(encoding="utf-8"))["proposers"]]


def _home() -> tuple[dict[str, str], dict[str, list[str]]]:
    """kjcx-00 = text before the first ### line; kjcx-NN = the NN-th ### section.
    Proposers are peeled off the end of the header against the canonical names (longest first;
    names may contain a space, e.g. "郑州市政协常委 刘忠明")."""
    raw = HOME_TXT.read_text(encoding="utf-8")
    parts = re.split(r"^### ", raw, flags=re.M)
    names = sorted(_canonical(), key=len, reverse=True)
    texts, props = {"kjcx-00": parts[0]}, {"kjcx-00": []}
    for i, part in enumerate(parts[1:], 1):
        key = f"kjcx-{i:02d}"
        head = part.split("\n", 1)[0].strip()
        found: list[str] = []
        while True:
            for n in names:
                if head.endswith(n) and head != n:
                    found.insert(0, n)
                    head = head[: -len(n)].strip()
                    break
            else:
                break
        texts[key], props[key] = "### " + part, found
    return texts, props


HOME_TEXTS, HOME_PROPS = _home()


def test_home_page_parses():
    assert len(HOME_TEXTS) == 27
    assert all(HOME_PROPS[f"kjcx-{i:02d}"] for i in range(1, 27))
    assert HOME_PROPS["kjcx-06"] == ["郑州市政协文化和文史委员会", "郑州市政协民族和宗教委员会"]
    assert HOME_PROPS["kjcx-26"] == ["郑州市政协常委 刘忠明"]


# ---------------------------------------------------------------- shared corpora

_ROLE = re.compile(r"^(市政协常委|常委|委员|副主委|主委|副会长|主任)")


def _person(s: str) -> str:
    s = _ROLE.sub("", s.strip())
    return s[:-2] if s.endswith("委员") else s


def _split_org(s: str) -> list[str]:
    if "及" in s:  # "…委员会及社会福利和社会保障界": the 界别 name itself contains 和
        return s.split("及")
    if "和" in s:
        return s.split("和")
    return [s]


def _is_person(s: str) -> bool:
    return s.startswith("委员") or (s.endswith("委员") and not s.endswith("委员会"))


def _shared_items(folder: str) -> dict[str, tuple[str, list[str]]]:
    """{"<folder>-NN": (item text, gold proposers per the README convention)}."""
    base = SHARED / folder / "proposals"
    items: dict[str, tuple[str, list[str]]] = {}
    csvs = sorted(base.glob("*.csv"))
    dirs = sorted(p for p in base.iterdir() if p.is_dir())
    txts = sorted(base.glob("*.txt"))
    if csvs:  # (c)
        with csvs[0].open(encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh), 1):
                props = _split_org(row["提案者"])
                if row["发言人"].strip():
                    props.append(_person(row["发言人"]))
                items[f"{folder}-{i:02d}"] = (",".join(row.values()), props)
    elif dirs:  # (d)
        for f in sorted(dirs[0].glob("*.txt")):
            text = f.read_text(encoding="utf-8")
            head = dict(re.findall(r"^(标题|提案者|发言人|会议)[：:](.*)$", text, flags=re.M))
            prop = head["提案者"].strip()
            props = [_person(prop)] if _is_person(prop) else _split_org(prop)
            if head.get("发言人", "").strip():
                props.append(_person(head["发言人"]))
            items[f"{folder}-{f.stem}"] = (text, props)
    else:
        raw = txts[0].read_text(encoding="utf-8")
        if "\n### " in raw:  # (a): proposers from the page's clause under the header
            for i, part in enumerate(re.split(r"^### ", raw, flags=re.M)[1:], 1):
                body = next(l for l in part.split("\n")[1:] if l.strip()).strip()
                m = re.match(r"^(\S+?)委员代表(.+?)作", body)
                m2 = re.match(r"^(\S+?界)委员(\S+?)作", body)
                if m:
                    props = [m.group(2), m.group(1)]
                elif m2:
                    props = [m2.group(1), m2.group(2)]
                else:
                    props = [re.match(r"^(\S+?)委员作", body).group(1)]
                items[f"{folder}-{i:02d}"] = ("### " + part, props)
        else:  # (b): "N、title" / "提案者:…"
            for m in re.finditer(r"^(\d+)、(.+)\n提案者[:：](.+)$", raw, flags=re.M):
                prop = m.group(3).strip()
                props = [_person(prop)] if _is_person(prop) else _split_org(prop)
                items[f"{folder}-{int(m.group(1)):02d}"] = (m.group(0), props)
    return items


def _shared_all_text() -> str:
    parts = []
    for folder in FOLDERS:
        for p in sorted((SHARED / folder / "proposals").rglob("*")):
            if p.is_file():
                parts.append(p.read_text(encoding="utf-8"))
        parts.append((SHARED / folder / "source_excerpt.txt").read_text(encoding="utf-8"))
    return "\n".join(parts)


@needs_shared
def test_shared_items_count_as_readme_says():
    counts = {f: len(_shared_items(f)) for f in FOLDERS}
    assert counts == {"shanghai_2019": 14, "shanghai_2016": 15, "pingdingshan_10_1": 8, "putian_2024": 11,
                      "fuyang_2019": 9, "zhangzhou_2023": 17, "changzhou_xinbei_2017": 5, "jilin_13_4": 9}
    assert _shared_items("shanghai_2016")["shanghai_2016-15"][1] == [
        "市政协人口资源环境建设委员会", "社会福利和社会保障界", "郭小牧"]
    assert _shared_items("putian_2024")["putian_2024-09"][1] == ["经济界", "陈俊杰"]
    assert _shared_items("shanghai_2019")["shanghai_2019-04"][1] == ["左燕"]
    assert _shared_items("fuyang_2019")["fuyang_2019-01"][1] == ["民革阜阳市委员会", "陶颖"]
    assert _shared_items("jilin_13_4")["jilin_13_4-06"][1] == ["张龙"]


# ---------------------------------------------------------------- shape

@per_file
def test_shape_and_counts(name):
    split, prefix = SPLITS[name]
    rows, home_rows, shared_rows = _rows(name), _home_rows(name), _shared_rows(name)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), [i for i, c in Counter(ids).items() if c > 1]
    assert len(home_rows) >= 60 and len(shared_rows) >= 40
    for r in rows:
        assert FIELDS <= r.keys() and r.keys() <= FIELDS | OPTIONAL, r["id"]
        assert r["split"] == split and r["type"] in TYPES, r["id"]
        assert r["corpus"] == "home" or r["corpus"] in FOLDERS, r["id"]
        assert r["id"].startswith(f"{prefix}-{r['corpus']}-"), r["id"]
        assert isinstance(r["question"], str) and r["question"].strip(), r["id"]
        assert isinstance(r["answerable"], bool), r["id"]
        assert isinstance(r["gold_proposals"], list) and isinstance(r["gold_proposers"], list), r["id"]
        assert isinstance(r["answer_items"], list), r["id"]
        if r["type"] == "followup":
            assert r["history"] and all(isinstance(h, str) and h.strip() for h in r["history"]), r["id"]
            assert r.get("note", "").startswith("对话 "), r["id"]
        else:
            assert r["history"] == [], r["id"]
        if r["type"] == "negative":
            assert r["answerable"] is False, r["id"]
        if r["answerable"]:
            assert r["gold_proposals"] and r["gold_proposers"] or r["type"] == "meta", r["id"]
            assert "topic_words" not in r, r["id"]
        else:
            assert r["gold_proposals"] == [] and r["gold_proposers"] == [] and r["answer_items"] == [], r["id"]
            assert r.get("topic_words") and all(isinstance(w, str) and w for w in r["topic_words"]), r["id"]
            assert any(w in r["question"] for w in r["topic_words"]), r["id"]
        assert len(r["gold_proposers"]) == len(set(r["gold_proposers"])), r["id"]
        if "all" in r:
            assert r["all"] is True and r["type"] == "multi_proposer", r["id"]
    home_types = Counter(r["type"] for r in home_rows)
    assert all(home_types[t] >= 3 for t in TYPES), home_types
    assert home_types["negative"] >= 10
    assert {r["corpus"] for r in shared_rows} == set(FOLDERS)
    assert sum(not r["answerable"] for r in shared_rows) >= 10
    assert any(r.get("all") for r in shared_rows)


@per_file
def test_not_copied_from_existing_sets(name):
    """No question (or history turn) repeats, punctuation aside, a question from the files in
    NOT_FROM[name] or from the corpora's questions.jsonl."""
    def norm(q: str) -> str:
        return re.sub(r"[\W_]+", "", q)
    rows = _rows(name)
    old = {norm(r["question"]) for f in NOT_FROM[name] for r in _jsonl(ROOT / "eval" / f)}
    if SHARED.is_dir():
        for f in FOLDERS:
            old |= {norm(r["question"]) for r in _jsonl(SHARED / f / "questions.jsonl")}
    assert not [r["id"] for r in rows if norm(r["question"]) in old]
    assert not [r["id"] for r in rows for h in r["history"] if norm(h) in old]
    mine = [norm(r["question"]) for r in rows]
    assert len(mine) == len(set(mine)), f"duplicate questions inside {name}"


def _check_items(r: dict, gold_texts: list[str]):
    for group in r["answer_items"]:
        assert isinstance(group, list) and group, (r["id"], group)
        assert all(isinstance(a, str) and len(a) >= 3 for a in group), (r["id"], group)
        assert any(_in(group[0], t) for t in gold_texts), (r["id"], group[0])


# ---------------------------------------------------------------- home golds

@per_file
def test_home_golds(name):
    canonical = set(_canonical())
    for r in _home_rows(name):
        for g in r["gold_proposals"]:
            assert g in HOME_TEXTS, (r["id"], g)
        assert set(r["gold_proposers"]) <= canonical, r["id"]
        if r["type"] == "meta":
            assert r["gold_proposals"] == ["kjcx-00"] and r["gold_proposers"] == [], r["id"]
        else:
            assert "kjcx-00" not in r["gold_proposals"], r["id"]
            expected = {n for g in r["gold_proposals"] for n in HOME_PROPS[g]}
            assert set(r["gold_proposers"]) == expected, (r["id"], sorted(expected))
        _check_items(r, [HOME_TEXTS[g] for g in r["gold_proposals"]])


@per_file
def test_home_negative_topics_absent(name):
    raw = HOME_TXT.read_text(encoding="utf-8")
    flat = _flat(raw)
    for r in _home_rows(name):
        for w in r.get("topic_words", []):
            assert w not in raw and _flat(w) not in flat, (r["id"], w)


# ---------------------------------------------------------------- shared golds

@needs_shared
@per_file
def test_shared_golds(name):
    items = {k: v for f in FOLDERS for k, v in _shared_items(f).items()}
    for r in _shared_rows(name):
        for g in r["gold_proposals"]:
            assert g in items and g.startswith(r["corpus"] + "-"), (r["id"], g)
        expected = {p for g in r["gold_proposals"] for p in items[g][1]}
        assert set(r["gold_proposers"]) == expected, (r["id"], sorted(expected))
        _check_items(r, [items[g][0] for g in r["gold_proposals"]])


@needs_shared
@per_file
def test_shared_negative_topics_absent(name):
    # the 8 folders are loaded together: a negative's topic must be absent from all of them
    text = _shared_all_text()
    flat = _flat(text)
    for r in _shared_rows(name):
        for w in r.get("topic_words", []):
            assert w not in text and _flat(w) not in flat, (r["id"], w)


@needs_shared
@per_file
def test_shared_questions_name_the_meeting(name):
    for r in _shared_rows(name):
        assert PLACES[r["corpus"]] in r["question"], r["id"]
