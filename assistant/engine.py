"""Wires the stages together for the shells (cli, app): corpus, embedder, index, retriever."""
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


def build(settings: Settings, *, progress=None, log=print) -> dict:
    corpus = load_corpus(settings.corpus_dir)
    for p in corpus.problems:
        log(f"注意: {p}")
    embedder = load_embedder(settings)
    return build_index(corpus, embedder, settings.index_dir, max_tokens=settings.chunk_tokens,
                       overlap=settings.chunk_overlap, analyzer=settings.analyzer, progress=progress)


@dataclass
class Engine:
    settings: Settings
    corpus: Corpus
    embedder: object
    index: Index
    retriever: Retriever
    _answerer: object = None
    _precedents: object = None

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
            self._precedents = PrecedentFinder(self.index, self.retriever, self.embedder,
                                               max_chars=self.settings.max_draft_chars)
        return self._precedents

    @classmethod
    def open(cls, settings: Settings | None = None, *, build_if_missing: bool = True, log=None) -> "Engine":
        """Load everything; build the index first when it is missing (or, with build_if_missing,
        stale). A corrupt or mismatched index is otherwise refused by load_index."""
        settings = settings or Settings.from_env()
        log = log or (lambda m: print(m, file=sys.stderr))
        corpus = load_corpus(settings.corpus_dir)
        embedder = load_embedder(settings)
        try:
            index = load_index(settings.index_dir, embedder=embedder, settings=settings, corpus=corpus)
        except AssistantError as e:
            if not build_if_missing:
                raise
            log(f"{e.message} 正在重建索引 {settings.index_dir} …")
            build_index(corpus, embedder, settings.index_dir, max_tokens=settings.chunk_tokens,
                        overlap=settings.chunk_overlap, analyzer=settings.analyzer)
            index = load_index(settings.index_dir, embedder=embedder, settings=settings, corpus=corpus)
        return cls(settings, corpus, embedder, index, Retriever.from_settings(index, embedder, settings, corpus.registry))


_shared: dict = {}
_lock = threading.Lock()


def shared_engine(settings: Settings | None = None) -> Engine:
    """One engine per settings per process (the web app's workers share it)."""
    settings = settings or Settings.from_env()
    with _lock:
        if settings not in _shared:
            _shared[settings] = Engine.open(settings)
        return _shared[settings]
