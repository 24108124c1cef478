"""Wires the stages together for the shells (cli, app): corpus, embedder, index, retriever.

`reopen` and `EngineHolder` let a running app pick up a changed corpus without a restart: the
index is rebuilt (only new or changed chunks are embedded, with the embedder already loaded) and a
new Engine replaces the old one in the holder; requests that started on the old engine finish on it."""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from .config import Settings
from .embed import load_embedder
from .errors import AssistantError
from .index import Index, build_index, load_index, read_manifest
from .ingest import Corpus, load_corpus
from .retrieve import Retriever
from .store import open_store


def build(settings: Settings, *, progress=None, log=print) -> dict:
    corpus = load_corpus(settings.corpus_dir)
    for p in corpus.problems:
        log(f"注意: {p}")
    embedder = load_embedder(settings)
    return build_store(settings, corpus, embedder, progress=progress, log=log)


def build_store(settings: Settings, corpus: Corpus, embedder, *, store=None, progress=None, log=None) -> dict:
    """Build the index into the store chosen by settings.store (ASSISTANT_STORE)."""
    store = store or open_store(settings)
    if store.kind == "files":
        return build_index(corpus, embedder, settings.index_dir, max_tokens=settings.chunk_tokens,
                           overlap=settings.chunk_overlap, analyzer=settings.analyzer, progress=progress)
    return store.build(corpus, embedder, settings, progress=progress, log=log)


def load_store(settings: Settings, corpus: Corpus, embedder, store) -> Index:
    if store.kind == "files":
        return store.attach(load_index(settings.index_dir, embedder=embedder, settings=settings, corpus=corpus)).index
    return store.load(settings, embedder, corpus)


@dataclass
class Engine:
    settings: Settings
    corpus: Corpus
    embedder: object
    index: Index
    retriever: Retriever
    _answerer: object = None
    _precedents: object = None
    store: object = None        # assistant/store.py: FileStore or MilvusStore

    @property
    def answerer(self):
        if self._answerer is None:
            from .answer import ExtractiveAnswerer
            self._answerer = ExtractiveAnswerer(self.index, self.retriever, self.corpus.registry,
                                                max_question_chars=self.settings.max_question_chars)
        return self._answerer

    def answerer_named(self, name: str):
        if name == "extractive":
            return self.answerer
        if name == "llm":
            from .llm import llm_answerer_for
            return llm_answerer_for(self)
        raise AssistantError(f"未知的回答器 {name!r}。", hint="可选: extractive, llm")

    @property
    def precedents(self):
        if self._precedents is None:
            from .precedent import PrecedentFinder
            from .select import Calibration
            cal = Calibration.load(fingerprint=self.embedder.fingerprint)
            self._precedents = PrecedentFinder(self.index, self.retriever, self.embedder,
                                               max_chars=self.settings.max_draft_chars,
                                               min_semantic=cal.precedent_semantic, min_lexical=cal.precedent_lexical,
                                               found_semantic=cal.precedent_semantic, found_lexical=cal.precedent_lexical)
        return self._precedents

    @classmethod
    def open(cls, settings: Settings | None = None, *, build_if_missing: bool = True, log=None) -> "Engine":
        """Load everything; build the index first when it is missing (or, with build_if_missing,
        stale). A corrupt or mismatched index is otherwise refused by load_index."""
        settings = settings or Settings.from_env()
        log = log or (lambda m: print(m, file=sys.stderr))
        corpus = load_corpus(settings.corpus_dir)
        embedder = load_embedder(settings)
        store = open_store(settings)
        try:
            index = load_store(settings, corpus, embedder, store)
        except AssistantError as e:
            if not build_if_missing:
                raise
            log(f"{e.message} 正在重建索引 {settings.index_dir} …")
            build_store(settings, corpus, embedder, store=store, log=log)
            index = load_store(settings, corpus, embedder, store)
        return cls(settings, corpus, embedder, index, _retriever(index, embedder, settings, corpus, store), store=store)


def reopen(engine: Engine, *, progress=None, log=None) -> Engine:
    """Re-read the corpus of `engine`, rebuild its index and open a new Engine over it, reusing the
    loaded embedder (vectors of unchanged chunks are reused by build_index). The old engine keeps
    working on what it has in memory. `progress(done, total)` reports the embedding of new chunks."""
    s = engine.settings
    corpus = load_corpus(s.corpus_dir)
    for p in corpus.problems:
        (log or (lambda m: None))(f"注意: {p}")
    store = open_store(s)  # a new store object: the old engine keeps searching its own collection
    build_store(s, corpus, engine.embedder, store=store, progress=progress, log=log)
    index = load_store(s, corpus, engine.embedder, store)
    return Engine(s, corpus, engine.embedder, index, _retriever(index, engine.embedder, s, corpus, store), store=store)


def _retriever(index, embedder, settings, corpus, store) -> Retriever:
    return Retriever.from_settings(index, embedder, settings, corpus.registry,
                                   store=store if store.delegates else None)


class EngineHolder:
    """The web app's current engine. A request reads `.engine` once and uses that engine to the end;
    `reload()` builds a new one and swaps the reference. `lock` serializes corpus changes (hold it
    across "change the files, then reload" so two changes never interleave)."""

    def __init__(self, engine: Engine, *, on_open=None):
        self._engine = engine
        self.on_open = on_open          # called with every newly opened engine (tests adjust calibration)
        self.lock = threading.RLock()
        self.generation = 0

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def settings(self) -> Settings:
        return self._engine.settings

    def reload(self, *, progress=None, log=None) -> Engine:
        with self.lock:
            old = self._engine
            new = reopen(old, progress=progress, log=log)
            new.answerer, new.precedents  # built now, not by the first requests racing for them
            if self.on_open is not None:
                self.on_open(new)
            self._engine = new
            self.generation += 1
            with _lock:  # shared_engine() hands out the current engine from now on
                for k, v in list(_shared.items()):
                    if v is old:
                        _shared[k] = new
            return new


_shared: dict = {}
_lock = threading.Lock()


def shared_engine(settings: Settings | None = None) -> Engine:
    """One engine per settings per process (the web app's workers share it)."""
    settings = settings or Settings.from_env()
    with _lock:
        if settings not in _shared:
            _shared[settings] = Engine.open(settings)
        return _shared[settings]
