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
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from .errors import AssistantError
from .meeting import PLACE_CPPCC, PLACE_END, PLACE_SUFFIX
from .proposers import LOCAL, knowledge, parties_in, place_of, short_names


# jieba's part-of-speech tags of a morpheme that can modify the word after it (noun, time, place,
# adjective, distinguishing word, prefix); verbs (去, 办) and measure words are not glued
_MODIFIER_TAGS = frozenset({"n", "ng", "t", "tg", "s", "ns", "a", "ag", "b", "h"})


# jieba's tags of function words, which carry the asking, not the topic: conjunctions (还是),
# prepositions (为了), pronouns (某种, 这话), adverbs (最终, 逐一), particles, modals, interjections
_FUNCTION_TAGS = frozenset({"c", "p", "r", "u", "uj", "ul", "uz", "uv", "ud", "ug", "y", "e", "o", "d", "ad"})


@lru_cache(maxsize=4096)
def _modifier(ch: str) -> bool:
    import jieba.posseg
    return jieba.posseg.dt.word_tag_tab.get(ch) in _MODIFIER_TAGS


def _rejoined(spans: list) -> set[int]:
    """Positions of two single characters after a lone content character that jieba's dictionary
    holds as one content word: without HMM jieba prefers two frequent characters to their rarer
    word (碳+中+和 for 碳+中和), and the run of content characters (碳中和) would stop at the
    function character. Anywhere else such a pair is more often two words (上+有, 请+到)."""
    import jieba.posseg
    tags = jieba.posseg.dt.word_tag_tab
    single = {a: w for w, a, b in spans if len(w) == 1}
    out: set[int] = set()
    for a, w in single.items():
        if _content_char(w) and a + 1 in single and a + 2 in single:
            pair = single[a + 1] + single[a + 2]
            # not a verb with its preposition or complement (提+向, 静+下)
            if tags.get(pair) not in (None, "v", *_FUNCTION_TAGS) and not all(map(_content_char, pair)):
                out |= {a + 1, a + 2}
    return out


def shared_object(alternatives: list[list[str]]) -> list[list[str]]:
    """"扶持或者支持小微企业": verbs joined by 或 share the object after them (before them when the
    verb comes last: "人才引进或培养"). An alternative of verbs alone borrows its neighbour's nouns."""
    import jieba.posseg
    tags = jieba.posseg.dt.word_tag_tab
    verb = lambda t: (tags.get(t) or "")[:1] in ("v", "a")  # 壮大, 做强: adjectives used as verbs
    noun = lambda t: (tags.get(t) or "n").startswith("n")
    out = []
    for i, terms in enumerate(alternatives):
        if terms and all(map(verb, terms)) and len(alternatives) > 1:
            near = alternatives[i + 1] if i + 1 < len(alternatives) else alternatives[i - 1]
            terms = terms + [t for t in near if noun(t) and t not in terms]
        out.append(terms)
    return out


@lru_cache(maxsize=16384)
def _function_word(word: str) -> bool:
    import jieba.posseg
    return jieba.posseg.dt.word_tag_tab.get(word) in _FUNCTION_TAGS


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
    words |= {w for g in k["role_groups"] for w in g["asked"]}
    return frozenset(words)


# "第二次全体会议", "第一次大会": ordinals name a sitting, never a topic
ORDINAL = re.compile(r"第[一二三四五六七八九十百\d]+[次届批]")
# a count or a position ("三家", "哪一件", "这几位", "第二篇") says how many, never what about
COUNTED = re.compile(r"(?:第|这|那|哪|各)?[一二三四五六七八九十百两几\d]+[家个位篇份件条项届次批名点类种句]"
                     r"|(?:这|那|该|每|本|此)[家个位篇份件条项类种场期回次届批轮]")
# "第二篇" in a follow-up: that item of the previous answer
ORDINAL_REF = re.compile(r"第([一二三四五六七八九十\d]{1,3})(?:篇|份|个|条|件|项)")
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}


@lru_cache(maxsize=1)
def _type_cues() -> list[tuple[re.Pattern, str]]:
    out = []
    for typ, words in knowledge()["type_words"].items():
        # the type's own name ("区县(市)政协") names it too, in either width of brackets
        words = {*words, typ, typ.replace("(", "（").replace(")", "）")}
        # "哪个委员" asks for a member, "哪个委员会" for a committee
        alts = "|".join(re.escape(w) + ("(?!会)" if w.endswith("委员") else "")
                        for w in sorted(words, key=len, reverse=True))
        out.append((re.compile(alts), typ))
    return out


def _local_kinds() -> str:
    """The characters that end a local CPPCC's place (区, 县, 市…), from cppcc.json local_units."""
    return re.escape("".join(dict.fromkeys(u["names"][0][0] for u in knowledge()["local_units"])))


@lru_cache(maxsize=1)
def _local_units() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    """(the words that ask for one kind of local CPPCC, the name parts of that kind), cppcc.json
    local_units; a word inside a longer place word (区县政协, 县区, 县市) asks for no one kind."""
    k = _local_kinds()
    return [(re.compile("|".join(f"(?<![{k}]){re.escape(w)}(?![{k}])" for w in u["asked"])), tuple(u["names"]))
            for u in knowledge()["local_units"]]


def _one_place() -> str:
    """Alternation of the words that name one place with two kinds' characters (市区; cppcc.json)."""
    return "|".join(map(re.escape, knowledge()["local_one_place"]))


@lru_cache(maxsize=1)
def _joined_kind() -> re.Pattern:
    """A conjunction before a kind of place ("区和县的政协"): jieba reads 和县 as a county's name."""
    return re.compile(f"[和与及或跟同][{_local_kinds()}]")


@lru_cache(maxsize=1)
def _local_units_mixed() -> re.Pattern:
    """Two kinds of place named together (区县, 县市区, 县(市), 县和县级市)."""
    k = _local_kinds()
    return re.compile(f"(?!(?:{_one_place()})(?![{k}]))[{k}][(（、和与及]?[{k}]")


# What makes a type word the thing asked about: a question word right before it, or a proposing
# verb / the end of the question right after it. Generic Chinese, not fitted to any question.
_ASKED_BEFORE = re.compile(r"(?:哪|几|有没有|是否有|所有|全部|其他|其它|其余|这些|那些|各个|有哪些)[个些位家几类]?$")
_ASKED_AFTER = re.compile(r"^(?:[和与及、或]|名义|身份|的?(?:建议|提案|发言|报告|意见)|都|分别|各自|各|提|交|写|所|撰写|建议|发言|认为|主张|呼吁|关注|中|里|当中|之中|里面|里头|中间|有|共|一共|的?政协|在|对|就|关于|作|是否|有没有|[?？。!！,，)）]|$)")
_PLURAL_BEFORE = re.compile(r"各$")
_LEVEL_AFTER = re.compile(r"(?:中央|省委会?|市委会?|区委会?|县委会?|基层委员会|基层组织|委员会|一级)")  # .match at a position


def type_scope(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(types asked about, the words they came from, types only mentioned inside the topic)."""
    asked, words, mentioned = [], [], []
    for rx, typ in _type_cues():
        for m in rx.finditer(text):
            before = text[max(0, m.start() - 4):m.start()]
            # "各民主党派省委会中": a level word after the type still names the type
            level = _LEVEL_AFTER.match(text, m.end())
            after = text[level.end() if level else m.end():][:4]
            if _ASKED_BEFORE.search(before) or _ASKED_AFTER.match(after) or (
                    _PLURAL_BEFORE.search(before) and _ASKED_AFTER.match(after)):
                if typ not in asked:
                    asked.append(typ)
                    words.append(m.group(0) + (level.group(0) if level else ""))
            elif typ not in mentioned:
                mentioned.append(typ)
    return tuple(asked), tuple(words), tuple(t for t in mentioned if t not in asked)


@lru_cache(maxsize=1)
def _role_words() -> tuple[re.Pattern, dict]:
    """The words that ask for an office (cppcc.json role_groups; any other officer role names
    itself) and, for each, the printed roles that qualify."""
    k = knowledge()
    qualifies = {w: tuple(g["roles"]) for g in k["role_groups"] for w in g["asked"]}
    qualifies |= {r: (r,) for r in k["officer_roles"] if r not in qualifies}
    return re.compile("|".join(re.escape(w) for w in sorted(qualifies, key=len, reverse=True))), qualifies


# An office word is asked about ("哪些<office>…", "以<office>身份…", "由<office>…") when a question word
# or a framing verb stands beside it; "常委会议" is a meeting, and "常委<a name>" names a person.
_ROLE_BEFORE = re.compile(r"(?:哪|几|哪些|哪几位|以|是|作为|身为|担任|由|有|其他|其余|所有|各位|这些|那些|、)$|^$")
_ROLE_AFTER = re.compile(r"^(?:身份|们|都|上台|发言|讲话|的有|的发言|有哪|有谁|中|里|当中|之中|、|和|与|或|[?？,，。!！]|$)")


def role_scope(text: str, names=(), anywhere: bool = False) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(printed roles that qualify, the words they came from). `names`: people the question
    names; an office beside one of them says who they are, not whom to select. `anywhere`: every
    office word counts (inside a negation: "不是<office>的")."""
    rx, qualifies = _role_words()
    roles, words = [], []
    for m in rx.finditer(text):
        a, b = m.span()
        if text[b:b + 1] == "会" or any(text.startswith(n, b) or text[:a].endswith(n) for n in names):
            continue
        if anywhere or _ROLE_BEFORE.search(text[max(0, a - 3):a]) or _ROLE_AFTER.match(text[b:b + 3]):
            roles += [r for r in qualifies[m.group(0)] if r not in roles]
            words.append(m.group(0))
    return tuple(roles), tuple(dict.fromkeys(words))


@lru_cache(maxsize=1)
def _one_place_of_local() -> re.Pattern:
    """A one-place word (市区, cppcc.json local_one_place) shortly before a local CPPCC type word:
    where those CPPCCs are, not a topic ("市区的几个区政协")."""
    local = "|".join(rx.pattern for rx, t in _type_cues() if t == LOCAL)
    return re.compile(f"(?:{_one_place()})(?=[^,，。;；?？!！]{{0,6}}?(?:{local}))")


def words_of_types(types: Sequence[str], text: str) -> tuple[str, ...]:
    """The words of `text` that name `types` (the first match of each cue)."""
    return tuple(m.group(0) for rx, t in _type_cues() if t in types and (m := rx.search(text)))


def strip_type_words(text: str) -> str:
    text = _one_place_of_local().sub(" ", text)
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
        # a catalogue spanning several meetings lists each (meta["meetings"]), else its one meeting
        every = [m for d in documents for m in ((d.meta or {}).get("meetings") or [(d.meta or {}).get("meeting")])]
        for m in every:
            if not isinstance(m, dict):
                continue
            label = m.get("name") or m.get("place") or ""
            if not label or label in mw.by_meeting:
                continue
            places = []
            place = m.get("place") or ""
            for part in re.findall(rf"[\u4e00-\u9fff]+?(?:{PLACE_SUFFIX})", place) or [place]:
                places.append(part)
                stem = PLACE_END.sub("", part)
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
        for a in self._aliases:
            rest = rest.replace(a, " ")
        for short, names in self.groups.items():
            if short in rest:
                out += [n for n in names if n not in out]
        return tuple(out)

    def strip(self, text: str, keep=()) -> str:
        for a in self._all:
            if a in text and not (keep and set(self._canon.get(a, ())) & set(keep)):
                text = text.replace(a, " ")
        return text

    def __post_init__(self):
        aliases = self.registry.aliases
        self._aliases = sorted((a for a in aliases if len(a) >= 2), key=len, reverse=True)
        self._all = sorted(self._aliases + list(self.groups), key=len, reverse=True)
        self._canon = {a: (c,) for a, c in aliases.items()} | {s: tuple(ns) for s, ns in self.groups.items()}


# first characters that make "<X>市/区" a pointer or a set, not a place name (本市, 全区, 该县)
PLACE_NOT_NAMED = frozenset("本我全该此各每哪这那其某")
# characters no place name has: a run before 政协 holding one is part of the sentence ("去年省政协")
PLACE_NOISE = frozenset("的了吗呢吧是在和与及或也都还就把被让给对从以为这那些个们着过得很更最并而但提讲说做搞哪谁什么怎几多少啥请问年月日代表")
PLACE_MAX = 8
# what a district's or county's place may be preceded by in a question: the place it belongs to
PARENT_PLACE = "省|自治区|市|自治州|州|盟|地区"
FUNCTION_CHARS = frozenset("的了吗呢吧啊是有在和与及或也都还又就才把被让给对向从以为于之其这那些个们着过得地很更最并而且但"
                           "提讲说做搞中里上下哪谁什么怎样几多少各每啥嘛呀吗么"
                           "我你您咱想找帮"  # the asker and his request ("帮我查", "你们有没有…"), never a topic
                           "要会来由先该请再它他她")  # modal and linking verbs, pronouns: "某城要…" leaves no word "城要"
def _content_char(c: str) -> bool:
    """A CJK character that may be part of a topic word (not a function character)."""
    return "\u3400" <= c <= "\u9fff" and c not in FUNCTION_CHARS


# a word holding one of these asks ("谁来牵头", "怎么办"); no topic does
ASKING_CHARS = frozenset("谁哪啥么怎")
# a verb of handing in with a directional complement ("报上来", "拿出来"): how something was
# submitted, not what (other verbs keep theirs: "留下来", "走出去" may be the topic)
_DIRECTIONAL = re.compile(r"[交报收送递提拿写列](?:上来|上去|出来|进来|过来)")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]")
_UNIT_LEFTOVER = re.compile(r"(?:(?<=\s)|^)[省市区县]?(?:委员会|委会|委(?!员))")  # not the 委 of 委员
# A question about the meeting itself (its theme, how many reports), not about one proposal.
META_CUE = re.compile(r"会议|大会|导语|主题|议题")
META_COUNT_CUE = re.compile(r"几篇|多少篇|多少份|几份|多少件|几件|几位|多少位|篇数")
# the question is about the collection as a whole ("这些材料…", "本次议政…", "各单位交…", "这 N 篇…"),
# not about one proposal in it, unless it asks who proposed something or whether anyone did
META_SET_CUE = re.compile(r"(?:这些|这批|这一批|本批)(?:材料|调研报告|报告|提案|发言|建议)|(?:这|本|此)次(?:专题)?(?:议政|协商|会议|活动|常委会议?)"
                          r"|这个(?:栏目|专题|活动)|各单位(?:交|提交|报送|报)|这\d+[篇份件]")
# asking which meeting, or when or where it met ("在哪次会议上", "什么时候召开")
MEETING_ASK = re.compile(r"(?:哪|什么|哪一)(?:次|个|届|场)?(?:会议|全会|大会|常委会议?)|(?:何时|什么时候|哪天|哪一天|哪里|哪儿|在哪)召开"
                         r"|第几[届次]")
# this meeting, with the words of its theme between ("这次围绕<theme>的专题议政")
THIS_MEETING = re.compile(r"(?:这|本|此)(?:次|场|期|回)[^，,。？?！!]{0,16}?(?:议政|协商|会议|全会|大会|活动)")
# proposals that several proposers made together ("联合署名", "联名提出", "两个单位共同提交");
# 联合 before a noun ("联合办学") is a topic
JOINT_CUE = re.compile(r"(?:联合|共同|联名)(?:署名|提出|提交|报送|撰写|起草|发言|作(?!战|社|用))|联名|合写"
                       # "两个单位共同…"; "哪几个党派…" alone asks which, not what was made together
                       r"|(?<!哪)(?:两|二|三|多|几)(?:个|家)(?:单位|组织|党派|方面)(?:联合|共同|一起|合作)")
PROPOSAL_ASK = re.compile(r"谁|哪个单位|哪家|哪位|哪些单位|哪几家|哪个党派|哪个委员会|哪些(?:报告|建议|发言|提案|单位)|哪几[篇份件]"
                          r"|哪[篇份件](?!事)|有没有|有无|是否有|有人|有关于|关于.{1,12}?的(?:建议|内容|发言|报告)|提到|提及|涉及|谈到|讲到|说到"
                          r"|(?:提|提出|给出)了?(?:什么|哪些|啥)|(?:什么|啥)(?:建议|提案|意见|对策|措施|举措|办法)"
                          r"|有(?:什么|啥|哪些)?(?:建议|提议|对策)(?:吗|么|没有)"  # "…里有建议吗": whether any does
                          r"|有(?:谈|讲|说|提|写)[^，,。;；?？!！]{1,30}?的(?:吗|么|没有)")  # "有谈<Z>的吗"
# the question names the introduction itself ("导语里…", "按编者按的说法"): it is asked about, whatever the topic
INTRO_CUE = re.compile("|".join(knowledge()["intro_words"]))
# "除了民主党派…以外", "不算…": types named here are excluded, not asked for
# "是不是" asks yes or no; it excludes nothing
_NEGATORS = (r"除了|除去|不算|不含|不包括|排除|(?<!是)不是|不属于|并非"
             # "除<X>外": a bare 除 only with its 外, and not inside a word (消除, 免除, 清除…)
             r"|(?<![消排废去免清剔拆扣删根破摒革铲切解])除(?=[^,，。;；?？!！]{1,15}?(?:以外|之外|外))")
NEGATION_WORD = re.compile(_NEGATORS)
# an aside in brackets after the negation ("不属于甲、乙的那几家（丙、丁）") is not negated
NEGATION = re.compile(f"(?:{_NEGATORS})([^,，。;；?？!！(（]*?)(?:以外|之外|外|[(（)）,，。;；?？!！]|$)")
TITLE_KEY = 4  # a title shorter than this is no evidence that the question names it
# "以<Z>为题": Z is in the title; not the 题 of a word (难题为牵引, 问题为导向, 主题为)
TITLE_CUE = re.compile(r"题目|标题|(?<![难问主议课专话试考命])(?:题为|题名)|为题")
_SPEAKING = frozenset("谈讲说提写聊")
_DOCUMENTS = re.compile(r"(?:^|(?<=[么些份篇批的了交写报送\s，,。？?！!、]))材料")
_AS_TITLE = re.compile(r"(?<![难问主议课专话试考命])(?:题为|为题)")
ELLIPSIS_CUE = re.compile(r"^(那|那么|还有|再|又|另外)|呢[?？。!！]*$"
                          # "<proposer>对同一话题怎么看": the previous question's topic, asked of them
                          r"|同一(?:个)?(?:话题|问题|方面|主题|领域|件事)|同样的(?:话题|问题|事)")
PLURAL_CUE = re.compile(r"哪些|都有|都有谁|分别|各自|各|几份|几篇|哪几|哪[两三四五六七八九十]|还有谁|还有哪些|所有|全部|一共"
                        r"|都[^，,。;；？?！!]{0,8}?(?:谁|哪)")  # "都写在谁的发言里": who all
DETAIL_CUE = re.compile(r"哪些|哪几|具体|包括|分别|什么样|怎么|怎样|如何|措施|举措|办法|做法|对策|哪[两三四五六]")
PRONOUN_CUE = re.compile(r"他们|它们|他|她|它|该单位|这个单位|这家|这篇|那篇|里面|其中|上述|前面|这份|该建议|这个建议|这条"
                         r"|在此基础上|据此|对此|为此"  # 此: what was just said
                         # "这个县", "该委员会", "这位委员": a demonstrative and a kind of proposer
                         r"|(?:这|那|该)(?:个|位|家)?(?:县|区|市|镇|委员会|专委会|党派|界别|界别组|团体|委员)")
OTHERS_CUE = re.compile(r"还有谁|还有哪些单位|别的单位|其他单位|其它单位|还有别的单位|还有哪个")
# who made this one together with them ("这篇还有谁一起署名", "这份是和谁联名的"): its proposers, not others
CO_AUTHOR_CUE = re.compile(r"(?:这|那|该)(?:篇|份|个|条|件)|它")
CO_AUTHOR_WORD = re.compile(r"一起|共同|联名|合写|合作|单独|独自|署名")
# what may follow the verb of a question's frame ("…提过建议吗", "…说了什么"): no topic
_FRAME_TAIL = r"(?:过|了|到|及|出|起|建议|意见|主张|什么|哪些|吗|没有|没|呢|的)*[?？。!！]*$"
# "…有没有提到<Z>", "…提到<Z>了吗": Z is what is asked; the rest only says where to look
FOCUS_CUE = (
             # the topic first: "<Z>方面，哪家提了建议", "<Z>，有哪个单位提过吗" (a 这/那 in the second
             # clause points back at a claim, "…，有人这么主张吗", which a proposal may word otherwise)
             re.compile(r"^(?P<z>[^,，。;；?？!！—]{2,30}?)(?:方面|这块|这一块|领域)[,，]\s*[^这那,，。;；]{0,14}?"
                        r"(?:提|建议|说|谈|讲|涉及|写)" + _FRAME_TAIL),
             # (TOPIC_FIRST: only when the first clause names a topic, see QuestionParser._claim)
             re.compile(r"^(?P<z>[^,，。;；?？!！—]{2,30}?)[,，]\s*[^这那,，。;；]{0,20}?(?:有没有|有无|是否有|是否|有)(?:人|谁|哪)?[^这那,，。;；]{0,10}?"
                        r"(?:提|建议|说|谈|讲|涉及|写)" + _FRAME_TAIL),
             re.compile(r"(?:有没有|是否|有无)人?(?:提到|提及|说到|谈到|讲到|涉及|写到|建议|提议|主张|关于|提|说|谈|讲)过?了?"
                        r"(?P<z>[^,，。;；?？!！]{2,30}?)(?:的?(?:内容|问题|事|话题))?[?？。!！]*$"),
             re.compile(r"(?:提到|提及|说到|谈到|讲到|涉及|写到)了?(?P<z>[^,，。;；?？!！]{2,30}?)(?:(?:了|没有)?吗|没有|没)[?？。!！]*$"),
             # "是否有人就<Z>作了发言": a speech on Z
             re.compile(r"有(?:没有)?(?:委员|人|谁)?(?:就|围绕|针对)(?P<z>[^,，。;；?？!！]{2,30}?)(?:问题|方面)?(?:作|做)?了?"
                        r"(?:发言|建言)(?:吗|没有|了吗)?[?？。!！]*$"),
             # "提没提<Z>", "说没说到<Z>"
             re.compile(r"(?:提没提|说没说|讲没讲|谈没谈|写没写)(?:到|及)?(?P<z>[^,，。;；?？!！]{2,30}?)[?？。!！]*$"),
             # "有人谈<Z>吗", "有人提过<Z>吗" (not 提议/建议: a proposal's wording may differ from the question's)
             re.compile(r"有人(?:提过|谈过|讲过|说过|谈|讲)了?(?P<z>[^,，。;；?？!！]{2,30}?)(?:的?(?:内容|问题|事|话题))?吗[?？。!！]*$"))
SCOPED_FOCUS_CUE = (re.compile(r"(?:对|关于|就)(?P<z>[^,，。;；?？!！]{2,30}?)(?:有(?:什么|哪些|何)|提了|提出了?|是怎么|怎么|如何"
                               r"|的(?:建议|提案|发言|看法|意见|主张))"),
                    # "<a proposer>建议<Z>了吗", "…谈过<Z>吗": did they propose Z
                    re.compile(r"(?:建议|提议|提出|主张|提|谈|讲|说)过?了?(?P<z>[^,，。;；?？!！]{2,30}?)了?吗[?？。!！]*$"))
TOPIC_FIRST = 1
# words that make a clause a claim: modal and function words a topic's name does not hold
CLAIM_WORDS = frozenset("要 把 让 也 都 能 应 该 别 不 往 给 再 更 想 将 可以 需要 应该 应当 能够 希望 必须".split())
# "<a type>以外的…": an exclusion without 除了
NEGATION_AFTER = re.compile(r"(?<![除了去])([\u4e00-\u9fff()（）]{2,12}?)(?:以外|之外)的")
# an aside that leaves something out with the negator after it ("（县级市不算）", "(甲除外)")
NEGATION_ASIDE = re.compile(r"[(（]([^()（）]{1,20}?)(?:不算|除外|不计|不算在内|不包括在内|不计在内)[)）]")
# asks whether some proposal exists ("有没有人建议…", "…的发言吗"): about proposals, not the introduction
EXISTENCE_CUE = re.compile(r"有没有|有无|是否有|有人|谁|哪|吗[?？。!！\s]*$")
# asks for a different proposal, not for more of the one just cited ("还提了什么" may be either)
OTHER_PROPOSAL_CUE = re.compile(r"别的|其他|其它|另外|另一")
ANOTHER_PROPOSAL_CUE = re.compile(r"别的建议|其他建议|其它建议|还提了|另外.{0,4}建议|还有.{0,4}建议"
                                  # "又写了哪一份", "还报送了什么": one more from the same proposer
                                  r"|(?:另外|还|又)(?:提交|报送|提|交|写|报|递)了?(?:哪|几|什么|别的|其他|其它)")
# asks for one more proposal than those just cited ("还有哪篇…也有", "另一篇"): those are left out
OTHER_DOC_CUE = re.compile(r"还有(?:哪|一)(?:篇|份|几篇|几份)|还有哪些(?:报告|建议|发言|提案)|另(?:一|外一)(?:篇|份)")
# the words quoted are the text's ("“…”这句话", "正文里"), even when they read like a title
TEXT_QUOTE_CUE = re.compile(r"这句|这段|这话|原话|原文|正文|句子")
SAME_TITLE_CUE = re.compile(r"(一样|相同|同样|同名).{0,4}(题目|标题)|(题目|标题).{0,4}(一样|相同|同样)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_TAG = re.compile(r"<[^>]{0,200}>")
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.I | re.S)


def clean_question(text: str, max_chars: int) -> str:
    """Normalize what a user typed or pasted; raise a clear message for what we can't take."""
    if text is None or not str(text).strip():
        raise AssistantError("请输入问题。")
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub("", text)
    text = _SCRIPT.sub(" ", text)  # pasted HTML: code and styles are not words
    text = _TAG.sub(" ", text)     # keep the words, drop the markup
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise AssistantError("问题里没有可识别的文字。")
    if len(text) > max_chars:
        raise AssistantError(f"问题太长 ({len(text)} 字)，请缩短到 {max_chars} 字以内；查找先例请用“先例查找”。")
    return text


@dataclass(frozen=True)
class Query:
    """What a question asks, resolved against the conversation: the text retrieval sees, its
    scope (with the words each part came from) and the follow-up constraints."""
    question: str                   # as the user typed it (cleaned)
    text: str                       # what retrieval sees
    proposers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    restrict: tuple[str, ...] = ()  # only these proposal ids (follow-ups: "其中…")
    exclude: tuple[str, ...] = ()   # never these proposal ids ("还有谁…", "别的建议")
    exclude_proposers: tuple[str, ...] = ()
    meta: bool = False              # about the meeting itself: answered from its introduction
    titles: tuple[str, ...] = ()    # proposals whose title the question quotes
    title_scope: bool = False       # "题目是讲…的": match the topic against titles only
    meetings: tuple[str, ...] = ()  # meeting labels the question names
    scope_words: tuple[str, ...] = ()
    widened: str = ""               # a scope that matched nothing and was dropped
    intent: str = "what"            # who / what / list / detail / meta / followup
    focus: tuple[str, ...] = ()     # "<X>讲<Y>时有没有提到<Z>": the terms of Z, which an answer must contain
    roles: tuple[str, ...] = ()     # offices asked for ("哪些<office>…"): a proposal qualifies by a member's printed role
    exclude_roles: tuple[str, ...] = ()  # "不是<office>的…"
    absent: tuple[str, ...] = ()    # parties the question names that no proposer of the corpus belongs to
    joint: bool = False             # asks for proposals made by several proposers together
    units: tuple[str, ...] = ()     # party units below the city committee asked beside a type ("基层委员会")


class QuestionParser:
    """Question (+ history) -> Query, using only the corpus's own vocabulary and the grammar's."""

    def __init__(self, index, registry, all_types: Sequence[str]):
        self.index, self.registry, self.all_types = index, registry, tuple(all_types)
        self.analyzer = index.analyzer
        self.proposals = list(index.proposals.values())
        self.answerable = [p for p in self.proposals if p.kind != "intro"]
        self.names = ProposerWords.from_registry(registry)
        self.parties = frozenset(x for n in registry.names for x in parties_in(n))
        self.meeting_words = MeetingWords.from_documents(index.documents.values())
        # where the corpus's meetings and proposers are: a CPPCC of another place is not in it
        self._places = frozenset(w for w in [*(w for v in self.meeting_words.by_meeting.values() for w in v["place"]),
                                             *map(place_of, registry.names)] if w)
        self._common = self._boilerplate()
        self.generic = question_words() | set(self.meeting_words.all_words()) | self._common
        self._corpus_text = None
        # multi-word framing ("优秀提案", "基层委员会") goes before segmentation splits it
        self._framing = sorted((w for w in question_words() if len(w) >= 3), key=len, reverse=True)
        places = sorted({w for v in self.meeting_words.by_meeting.values() for w in v["place"] if len(w) > 1},
                        key=len, reverse=True)
        self._parent_place = re.compile(f"[\u4e00-\u9fff]{{1,5}}?(?:{PARENT_PLACE})(?={'|'.join(map(re.escape, places))})") \
            if places else None
        # titles by their first 4 characters: a question is matched against the titles that can
        # start at each of its positions, not against every title (archives hold 100k of them)
        self._titles: dict[str, list[tuple[str, str]]] = {}
        self._title_rank: dict[str, int] = {}
        for t in dict.fromkeys(p.title for p in self.answerable):
            squeezed = re.sub(r"\s", "", t)
            if len(squeezed) >= TITLE_KEY:
                self._titles.setdefault(squeezed[:TITLE_KEY], []).append((squeezed, t))
                self._title_rank[t] = len(self._title_rank)

    def _boilerplate(self, share: float = 0.5, min_docs: int = 6) -> set:
        """Words that most proposals share (the city's name, 建议, 政协 …) say nothing about a
        topic: found by document frequency over this corpus, not listed by hand."""
        props = [p for p in self.answerable if p.kind == "proposal"]
        if len(props) < min_docs:
            return set()
        df: dict[str, int] = {}
        for p in props:
            for w in set(self.analyzer(p.title + " " + p.text)):
                df[w] = df.get(w, 0) + 1
        return {w for w, n in df.items() if n / len(props) > share}


    def _glued(self, low: str, a: int, b: int, all_spans) -> str:
        """A term with the words the corpus prints it with: a word most proposals share, or a
        lone character, next to it is part of one name when the corpus has them together
        (某某+科技+城 is the name of a place, not 某某 alone; 科技 is in every proposal of a
        corpus on science). Only what the corpus prints is glued, so nothing is invented.
        Dev, all spent splits: home multi-proposer precision up on 10 of 14 splits (e.g. 0.812 ->
        0.856), recall down on one (0.980 -> 0.961), other cities unchanged."""
        def glue(i: int, j: int) -> bool:
            if self._corpus_text is None:
                self._corpus_text = "\n".join((p.title + "\n" + p.text).lower() for p in self.answerable)
            return low[i:j] in self._corpus_text
        # longest first: the whole of a word the corpus shares before its pieces
        common = sorted(((a2, b2) for w, a2, b2 in all_spans if w in self._common or (len(w) == 1 and _content_char(w))),
                        key=lambda s: s[0] - s[1])
        grown = True
        while grown:
            grown = False
            for a2, b2 in common:
                if a2 == b and glue(a, b2):
                    b, grown = b2, True
                    break
                if b2 == a and glue(a2, b):
                    a, grown = a2, True
                    break
        return low[a:b]

    def _claim(self, text: str) -> bool:
        """A clause that states something ("…也要动手改造"), not a topic named ("…的培养"): a
        proposal may word a claim otherwise, so it is no focus that must occur whole."""
        return any(w in CLAIM_WORDS for w, _, _ in self.analyzer.spans(text))

    def topic_terms(self, text: str) -> list[str]:
        """Content words of a question: no scaffolding, no proposer names, no type words.
        Quoted phrases (“全社会研发投入”) are kept whole, as exact phrases."""
        # a quoted pattern with a placeholder ("某某界", "关于某某的建议") names a kind, not a phrase
        # and one that only names a kind of proposer (以“总支部”落款的) is scope, not topic
        phrases = [m.group(1).strip().lower() for m in _QUOTED.finditer(text) if "某" not in m.group(1)
                   and m.group(1).strip() not in knowledge()["party_sub_units"] and strip_type_words(m.group(1)).strip()]
        text = _QUOTED.sub(" ", text)
        if self._parent_place is not None:
            # the province or city a district's or county's meeting belongs to ("某市某区政协…")
            text = self._parent_place.sub(" ", text)
        text = COUNTED.sub(" ", ORDINAL.sub(" ", strip_type_words(self.names.strip(text))))
        text = JOINT_CUE.sub(" ", NEGATION_WORD.sub(" ", text))
        for w in self._framing:
            text = text.replace(w, " ")
        # "以人才为题": the title cue goes before segmentation, or jieba reads 题写, 题为…
        text = _AS_TITLE.sub(" ", text)
        # "哪份材料", "交的材料": the documents themselves, not a topic (新材料, 耐火材料 are)
        text = _DOCUMENTS.sub(" ", text)
        for w in self.meeting_words.all_words():
            text = text.replace(w, " ")
        # what is left of "某市委" once the place is gone is a unit word, not a topic
        text = _UNIT_LEFTOVER.sub(" ", text)
        # Without HMM, jieba invents no words from leftovers ("界别组提了" -> 组提); single
        # characters are nearly all function words in a question (里/过/让/给…).
        all_spans = self.analyzer.spans(text)
        joined = _rejoined(all_spans)
        handed = [(a, b) for w, a, b in all_spans if _DIRECTIONAL.fullmatch(w)]
        spans = [(w, a, b) for w, a, b in all_spans if len(w) > 1 and w not in self.generic
                 and not _joined_kind().fullmatch(w) and not any(a2 <= a and b <= b2 for a2, b2 in handed)
                 and not ASKING_CHARS & set(w) and not _function_word(w)]
        # A word jieba doesn't know (碳达峰) comes out as single characters: keep such runs whole.
        low = text.lower()
        covered = [False] * len(low)
        for w, a, b in all_spans:
            if len(w) > 1:
                covered[a:b] = [True] * (b - a)
        run_start = None
        for i in range(len(low) + 1):
            free = i < len(low) and not covered[i] and (_content_char(low[i]) or i in joined)
            if free and run_start is None:
                run_start = i
            elif not free and run_start is not None:
                if i - run_start >= 3 and low[run_start] in _SPEAKING:
                    run_start += 1  # "有谈碳达峰的吗": the verb before an unknown word is no part of it
                if i - run_start >= 2 and low[run_start:i] not in self.generic:
                    spans.append((low[run_start:i], run_start, i))
                elif _modifier(low[run_start]):
                    # a lone noun or adjective morpheme before a word (夜+经济, 云+服务) narrows it:
                    # the compound is the topic, not its head (a corpus about 经济 says nothing of 夜经济)
                    spans = [(low[run_start:b], run_start, b) if a == i else (w, a, b) for w, a, b in spans]
                run_start = None
        # jieba's search mode also yields the pieces of a compound (新型研发机构 -> 新型, 研发, 机构);
        # only the longest form counts, or a text with 创新型 + 研发 + 机构 would "cover" it.
        kept = [(w, a, b) for w, a, b in spans if not any((a2 <= a and b <= b2) and (b2 - a2) > (b - a) for _, a2, b2 in spans)]
        terms = [self._glued(low, a, b, all_spans) for w, a, b in kept]
        phrases = [p for p in phrases if p]
        # “全社会研发投入”: a quoted phrase is what is asked about; the rest is scaffolding
        return list(dict.fromkeys(phrases)) if phrases else list(dict.fromkeys(terms))

    def parse(self, question: str, history: Sequence = ()) -> Query:
        negated = " ".join([m.group(1) for m in NEGATION.finditer(question)]
                           + [m.group(1) for m in NEGATION_AFTER.finditer(question)]
                           + [m.group(1) for m in NEGATION_ASIDE.finditer(question)])
        positive = NEGATION_AFTER.sub(" 的", NEGATION.sub(" ", NEGATION_ASIDE.sub("", question)))
        mentioned = self.names.mentioned(positive)
        meetings, meeting_words = self.meeting_words.match(question)
        bare = self.names.strip(positive)
        for w in meeting_words:  # "某区政协N届M次会议" names a meeting, not the 区县 type
            bare = bare.replace(w, " ")
        types, type_words, inside = type_scope(bare)
        people = self.names.mentioned(question)
        roles, role_words = role_scope(positive, people)
        exclude_roles = tuple(r for r in role_scope(negated, people, anywhere=True)[0] if r not in roles)
        if inside and not types and not self.topic_terms(positive):
            # "which speeches came from <a type>": the type is all there is to ask about
            types = inside
            type_words = words_of_types(inside, bare)
        # a type named in the negation is excluded, unless the question also asks for part of it
        # (a proposer named there is left out, not their type: "除了某区政协" leaves other 区政协)
        neg_asked, _, neg_inside = type_scope(self.names.strip(negated))
        part = tuple(t for t in dict.fromkeys(neg_asked + neg_inside) if t in inside)
        if part and not types:
            # "<a type>（不算<some of that type>）": the rest of that type is asked for
            types = part
            type_words = words_of_types(part, bare)
        excluded = tuple(t for t in neg_asked + neg_inside if t not in types)
        if excluded and not types:
            # "除了<a type>以外，还有…": every other type; types also named ("不属于甲的那几家（乙、丙）")
            # are the ones meant
            types = tuple(t for t in self.all_types if t not in excluded)
        # "哪些党派的总支部…": the unit narrows the type to the proposers that are such units
        units = tuple(u for u in knowledge()["party_sub_units"] if u in positive) if "民主党派" in types else ()
        if not units and LOCAL in types and not _local_units_mixed().search(positive):
            # "哪些县级市政协…", "市辖区的政协": the kind of place narrows the type ("区县和县级市"
            # names several kinds at once: the whole type)
            units = tuple(n for rx, names in _local_units() if rx.search(positive) for n in names)
        if not units and LOCAL in types and negated.strip():
            # "区县政协（不算县级市）": the kinds left out leave the others
            kinds_out = {n for rx, names in _local_units() if rx.search(negated) for n in names}
            if kinds_out:
                units = tuple(n for _, names in _local_units() for n in names if n not in kinds_out)
        q = dict(question=question, text=question, proposers=mentioned, types=types, meetings=meetings, units=units,
                 roles=roles, exclude_roles=exclude_roles, joint=bool(JOINT_CUE.search(positive)),
                 scope_words=tuple(dict.fromkeys(type_words + role_words + meeting_words)))
        # "除了<a proposer>，还有谁…": the one left out is not an answer
        named_out = tuple(n for n in self.names.mentioned(negated) if n not in mentioned) if negated.strip() else ()
        if named_out:
            q["exclude_proposers"] = named_out
        terms = self.topic_terms(question)
        # a cue whose Z holds no topic word ("<the meeting>中，有没有…") names no focus: the next may
        focus = next((z for i, rx in enumerate(FOCUS_CUE) if (m := rx.search(question))
                      and (i != TOPIC_FIRST or not self._claim(m.group("z"))) and (z := self.topic_terms(m.group("z")))), [])
        if not focus and (mentioned or types):
            # "<a proposer>对<Z>有什么建议": their proposals are the place, Z is what is asked
            focus = next((z for rx in SCOPED_FOCUS_CUE if (m := rx.search(question))
                          and (z := self.topic_terms(m.group("z")))), [])
        q["focus"] = tuple(focus)
        q["titles"] = self._quoted_titles(question)
        if q["titles"] and PLURAL_CUE.search(question) and not TITLE_CUE.search(question):
            q["titles"] = ()  # "which proposals call for <a title>": the title is the topic, not the target
        q["title_scope"] = bool(TITLE_CUE.search(question)) and not q["titles"]
        q["meta"] = (not mentioned and not types and not roles and not q["titles"]
                     and (not terms and bool(META_CUE.search(question) or META_COUNT_CUE.search(question))
                          or bool(INTRO_CUE.search(positive))  # "（导语不算）" leaves it out
                          or bool(META_SET_CUE.search(question)) and not PROPOSAL_ASK.search(question)
                          # which meeting this one was: its introduction says, whatever its theme's words
                          or bool(THIS_MEETING.search(question)) and bool(MEETING_ASK.search(question))
                          and not PROPOSAL_ASK.search(question))
                     and any(p.kind == "intro" and (not meetings or p.meeting in meetings) for p in self.proposals))
        elsewhere = self._other_place(positive)
        if elsewhere:  # answered from the whole corpus, and the answer says so (as any empty scope)
            q["widened"] = elsewhere
        absent = tuple(x for x in parties_in(positive) if x not in self.parties)
        if absent and not mentioned:
            # a party the corpus holds nothing from: that is the answer, whatever came before
            return Query(**q, absent=absent, intent=_intent(q, terms))
        q["absent"] = absent
        if not history:
            return Query(**q, intent=_intent(q, terms))
        prev = history[-1]
        pctx = prev.answer.context if prev.answer is not None else {}
        prev_query = pctx.get("query") or prev.question
        prev_props = tuple(pctx.get("proposers") or self.names.mentioned(prev.question))
        q["meetings"] = q["meetings"] or tuple(pctx.get("meetings") or ())
        prev_ids = tuple(pctx.get("proposal_ids") or ())
        elliptic = bool(ELLIPSIS_CUE.search(question.strip()))
        pronoun = bool(PRONOUN_CUE.search(bare))
        if mentioned and pronoun:
            # "how does it differ from <someone>'s?": the one we were talking about, and the one named now
            q["proposers"] = tuple(dict.fromkeys(prev_props + mentioned))
        elif mentioned and not terms and elliptic:
            # "那民盟呢?": the previous question, asked of someone else
            q["text"] = f"{question} {self.names.strip(prev_query, keep=mentioned)}"
            q["titles"] = ()
        elif not mentioned:
            nth = _ordinal(ORDINAL_REF.search(question))
            if nth and prev_ids and nth <= len(prev_ids):
                q["restrict"] = (prev_ids[nth - 1],)
            elif SAME_TITLE_CUE.search(question) and prev_ids:
                q["titles"] = tuple(dict.fromkeys(self.index.proposals[i].title for i in prev_ids))
                q["exclude"] = prev_ids
            elif CO_AUTHOR_CUE.search(question) and CO_AUTHOR_WORD.search(question) and prev_ids:
                q["restrict"] = prev_ids
            elif OTHERS_CUE.search(question):
                q["exclude_proposers"] = tuple(dict.fromkeys(named_out + prev_props))
            elif "其中" in question and prev_ids:
                q["restrict"] = prev_ids
            elif OTHER_DOC_CUE.search(question) and prev_ids:
                pass  # another proposal, whoever made it: the ones just cited are excluded below
            elif pronoun or ANOTHER_PROPOSAL_CUE.search(question) or (elliptic and not types):
                q["proposers"] = prev_props
                if prev_props:
                    q["meta"] = False  # "他们报了多少份": counted among their proposals, not the meeting's
                if not prev_props and prev_ids:
                    q["restrict"] = prev_ids
                # "他们总共报了多少份": every proposal of theirs is counted, not the ones on the last topic
                if not terms and not ANOTHER_PROPOSAL_CUE.search(question) and not (
                        prev_props and META_COUNT_CUE.search(question)):
                    q["text"] = f"{question} {prev_query}"
            elif not terms and not types and not q["titles"] and not q["roles"] and not q["meta"] and prev_ids and not elliptic:
                # nothing of its own ("里面都说了什么办法?"): asked of what was just cited
                q["restrict"] = prev_ids
                q["text"] = f"{question} {prev_query}"
            if (ANOTHER_PROPOSAL_CUE.search(question) or OTHER_DOC_CUE.search(question)) and prev_ids:
                q["exclude"] = prev_ids
        return Query(**q, intent="followup")

    def _other_place(self, text: str) -> str:
        """"<place>政协" naming a place that none of the corpus's meetings or proposers names.
        The place is the shortest run before 政协 that ends in a level word and could be a name
        (a one-character 某县 only when the corpus knows it)."""
        for m in PLACE_CPPCC.finditer(text):
            before = text[: m.start(1) + len(m.group(1))]
            for n in range(2, min(len(before), PLACE_MAX) + 1):
                place = before[-n:]
                if not PLACE_END.search(place):
                    continue
                if place in self._places or len(place) >= 3 and any(k.endswith(place) for k in self._places):
                    break  # a place the corpus holds (某区 of 某市某区; a stem of 某某回族区 below)
                stem = PLACE_END.sub("", place)
                if len(stem) < 2:
                    continue
                if (stem[0] in PLACE_NOT_NAMED or set(stem) & PLACE_NOISE or any(k.startswith(stem) for k in self._places)
                        or re.search(r"区县|县区|县市|市县|县级|市区", place)):
                    break  # 本市政协, 各区县政协, 县级市政协: a level or a set, not a place
                return f"{place}政协"
        return ""

    def _quoted_titles(self, question: str) -> tuple[str, ...]:
        # a phrase quoted in “…” that only contains a title ("“<title>力度”") quotes the text, not the title
        quotes = [re.sub(r"\s", "", m.group(1)) for m in _QUOTED.finditer(question)]
        squeezed = re.sub(r"[\s《》“”\"'「」]", "", question)
        text_quote = bool(TEXT_QUOTE_CUE.search(question)) and not TITLE_CUE.search(question)
        found = {t for i in range(len(squeezed)) for sq, t in self._titles.get(squeezed[i:i + TITLE_KEY], ())
                 if squeezed.startswith(sq, i) and not any(sq in x and (sq != x or text_quote) for x in quotes)}
        return tuple(sorted(found, key=self._title_rank.__getitem__))


def _ordinal(m) -> int:
    """1 for "第一篇", 12 for "第十二篇", 0 for no match."""
    if not m:
        return 0
    t = m.group(1)
    if t.isdigit():
        return int(t)
    if "十" in t:
        a, _, b = t.partition("十")
        return _NUMERALS.get(a, 1) * 10 + _NUMERALS.get(b, 0)
    return _NUMERALS.get(t, 0) if len(t) == 1 else 0


def _intent(q: dict, terms) -> str:
    if q.get("meta"):
        return "meta"
    if DETAIL_CUE.search(q["question"]) and terms:
        return "detail"
    if not terms:
        return "list"
    if re.search(r"谁|哪个|哪家|哪位|哪些单位|哪些委员", q["question"]):
        return "who"
    return "what"
