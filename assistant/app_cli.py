"""`assistant serve`: open the engine (building the index on first start) and serve the web UI;
with --workers N several processes behind one front (assistant/serve.py). Also `assistant
loadtest` (loopback only) and `assistant passwd` (a hashed line for ASSISTANT_AUTH_FILE)."""
from __future__ import annotations

import sys

from .errors import AssistantError


def cmd_serve(args) -> int:
    from .cli import _settings
    from .serve import auth_kwargs, check_exposure, load_users, serve_workers
    settings = _settings(args).with_(**{k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    users = load_users(settings)
    check_exposure(settings.host, users)  # no sign-in, no listening beyond this machine
    if args.workers and args.workers > 1:
        return serve_workers(settings, args.workers, args.concurrency, users)
    from .app import launch
    from .engine import Engine
    print(f"正在加载索引与模型 ({settings.model}, {settings.index_dir}) …", file=sys.stderr, flush=True)
    engine = Engine.open(settings)  # builds the index when it is missing or stale
    print(f"议政助手界面: http://{settings.host}:{settings.port}  ({'需登录, ' if users else ''}Ctrl+C 停止)",
          file=sys.stderr, flush=True)
    try:
        launch(settings, engine=engine, concurrency=args.concurrency, **auth_kwargs(users))
    except OSError as e:  # typically: the port is taken
        raise AssistantError(f"无法在 {settings.host}:{settings.port} 启动界面: {e}",
                             hint="换一个端口: assistant serve --port 7861 (或设置 ASSISTANT_PORT)。") from None
    return 0


def cmd_loadtest(args) -> int:
    import json

    from .serve import format_load, load_test
    auth = None
    if args.user:
        import getpass
        auth = (args.user, getpass.getpass(f"{args.user} 的密码: "))
    rep = load_test(args.url, sessions=args.sessions, requests=args.requests, auth=auth,
                    timeout=args.timeout, deadline=args.deadline)
    print(json.dumps(rep, ensure_ascii=False, indent=1) if args.json else format_load(rep))
    return 0 if rep["failed"] == 0 and rep["lost"] == 0 else 1


def cmd_passwd(args) -> int:
    import getpass

    from .serve import hash_password
    pw = getpass.getpass(f"{args.user} 的新密码: ")
    if not pw or pw != getpass.getpass("再输入一次: "):
        raise AssistantError("两次输入的密码不一致或为空。")
    print(f"{args.user}:{hash_password(pw)}")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="启动网页界面 (问答、先例查找、建议浏览)")
    p.add_argument("--host", help="监听地址 (默认 ASSISTANT_HOST 或 127.0.0.1; 其他地址须配置登录用户)")
    p.add_argument("--port", type=int, help="端口 (默认 ASSISTANT_PORT 或 7860)")
    p.add_argument("--concurrency", type=int, default=4, help="每个进程同时处理的请求数 (默认 4)")
    p.add_argument("--workers", type=int, default=1, help="工作进程数 (默认 1; >1 时由一个前端按会话分发)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("loadtest", help="对本机运行的界面做负载测试 (gradio_client, 只限 127.0.0.1)")
    p.add_argument("--url", default="http://127.0.0.1:7860")
    p.add_argument("--sessions", type=int, default=16, help="并发会话数 (默认 16)")
    p.add_argument("--requests", type=int, default=4, help="每个会话的提问次数 (默认 4)")
    p.add_argument("--timeout", type=float, default=120.0, help="单次请求超时秒数")
    p.add_argument("--deadline", type=float, default=600.0, help="整个测试的时限 (秒)")
    p.add_argument("--user", help="登录用户名 (密码在终端输入)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loadtest)

    p = sub.add_parser("passwd", help="为 ASSISTANT_AUTH_FILE 生成一行 用户名:散列 (密码在终端输入)")
    p.add_argument("user")
    p.set_defaults(func=cmd_passwd)
