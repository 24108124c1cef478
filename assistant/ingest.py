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
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AssistantError
from .records import Document, Proposal

NORMALIZATION_VERSION = 1
TEXT_SUFFIXES = {".txt", ".md"}
POLICY_SUFFIXES = TEXT_SUFFIXES | {".docx", ".pdf"}
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
    types: tuple[str, ...]
    names: dict            # canonical name -> type
    aliases: dict          # alias or canonical -> canonical
    sha256: str = ""

    @classmethod
    def load(cls, path: Path) -> "Registry":
        try:
            raw = path.read_bytes()
            data = json.loads(raw.decode("utf-8"))
            names = {p["name"]: p["type"] for p in data["proposers"]}
            aliases = {}
            for p in data["proposers"]:
                for a in [p["name"], *p.get("aliases", [])]:
                    aliases[a] = p["name"]
        except FileNotFoundError:
            raise AssistantError(f"找不到提案者名录 {path}。", hint="请在语料目录中放置 proposers.json。")
        except (ValueError, KeyError, TypeError) as e:
            raise AssistantError(f"提案者名录 {path} 格式有误: {e}")
        return cls(tuple(data.get("types", sorted(set(names.values())))), names, aliases,
                   hashlib.sha256(raw).hexdigest())

    def canonical(self, name: str) -> str | None:
        return self.aliases.get(name.strip())

    def type_of(self, name: str) -> str:
        return self.names.get(name, "")

    def split_heading(self, heading: str) -> tuple[str, tuple[str, ...]]:
        """'<title> <proposer> [<proposer>…]' -> (title, canonical proposers), matched from the end
        against the registry because a proposer may itself contain a space (`郑州市政协常委 刘忠明`)."""
        rest, found = heading.strip(), []
        keys = sorted(self.aliases, key=len, reverse=True)
        while True:
            for k in keys:
                if rest.endswith(k) and (len(rest) == len(k) or rest[-len(k) - 1].isspace()):
                    found.insert(0, self.aliases[k])
                    rest = rest[: -len(k)].rstrip()
                    break
            else:
                break
        return rest, tuple(found)

    def mentioned(self, text: str) -> list[str]:
        """Canonical proposers named anywhere in `text` (longest alias wins, no double counting)."""
        out, taken = [], [False] * len(text)
        for k in sorted(self.aliases, key=len, reverse=True):
            if len(k) < 2:
                continue
            for m in re.finditer(re.escape(k), text):
                if not any(taken[m.start():m.end()]):
                    taken[m.start():m.end()] = [True] * (m.end() - m.start())
                    c = self.aliases[k]
                    if c not in out:
                        out.append(c)
        return out


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


def _strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def parse_collection(doc_id: str, path: str, raw: str, registry: Registry) -> tuple[Document, list[Proposal], list[str]]:
    text, segments, meta = normalize(raw)
    problems: list[str] = []
    heads = list(re.finditer(r"^(#{1,6})[ \t]+(.+)$", text, re.M))
    sections = [h for h in heads if len(h.group(1)) == 3]
    top = [h for h in heads if len(h.group(1)) < 3]
    title = next((h.group(2).strip() for h in top if len(h.group(1)) == 1), Path(path).stem)
    if top:
        meta["column"] = next((h.group(2).strip() for h in top if len(h.group(1)) == 2), "")
    intro_start = top[-1].end() if top else 0
    intro_end = sections[0].start() if sections else len(text)
    s, e = _strip_span(text, intro_start, intro_end)
    proposals = []
    if e > s:
        intro = text[s:e]
        if m := re.search(r"(市政协[^，,。]{2,20}?会议)", intro):
            meta["meeting"] = m.group(1)
        if m := re.search(r"提交了?(\d+)篇", intro):
            meta["report_count"] = int(m.group(1))
        proposals.append(Proposal(f"{doc_id}-00", doc_id, "intro", title, (), "", intro, s, e))
    for n, h in enumerate(sections, 1):
        sec_title, who = registry.split_heading(h.group(2))
        if not who:
            parts = h.group(2).rsplit(None, 1)
            sec_title, who = (parts[0], (parts[1],)) if len(parts) == 2 else (parts[0], ("未署名",))
            problems.append(f"{path}: “{h.group(2).strip()}” 的提出者 {who[0]} 未在 proposers.json 中登记。")
        types = {registry.type_of(w) or "未登记" for w in who}
        ptype = types.pop() if len(types) == 1 else "、".join(sorted(types))
        end = sections[n].start() if n < len(sections) else len(text)
        s, e = _strip_span(text, h.end(), end)
        proposals.append(Proposal(f"{doc_id}-{n:02d}", doc_id, "proposal", sec_title, who, ptype, text[s:e], s, e))
    doc = Document(doc_id, path, title, "proposals", text, hashlib.sha256(raw.encode()).hexdigest(), meta, segments)
    return doc, proposals, problems


def parse_policy(doc_id: str, path: str, raw: str) -> tuple[Document, list[Proposal]]:
    text, segments, meta = normalize(raw)
    first = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 60 else Path(path).stem
    s, e = _strip_span(text, 0, len(text))
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
        h = hashlib.sha256(f"norm{NORMALIZATION_VERSION}|{self.registry.sha256}".encode())
        for d in sorted(self.documents, key=lambda d: d.path):
            h.update(f"|{d.path}:{d.raw_sha256}".encode())
        return h.hexdigest()

    @property
    def proposal_count(self) -> int:
        return sum(p.kind == "proposal" for p in self.proposals)


def _slug(path: Path, taken: set) -> str:
    base = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", path.stem).strip("_") or "doc"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def load_corpus(root: Path) -> Corpus:
    root = Path(root)
    if not root.is_dir():
        raise AssistantError(f"语料目录 {root} 不存在。", hint="用 ASSISTANT_CORPUS 指定语料目录。")
    corpus = Corpus(root, Registry.load(root / "proposers.json"))
    taken: set = set()
    for sub, suffixes in (("proposals", TEXT_SUFFIXES), ("policies", POLICY_SUFFIXES)):
        folder = root / sub
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if not path.is_file() or path.name.startswith(".") or path.name.lower() == "readme.md":
                continue
            rel = path.relative_to(root).as_posix()
            if path.suffix.lower() not in suffixes:
                corpus.problems.append(f"{rel}: 不支持的文件类型，已跳过 (支持 {', '.join(sorted(suffixes))})。")
                continue
            try:
                raw = read_text(path)
            except AssistantError as e:
                corpus.problems.append(f"{rel}: {e.message.split(': ', 1)[-1]}")
                continue
            if sub == "proposals":
                doc, props, probs = parse_collection(_slug(path, taken), rel, raw, corpus.registry)
                corpus.problems.extend(probs)
            else:
                doc, props = parse_policy("doc-" + _slug(path, taken), rel, raw)
            corpus._add(doc, props)
    if not corpus.proposals:
        raise AssistantError(f"语料目录 {root} 中没有可用的文本。", hint="把建议汇编放进 proposals/，政策文本放进 policies/。")
    return corpus
