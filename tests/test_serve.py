"""Sign-in, the refusal to listen beyond loopback without it, the sticky front, and (slow) several
workers under a gradio_client load test on 127.0.0.1."""
from __future__ import annotations

import json
import threading

import pytest

from assistant.cli import main
from assistant.config import ROOT, Settings
from assistant.errors import AssistantError
from assistant.serve import (StickyProxy, check_exposure, hash_password, is_loopback, load_test, load_users,
                             make_auth, verify_password)

SECRET = "s3cret-口令"


@pytest.fixture(autouse=True)
def no_users_from_the_environment(monkeypatch):
    for k in ("ASSISTANT_USERS", "ASSISTANT_AUTH_FILE", "ASSISTANT_HOST"):
        monkeypatch.delenv(k, raising=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_serve_refuses_a_non_loopback_address_without_users(host, capsys, monkeypatch):
    import assistant.engine as engine_mod
    monkeypatch.setattr(engine_mod.Engine, "open", lambda *a, **k: pytest.fail("must refuse before loading"))
    assert main(["serve", "--host", host, "--port", "7999"]) == 2
    err = capsys.readouterr().err
    assert f"拒绝在 {host} 上监听" in err and "ASSISTANT_AUTH_FILE" in err


def test_loopback_needs_no_users_and_other_hosts_accept_users():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert is_loopback(host)
        check_exposure(host, {})
    check_exposure("0.0.0.0", {"alice": "x"})
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")


def test_users_from_file_and_variable_and_passwords_never_in_messages(tmp_path):
    f = tmp_path / "users.txt"
    f.write_text(f"# 登录用户\nalice:{SECRET}\nbob:{hash_password('pw-b', iterations=1000)}\n", encoding="utf-8")
    users = load_users(Settings.from_env({"ASSISTANT_AUTH_FILE": str(f), "ASSISTANT_USERS": "carol:pw-c"}))
    assert set(users) == {"alice", "bob", "carol"}
    auth = make_auth(users)
    assert auth("alice", SECRET) and auth("bob", "pw-b") and auth("carol", "pw-c")
    assert not auth("alice", "wrong") and not auth("nobody", SECRET) and not auth("bob", "")
    f.write_text(f"alice{SECRET}\n", encoding="utf-8")  # a line without ':' holding a password
    with pytest.raises(AssistantError) as e:
        load_users(Settings.from_env({"ASSISTANT_AUTH_FILE": str(f)}))
    assert SECRET not in str(e.value) and "第 1 项" in e.value.message
    with pytest.raises(AssistantError) as e:
        load_users(Settings.from_env({"ASSISTANT_USERS": f"x{SECRET}"}))
    assert SECRET not in str(e.value)
    assert SECRET not in repr(Settings.from_env({"ASSISTANT_USERS": f"alice:{SECRET}"}))


def test_password_hashes_verify_and_are_salted():
    a, b = hash_password("pw", iterations=1000), hash_password("pw", iterations=1000)
    assert a != b and a.startswith("pbkdf2_sha256$1000$")
    assert verify_password("pw", a) and not verify_password("pW", a) and not verify_password("pw", "pbkdf2_sha256$x")


def test_the_front_keeps_a_client_on_one_worker():
    p = StickyProxy("127.0.0.1", 0, [("127.0.0.1", 1), ("127.0.0.1", 2), ("127.0.0.1", 3)])
    assert p.pick(b"GET / HTTP/1.1\r\nCookie: a=b; yz_worker=2\r\n\r\n", b"") == (2, True)
    assert p.pick(b"GET / HTTP/1.1\r\nCookie: yz_worker=7\r\n\r\n", b"")[1] is False  # not a worker: re-picked
    q = p.pick(b"GET /gradio_api/queue/data?session_hash=abc HTTP/1.1\r\n\r\n", b"")
    body = json.dumps({"data": [], "session_hash": "abc"}).encode()
    assert p.pick(b"POST /gradio_api/queue/join HTTP/1.1\r\n\r\n", body) == q
    rr = {p.pick(b"GET / HTTP/1.1\r\n\r\n", b"")[0] for _ in range(3)}
    assert rr == {0, 1, 2}


def test_load_test_only_targets_loopback():
    with pytest.raises(AssistantError, match="本机"):
        load_test("http://10.1.2.3:7860", sessions=1, requests=1)


@pytest.mark.slow
@pytest.mark.parametrize("store,sessions_per_worker,requests", [("files", 16, 2), ("milvus", 16, 1)])
def test_several_workers_serve_a_load_test_without_losing_requests(tmp_path, monkeypatch, store,
                                                                   sessions_per_worker, requests):
    """2 workers behind the front, sign-in on, 2 x 16 concurrent gradio_client sessions."""
    if store == "milvus":
        pytest.importorskip("pymilvus")
        pytest.importorskip("milvus_lite")
    workers = 2
    monkeypatch.setenv("ASSISTANT_USERS", "tester:pw-tester")
    from assistant.serve import free_port, load_users, serve_workers
    s = Settings.from_env({}, model="hash-bigram-256", corpus_dir=ROOT / "corpus", index_dir=tmp_path / "index",
                          host="127.0.0.1", port=free_port(),
                          store="files" if store == "files" else f"milvus:{tmp_path / 'lite.db'}")
    ready, stop, box, logs = threading.Event(), threading.Event(), {}, []

    def run():
        try:
            serve_workers(s, workers, 4, load_users(Settings.from_env()), ready=lambda url: (box.update(url=url), ready.set()),
                          stop=stop, log=lambda m: (logs.append(m), print(m)))
        except BaseException as e:  # noqa: BLE001
            box["error"] = e
            ready.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        assert ready.wait(900) and "error" not in box, box.get("error")
        rep = load_test(box["url"], sessions=workers * sessions_per_worker, requests=requests,
                        auth=("tester", "pw-tester"), timeout=180, deadline=600)
        print(json.dumps(rep, ensure_ascii=False))
        assert rep["failed"] == 0 and rep["lost"] == 0, rep
        assert rep["ok"] == workers * sessions_per_worker * requests
        with pytest.raises(Exception):  # signing in is required
            import gradio_client
            gradio_client.Client(box["url"], verbose=False).predict("民盟提了哪些建议？", api_name="/ask")
    finally:
        stop.set()
        t.join(60)
    per_worker = next(m for m in logs if m.startswith("各工作进程"))
    counts = json.loads(per_worker.split(": ", 1)[1])
    assert len(counts) == workers and min(counts) > 0, per_worker  # both workers served
