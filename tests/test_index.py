import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import index as index_mod
from assistant.config import ROOT, Settings
from assistant.embed import HashEmbedder
from assistant.errors import AssistantError
from assistant.index import build_index, load_index
from assistant.ingest import load_corpus


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__(256)
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return super().embed_passages(texts)

    @property
    def chunk_texts(self) -> list[str]:
        """Chunk texts start with a header line; the vocabulary's words (termsim.py) are one line."""
        return [t for t in self.embedded if "\n" in t]


@pytest.fixture
def tmp_corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", root)
    (root / "policies").mkdir(exist_ok=True)
    return root


def test_build_load_roundtrip_and_manifest(tmp_corpus, tmp_path):
    corpus = load_corpus(tmp_corpus)
    emb = CountingEmbedder()
    folder = tmp_path / "indexes" / "t"
    man = build_index(corpus, emb, folder)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["manifest.json", "vectors.faiss", "user_words.txt", "bm25_vocab.json", "bm25_matrix.npz",
                            "words.npy", "documents.jsonl", "proposals.jsonl", "chunks.jsonl"])
    on_disk = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == man
    assert man["model"] == {"name": emb.name, "dim": 256, "fingerprint": emb.fingerprint}
    assert man["chunking"] == {"encoding": "cl100k_base", "max_tokens": 160, "overlap": 0}
    assert man["corpus"]["sha256"] == corpus.sha256 and man["format_version"] == index_mod.FORMAT_VERSION
    idx = load_index(folder, embedder=emb, corpus=corpus)
    assert len(idx.chunks) == man["counts"]["chunks"] == idx.faiss.ntotal == len(emb.chunk_texts)
    # one word vector per vocabulary term, the embedder's own vector of that word
    assert idx.word_vectors.shape == (len(idx.bm25.vocab), 256) == (man["words"]["count"], 256)
    j = idx.bm25.vocab["产业"]
    assert np.allclose(idx.word_vectors[j], emb.embed_passages(["产业"])[0], atol=1e-3)
    # stored vectors are the embedder's vectors for the stored chunk texts
    v = idx.faiss.reconstruct(3)
    assert np.allclose(v, emb.embed_passages([idx.chunks[3].index_text])[0], atol=1e-6)
    assert idx.proposals["kjcx-06"].proposers == ("郑州市政协文化和文史委员会", "郑州市政协民族和宗教委员会")
    assert idx.documents["kjcx"].meta["report_count"] == 26


def test_changing_one_file_reembeds_only_its_chunks(tmp_corpus, tmp_path):
    folder = tmp_path / "idx"
    (tmp_corpus / "policies" / "a.md").write_text("# 甲政策\n\n第一条。支持科技创新。", encoding="utf-8")
    build_index(load_corpus(tmp_corpus), CountingEmbedder(), folder)
    (tmp_corpus / "policies" / "a.md").write_text("# 甲政策\n\n第一条。支持科技创新和人才引进。", encoding="utf-8")
    (tmp_corpus / "policies" / "b.txt").write_text("乙政策\n\n鼓励研发投入。", encoding="utf-8")
    emb = CountingEmbedder()
    man = build_index(load_corpus(tmp_corpus), emb, folder)
    assert man["counts"]["embedded"] == len(emb.chunk_texts) == 2
    assert all("甲政策" in t or "乙政策" in t for t in emb.chunk_texts)
    assert man["counts"]["reused"] == man["counts"]["chunks"] - 2


def test_mismatches_are_refused_with_a_rebuild_hint(tmp_corpus, tmp_path):
    corpus = load_corpus(tmp_corpus)
    folder = tmp_path / "idx"
    build_index(corpus, HashEmbedder(), folder)
    with pytest.raises(AssistantError, match="模型") as e:
        load_index(folder, embedder=HashEmbedder(128))
    assert "assistant build" in e.value.hint
    with pytest.raises(AssistantError, match="切分参数"):
        load_index(folder, settings=Settings.from_env({}, chunk_tokens=100))
    (tmp_corpus / "policies" / "new.txt").write_text("新文件。", encoding="utf-8")
    with pytest.raises(AssistantError, match="过期"):
        load_index(folder, corpus=load_corpus(tmp_corpus))
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    man["format_version"] = 999
    (folder / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    with pytest.raises(AssistantError, match="格式版本"):
        load_index(folder)


@pytest.mark.parametrize("victim", ["chunks.jsonl", "vectors.faiss", "bm25_matrix.npz", "manifest.json"])
def test_corrupt_index_is_refused(tmp_corpus, tmp_path, victim):
    folder = tmp_path / "idx"
    build_index(load_corpus(tmp_corpus), HashEmbedder(), folder)
    p = folder / victim
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(AssistantError) as e:
        load_index(folder)
    assert "assistant build" in e.value.hint
    with pytest.raises(AssistantError, match="不存在"):
        load_index(tmp_path / "nothing")


def test_a_build_killed_halfway_leaves_the_previous_index(tmp_corpus, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    emb = HashEmbedder()
    build_index(load_corpus(tmp_corpus), emb, folder)
    before = (folder / "manifest.json").read_text(encoding="utf-8")
    (tmp_corpus / "policies" / "x.txt").write_text("新增政策。", encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt  # as if the process were killed while writing

    monkeypatch.setattr(index_mod.BM25, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index(load_corpus(tmp_corpus), emb, folder)
    assert (folder / "manifest.json").read_text(encoding="utf-8") == before
    assert load_index(folder, embedder=emb) and not [p for p in tmp_path.iterdir() if "building" in p.name]


def test_crash_between_the_two_renames_is_recovered(tmp_corpus, tmp_path):
    folder = tmp_path / "idx"
    build_index(load_corpus(tmp_corpus), HashEmbedder(), folder)
    folder.rename(folder.with_name("idx.old"))  # the state right after the first rename
    assert len(load_index(folder).chunks) > 0
