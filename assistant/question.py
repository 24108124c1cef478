"""Question parsing: what a question asks about (topic) and whom/where it is scoped to.

Everything a cue is made of comes from data: the proposer grammar's knowledge (type words,
question words; assistant/cppcc.json), the corpus's own proposers and meetings, and document
frequency over the corpus (words most proposals share are boilerplate). No word of one city or
one evaluation question lives here.

Soft scope: a type word narrows the search only when it is what the question asks about
("哪个党派…", "民主党派提了…"), not when it sits inside the topic ("各区县招商部门").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .proposers import knowledge, short_names


@dataclass(frozen=True)
class Scope:
    proposers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    meetings: tuple[str, ...] = ()
    words: tuple[str, ...] = ()    # the words of the question each part came from

    def __bool__(self) -> bool:
        return bool(self.proposers or self.types or self.meetings)


@lru_cache(maxsize=1)
def question_words() -> frozenset:
    """Words that frame a question rather than name its topic: generic question words, and the
    names of CPPCC roles, units and meeting kinds (主委, 基层委员会, 优秀提案, 全体会议)."""
    k = knowledge()
    words = set(k["question_words"].split()) | set(k["member_roles"]) | set(k["officer_roles"])
    words |= set(k["party_unit_suffixes"]) | {w for _, ws in k["meeting_kinds"] for w in ws}
    words |= {w for ws in k["type_words"].values() for w in ws}
    return frozenset(words)


# "第二次全体会议", "第一次大会": ordinals name a sitting, never a topic
ORDINAL = re.compile(r"第[一二三四五六七八九十百\d]+[次届批]")


@lru_cache(maxsize=1)
def _type_cues() -> list[tuple[re.Pattern, str]]:
    out = []
    for typ, words in knowledge()["type_words"].items():
        alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        out.append((re.compile(alts), typ))
    return out


# What makes a type word the thing asked about: a question word right before it, or a proposing
# verb / the end of the question right after it. Generic Chinese, not fitted to any question.
_ASKED_BEFORE = re.compile(r"(?:哪|几|有没有|是否有|所有|全部|其他|其它|其余|这些|那些|各个|有哪些)[个些位家几类]?$")
_ASKED_AFTER = re.compile(r"^(?:[和与及、]|的?(?:建议|提案|发言|报告|意见)|都|分别|各自|各|提|建议|发言|认为|主张|呼吁|关注|中|里|有|共|一共|政协|在|对|就|关于|作|是否|有没有|[?？。!！,，]|$)")
_PLURAL_BEFORE = re.compile(r"各$")


def type_scope(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(types asked about, the words they came from, types only mentioned inside the topic)."""
    asked, words, mentioned = [], [], []
    for rx, typ in _type_cues():
        for m in rx.finditer(text):
            before, after = text[max(0, m.start() - 4):m.start()], text[m.end():m.end() + 4]
            if _ASKED_BEFORE.search(before) or _ASKED_AFTER.match(after) or (
                    _PLURAL_BEFORE.search(before) and _ASKED_AFTER.match(after)):
                if typ not in asked:
                    asked.append(typ)
                    words.append(m.group(0))
            elif typ not in mentioned:
                mentioned.append(typ)
    return tuple(asked), tuple(words), tuple(t for t in mentioned if t not in asked)


def strip_type_words(text: str) -> str:
    for rx, _ in _type_cues():
        text = rx.sub(" ", text)
    return text


@dataclass
class MeetingWords:
    """The words by which a question can name each meeting of the corpus."""
    by_meeting: dict = field(default_factory=dict)   # label -> {"place": [...], "session": [...], "year": [...]}

    @classmethod
    def from_documents(cls, documents) -> "MeetingWords":
        mw = cls()
        for d in documents:
            m = (d.meta or {}).get("meeting")
            if not m:
                continue
            label = m.get("name") or m.get("place") or ""
            if not label or label in mw.by_meeting:
                continue
            places = []
            place = m.get("place") or ""
            for part in re.findall(r"[\u4e00-\u9fff]+?(?:特别行政区|自治区|自治州|自治县|新区|省|市|区|县|旗)", place) or [place]:
                places.append(part)
                stem = re.sub(r"(?:特别行政区|自治区|自治州|自治县|新区|省|市|区|县|旗)$", "", part)
                if len(stem) >= 2:
                    places.append(stem)
            sessions = [m["session"]] if m.get("session") else []
            if sessions:
                sessions.append(sessions[0].replace("届", "届第", 1))
            years = [str(m["year"])] if m.get("year") else []
            mw.by_meeting[label] = {"place": [p for p in places if p], "session": sessions, "year": years}
        return mw

    def all_words(self) -> list[str]:
        return sorted({w for v in self.by_meeting.values() for ws in v.values() for w in ws}, key=len, reverse=True)

    def match(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Meetings the question names (best-matching ones only) and the words used."""
        if len(self.by_meeting) < 2:
            return (), ()
        scored = {}
        used: dict[str, list] = {}
        for label, kinds in self.by_meeting.items():
            s = 0
            for kind, weight in (("place", 1), ("session", 2), ("year", 2)):
                hits = [w for w in kinds[kind] if w and w in text]
                if hits:
                    s += weight
                    used.setdefault(label, []).extend(hits)
            if s:
                scored[label] = s
        if not scored:
            return (), ()
        best = max(scored.values())
        chosen = tuple(k for k, v in scored.items() if v == best)
        if len(chosen) == len(self.by_meeting):
            return (), ()
        return chosen, tuple(dict.fromkeys(w for k in chosen for w in used[k]))


@dataclass
class ProposerWords:
    """Names a question may use for the corpus's proposers: registry aliases, the names
    themselves, and short forms shared by several (民盟 for every city's 民盟 committee)."""
    registry: object
    groups: dict = field(default_factory=dict)   # short form -> canonical names

    @classmethod
    def from_registry(cls, registry) -> "ProposerWords":
        groups: dict = {}
        for name in registry.names:
            for s in short_names(name):
                groups.setdefault(s, []).append(name)
        return cls(registry, {k: tuple(v) for k, v in groups.items() if k not in registry.aliases})

    def mentioned(self, text: str) -> tuple[str, ...]:
        out = list(self.registry.mentioned(text))
        rest = text
        for a in sorted(self.registry.aliases, key=len, reverse=True):
            if len(a) >= 2:
                rest = rest.replace(a, " ")
        for short, names in self.groups.items():
            if short in rest:
                out += [n for n in names if n not in out]
        return tuple(out)

    def strip(self, text: str, keep=()) -> str:
        names = [a for a in self.registry.aliases if self.registry.aliases[a] not in keep and len(a) >= 2]
        names += [s for s, ns in self.groups.items() if not set(ns) & set(keep)]
        for a in sorted(names, key=len, reverse=True):
            text = text.replace(a, " ")
        return text
