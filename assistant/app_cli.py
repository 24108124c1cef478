"""`assistant serve`: open the engine (building the index on first start) and serve the web UI."""
from __future__ import annotations

import sys

from .errors import AssistantError


def cmd_serve(args) -> int:
    from .app import launch
    from .cli import _settings
    from .engine import Engine
    settings = _settings(args).with_(**{k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    print(f"正在加载索引与模型 ({settings.model}, {settings.index_dir}) …", file=sys.stderr, flush=True)
    engine = Engine.open(settings)  # builds the index when it is missing or stale
    print(f"议政助手界面: http://{settings.host}:{settings.port}  (Ctrl+C 停止)", file=sys.stderr, flush=True)
    try:
        launch(settings, engine=engine, concurrency=args.concurrency)
    except OSError as e:  # typically: the port is taken
        raise AssistantError(f"无法在 {settings.host}:{settings.port} 启动界面: {e}",
                             hint="换一个端口: assistant serve --port 7861 (或设置 ASSISTANT_PORT)。") from None
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="启动网页界面 (问答、先例查找、建议浏览)")
    p.add_argument("--host", help="监听地址 (默认 ASSISTANT_HOST 或 127.0.0.1)")
    p.add_argument("--port", type=int, help="端口 (默认 ASSISTANT_PORT 或 7860)")
    p.add_argument("--concurrency", type=int, default=4, help="同时处理的请求数 (默认 4)")
    p.set_defaults(func=cmd_serve)
