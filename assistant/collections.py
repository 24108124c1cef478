"""Corpus management: collections of uploaded files under corpus/proposals/ and corpus/policies/.

A collection is one upload batch: the folder `<corpus>/<kind>/<name>/` (kind: `proposals` or
`policies`); a file lying directly in `<corpus>/<kind>/` (the seed page `proposals/kjcx.txt`) is a
collection of one file named by its stem. The flow is

    preview = stage(files, corpus_dir, name=...)   # copies into a private staging corpus and parses it
    accept(preview, corpus_dir)                     # moves the staged folder in (one rename)
    remove(name, corpus_dir)                        # moves a collection to <corpus>/.trash/

and `import_collection` / `remove_collection` do the same with an `EngineHolder` and rebuild the
index, undoing the file change when the rebuild fails. Nothing here knows about Gradio; every
problem a user can cause or fix is an AssistantError with a Chinese message.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence

from .errors import AssistantError
from .util import sha256_file

KINDS = {"proposals": "建议/提案", "policies": "政策文本"}
SUFFIXES = {
    "proposals": (".txt", ".md", ".csv", ".xlsx", ".docx", ".pdf"),
    "policies": (".txt", ".md", ".docx", ".pdf"),
}
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILES = 200
MAX_NAME_CHARS = 60
NO_MEETING = "未注明会议"
TRASH = ".trash"
SENTINEL = "zz-yizheng-staging-placeholder"
MINIMAL_REGISTRY = {"format": 1, "types": [], "proposers": []}

# characters that never go into a collection or file name (path syntax, shell/Windows specials, controls)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*\\/\u200b-\u200f\u2028\u2029\ufeff]+")
_SPACES = re.compile(r"\s+")
_LINE = re.compile(r"\s*[:：]?\s*第\s*(\d+)\s*行\s*[:：,，]?\s*(.*)", re.S)
_fs_lock = threading.RLock()  # accept/remove in one process never interleave


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Item:
    """One parsed record of an upload, as the preview shows it."""
    file: str                      # the uploaded file's name (as stored)
    item: str                      # 序号 as printed, or its position in the file
    title: str
    proposers: tuple[str, ...]
    proposer_types: tuple[str, ...]
    meeting: str                   # Meeting label, "" when none
    kind: str                      # "proposal", "policy" (never "intro": those are counted apart)
    roles: tuple[str, ...] = ()    # one per proposer: a member's office as printed (常委, 副主委), else ""


@dataclass(frozen=True)
class Problem:
    file: str                      # uploaded file name; "" for the upload as a whole
    line: int | None
    message: str
    fatal: bool                    # a fatal problem blocks the import

    def __str__(self) -> str:
        where = "：".join(x for x in (self.file, f"第 {self.line} 行" if self.line else "") if x)
        return f"{where}：{self.message}" if where else self.message


@dataclass(frozen=True)
class Preview:
    name: str                      # collection name (folder under <corpus>/<kind>/)
    kind: str                      # "proposals" or "policies"
    staging: Path                  # private staging corpus; the collection is staging/kind/name
    files: tuple[str, ...]         # stored file names, in upload order
    sha256: tuple[str, ...]        # of each stored file (checked again by accept)
    items: tuple[Item, ...]
    problems: tuple[Problem, ...]
    intros: int = 0                # introduction passages (导语) found besides the items
    renamed: tuple[tuple[str, str], ...] = ()   # (uploaded name, stored name)

    @property
    def folder(self) -> Path:
        return self.staging / self.kind / self.name

    @property
    def fatal(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.fatal)

    @property
    def ok(self) -> bool:
        """Can be imported: at least one item and no fatal problem."""
        return bool(self.items) and not self.fatal

    @property
    def meetings(self) -> dict[str, int]:
        """Meeting label -> number of proposals ("" collected under NO_MEETING); policies not counted."""
        out: dict[str, int] = {}
        for it in self.items:
            if it.kind != "policy":
                out[it.meeting or NO_MEETING] = out.get(it.meeting or NO_MEETING, 0) + 1
        return out

    @property
    def counts(self) -> dict[str, int]:
        return {"files": len(self.files), "items": len(self.items),
                "proposals": sum(i.kind != "policy" for i in self.items),
                "policies": sum(i.kind == "policy" for i in self.items),
                "proposers": len({p for i in self.items for p in i.proposers}),
                "meetings": len(self.meetings), "intros": self.intros,
                "problems": len(self.problems), "fatal": len(self.fatal)}


@dataclass(frozen=True)
class Collection:
    name: str
    kind: str                      # "proposals" or "policies"
    path: str                      # relative to the corpus folder: "proposals/<name>" or "proposals/kjcx.txt"
    files: tuple[str, ...]         # relative to the collection folder (the file itself for a single file)
    single_file: bool = False      # a file lying directly in <kind>/ (e.g. the seed page)

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


# ----------------------------------------------------------------------------- names
def clean_name(raw: str) -> str:
    """A safe file/folder name from arbitrary text (unsafe characters -> "_", no leading dots)."""
    s = _UNSAFE.sub("_", _SPACES.sub(" ", str(raw or "")).strip())
    s = s.lstrip(". ").rstrip(". ")
    return s[:MAX_NAME_CHARS].rstrip(". ")


def check_name(raw: str) -> str:
    """A collection name typed by a user: refused (not silently changed) when it looks like a path."""
    s = _SPACES.sub(" ", str(raw or "")).strip()
    if not s:
        raise AssistantError("请填写合集名称。")
    if "/" in s or "\\" in s or s in (".", "..") or s.startswith(".") or ".." in s:
        raise AssistantError(f"合集名称 “{s[:MAX_NAME_CHARS]}” 无效：不能包含 / \\ 或 ..，也不能以 . 开头。",
                             hint="名称只用来在 proposals/ 下建一个文件夹，例如“2024年全会提案”。")
    if len(s) > MAX_NAME_CHARS:
        raise AssistantError(f"合集名称太长（{len(s)} 字），最多 {MAX_NAME_CHARS} 字。")
    cleaned = clean_name(s)
    if cleaned != s.rstrip(". "):
        raise AssistantError(f"合集名称 “{s}” 含有不能用于文件夹名的字符（< > : \" | ? * 或控制字符）。")
    if not cleaned:
        raise AssistantError("合集名称不能为空。")
    return cleaned


def _inside(root: Path, path: Path) -> bool:
    root, path = root.resolve(), path.resolve()
    return path != root and root in path.parents


def _slug(base: str) -> str:
    # the same rule as ingest._slug: document ids come from (folder and) file stems
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "_", base).strip("_") or "doc"


def _doc_slug(kind: str, rel_in_kind: PurePosixPath) -> str:
    """The document id base ingest derives for a file (before de-duplication): proposals use
    "<folder>-<stem>", policies the stem."""
    if kind == "proposals":
        return _slug("-".join([*rel_in_kind.parts[:-1], rel_in_kind.stem]))
    return _slug(rel_in_kind.stem)


def _existing_slugs(corpus_dir: Path) -> set[str]:
    out = set()
    for kind in KINDS:
        folder = corpus_dir / kind
        if folder.is_dir():
            out |= {_doc_slug(kind, PurePosixPath(p.relative_to(folder).as_posix()))
                    for p in folder.rglob("*") if p.is_file()}
    return out


# ----------------------------------------------------------------------------- listing
def list_collections(corpus_dir: Path) -> list[Collection]:
    """Every collection in the corpus, proposals first, by name."""
    corpus_dir = Path(corpus_dir)
    out = []
    for kind in KINDS:
        folder = corpus_dir / kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") or entry.name.lower() == "readme.md":
                continue
            if entry.is_dir():
                files = tuple(sorted(p.relative_to(entry).as_posix() for p in entry.rglob("*")
                                     if p.is_file() and not p.name.startswith(".")))
                out.append(Collection(entry.name, kind, f"{kind}/{entry.name}", files))
            elif entry.is_file():
                out.append(Collection(entry.stem, kind, f"{kind}/{entry.name}", (entry.name,), True))
    return out


def find_collection(name: str, corpus_dir: Path) -> Collection:
    for c in list_collections(corpus_dir):
        if c.name == name:
            return c
    raise AssistantError(f"没有名为 “{str(name)[:MAX_NAME_CHARS]}” 的合集。")


def collection_of(doc_path: str) -> str:
    """The collection name a document path (relative to the corpus) belongs to."""
    parts = PurePosixPath(str(doc_path).split("#", 1)[0]).parts
    if len(parts) >= 3:
        return parts[1]
    if len(parts) == 2:
        return PurePosixPath(parts[1]).stem
    return ""


def meeting_label(proposal, document=None) -> str:
    """The meeting label of a proposal: `Proposal.meeting`, else its document's meta (a Meeting dict
    or, in older indexes, a plain string); "" when nothing names one."""
    label = getattr(proposal, "meeting", "") or ""
    if label:
        return label
    m = (getattr(document, "meta", None) or {}).get("meeting") if document is not None else None
    if isinstance(m, dict):
        return m.get("name") or m.get("place") or ""
    return m if isinstance(m, str) else ""


# ----------------------------------------------------------------------------- staging
def _stored_name(upload: Path, used: set[str], taken_slugs: set[str], kind: str, collection: str) -> str:
    """A safe, unique file name for an upload. A name whose document id would collide with one
    already in the corpus gets a suffix, so that existing documents keep their ids."""
    suffix = upload.suffix.lower()
    stem = clean_name(upload.name[: -len(upload.suffix)] if upload.suffix else upload.name) or "file"
    candidate, n = stem, 2

    def clash(c: str) -> bool:
        return (c + suffix).lower() in used or _doc_slug(kind, PurePosixPath(collection, c + suffix)) in taken_slugs
    while clash(candidate):
        candidate, n = f"{stem}-{n}", n + 1
    used.add((candidate + suffix).lower())
    taken_slugs.add(_doc_slug(kind, PurePosixPath(collection, candidate + suffix)))
    return candidate + suffix


def stage(files: Sequence[Path | str], corpus_dir: Path, *, name: str | None = None, kind: str = "proposals",
          staging_root: Path | None = None) -> Preview:
    """Copy uploads into a private staging corpus and parse them with the real ingestion.

    Returns a Preview (items, problems by file and line). Raises AssistantError only for what makes
    a preview impossible (no files, a bad or taken collection name); files that cannot be parsed
    are fatal problems in the preview. Nothing under `corpus_dir` is changed."""
    corpus_dir = Path(corpus_dir)
    if kind not in KINDS:
        raise AssistantError(f"未知的语料类别 {kind!r}。", hint="可选: " + "、".join(KINDS))
    uploads = [Path(str(f)) for f in (files or []) if f]
    if not uploads:
        raise AssistantError("请先选择要上传的文件。")
    if len(uploads) > MAX_FILES:
        raise AssistantError(f"一次最多上传 {MAX_FILES} 个文件（这次 {len(uploads)} 个）。")
    existing = {c.name for c in list_collections(corpus_dir)}
    if name and str(name).strip():
        name = check_name(name)
        if name in existing:
            raise AssistantError(f"已有名为 “{name}” 的合集。", hint="请换一个名称，或先在下方删除原合集。")
    else:
        base = clean_name(uploads[0].name[: -len(uploads[0].suffix)] if uploads[0].suffix else uploads[0].name) or "合集"
        name, n = base, 2
        while name in existing:
            name, n = f"{base}-{n}", n + 1

    staging = Path(tempfile.mkdtemp(prefix="yizheng-stage-", dir=staging_root))
    try:
        folder = staging / kind / name
        folder.mkdir(parents=True)
        if not _inside(staging / kind, folder):  # belt and braces: check_name already refuses paths
            raise AssistantError(f"合集名称 “{name}” 无效。")
        registry = corpus_dir / "proposers.json"
        if registry.is_file():
            shutil.copyfile(registry, staging / "proposers.json")
        else:
            (staging / "proposers.json").write_text(json.dumps(MINIMAL_REGISTRY), encoding="utf-8")
        if (corpus_dir / "terms.txt").is_file():
            shutil.copyfile(corpus_dir / "terms.txt", staging / "terms.txt")

        problems: list[Problem] = []
        stored: list[str] = []
        renamed: list[tuple[str, str]] = []
        used: set[str] = set()
        taken = _existing_slugs(corpus_dir)
        for up in uploads:
            shown = up.name
            suffix = up.suffix.lower()
            if suffix not in SUFFIXES[kind]:
                problems.append(Problem(shown, None, f"不支持的文件类型 {suffix or '（无扩展名）'}；"
                                        f"{KINDS[kind]}支持 {' '.join(SUFFIXES[kind])}。", True))
                continue
            try:
                size = up.stat().st_size
            except OSError:
                problems.append(Problem(shown, None, "上传的文件已不存在，请重新上传。", True))
                continue
            if size == 0:
                problems.append(Problem(shown, None, "文件是空的。", True))
                continue
            if size > MAX_FILE_BYTES:
                problems.append(Problem(shown, None, f"文件太大（{size / 1048576:.1f} MB），"
                                        f"最多 {MAX_FILE_BYTES // 1048576} MB。", True))
                continue
            target = _stored_name(up, used, taken, kind, name)
            shutil.copyfile(up, folder / target)
            stored.append(target)
            if target != shown:
                renamed.append((shown, target))
        items, intros, parse_problems = _parse(staging, kind, name, stored)
        problems += parse_problems
        shas = tuple(sha256_file(folder / f) for f in stored)
        return Preview(name, kind, staging, tuple(stored), shas, tuple(items), tuple(problems), intros, tuple(renamed))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _parse(staging: Path, kind: str, name: str, stored: list[str]) -> tuple[list[Item], int, list[Problem]]:
    from .ingest import load_corpus
    problems: list[Problem] = []
    if not stored:
        return [], 0, [Problem("", None, "没有可以解析的文件。", True)]
    # a placeholder text keeps load_corpus from refusing a staging corpus whose every upload failed,
    # so that each file's own reason is reported (it is left out of the preview)
    sentinel = staging / "policies" / f"{SENTINEL}.txt"
    sentinel.parent.mkdir(parents=True, exist_ok=True)
    sentinel.write_text("占位文本。", encoding="utf-8")
    sentinel_rel = sentinel.relative_to(staging).as_posix()
    try:
        corpus = load_corpus(staging)
    except AssistantError as e:
        msg = e.message.replace(str(staging), "上传的文件")
        return [], 0, [Problem("", None, msg, True)] + [Problem(f, None, "没有解析出任何内容。", True) for f in stored]
    finally:
        sentinel.unlink(missing_ok=True)
    prefix = f"{kind}/{name}/"

    def file_of(path: str) -> str:
        rel = str(path).split("#", 1)[0]
        rel = rel[len(prefix):] if rel.startswith(prefix) else rel
        return rel

    docs = {d.doc_id: d for d in corpus.documents}
    items: list[Item] = []
    intros = 0
    per_file: dict[str, int] = {f: 0 for f in stored}
    for p in corpus.proposals:
        doc = docs.get(p.doc_id)
        if doc is not None and doc.path == sentinel_rel:
            continue
        f = file_of(doc.path) if doc is not None else ""
        if p.kind == "intro":
            intros += 1
            continue
        per_file[f] = per_file.get(f, 0) + 1
        types = tuple(getattr(p, "proposer_types", ()) or ()) or tuple(t for t in p.proposer_type.split("、") if t)
        items.append(Item(f, getattr(p, "item", "") or str(per_file[f]), p.title, tuple(p.proposers), types,
                          meeting_label(p, doc), "policy" if p.kind == "policy" else p.kind,
                          tuple(getattr(p, "roles", ()) or ())))
    # problems: "file: 第 N 行: message" or "file: message" (file relative to the staging corpus)
    failed = {f for f, n in per_file.items() if n == 0 and f in stored}
    by_name = sorted(stored, key=len, reverse=True)
    for raw in (x for x in corpus.problems if not str(x).startswith(sentinel_rel)):
        text = str(raw)
        f, rest = "", text
        for cand in [prefix + s for s in by_name] + by_name:
            if text.startswith(cand):
                f, rest = file_of(cand), text[len(cand):]
                break
        line = None
        if m := _LINE.match(rest):
            line, rest = int(m.group(1)), m.group(2)
        rest = rest.lstrip(":： ").strip() or text
        # never show where the staging copy lives
        rest = rest.replace(f"{staging}/{prefix}", "").replace(f"{staging}/", "").replace(str(staging), "")
        problems.append(Problem(f, line, rest, f in failed and line is None))
    for f in stored:
        if f in failed and not any(p.file == f and p.fatal for p in problems):
            what = "任何建议" if kind == "proposals" else "任何文本"
            problems.append(Problem(f, None, f"没有解析出{what}（请检查格式：### 标题 提出者 的分节、"
                                    "带“标题/提案者/会议”表头的表格，或以 标题：/提案者：/会议： 开头的单篇文件）。"
                                    if kind == "proposals" else f"没有解析出{what}。", True))
    return items, intros, problems


def discard(preview: Preview | None) -> None:
    """Delete a preview's staging folder (after accepting it, or when it is replaced)."""
    if preview is not None and preview.staging.name.startswith("yizheng-stage-"):
        shutil.rmtree(preview.staging, ignore_errors=True)


# ----------------------------------------------------------------------------- accept / remove
def accept(preview: Preview, corpus_dir: Path) -> Collection:
    """Move a preview's staged files into `<corpus>/<kind>/<name>/` (copied beside the corpus, then
    one rename). Refuses a preview with fatal problems, a stale preview and an existing name."""
    corpus_dir = Path(corpus_dir)
    if not isinstance(preview, Preview):
        raise AssistantError("请先上传文件并点“解析预览”。")
    if not preview.ok:
        why = "；".join(str(p) for p in preview.fatal[:3]) or "没有解析出任何建议"
        raise AssistantError(f"合集 “{preview.name}” 有无法解析的文件，没有导入：{why}",
                             hint="修正或移除这些文件后重新预览。")
    src = preview.folder
    if not src.is_dir():
        raise AssistantError("这次预览已失效（暂存的文件已不存在），请重新上传并预览。")
    for f, digest in zip(preview.files, preview.sha256):
        if not (src / f).is_file() or sha256_file(src / f) != digest:
            raise AssistantError(f"暂存的文件 {f} 在预览之后被改动，没有导入。", hint="请重新上传并预览。")
    parent = corpus_dir / preview.kind
    dest = parent / preview.name
    if not _inside(parent, dest) or dest.parent.resolve() != parent.resolve():
        raise AssistantError(f"合集名称 “{preview.name}” 无效。")
    with _fs_lock:
        if preview.name in {c.name for c in list_collections(corpus_dir)} or dest.exists():
            raise AssistantError(f"已有名为 “{preview.name}” 的合集，没有导入（不会覆盖已有合集）。",
                                 hint="请换一个名称重新预览，或先删除原合集。")
        parent.mkdir(parents=True, exist_ok=True)
        # copy next to the corpus folders (never inside proposals/, where a reader would see half a
        # collection), then a single rename makes it appear at once
        tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=corpus_dir))
        try:
            shutil.copytree(src, tmp / preview.name)
            os.rename(tmp / preview.name, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Collection(preview.name, preview.kind, f"{preview.kind}/{preview.name}", preview.files)


def remove(name: str, corpus_dir: Path) -> Path:
    """Move one collection to its own folder under `<corpus>/.trash/` and return where it went (for
    `restore`). Only the collection's own folder (or single file) is touched."""
    corpus_dir = Path(corpus_dir)
    with _fs_lock:
        c = find_collection(str(name or "").strip(), corpus_dir)
        src = corpus_dir / c.path
        if not _inside(corpus_dir / c.kind, src) or src.parent.resolve() != (corpus_dir / c.kind).resolve():
            raise AssistantError(f"合集 “{c.name}” 不在语料目录中，不能删除。")
        (corpus_dir / TRASH).mkdir(exist_ok=True)
        bin_ = Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{c.kind}-", dir=corpus_dir / TRASH))
        bin_.chmod(0o755)
        dest = bin_ / src.name
        os.rename(src, dest)
    return dest


def restore(trashed: Path, corpus_dir: Path, kind: str) -> None:
    """Put a removed collection back where it was (undo of `remove`)."""
    corpus_dir, trashed = Path(corpus_dir), Path(trashed)
    with _fs_lock:
        dest = corpus_dir / kind / trashed.name
        if dest.exists():
            raise AssistantError(f"无法恢复合集 “{trashed.name}”：同名的合集已存在。")
        os.rename(trashed, dest)
        try:
            trashed.parent.rmdir()
        except OSError:
            pass


# ----------------------------------------------------------------------------- with a running engine
ProgressFn = Callable[[float, str], None]


def _phases(progress: ProgressFn | None):
    say = progress or (lambda f, d: None)

    def embedding(done: int, total: int) -> None:
        say(0.1 + 0.8 * (done / total if total else 1.0), f"向量化新文本块 {done}/{total}")
    return say, embedding


def import_collection(preview: Preview, holder, *, progress: ProgressFn | None = None, log=None):
    """accept + rebuild the index + swap the holder's engine. On a failed rebuild the collection is
    taken out again and the previous engine stays. Returns (Collection, new engine)."""
    say, embedding = _phases(progress)
    corpus_dir = holder.settings.corpus_dir
    with holder.lock:
        say(0.02, "保存文件")
        coll = accept(preview, corpus_dir)
        try:
            say(0.05, "读取语料")
            eng = holder.reload(progress=embedding, log=log)
        except BaseException:
            _undo_accept(coll, corpus_dir, holder, log)
            raise
        say(1.0, "完成")
    discard(preview)
    return coll, eng


def _undo_accept(coll: Collection, corpus_dir: Path, holder, log) -> None:
    try:
        shutil.rmtree(Path(corpus_dir) / coll.kind / coll.name)
        # the index on disk may already include the collection: bring it back in line (best effort;
        # the engine in memory is still the previous one, and a stale index is rebuilt at start-up)
        holder.reload(log=log)
    except Exception:
        import logging
        logging.getLogger(__name__).exception("could not undo the import of %s", coll.name)


def remove_collection(name: str, holder, *, progress: ProgressFn | None = None, log=None):
    """remove + rebuild + swap. When the rest of the corpus cannot be indexed (e.g. it would be
    empty), the collection is put back and the error says why. Returns (trash path, new engine)."""
    say, embedding = _phases(progress)
    corpus_dir = holder.settings.corpus_dir
    with holder.lock:
        coll = find_collection(str(name or "").strip(), corpus_dir)
        say(0.02, "移出文件")
        trashed = remove(coll.name, corpus_dir)
        try:
            say(0.05, "重建索引")
            eng = holder.reload(progress=embedding, log=log)
        except AssistantError as e:
            restore(trashed, corpus_dir, coll.kind)
            raise AssistantError(f"没有删除合集 “{coll.name}”：删除后无法建立索引（{e.message}）。") from None
        except BaseException:
            restore(trashed, corpus_dir, coll.kind)
            raise
        say(1.0, "完成")
    return trashed, eng


def collection_stats(engine, collections: Iterable[Collection]) -> dict[str, dict]:
    """name -> {"proposals", "policies", "meetings": {label: count}} from an engine's index."""
    stats = {c.name: {"proposals": 0, "policies": 0, "meetings": {}} for c in collections}
    docs = engine.index.documents
    for p in engine.index.proposals.values():
        doc = docs.get(p.doc_id)
        name = collection_of(doc.path) if doc is not None else ""
        s = stats.get(name)
        if s is None or p.kind == "intro":
            continue
        if p.kind == "policy":
            s["policies"] += 1
            continue
        s["proposals"] += 1
        label = meeting_label(p, doc) or NO_MEETING
        s["meetings"][label] = s["meetings"].get(label, 0) + 1
    return stats
