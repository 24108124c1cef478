"""Shared fixtures. Fast tests use the hashing embedder; `slow` tests use the real model."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import ROOT, Settings

CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus():
    from assistant.ingest import load_corpus
    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def hash_settings(tmp_path_factory) -> Settings:
    return Settings.from_env({}, model="hash-bigram-256", corpus_dir=CORPUS,
                             index_dir=tmp_path_factory.mktemp("idx") / "hash")


@pytest.fixture(scope="session")
def hash_engine(hash_settings):
    from dataclasses import replace

    from assistant.engine import Engine
    eng = Engine.open(hash_settings)
    # The margin term of the refusal rule is fitted to the real model's cosines (calibration.json);
    # the hashing fake has no such scale, so with it only the topic coverage decides.
    eng.answerer.cal = replace(eng.answerer.cal, margin_weight=0.0)
    return eng


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory) -> Settings:
    # The converted model is cached across runs (ASSISTANT_MODEL_CACHE or ~/.cache); the index is fresh.
    return Settings.from_env({k: v for k, v in os.environ.items() if k == "ASSISTANT_MODEL_CACHE"},
                             corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("idx") / "real")


@pytest.fixture(scope="session")
def real_engine(real_settings):
    from assistant.engine import Engine
    return Engine.open(real_settings)


def engine_on(root, files: dict, *, dense: bool = False):
    """An engine (hash embedder) over `files` ({name: text}) written to root/corpus/proposals;
    without `dense`, the dense margin is left out of the found decision (a hash embedder's
    cosines have no fitted scale)."""
    from dataclasses import replace

    from assistant.engine import Engine
    (root / "corpus" / "proposals").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / "corpus" / "proposals" / name).write_text(text, encoding="utf-8")
    eng = Engine.open(Settings.from_env({}, model="hash-bigram-256", corpus_dir=root / "corpus",
                                        index_dir=root / "index"))
    if not dense:
        eng.answerer.cal = replace(eng.answerer.cal, margin_weight=0.0)
    return eng
