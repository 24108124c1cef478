"""Which meeting a collection comes from: parsed from its headline, introduction and fields.

General patterns only (cppcc.json): "<place>政协<N>届<M>次会议", "政协<place>第N届委员会第M次会议",
"…常委会议", years, "提交了26篇" / "18位委员". The place, when the meeting name omits it
("市政协九届三次会议"), is the one its proposers' organisations name most often.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from .proposers import knowledge, place_of
from .records import Meeting

_NUM = "一二三四五六七八九十百零〇两"
_CN = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
# the level words a place a CPPCC sits in ends with (a town's or street's 政协 is a liaison office)
PLACE_SUFFIX = "特别行政区|自治区|自治州|自治县|新区|省|市|区|县|旗"
PLACE_END = re.compile(f"(?:{PLACE_SUFFIX})$")
_PLACE = rf"[\u4e00-\u9fff]{{1,10}}?(?:{PLACE_SUFFIX})"
# "<place>政协" as a question may name it: a local CPPCC or the CPPCC of a city or province
PLACE_CPPCC = re.compile(rf"({_PLACE})政协")
# "<place>政协召开…会议": the verb between the CPPCC and its session is no part of the name
_CONVENED = "召开|举行|举办"
# also the formal names: "中国人民政治协商会议第十四届全国委员会第二次会议", "全国政协第十四届常委会第五次会议"
_SESSION = re.compile(
    rf"(?:(?P<p1>{_PLACE}|[省市区县])?政协(?:{_CONVENED})?|政协(?P<p2>{_PLACE}(?:{_PLACE})?)"
    rf"|(?:中国)?人民政治协商会议(?P<p3>{_PLACE})?)?"
    rf"\s*第?(?P<term>[{_NUM}\d]+)届"
    rf"(?P<body>全国委员会|委员会|常委会|常务委员会)?\s*第?"
    rf"(?P<n>[{_NUM}\d]+)次(?P<kind>全体会议|常委会议|常务委员会会议|主席会议|会议)")
# a headline's meeting that has no 届次/会次 ("十四届全国政协第十九次双周协商座谈会")
_MEETING_PHRASE = re.compile(r"[^\s，,。：:“”\"‘’《》—]{0,16}?政协[^\s，,。：:“”\"‘’《》—]{0,20}?(?:座谈会|协商会|议政会|常委会议|会议)")
# characters a place name does not hold: joiners and organisation words
_NOT_PLACE = re.compile(r"[和与及、，,联会党委团]")
_NATIONAL = re.compile(r"全国政协|全国委员会")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:年度|年|-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2})")
_YEAR_OF_WORK = re.compile(r"(?<!\d)((?:19|20)\d{2})年度")
_COUNT = re.compile(rf"(?:提交了?|共|收到|编发|通报表扬了?|对)?([\d{_NUM}]{{1,4}})(?:篇|份|件|位政协委员|位委员|名委员|位)")


def cn_number(s: str) -> int | None:
    """'十三' -> 13, '二十' -> 20, '26' -> 26."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        elif ch in _CN:
            cur = _CN[ch]
        else:
            return None
    return total + cur


def _level(place: str, national: bool) -> str:
    if national:
        return "全国"
    if not place:
        return ""
    if any(place.startswith(c) for c in knowledge()["provincial_cities"]) and place.endswith("市"):
        return "省"
    if place.endswith(("省", "自治区", "特别行政区")):
        return "省"
    if place.endswith(("区", "县", "旗", "自治县")):
        return "区县"
    if place.endswith(("市", "州", "盟", "自治州")):
        return "市"
    return ""


def _kind(texts: Iterable[str]) -> str:
    joined = "\n".join(texts)
    for kind, words in knowledge()["meeting_kinds"]:
        if any(w in joined for w in words):
            return kind
    return ""


def parse_meeting(headline: str = "", intro: str = "", fields: Iterable[str] = (),
                  proposers: Iterable[str] = (), fallback: str = "") -> Meeting:
    """The meeting of one collection. `fields` are 会议 values of its items, `proposers` the
    organisation names (for the place), `fallback` a name to show when nothing is printed."""
    fields = [f for f in fields if f]
    # the file or folder name last: an export named after its meeting ("某区政协七届二次会议提案目录")
    sources = [*fields, headline, intro, fallback]
    m = None
    for src in sources:
        m = _SESSION.search(src or "")
        if m:
            break
    national = any(_NATIONAL.search(s or "") for s in sources)
    place = ""
    if m:
        # "在市政协…": a word before the level is no place
        place = (m["p1"] or m["p2"] or m["p3"] or "").strip().lstrip(knowledge()["place_leading_noise"])
    bare = place if len(place) == 1 else ""
    if len(place) <= 1:  # a bare level word (市政协) names no place, only the level
        place = ""
    if not place:
        # "<place>政协" in the headline ("某市政协日前召开…") names the meeting's own CPPCC, where the
        # organisations' places may name a lower-level unit of it (not the introduction: "各民主党派、
        # 工商联和市政协…" is a list, no place)
        for src in (headline, fallback):
            if ((hp := PLACE_CPPCC.search(src or "")) and len(p := hp.group(1).lstrip(knowledge()["place_leading_noise"])) > 1
                    and not _NOT_PLACE.search(p)):
                place = p
                break
    places = Counter(p for p in (place_of(x) for x in proposers) if p)
    if not place and places:
        # the place most of its organisations name; a lower-level unit (郏县政协) in a city's
        # collection is outvoted by the city's parties
        top = places.most_common()
        place = top[0][0]
        # a city's collection with district units: prefer the place that others start with
        for p, _ in top:
            if any(q != p and q.startswith(p) for q in places):
                place = p
                break
    name = ""
    if m:
        printed = re.sub(f"政协(?:{_CONVENED})", "政协", m.group(0).strip().lstrip(knowledge()["place_leading_noise"]))
        if place and place not in printed:
            # "市政协…会议" in a collection whose organisations name one city
            printed = place + (printed[1:] if printed[:1] in "省市区县" else printed)
        name = printed
    kind = _kind([headline, intro, *fields])
    if m and (m["kind"] in ("常委会议", "常务委员会会议") or m["body"] in ("常委会", "常务委员会")) and not kind:
        kind = "常委会议"
    year = None
    for src in [headline, *fields, intro, fallback]:
        if y := _YEAR_OF_WORK.search(src or "") or _YEAR.search(src or ""):
            year = int(y.group(1))
            break
    reports = None
    for src in [headline, intro]:
        if c := _COUNT.search(src or ""):
            reports = cn_number(c.group(1))
            break
    if national and name and "全国" not in name:
        name = "全国" + name
    if not name and (mp := _MEETING_PHRASE.search(headline or "")):
        # "某某政协第十九次双周协商座谈会": a meeting without 届次/会次
        name = re.sub(f"政协(?:{_CONVENED})", "政协", mp.group(0))
    if not name:
        name = fallback or (f"{place}政协" if place else "")
    level = _level(place or bare, national)
    return Meeting(name=name, place=place, level=level, session=(f"{m['term']}届{m['n']}次" if m else ""),
                   kind=kind, year=year, reports=reports)
