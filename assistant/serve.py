"""Serving beyond one process and beyond loopback: sign-in, several workers, a load test.

- Sign-in: users come from ASSISTANT_AUTH_FILE (one `user:password` or
  `user:pbkdf2_sha256$iterations$salt$hash` per line, see `assistant passwd`) and/or
  ASSISTANT_USERS (`user:password,user2:password2`). Gradio's login page checks them; passwords
  are compared in constant time and never logged or put into an error message. `serve` refuses to
  listen on anything but a loopback address without users.
- Workers: `assistant serve --workers N` builds (or checks) the index once, starts N worker
  processes on loopback ports port+1..port+N, each serving the same index (the file store is
  read-only and shared through the page cache; a Milvus Lite path is served to all of them by one
  `milvus-lite server` on loopback), and a small HTTP front on host:port. The front keeps each
  client on one worker (a Gradio session lives in one process): by the `yz_worker` cookie it sets
  on the first response (browsers and gradio_client keep it), else by the request's
  `session_hash`, else round robin. One request per connection (`Connection: close`), streamed
  both ways, so the queue's server-sent events pass through. Changing the corpus from the web UI
  (语料管理) changes only the worker that did it: with several workers, change the corpus with
  `assistant build` and restart.
- Load test: `assistant loadtest` (loopback only) runs sessions x requests `/ask` calls through
  gradio_client, bounded in count and time, and reports throughput, p50/p95 and failed/lost requests.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .errors import AssistantError

COOKIE = "yz_worker"
HASH_PREFIX = "pbkdf2_sha256"
MAX_HEAD = 64 * 1024


# ----------------------------------------------------------------------------- sign-in
def hash_password(password: str, *, iterations: int = 200_000, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{HASH_PREFIX}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith(HASH_PREFIX + "$"):
        try:
            _, it, salt, digest = stored.split("$")
            dk = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(it))
            return hmac.compare_digest(dk, base64.b64decode(digest))
        except (ValueError, TypeError):
            return False
    return hmac.compare_digest(password.encode(), stored.encode())


def _pairs(lines, where: str) -> dict:
    users = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, secret = line.partition(":")
        if not sep or not user.strip() or not secret:
            # the line itself may hold a password: name its position only
            raise AssistantError(f"{where} 第 {n} 项格式有误 (应为 用户名:密码)。")
        users[user.strip()] = secret
    return users


def load_users(settings) -> dict:
    """user -> stored secret (plain password or pbkdf2 hash), from the file and the variable."""
    users = {}
    if settings.auth_file:
        path = Path(settings.auth_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise AssistantError(f"无法读取登录用户文件 {path}: {e.strerror or e}", hint="检查 ASSISTANT_AUTH_FILE。")
        users.update(_pairs(text.splitlines(), f"登录用户文件 {path}"))
    if settings.users:
        users.update(_pairs(settings.users.split(","), "ASSISTANT_USERS"))
    return users


def make_auth(users: dict):
    """Gradio's auth callable; unknown users cost the same time as wrong passwords."""
    dummy = hash_password("x", iterations=1000)

    def auth(username: str, password: str) -> bool:
        stored = users.get(username)
        ok = verify_password(password or "", stored if stored is not None else dummy)
        return ok and stored is not None
    return auth


def auth_kwargs(users: dict) -> dict:
    return {"auth": make_auth(users), "auth_message": "议政助手: 请登录"} if users else {}


def is_loopback(host: str) -> bool:
    h = (host or "").strip().strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, users: dict) -> None:
    if not is_loopback(host) and not users:
        raise AssistantError(
            f"拒绝在 {host} 上监听: 没有配置登录用户，局域网或公网上的任何人都能使用本服务。",
            hint="设置 ASSISTANT_AUTH_FILE (每行 用户名:密码, 可用 `assistant passwd 用户名` 生成散列) "
                 "或 ASSISTANT_USERS=用户名:密码；只在本机使用时请用 --host 127.0.0.1。")


# ----------------------------------------------------------------------------- workers
def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, timeout: float, procs=()) -> None:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        for p in procs:
            if p.poll() is not None:
                raise AssistantError(f"子进程 (pid {p.pid}) 启动失败，退出码 {p.returncode}。")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssistantError(f"等待 {host}:{port} 超时 ({timeout:.0f}s)。")


def _index_ready(settings) -> bool:
    """The index (manifest) matches the corpus and settings without loading the model or vectors."""
    from .index import check_manifest, read_manifest
    from .ingest import load_corpus
    try:
        man = read_manifest(settings.index_dir)
        check_manifest(man, settings=settings, corpus=load_corpus(settings.corpus_dir))
    except AssistantError:
        return False
    kind = man.get("store", {}).get("kind", "files")
    return man["model"]["name"] == settings.model and kind == settings.store.split(":", 1)[0]


def _milvus_lite_server(path: str, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).with_name("milvus-lite")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "milvus_lite"]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.Popen([*cmd, "server", "--data-dir", path, "--host", "127.0.0.1", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_port("127.0.0.1", port, 120, [p])
    log(f"Milvus Lite 服务: {path} → http://127.0.0.1:{port} (pid {p.pid})")
    return p, f"http://127.0.0.1:{port}"


def serve_workers(settings, workers: int, concurrency: int, users: dict, *, log=None, ready=None,
                  stop: threading.Event | None = None) -> int:
    """Index once, N workers on loopback, the sticky front on settings.host:settings.port.
    Runs until Ctrl+C / SIGTERM (or `stop` is set); `ready(url)` is called once everything is up."""
    from .store import parse_store
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    stop = stop or threading.Event()
    try:
        kind, target = parse_store(settings.store)
        if kind == "milvus" and not re.match(r"^(https?|tcp|unix)://", target):
            srv, uri = _milvus_lite_server(str(Path(target).expanduser().resolve()), log)
            children.append(srv)
            settings = settings.with_(store=f"milvus:{uri}")
        env.update({"ASSISTANT_STORE": settings.store, "ASSISTANT_INDEX": str(settings.index_dir),
                    "ASSISTANT_CORPUS": str(settings.corpus_dir), "ASSISTANT_MODEL": settings.model})
        if not _index_ready(settings):
            log("索引缺失或已过期，先建索引 (只建一次，各工作进程共用) …")
            r = subprocess.run([sys.executable, "-m", "assistant.cli", "build"], env=env)
            if r.returncode != 0:
                raise AssistantError("建索引失败，未启动工作进程。")
        ports = [free_port() for _ in range(workers)]
        for i, port in enumerate(ports):
            children.append(subprocess.Popen(
                [sys.executable, "-m", "assistant.serve", "worker", "--port", str(port), "--concurrency", str(concurrency)],
                env=env, start_new_session=True))
            log(f"工作进程 {i + 1}/{workers}: http://127.0.0.1:{port} (pid {children[-1].pid})")
        for port in ports:
            wait_port("127.0.0.1", port, 900, children)
        front = StickyProxy(settings.host, settings.port, [("127.0.0.1", p) for p in ports])
        front.start()
        url = f"http://{settings.host}:{front.port}"
        log(f"议政助手界面: {url}  ({workers} 个工作进程{', 需登录' if users else ''}; Ctrl+C 停止)")
        if ready:
            ready(url)
        try:
            _wait(stop, children)
        finally:
            front.stop()
            log(f"各工作进程经前端处理的请求数: {front.requests}")
        return 0
    finally:
        for p in reversed(children):
            _terminate(p)


def _wait(stop: threading.Event, children) -> None:
    got = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: got.set())
    try:
        while not stop.is_set() and not got.is_set():
            dead = [p for p in children if p.poll() is not None]
            if dead:
                raise AssistantError(f"子进程 (pid {dead[0].pid}) 意外退出，退出码 {dead[0].returncode}；已停止全部工作进程。")
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass


def _terminate(p: subprocess.Popen) -> None:
    if p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def run_worker(port: int, concurrency: int) -> int:
    """One worker: the ordinary app on a loopback port, over the already built index."""
    from .app import launch
    from .config import Settings
    from .engine import Engine
    settings = Settings.from_env().with_(host="127.0.0.1", port=port)
    engine = Engine.open(settings, build_if_missing=False)
    launch(settings, engine=engine, concurrency=concurrency, **auth_kwargs(load_users(settings)))
    return 0


# ----------------------------------------------------------------------------- the front
class StickyProxy:
    """An HTTP/1.1 front that pins a client to one backend (see the module doc)."""

    def __init__(self, host: str, port: int, backends: list[tuple[str, int]]):
        self.host, self.port, self.backends = host, port, backends
        self._rr = itertools.count()
        self.requests = [0] * len(backends)  # per backend, for the operator's log and the tests
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="yz-front", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise AssistantError(f"无法在 {self.host}:{self.port} 监听: {self._error}",
                                 hint="换一个端口: assistant serve --port 7861")

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, limit=MAX_HEAD))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as e:  # noqa: BLE001  (reported by start())
            self._error = e
            self._started.set()
            return
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def pick(self, head: bytes, body: bytes) -> tuple[int, bool]:
        """(backend index, whether the client already had a valid cookie)."""
        n = len(self.backends)
        text = head.decode("latin-1")
        m = re.search(rf"(?im)^cookie:.*\b{COOKIE}=(\d+)", text)
        if m and int(m.group(1)) < n:
            return int(m.group(1)), True
        target = text.split(" ", 2)[1] if text.count(" ") >= 2 else "/"
        sh = parse_qs(urlsplit(target).query).get("session_hash", [""])[0]
        if not sh and body[:1] == b"{":
            try:
                sh = str(json.loads(body).get("session_hash") or "")
            except (ValueError, AttributeError):
                sh = ""
        if sh:
            return int(hashlib.sha1(sh.encode()).hexdigest(), 16) % n, False
        return next(self._rr) % n, False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_w = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip() or 0)
                elif k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
                    writer.write(b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    await writer.drain()
                    return
            body = await reader.readexactly(length) if length else b""
            idx, had_cookie = self.pick(head, body)
            self.requests[idx] += 1
            upgrade = any(ln.lower().startswith("upgrade:") for ln in lines[1:])
            keep = [ln for ln in lines[1:] if ln and not ln.lower().startswith(("connection:", "keep-alive:"))]
            new_head = "\r\n".join([lines[0], *keep, "Connection: " + ("Upgrade" if upgrade else "close"), "", ""])
            host, port = self.backends[idx]
            try:
                up_r, up_w = await asyncio.open_connection(host, port, limit=MAX_HEAD)
            except OSError:
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            up_w.write(new_head.encode("latin-1") + body)
            await up_w.drain()
            resp_head = await up_r.readuntil(b"\r\n\r\n")
            if not had_cookie:
                resp_head = resp_head[:-2] + f"Set-Cookie: {COOKIE}={idx}; Path=/; HttpOnly; SameSite=Lax\r\n\r\n".encode()
            writer.write(resp_head)
            await writer.drain()
            down = asyncio.ensure_future(_pipe(up_r, writer))
            up = asyncio.ensure_future(_pipe(reader, up_w))
            await down  # the backend closed (Connection: close): the exchange is over
            up.cancel()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            for w in (writer, up_w):
                if w is not None:
                    try:
                        w.close()
                    except Exception:
                        pass


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await src.read(65536)
            if not data:
                break
            dst.write(data)
            await dst.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if dst.can_write_eof():
                dst.write_eof()
        except (OSError, RuntimeError):
            pass


# ----------------------------------------------------------------------------- load test
# generic questions any CPPCC corpus can take (the load test measures serving, not answers)
DEFAULT_QUESTIONS = ("各民主党派提了哪些建议？", "哪些建议提到了人才？", "关于营商环境有什么建议？",
                     "有没有关于交通的建议？", "工商联提了什么？", "哪些区县政协提交了建议？")


def load_test(url: str, *, sessions: int, requests: int, questions=DEFAULT_QUESTIONS, auth=None,
              timeout: float = 120.0, deadline: float = 600.0) -> dict:
    """`sessions` concurrent gradio_client sessions, each asking `requests` questions in turn.
    Loopback only. A request that raises is failed; one not finished by the deadline is lost."""
    from concurrent.futures import ThreadPoolExecutor, wait

    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise AssistantError(f"负载测试只对本机地址运行 (127.0.0.1 / localhost)，而不是 {host}。")
    import gradio_client
    lat: list[float] = []
    failed: list[str] = []
    lock = threading.Lock()
    t_end = time.monotonic() + deadline

    def session(i: int) -> None:
        try:
            c = gradio_client.Client(url, auth=auth, verbose=False, httpx_kwargs={"timeout": timeout})
        except Exception as e:
            with lock:
                failed.extend([f"connect: {type(e).__name__}: {str(e)[:120]}"] * requests)
            return
        for k in range(requests):
            if time.monotonic() > t_end:
                return
            q = questions[(i + k) % len(questions)]
            t = time.perf_counter()
            try:
                job = c.submit(q, api_name="/ask")
                d = job.result(timeout=timeout)
                if not isinstance(d, dict) or d.get("question") != q:
                    raise ValueError(f"unexpected answer {str(d)[:80]}")
                with lock:
                    lat.append(time.perf_counter() - t)
            except Exception as e:
                with lock:
                    failed.append(f"{type(e).__name__}: {str(e)[:120]}")
        try:
            c.close()
        except Exception:
            pass

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futs = [pool.submit(session, i) for i in range(sessions)]
        wait(futs, timeout=max(1.0, t_end - time.monotonic()) + timeout)
    wall = time.perf_counter() - t0
    import numpy as np
    total = sessions * requests
    ok = len(lat)
    return {"url": url, "sessions": sessions, "requests": total, "ok": ok, "failed": len(failed),
            "lost": total - ok - len(failed), "seconds": round(wall, 2),
            "throughput_rps": round(ok / wall, 2) if wall > 0 else 0.0,
            "p50_ms": round(float(np.percentile(np.array(lat) * 1000, 50)), 1) if lat else None,
            "p95_ms": round(float(np.percentile(np.array(lat) * 1000, 95)), 1) if lat else None,
            "errors": sorted(set(failed))[:5]}


def format_load(rep: dict) -> str:
    return (f"{rep['sessions']} 个会话 × {rep['requests'] // max(rep['sessions'], 1)} 次 /ask = {rep['requests']} 次请求, "
            f"用时 {rep['seconds']}s: 成功 {rep['ok']}, 失败 {rep['failed']}, 丢失 {rep['lost']}; "
            f"吞吐 {rep['throughput_rps']} 次/秒, p50 {rep['p50_ms']} ms, p95 {rep['p95_ms']} ms"
            + ("".join(f"\n  错误: {e}" for e in rep["errors"])))


def _main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m assistant.serve")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args(argv)
    try:
        return run_worker(args.port, args.concurrency)
    except AssistantError as e:
        print(f"错误: {e.message}", file=sys.stderr)
        if e.hint:
            print(e.hint, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
