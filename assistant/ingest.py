"""corpus/ -> Documents and Proposals.

Layout: `proposals/*.txt|md` are proposal collections (a page with `### <title> <proposer(s)>`
sections), `policies/*` are related policy texts (.txt .md .docx .pdf), `proposers.json` is the
proposer registry. Normalization only ever deletes characters (page-break gaps, reporter
bylines), so every normalized offset maps back to the raw file (`Document.to_raw`).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import AssistantError
from .formats import is_key_line
from .meeting import parse_meeting
from .proposers import (MEMBER, OTHER, ProposerRef, find_inline, find_org_of, find_speaker, mark_speakers, parse_proposers, placed,
                        short_names, split_heading)
from .proposers import knowledge_sha256
from .proposers import types as proposer_types
from .records import Document, Proposal
from .util import strip_span

NORMALIZATION_VERSION = 9  # 2: layouts (formats.py), proposer grammar, meetings; 3: members with titles;
# 4: a header line ends its paragraph, 【proposer】 digests, bracketed and listed proposers;
# 5: a speaker named only in the item's text; 6: a proposer opening the text after a numbered title,
# a member's CPPCC office printed first, the headline's or file name's meeting; 7: "无" names nobody,
# the organisation a member named alone spoke for; 8: the items of numbered parts ("一、大会发言");
# 9: a catalogue whose rows name several meetings gives each row its own
TEXT_SUFFIXES = {".txt", ".md", ".csv"}
POLICY_SUFFIXES = {".txt", ".md", ".docx", ".pdf"}
PROPOSAL_SUFFIXES = POLICY_SUFFIXES | {".csv", ".xlsx"}
# A paragraph ending in one of these ends a sentence; anything else before a blank line is a
# page break that split a word (`增强自` / `主创新能力`).
_TERMINAL = set("。！？；：…”’」』）)!?;:.")
MIN_BROKEN_PARAGRAPH = 40
_BYLINE = re.compile(r"^(?:[\u4e00-\u9fff]{0,10}记者|通讯员)[\s\S]{0,30}?(?:整理|报道|采写|摄)$")
_PARA = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Registry:
    """Optional `proposers.json`: aliases and type overrides on top of the proposer grammar.
    Without the file the registry is empty and the grammar alone places every proposer; it
    grows with every proposer the corpus names (see `Corpus.registry`)."""
    types: tuple[str, ...]
    names: dict            # canonical name -> type
    aliases: dict          # alias or canonical -> canonical
    sha256: str = ""

    @classmethod
    def load(cls, path: Path) -> "Registry":
        if not path.is_file():
            return cls(proposer_types(), {}, {}, "")
        try:
            raw = path.read_bytes()
            data = json.loads(raw.decode("utf-8"))
            names = {p["name"]: p["type"] for p in data["proposers"]}
            aliases = {}
            for p in data["proposers"]:
                for a in [p["name"], *p.get("aliases", [])]:
                    aliases[a] = p["name"]
        except (ValueError, KeyError, TypeError) as e:
            raise AssistantError(f"提案者名录 {path} 格式有误: {e}", hint="它是可选的: 删除它则按通用规则识别提出者。")
        return cls(tuple(dict.fromkeys([*proposer_types(), *data.get("types", [])])), names, aliases,
                   hashlib.sha256(raw).hexdigest())

    def with_corpus(self, proposals) -> "Registry":
        """This registry plus every proposer the corpus names, typed by the grammar, with the
        short forms a user types (民盟 for 民盟某市委) as aliases where they are unambiguous."""
        names, aliases = dict(self.names), dict(self.aliases)
        shorts: dict = {}
        for p in proposals:
            for who, typ in zip(p.proposers, p.proposer_types or (p.proposer_type,) * len(p.proposers)):
                if who not in names:
                    names[who] = typ
                aliases.setdefault(who, who)
                for s in short_names(who):
                    shorts.setdefault(s, set()).add(who)
        for s, whos in shorts.items():
            if len(whos) == 1 and s not in aliases:
                aliases[s] = next(iter(whos))
        return Registry(self.types, names, aliases, self.sha256)

    def known(self) -> dict:
        """alias -> (canonical, type), for splitting headings."""
        return {a: (c, self.names.get(c, "")) for a, c in self.aliases.items()}

    def canonical(self, name: str) -> str | None:
        return self.aliases.get(name.strip())

    def type_of(self, name: str) -> str:
        return self.names.get(name, "")

    def split_heading(self, heading: str) -> tuple[str, tuple[str, ...]]:
        title, refs = split_heading(heading, self.known())
        return title, tuple(r.name for r in refs)

    def mentioned(self, text: str) -> list[str]:
        """Canonical proposers named anywhere in `text` (longest alias wins, no double counting)."""
        out, taken = [], [False] * len(text)
        for k in self._by_length():
            start = text.find(k)
            while start >= 0:
                end = start + len(k)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(k)
                    if (c := self.aliases[k]) not in out:
                        out.append(c)
                start = text.find(k, end)
        return out

    def _by_length(self) -> list[str]:
        # computed once per registry: an archive has thousands of names and every question scans them
        cached = self.__dict__.get("_sorted_aliases")
        if cached is None:
            cached = [k for k in sorted(self.aliases, key=len, reverse=True) if len(k) >= 2]
            object.__setattr__(self, "_sorted_aliases", cached)
        return cached


# ----------------------------------------------------------------------------- reading
def read_text(path: Path) -> str:
    """Decode a corpus file to text; raises AssistantError naming the file if it can't."""
    suffix = path.suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            data = path.read_bytes()
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    text = data.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise AssistantError(f"{path.name}: 既不是 UTF-8 也不是 GB18030/GBK 编码，已跳过。")
        elif suffix == ".docx":
            import docx  # python-docx
            text = "\n\n".join(p.text for p in docx.Document(str(path)).paragraphs if p.text.strip())
        elif suffix == ".pdf":
            import pypdf
            reader = pypdf.PdfReader(str(path))
            text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
        else:
            raise AssistantError(f"{path.name}: 不支持的文件类型 {suffix}，已跳过。")
    except AssistantError:
        raise
    except Exception as e:  # a broken docx/pdf must not stop the rest of the corpus
        raise AssistantError(f"{path.name}: 无法读取 ({type(e).__name__}: {e})，已跳过。")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise AssistantError(f"{path.name}: 文件没有可读的文字，已跳过。")
    return text


# ----------------------------------------------------------------------------- normalizing
def normalize(raw: str) -> tuple[str, tuple, dict]:
    """Join page-break splits and lift reporter bylines out; return (text, segments, meta)."""
    paras = [(m.start(), m.end()) for m in _PARA.finditer(raw)]
    deletions, meta = [], {}
    for i, (s, e) in enumerate(paras):
        body = raw[s:e].strip()
        if _BYLINE.match(body) and not body.startswith("#"):
            meta.setdefault("bylines", []).append(body)
            prev_end = paras[i - 1][1] if i else s
            deletions.append((prev_end, e))  # the byline and the gap before it
            continue
        if i + 1 < len(paras):
            ns, ne = paras[i + 1]
            nxt = raw[ns:ne]
            # Short lines (titles, list items) are never page-broken body text.
            if (not body.startswith("#") and not nxt.startswith("#") and len(body) >= MIN_BROKEN_PARAGRAPH
                    and not is_key_line(body.rsplit("\n", 1)[-1])
                    and body[-1] not in _TERMINAL and (_CJK.match(body[-1]) or body[-1] in "，,、")
                    and _CJK.match(nxt[0])
                    and not _BYLINE.match(nxt.strip())):
                deletions.append((e, ns))
    segments, text_parts, pos, npos = [], [], 0, 0
    for ds, de in sorted(deletions):
        if ds > pos:
            segments.append((npos, pos, ds - pos))
            text_parts.append(raw[pos:ds])
            npos += ds - pos
        pos = max(pos, de)
    if pos < len(raw):
        segments.append((npos, pos, len(raw) - pos))
        text_parts.append(raw[pos:])
    meta["page_breaks_joined"] = sum(1 for ds, de in deletions if raw[ds:de].strip() == "")
    return "".join(text_parts), tuple(segments), meta


def _refs_for(item, registry: Registry, known: dict, body: str) -> tuple[str, tuple]:
    """(title from the heading or "", proposers) of one parsed item: heading, proposer/speaker/
    cosigner fields, or the body. `known` is registry.known(), made once per file."""
    title = ""
    if item.heading:
        title, refs = split_heading(item.heading, known)
        if not refs:  # a heading that is all title: its text may name who spoke
            refs = find_inline(body)
    else:
        refs = parse_proposers(item.proposer_text, bare_names=True)
        speakers = parse_proposers(item.speaker_text, member_field=True)
        cosign = parse_proposers(item.cosigners_text, member_field=True)
        refs = mark_speakers(refs + tuple(r for r in speakers if r.name not in {x.name for x in refs})) + cosign
        if not refs:
            refs = find_inline(body)
    if refs and all(r.type != MEMBER for r in refs) and (who := find_speaker(body, refs)) is not None:
        refs = mark_speakers(refs + (who,))  # the heading names the organisation, the text its speaker
    elif len(refs) == 1 and refs[0].type == MEMBER and (org := find_org_of(body, refs[0].name)):
        refs = mark_speakers(org + refs)  # the heading names the member, the text whom they spoke for
    out = []
    for r in refs:  # the registry's aliases and types win over the grammar's
        canon = registry.canonical(r.name) or registry.canonical(r.printed) or r.name
        out.append(ProposerRef(canon, registry.type_of(canon) or r.type, r.printed, r.speaker, r.role))
    return title, tuple({r.name: r for r in out}.values())


def _fallback_title(text: str, limit: int = 30) -> str:
    first = re.split(r"[。！？；;!?\n]", text.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[:limit] + "…"


def parse_collection(doc_id: str, path: str, raw: str, registry: Registry, *,
                     single_id: bool = False, source: Path | None = None):
    """One proposals file -> (Document, proposals without meeting, problems, meeting inputs).
    `single_id`: a file that holds one item takes the document id as its proposal id."""
    from . import formats
    suffix = Path(path).suffix.lower()
    known = registry.known()
    if suffix == ".csv":
        text, segments, meta = raw, ((0, 0, len(raw)),), {}
        pc = formats.parse_catalogue(path, raw)
    elif suffix == ".xlsx":
        pc = formats.parse_xlsx(path, source)
        text, segments, meta = pc.text, (), {}
    else:
        text, segments, meta = normalize(raw)
        pc = formats.parse_text(path, text, lambda x: x.strip() in known or placed(parse_proposers(x)))
    problems = list(pc.problems)
    title = pc.headline or Path(path).stem
    meta["layout"] = pc.layout
    proposals = []
    intro = ""
    if pc.intro_span:
        s, e = pc.intro_span
        intro = text[s:e]
        proposals.append(Proposal(f"{doc_id}-00", doc_id, "intro", title, (), "", intro, s, e))
    orgs, fields = [], []
    for n, it in enumerate(pc.items, 1):
        s, e = it.span
        body = text[s:e]
        sec_title, refs = _refs_for(it, registry, known, body)
        if it.heading:
            head, _, last = sec_title.rpartition(" ")
            if not refs and head:
                # "### <title> <someone the grammar cannot place>": kept verbatim as 其他, reported below
                sec_title, refs = head.rstrip(), (ProposerRef(last, OTHER, last),)
        else:
            sec_title = it.title or _fallback_title(body)
        if not refs:
            refs = (ProposerRef("未署名", OTHER, ""),)
            problems.append(f"{path} 第 {it.line} 行: “{sec_title}” 没有写明提出者。")
        for r in refs:
            if r.type == OTHER and r.name != "未署名":
                problems.append(f"{path}: 提出者 “{r.name}” 无法归类，按“{OTHER}”处理 (可在 proposers.json 中登记类型)。")
        orgs += [r.name for r in refs if r.type != MEMBER]
        fields.append(it.meeting_text)
        pid = doc_id if single_id and len(pc.items) == 1 else f"{doc_id}-{n:02d}"
        proposals.append(Proposal(pid, doc_id, "proposal", sec_title, tuple(r.name for r in refs), refs[0].type,
                                  body, s, e, tuple(r.type for r in refs), tuple(r.name for r in refs if r.speaker),
                                  "", it.item or f"{n:02d}", tuple(r.role for r in refs)))
    if m := re.search(r"提交了?(\d+)篇", intro):
        meta["report_count"] = int(m.group(1))
    digest = hashlib.sha256(source.read_bytes() if suffix == ".xlsx" else raw.encode()).hexdigest()
    doc = Document(doc_id, path, title, "proposals", text, digest, meta, segments)
    inputs = {"headline": pc.headline, "intro": intro, "fields": fields, "proposers": orgs,
              "years": [_year(it.year_text) for it in pc.items if it.year_text],
              # per proposal: the 会议 / 年份 values of its row and its organisations (a catalogue
              # export may span several meetings)
              "rows": {p.proposal_id: (it.meeting_text, _year(it.year_text), list(p.proposers))
                       for p, it in zip([p for p in proposals if p.kind == "proposal"], pc.items)}}
    return doc, proposals, problems, inputs


def _year(text: str) -> str:
    """A 年份 column's value: a bare "2023" is a year there."""
    t = (text or "").strip()
    return f"{t}年" if re.fullmatch(r"(?:19|20)\d{2}", t) else t


def parse_policy(doc_id: str, path: str, raw: str) -> tuple[Document, list[Proposal]]:
    text, segments, meta = normalize(raw)
    first = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 60 else Path(path).stem
    s, e = strip_span(text, 0, len(text))
    doc = Document(doc_id, path, title, "policy", text, hashlib.sha256(raw.encode()).hexdigest(), meta, segments)
    return doc, [Proposal(doc_id, doc_id, "policy", title, (), "", text[s:e], s, e)]


# ----------------------------------------------------------------------------- corpus
@dataclass
class Corpus:
    root: Path
    registry: Registry
    documents: list[Document] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def proposal(self, pid: str) -> Proposal:
        return self._by_id[pid]

    def document(self, doc_id: str) -> Document:
        return next(d for d in self.documents if d.doc_id == doc_id)

    def __post_init__(self):
        self._by_id = {}

    def _add(self, doc: Document, props: list[Proposal]) -> None:
        self.documents.append(doc)
        self.proposals.extend(props)
        self._by_id.update({p.proposal_id: p for p in props})

    @property
    def sha256(self) -> str:
        h = hashlib.sha256(f"norm{NORMALIZATION_VERSION}|{self.registry.sha256}|{knowledge_sha256()}".encode())
        for d in sorted(self.documents, key=lambda d: d.path):
            h.update(f"|{d.path}:{d.raw_sha256}".encode())
        return h.hexdigest()

    @property
    def proposal_count(self) -> int:
        return sum(p.kind == "proposal" for p in self.proposals)


def _slug(base_name: str, taken: set) -> str:
    base = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", base_name).strip("_") or "doc"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def _collection_key(rel_in_sub: Path) -> str:
    """Files in a folder under proposals/ form one collection (a meeting's files, an upload);
    a file directly in proposals/ is a collection by itself."""
    return rel_in_sub.parts[0] if len(rel_in_sub.parts) > 1 else rel_in_sub.as_posix()


def _row_meetings(members) -> dict:
    """proposal id -> Meeting, when the rows of a collection (a catalogue export) name two or more
    meetings in their 会议 column; {} when they name one or none (the collection's meeting holds)."""
    rows = {pid: r for _, _, i in members for pid, r in i.get("rows", {}).items()}
    if len({m for m, _, _ in rows.values() if m}) < 2:
        return {}
    groups: dict[str, list] = {}
    for pid, (m, _, _) in rows.items():
        if m:
            groups.setdefault(m, []).append(pid)
    out = {}
    for text, pids in groups.items():
        meeting = parse_meeting(fields=[text, *(rows[p][1] for p in pids if rows[p][1])],
                                proposers=[o for p in pids for o in rows[p][2]], fallback=text)
        out.update({p: meeting for p in pids})
    return out


def load_corpus(root: Path) -> Corpus:
    root = Path(root)
    if not root.is_dir():
        raise AssistantError(f"语料目录 {root} 不存在。", hint="用 ASSISTANT_CORPUS 指定语料目录。")
    registry = Registry.load(root / "proposers.json")
    corpus = Corpus(root, registry)
    taken: set = set()
    collections: dict[str, list] = {}
    for sub, suffixes in (("proposals", PROPOSAL_SUFFIXES), ("policies", POLICY_SUFFIXES)):
        folder = root / sub
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if not path.is_file() or any(x.startswith(".") for x in path.relative_to(folder).parts) \
                    or path.name.lower() == "readme.md":
                continue
            rel = path.relative_to(root).as_posix()
            if path.suffix.lower() not in suffixes:
                corpus.problems.append(f"{rel}: 不支持的文件类型，已跳过 (支持 {', '.join(sorted(suffixes))})。")
                continue
            try:
                raw = read_text(path) if path.suffix.lower() != ".xlsx" else ""
                if sub == "proposals":
                    inner = path.relative_to(folder)
                    base = "-".join([*inner.parts[:-1], path.stem])
                    doc, props, probs, inputs = parse_collection(_slug(base, taken), rel, raw, registry,
                                                                 single_id=len(inner.parts) > 1, source=path)
                    corpus.problems.extend(dict.fromkeys(probs))
                    collections.setdefault(_collection_key(inner), []).append((doc, props, inputs))
                    continue
                doc, props = parse_policy("doc-" + _slug(path.stem, taken), rel, raw)
            except AssistantError as e:
                corpus.problems.append(f"{rel}: {e.message.split(': ', 1)[-1]}")
                continue
            except Exception as e:  # a malformed file must not stop the rest of the corpus
                corpus.problems.append(f"{rel}: 无法解析 ({type(e).__name__}: {e})，已跳过。")
                continue
            corpus._add(doc, props)
    for key, members in collections.items():
        meeting = parse_meeting(
            headline=next((i["headline"] for _, _, i in members if i["headline"]), ""),
            intro="\n".join(i["intro"] for _, _, i in members if i["intro"]),
            fields=[f for _, _, i in members for f in [*i["fields"], *i["years"]]],
            proposers=[o for _, _, i in members for o in i["proposers"]],
            fallback=Path(key).stem)
        by_row = _row_meetings(members)
        for doc, props, _ in members:
            doc.meta["meeting"] = meeting.to_dict()
            doc.meta["collection"] = key
            own = {p.proposal_id: by_row[p.proposal_id] for p in props if p.proposal_id in by_row}
            if own:
                doc.meta["meetings"] = list({m.label: m.to_dict() for m in own.values()}.values())
            corpus._add(doc, [replace(p, meeting=(own.get(p.proposal_id) or meeting).label) for p in props])
    seen_other = set()
    corpus.problems = [p for p in corpus.problems if not (p in seen_other or seen_other.add(p))]
    if not corpus.proposals:
        raise AssistantError(f"语料目录 {root} 中没有可用的文本。", hint="把建议汇编放进 proposals/，政策文本放进 policies/。")
    corpus.registry = registry.with_corpus(corpus.proposals)
    return corpus
