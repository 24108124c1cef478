"""Who proposed it: a proposer grammar built from general CPPCC knowledge (assistant/cppcc.json).

It places any proposer string of any city or level without a per-corpus list: the eight
democratic parties at any level and place, 工商联, people's organisations, 无党派人士, 界别,
special committees, district/county CPPCCs, individual members (王某委员, 委员李某, 市政协常委赵某,
副主委陈振华) and joint strings ("市政协经济委员会和经济界"). A member beside an organisation
spoke for it: both are proposers, the member is marked as speaker. A string it cannot place is
kept verbatim and typed 其他. `proposers.json`, where present, only adds aliases and overrides.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KNOWLEDGE_FILE = Path(__file__).with_name("cppcc.json")
OTHER = "其他"
MEMBER = "政协委员个人"
LOCAL = "区县(市)政协"
_CJK_NAME = r"[\u4e00-\u9fff·]{2,4}"
_SPACE = re.compile(r"\s+")
# characters that end organisation names, never personal ones
_ORG_CHARS = re.compile(r"[会委组界团联协党社府局厅办院所校部处室队站]")
# a character of a member's name: none that ends an organisation, so an office spelled out
# longer ("书记处书记") is not read as a name
_NAME_CHARS = f"(?:(?!{_ORG_CHARS.pattern})[\u4e00-\u9fff·])"
# jieba dictionary frequency from which a word is too common to be a member's name (_common_word)
COMMON_WORD_FREQ = 500
# "代表<organisation>(作大会)发言": the organisation a member spoke for, printed after the member
_ON_BEHALF = re.compile(r"^代表(?P<org>.{2,30}?)(?:作?大会发言|发言)?$")


@lru_cache(maxsize=1)
def knowledge() -> dict:
    return json.loads(KNOWLEDGE_FILE.read_text(encoding="utf-8"))


def knowledge_sha256() -> str:
    """Changes with the grammar's data, so an index built with other knowledge is rebuilt."""
    import hashlib
    return hashlib.sha256(KNOWLEDGE_FILE.read_bytes()).hexdigest()


def types() -> tuple[str, ...]:
    return tuple(knowledge()["types"])


@dataclass(frozen=True)
class ProposerRef:
    name: str            # organisation as printed (spaces squeezed); a member's bare name
    type: str            # one of types()
    printed: str = ""    # the string it was read from
    speaker: bool = False  # a member who spoke for an organisation named beside them
    role: str = ""       # 委员 / 常委 / 副主委 … for members


def _alts(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> dict:
    k = knowledge()
    party_names = [p["short"] for p in k["parties"]] + [f for p in k["parties"] for f in p["full"]]
    roles = _alts(k["member_roles"])
    officers = _alts(k["officer_roles"])
    cppcc = _alts(k["cppcc_words"])
    places = _alts(k["place_suffixes"])
    return {
        "party": re.compile(f"({_alts(party_names)})"),
        "party_short": {f: p["short"] for p in k["parties"] for f in [p["short"], *p["full"]]},
        # 商会, but not the 协商会 of "政治协商会议"
        "federation": re.compile(f"(?<!协)(?:{_alts(k['federation'])})"),
        "people": re.compile(f"(?:{_alts(k['people_orgs'])})"),
        "nonparty": re.compile(_alts(k["nonparty"])),
        "sector": re.compile(f"(?:{_alts(k['sector_suffixes'])})$"),
        # 特别邀请人士, 特邀香港人士: the invited are a 界别 of their own
        "sector_word": re.compile(f"^(?:{_alts(k['sector_words'])}|(?:特别邀请|特邀)[\u4e00-\u9fff]{{0,6}}人士)$"),
        "cppcc": re.compile(cppcc),
        "committee": re.compile(f"(?:{cppcc}).*(?:{_alts(k['committee_suffixes'])})$"),
        # 提案委员会 / 市民族宗教委员会 / 民宗委: a special committee named without 政协
        "committee_bare": re.compile(
            f"^(?:[\u4e00-\u9fff]{{0,8}}?(?:{places}))?(?:(?:{_alts(c for x in k['special_committees'] for c in x['stems'])})"
            f"委员会|{_alts(c for x in k['special_committees'] for c in x['short'])})$"),
        "local": re.compile(f"(?:{places})(?:{cppcc})$|{_alts(k['local_cppcc'])}$"),
        # 王某委员 / 李某某常委
        "member_suffix": re.compile(f"^(?P<name>{_CJK_NAME}?)(?P<role>{roles})$"),
        # 委员李某 / 市政协常委王某 / 某市政协常委 张某 / 特邀委员 王某
        # (政协第十四届全国委员会委员 王某: the prefix may name the term and the level)
        "member_prefix": re.compile(f"^(?P<pre>[\u4e00-\u9fff]{{0,14}}?(?:{cppcc})?)(?P<role>{roles})\\s*(?P<name>{_CJK_NAME})$"),
        # 全国政协委员、中国科学院院士 王某 / 市政协常委、某大学教授 李某: a member with titles
        "titled_member": re.compile(f"^(?P<pre>[\u4e00-\u9fff]{{0,10}}?(?:{cppcc})?)(?P<role>{roles})[、，,]\\s*"
                                    f"[\u4e00-\u9fff、，,（）()]{{2,40}}?\\s+(?P<name>{_CJK_NAME})$"),
        # 副主委陈振华 / 主任朱晓杰
        "officer": re.compile(f"^(?P<pre>[\u4e00-\u9fff]{{0,12}}?)(?P<role>{officers})(?P<name>{_CJK_NAME})$"),
        # 无党派人士徐某: the category run into the member's name
        "nonparty_member": re.compile(f"^(?P<org>{_alts(k['nonparty'])})(?P<name>{_CJK_NAME})$"),
        # 经济界委员陈俊杰
        "sector_member": re.compile(f"^(?P<org>[\u4e00-\u9fff]{{1,12}}界(?:别组|别)?)(?P<role>{roles})(?P<name>{_CJK_NAME})$"),
        # 李某委员（经济界）/ 民盟市委（张某）: two proposers, one in brackets
        "bracketed": re.compile(r"^(?P<a>[^（()）]{2,40}?)\s*[（(](?P<b>[^（()）]{2,40})[）)]$"),
        # 民盟省委会副主委: an organisation and an office in it (the member is named elsewhere)
        "org_office": re.compile(f"^(?P<org>[\u4e00-\u9fff]{{2,30}}?)(?P<role>{officers})$"),
        "role_tail": re.compile(f"(?:{roles})$"),
        "role_only": re.compile(f"^[\u4e00-\u9fff]{{0,14}}?(?:{cppcc})?(?:{roles})$"),
        "bare_name": re.compile(f"^{_CJK_NAME}$"),
        "joiners": re.compile(f"(?:{_alts(k['joiners'])}|\\s+)"),
        "place": re.compile(f"([\u4e00-\u9fff]{{1,6}}?(?:{places}))"),
    }


def classify(name: str) -> str:
    """The type of one organisation string, or OTHER. Members are recognised by `parse_one`."""
    s = _SPACE.sub("", name)
    if not s:
        return OTHER
    P = _patterns()
    if P["sector_word"].match(s):
        return "界别"
    if P["nonparty"].search(s):
        return "无党派人士"
    if P["party"].search(s) and not P["sector"].search(s):
        return "民主党派"
    if P["federation"].search(s) and not P["sector"].search(s):
        return "工商联"
    if P["sector"].search(s) and len(s) >= 2:
        return "界别"
    if P["local"].search(s):
        return LOCAL
    if P["committee"].search(s) or P["committee_bare"].match(s):
        return "政协专门委员会"
    if P["people"].search(s):
        return "人民团体"
    return OTHER


def parse_one(text: str) -> tuple[ProposerRef, ...]:
    """One proposer string without joiners -> refs (a 界别 member yields the 界别 and the member)."""
    s = _SPACE.sub(" ", text).strip()
    if not s:
        return ()
    P = _patterns()
    flat = s.replace(" ", "")
    if (m := _ON_BEHALF.match(flat)) and placed(inner := parse_one(m["org"])):
        return inner  # "代表某党派发言" in a heading: the organisation the member beside it spoke for
    if m := P["sector_member"].match(flat):
        return (ProposerRef(m["org"], "界别", s), ProposerRef(m["name"], MEMBER, s, role=m["role"]))
    if (m := P["nonparty_member"].match(flat)) and _member_name(m["name"]):
        return (ProposerRef(m["org"], "无党派人士", s), ProposerRef(m["name"], MEMBER, s))
    if m := P["titled_member"].match(s):
        return (ProposerRef(m["name"], MEMBER, s, role=m["role"]),)
    if ((m := P["officer"].match(flat)) and m["pre"] and _member_name(m["name"])
            and placed(org := parse_one(m["pre"])) and all(r.type != MEMBER for r in org)):
        # "某党派市委副主委 某某": a member holding an office in an organisation that is named too
        # (before classify, which would take the whole string for the organisation's name)
        return org + (ProposerRef(m["name"], MEMBER, s, role=m["role"]),)
    t = classify(flat)
    if t != OTHER:
        return (ProposerRef(flat, t, s),)
    for key in ("member_prefix", "member_suffix", "officer"):
        m = P[key].match(s) or P[key].match(flat)
        if m:
            name = m["name"].strip()
            # "社法委员" is no person: a member's name never ends in a committee word
            if key == "member_suffix" and (P["committee"].search(name) or name.endswith(("会", "组"))):
                continue
            if key == "officer" and _common_word(name):
                continue  # "某政协主席会议" is a meeting, not an officer named 会议
            return (ProposerRef(name, MEMBER, s, role=m["role"]),)
    return (ProposerRef(flat, OTHER, s),)


def placed(refs) -> bool:
    return bool(refs) and all(r.type != OTHER for r in refs)


def parse_proposers(text: str, *, member_field: bool = False, bare_names: bool = False) -> tuple[ProposerRef, ...]:
    """A proposer field as printed -> refs. Joint strings are split only where every part is a
    proposer on its own ("市政协经济委员会和经济界"), never inside one name ("社会福利和社会保障界").
    With member_field (a 发言人 column), a bare name is a member; with bare_names (a 提案者
    field, never a heading whose title words look alike), a 2-3 character name is one too."""
    s = _SPACE.sub(" ", text or "").strip()
    if not s or _NOTHING.match(s):
        return ()  # "附议人：无": a field saying there is nobody names nobody
    if (pair := _bracketed(s)) is not None:
        return pair
    parts = [x for x in _LIST_SEP.split(s) if x]
    if len(parts) > 1 and (member_field or bare_names):
        # "李某、赵某" in a 联名 or 提案者 field: one member each (the grammar alone places no bare name)
        each = [parse_proposers(x, member_field=member_field, bare_names=bare_names) for x in parts]
        if (all(placed(r) for r in each) and any(r[0].type == MEMBER for r in each)
                and all(_member_name(x.name) for r in each for x in r if x.type == MEMBER)):
            return mark_speakers(tuple(x for r in each for x in r))
    if (first := _office_first(s)) is not None:
        return first
    whole = parse_one(s)
    if whole and whole[0].role and len(whole) == 1 and _patterns()["titled_member"].match(s):
        return whole  # one member with titles, not a list split at the 、 after the role
    if len(whole) > 1 and placed(whole) and whole[-1].type == MEMBER and whole[-1].role:
        return mark_speakers(whole)  # an organisation and its officer, read as one string
    head, sep, last = s.rpartition(" ")
    if (sep and _member_name(last) and not _patterns()["role_only"].match(head.replace(" ", ""))
            and placed(org := parse_proposers(head)) and all(r.type != MEMBER for r in org)):
        return mark_speakers(org + (ProposerRef(last, MEMBER, last),))  # "某党派某区支社 刘某": who spoke for it
    best = _split(s)
    refs = best if best is not None and len(best) > len(whole) else whole
    if len(refs) == 1 and refs[0].type == OTHER and _patterns()["bare_name"].match(refs[0].name) and (
            member_field or (bare_names and len(refs[0].name) <= 3 and not _ORG_CHARS.search(refs[0].name))):
        refs = (ProposerRef(refs[0].name, MEMBER, s),)
    return mark_speakers(refs)


_LIST_SEP = re.compile(r"[、，,；;]+")
_NOTHING = re.compile(r"^(?:无|暂无|没有|空|无联名人?|无附议人?|[-—–/／、.。]+)$")


def _office_first(s: str) -> tuple[ProposerRef, ...] | None:
    """"省政协委员、省工商联副主席李某", "省政协常委、无党派人士徐某": the member's CPPCC office comes
    first, then whom they are (an organisation and its officer, a category); the office is no
    proposer of its own. None unless the rest names exactly one member."""
    first, sep, rest = s.partition("、")
    if not sep or not _patterns()["role_only"].match(first.replace(" ", "")) or _patterns()["titled_member"].match(s):
        return None  # "全国政协常委、某党派中央副主席 张某": titles before a spaced name describe one member
    refs = parse_proposers(rest)
    members = [r for r in refs if r.type == MEMBER]
    if not placed(refs) or len(members) != 1:
        return None
    # the office as titled_member reads it: 省政协常委 -> 常委, like 市政协常委 张某
    role = _patterns()["role_tail"].search(_after_cppcc(first) or first).group(0)
    return mark_speakers(tuple(ProposerRef(r.name, r.type, s, r.speaker, r.role or role) if r.type == MEMBER else r
                               for r in refs))


def _bracketed(s: str) -> tuple[ProposerRef, ...] | None:
    """"李某委员（经济界）", "张某委员（民盟省委会副主委）", "民盟市委（张某）": the organisation and the
    member who spoke for it, the office (if printed) kept on the member; None when not both placed."""
    P = _patterns()
    m = P["bracketed"].match(s)
    if not m:
        return None
    a, b = m["a"].strip(), m["b"].strip()
    first = re.split(r"[、，,]", b, maxsplit=1)[0]   # "（市政协委员、某公司董事长）": the office, then titles
    if P["role_only"].match(first) and len(ra := parse_proposers(a, member_field=True)) == 1 and ra[0].type == MEMBER:
        word = P["role_tail"].search(first).group(0)
        return (ProposerRef(ra[0].name, MEMBER, s, role=ra[0].role or word),)  # "王某（市政协常委）"
    role = ""
    if (o := P["org_office"].match(b.replace(" ", ""))) and placed(parse_one(o["org"])):
        b, role = o["org"], o["role"]
    ra, rb = parse_proposers(a, bare_names=True), parse_proposers(b, bare_names=True)
    if not (placed(ra) and placed(rb)):
        return None
    refs = ra + rb
    members = [r for r in refs if r.type == MEMBER]
    orgs = [r for r in refs if r.type != MEMBER]
    if len(members) != 1 or not orgs:
        return None
    who = members[0]
    # the office in the organisation says more than the 委员 that every member is
    who = ProposerRef(who.name, MEMBER, who.printed, who.speaker, role or who.role)
    return mark_speakers(tuple(orgs) + (who,))


@lru_cache(maxsize=4096)
def _split(s: str) -> tuple[ProposerRef, ...] | None:
    """The segmentation at joiners with the most parts, every part placed; None if there is none."""
    P = _patterns()
    cuts = [(m.start(), m.end()) for m in P["joiners"].finditer(s)]
    best = None
    if placed(r := parse_one(s)):
        best = r
    for a, b in cuts:
        left, right = s[:a].strip(), s[b:].strip()
        if not left or not right:
            continue
        lr = parse_one(left)
        # an organisation the grammar cannot type ("…协会") still ends like one
        if not placed(lr) and not (len(left) >= 3 and _ORG_CHARS.search(left[-1])):
            continue
        rr = _split(right)
        if rr is None:
            continue
        cand = lr + rr
        if best is None or len(cand) > len(best):
            best = cand
    return best


def mark_speakers(refs: tuple[ProposerRef, ...]) -> tuple[ProposerRef, ...]:
    """Members listed with an organisation spoke for it."""
    orgs = [r for r in refs if r.type != MEMBER]
    if not orgs:
        return refs
    return tuple(ProposerRef(r.name, r.type, r.printed, True, r.role) if r.type == MEMBER else r for r in refs)


def split_heading(heading: str, known: dict | None = None) -> tuple[str, tuple[ProposerRef, ...]]:
    """'<title> <proposer> [<proposer>…]' -> (title, refs), peeled from the end token by token.
    `known` maps registry aliases to (canonical, type); a registry name may contain spaces."""
    rest = _SPACE.sub(" ", heading).strip()
    found: list[ProposerRef] = []
    P = _patterns()
    keys = sorted(known or {}, key=len, reverse=True)
    while rest:
        hit = next((k for k in keys if rest.endswith(k) and (len(rest) == len(k) or rest[-len(k) - 1] == " ")), None)
        if hit:
            canon, typ = known[hit]
            found[:0] = [ProposerRef(canon, typ, hit)]
            rest = rest[: -len(hit)].rstrip()
            continue
        head, _, last = rest.rpartition(" ")
        if not head and found:
            break  # never take the whole title as a proposer
        refs = parse_proposers(last)
        if placed(refs):
            found[:0] = list(refs)
            rest = head.rstrip()
            continue
        # "某市政协常委 张某": a bare name right after a role word, or after a role with titles
        # ("全国政协委员、某党派中央副主席 张某")
        h2, _, role = head.rpartition(" ")
        if P["bare_name"].match(last) and role and (P["role_only"].match(role)
                                                    or P["titled_member"].match(f"{role} {last}")):
            found[:0] = list(parse_one(f"{role}{last}" if P["role_only"].match(role) else f"{role} {last}"))
            rest = h2.rstrip()
            continue
        # "<title> 某党派某市委 张某": the organisation and the member who spoke for it (parse_proposers)
        if role and _member_name(last) and placed(pair := parse_proposers(f"{role} {last}")) and len(pair) > 1:
            found[:0] = list(pair)
            rest = h2.rstrip()
            continue
        break
    if not rest and found:  # a heading that is all proposers has no title: keep the first token
        rest = found[0].printed
        found = found[1:]
    return rest, mark_speakers(tuple(found))


def _member_name(s: str) -> bool:
    """Could be a member's bare name: 2-4 characters, none that ends an organisation, no common word."""
    return bool(_patterns()["bare_name"].match(s)) and not _ORG_CHARS.search(s) and not _common_word(s)


def _common_word(s: str) -> bool:
    """A word jieba's general dictionary counts often (建议, 市场) is no one's name; names are rare
    there (measured: the dev collections' members' names score 0, such words thousands)."""
    import jieba
    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(s, 0) >= COMMON_WORD_FREQ


# How far into an item's text its speaker is looked for: the opening sentence names who spoke.
SPEAKER_WINDOW = 120
_SPEAKER_VERB = "代表|建议|提出|发言|表示|指出|认为|呼吁|谈到|说|在|作|围绕|就"


def find_inline(text: str) -> tuple[ProposerRef, ...]:
    """Proposers named in running text: "王某委员代表某党派市委作…", "省政协常委李某代表<org>发言",
    "<org>副主席 赵某建议…" (at the start), "委员李某提出…"."""
    roles = _alts(knowledge()["member_roles"])
    out: list[ProposerRef] = []
    m = re.search(f"({_CJK_NAME}?)({roles})代表([^，,。作就在]{{2,30}}?)(?:作|就|在|发言)", text)
    if m:
        org = parse_proposers(m.group(3))
        if placed(org):
            out += list(org) + [ProposerRef(m.group(1), MEMBER, m.group(0), True, m.group(2))]
    if not out:
        # the office before the name: "省政协常委李某代表<org>发言"
        m = re.search(f"({roles})({_NAME_CHARS}{{2,4}}?)代表([^，,。作就在]{{2,30}}?)(?:作|就|在|发言)", text)
        if m and placed(org := parse_proposers(m.group(3))) and all(r.type != MEMBER for r in org):
            out += list(org) + [ProposerRef(m.group(2), MEMBER, m.group(0), True, m.group(1))]
    if not out:
        # an officer of a named organisation opens the text: "<org>副书记 钱某建议…"
        m = re.match(f"([^，,。；;：:\\s]{{2,24}}?)({_alts(knowledge()['officer_roles'])}) ?({_NAME_CHARS}{{2,4}}?)"
                     f"(?={_SPEAKER_VERB}|[，,：:])", text.strip())
        if m and _member_name(m.group(3)) and placed(org := parse_proposers(m.group(1))) and all(
                r.type != MEMBER for r in org):
            out += list(org) + [ProposerRef(m.group(3), MEMBER, m.group(0), True, m.group(2))]
    for m in re.finditer(f"(?<![\u4e00-\u9fff])({roles})({_CJK_NAME}?)(?=提出|建议|认为|指出|表示|发言|代表)", text):
        if m.group(2) not in {r.name for r in out}:
            out.append(ProposerRef(m.group(2), MEMBER, m.group(0), role=m.group(1)))
    return tuple(out)


def find_speaker(text: str, orgs: tuple[ProposerRef, ...]) -> ProposerRef | None:
    """The member who spoke for one of `orgs`, named in the item's own opening text when its
    heading or fields name the organisation only: "<org>副主席 周某建议…", "周某委员代表<org>发言",
    "…大学校长 杨某代表<org>发言". None unless the name is tied to one of those organisations."""
    # a committee is also named without its CPPCC ("市政协经济委员会" -> 经济委员会, as its officers say)
    names = sorted({n for o in orgs for n in (o.name, o.printed, *short_names(o.name), _without_cppcc(o.name))
                    if len(n) >= 2}, key=len, reverse=True)
    if not names or not text:
        return None
    k = knowledge()
    org = "|".join(map(re.escape, names))
    head = _SPACE.sub(" ", text[:SPEAKER_WINDOW])
    name = f"{_NAME_CHARS}{{2,4}}?"
    pats = (
        # a few characters may qualify the office: 常务副主席, 书记处书记
        (rf"(?:{org})[\u4e00-\u9fff]{{0,4}}?({_alts(k['officer_roles'])}) ?({name})(?={_SPEAKER_VERB}|[，,：:。；; ])", 1, 2),
        (rf"(?:^|[ ，,、。：:；;（(])({name})({_alts(k['member_roles'])})?代表(?:{org})", 2, 1),
        # "<a 界别>委员 某某代表界别发言": a member of the organisation, no office in it
        (rf"(?:^|[ ，,、。：:；;（(])(?:{org})({_alts(k['member_roles'])}) ?({name})(?={_SPEAKER_VERB}|[，,：:])", 1, 2),
        # "…委员、无党派人士某某发言说": the name run on after the category
        # (no preposition or particle opens a name: "<界别>在书面发言中…" names nobody)
        (rf"(?:^|[ ，,、。：:；;（(])(?:{org})()(?![在就对向为从把被将于以和与及的了是也都])({name})"
         rf"(?=发言|建议|提出|表示|指出|认为|呼吁)", 1, 2),
    )
    for pat, role_group, name_group in pats:
        for m in re.finditer(pat, head):
            who = m.group(name_group)
            if _member_name(who):
                return ProposerRef(who, MEMBER, m.group(0).strip(" ，,、。：:；;（("), True, m.group(role_group) or "")
    return None


def find_org_of(text: str, member: str) -> tuple[ProposerRef, ...]:
    """The organisation a member named alone (a heading "全国政协常委、某党派中央副主席 某某") spoke
    for, when the item's opening text says so: "某某代表<org>发言". () otherwise."""
    roles = _alts(knowledge()["member_roles"])
    m = re.search(f"{re.escape(member)}(?:{roles})?代表([^，,。作就在]{{2,30}}?)(?:作|就|在|发言)",
                  _SPACE.sub(" ", text[:SPEAKER_WINDOW]))
    org = parse_proposers(m.group(1)) if m else ()
    return org if placed(org) and all(r.type != MEMBER for r in org) else ()


def _without_cppcc(name: str) -> str:
    """"市政协经济委员会" -> "经济委员会" (a committee's name inside its own CPPCC); "" otherwise."""
    rest = _after_cppcc(name)
    return rest if rest != name and len(rest) >= 4 and _patterns()["committee_bare"].match(rest) else ""


def _after_cppcc(s: str) -> str:
    """What follows the first CPPCC word (市政协经济委员会 -> 经济委员会); s itself without one."""
    return re.sub(f"^.*?(?:{_patterns()['cppcc'].pattern})", "", s)


def parties_in(text: str) -> tuple[str, ...]:
    """The democratic parties a text names, by short name (民革 for 中国国民党革命委员会…)."""
    P = _patterns()
    return tuple(dict.fromkeys(P["party_short"][m.group(1)] for m in P["party"].finditer(text or "")))


def place_of(name: str) -> str:
    """The place an organisation names, if any: 民革某某市委会 -> 某某市, 民进市委 -> ''."""
    P = _patterns()
    s = P["party"].sub("", _SPACE.sub("", name), count=1)
    s = re.sub(r"^中国", "", s)
    m = P["place"].match(s)
    if not m:
        return ""
    place = m.group(1)
    # a bare level word (市委, 区政协) names no place
    return place


def short_names(name: str) -> tuple[str, ...]:
    """Shorter forms a user may type for an organisation: the party's short name, a people's
    organisation's, a special committee's (cppcc.json), a local CPPCC's place, and the name
    without the place it begins with."""
    P = _patterns()
    out = []
    if m := P["party"].search(name):
        out.append(P["party_short"][m.group(1)])
    if P["federation"].search(name):
        out.append("工商联")
    if P["people"].search(name):  # 市总工会 -> 总工会, 工会; 市侨联 -> 侨联
        out += [w for w in knowledge()["people_orgs"] if w in name]
    if P["local"].search(name) and classify(name) == LOCAL and len(place := place_of(name)) >= 3:
        out.append(place)  # 某某街道政协联络处 -> 某某街道: a place stands for its own CPPCC
    if (place := place_of(name)) and name.startswith(place) and classify(name) != LOCAL:
        # 某区归国华侨联合会 -> 归国华侨联合会: a question asked in one place leaves the place out
        rest = re.sub(r"^政协", "", name[len(place):])
        if len(rest) >= 4:
            out.append(rest)
    if name.endswith("委员会"):  # 某市政协民族宗教委员会 -> 民宗委
        out += [c for x in knowledge()["special_committees"] if any(f"{st}委员会" in name for st in x["stems"])
                for c in x["short"]]
    return tuple(dict.fromkeys(x for x in out if x != name))
