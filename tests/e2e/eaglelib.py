"""Helpers for Eagle's end-to-end tests: private Docker engines, a registry, eagled.

Everything a session starts lives under one temporary directory (D below) and is
found again from it, so a crashed run can be cleaned up by `cleanup_dir(D)`.

How the engines are set up, and why
-----------------------------------
The machine may already run Docker engines (a developer's, in the root network
namespace, with its own docker0, docker_gwbridge and swarm ports 2377/7946/4789).
Two engines in one network namespace fight over those: an extra daemon's bridges are
the same Linux devices as the first one's (DESIGN.md's pitfall: `--bridge=none`
deleted the other daemon's docker0), and both gossip on *:7946. So every engine the
tests start gets its OWN network namespace (and UTS namespace, so each node has its
own hostname), made persistent by binding it to a file under D/ns/ (`unshare
--net=FILE`), and dockerd runs inside it through `nsenter`. Nothing is created in the
machine's own network namespace; the namespaces disappear when their files are
unmounted and their processes end.

127.0.0.1 is private to each namespace, so the manager and the worker cannot both be
"127.0.0.1" and still reach each other: Swarm's control plane (2377), gossip (7946)
and the VXLAN data path must go from one node's address to the other's. The two
namespaces are therefore joined by a veth pair, 198.18.213.1 (manager) <->
198.18.213.2 (worker) (198.18.0.0/15 is the benchmarking range; it cannot clash with
Docker's 172.17+/10.0 pools nor, being confined to our namespaces, with anything
outside), and the swarm advertises and listens on those addresses. With this,
overlay networks work across the two nodes (checked: a task on the manager reaches a
task on the worker by its overlay address). The ingress VIP needs IPVS and iptables
and is not used.

The registry listens on 127.0.0.1:PORT in the tests' own namespace, so tests can talk
to it directly, and image references are "127.0.0.1:PORT/eagle-test/web:1" on every
node (127.0.0.0/8 registries need no TLS). Inside each engine's namespace a small
relay (nsfwd.py) listens on the same 127.0.0.1:PORT and forwards to the registry.

Published ports in host mode are bound in the namespace of the node that runs the
task: `ClusterEnv.http_get(node, port)` fetches from inside that namespace.

Containers of our engines go under their own cgroup parent (/eagle-e2e-XXXX-NAME),
so what they leave behind can be found and killed precisely.
"""
import glob
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
TMP_PREFIX = "eagle-e2e-"
MANAGER_ADDR = "198.18.213.1"
WORKER_ADDR = "198.18.213.2"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# --------------------------------------------------------------------------- waiting

class Timeout(AssertionError):
    pass


# Sanitized builds run two to three times slower; a shared CI machine adds its own noise.
# Every wait is for something that must happen, so more patience never hides a failure.
TIMEOUT_SCALE = float(os.environ.get("EAGLE_TEST_TIMEOUT_SCALE", "1"))


def wait_until(fn, timeout=30.0, interval=0.2, what=None):
    """Call fn() until it returns something truthy; return that value.

    Exceptions from fn count as "not yet". After `timeout` seconds, fail with the last
    value or exception, so the message says what was being waited for and what was seen.
    """
    timeout *= TIMEOUT_SCALE
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except Exception as e:  # noqa: BLE001 - anything means "not yet"
            last = e
        if time.monotonic() >= deadline:
            raise Timeout("timed out after %.0fs waiting for %s; last: %r"
                          % (timeout, what or getattr(fn, "__name__", "condition"), last))
        time.sleep(interval)


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port(lo=20000, hi=32767):
    """A port free for TCP and UDP on this namespace's 127.0.0.1/0.0.0.0, in lo..hi and
    outside the kernel's ephemeral range (an outgoing connection may take a port from
    that range between our check and the bind); Swarm's data-path port must be <= 49151."""
    elo, ehi = _ephemeral_range()
    if lo <= ehi and hi >= elo:  # an unusual range setting: take what lies below it
        lo, hi = min(lo, max(1024, elo - 8000)), elo - 1
    for _ in range(200):
        port = random.randint(lo, hi)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port in %d..%d" % (lo, hi))


def run(args, check=True, timeout=120, **kw):
    """subprocess.run with text output captured; a failure shows the command's stderr."""
    cp = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and cp.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(map(str, args)), cp.returncode,
                                                     cp.stderr, cp.stdout))
    return cp


# ------------------------------------------------------------------- Docker Engine API

class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


def engine_api(sock, method, path, body=None, timeout=30):
    """One call to a Docker engine's HTTP API over its unix socket → (status, decoded JSON or text)."""
    conn = _UnixHTTPConnection(sock, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, "/v1.41" + path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        raw = resp.read().decode()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw
    finally:
        conn.close()


def qfilters(**filters):
    """?filters= for the Engine API: qfilters(label=["eagle.service=web"])."""
    return "?filters=" + urllib.parse.quote(json.dumps(filters))


# -------------------------------------------------------------------- processes

def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(proc, timeout=15.0, sig=signal.SIGTERM):
    """Signal a Popen child, wait, SIGKILL if it lingers; return its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(10)


def _proc_start_time(pid):
    """The start time of a live process (None if gone or a zombie): with the pid, an
    identity that survives pid reuse."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _pids_referencing(path):
    """Processes whose command line names something under `path` (our daemons, their
    containerd and shims: all carry D in their arguments), except this process."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path + "/" in cmd:
            found.append(int(entry))
    return found


def _cgroup_dirs(tag):
    """Our engines' cgroup parents (/eagle-e2e-XXXX-NAME in every hierarchy)."""
    dirs = glob.glob("/sys/fs/cgroup/*/%s-*" % tag) + glob.glob("/sys/fs/cgroup/%s-*" % tag)
    return [d for d in dirs if os.path.isdir(d)]


def _pids_in_cgroups(tag):
    pids = set()
    for d in _cgroup_dirs(tag):
        for root, _dirs, files in os.walk(d):
            if "cgroup.procs" in files:
                try:
                    with open(os.path.join(root, "cgroup.procs")) as f:
                        pids.update(int(x) for x in f.read().split())
                except OSError:
                    pass
    pids.discard(os.getpid())
    return pids


def _mounts_under(path):
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                points.append(mp)
    return sorted(set(points), key=len, reverse=True)


def cleanup_dir(path, log=print):
    """Undo everything a session started under `path`, even after a crash:
    kill its processes (by their ids, found from the path and our cgroups), unmount what
    is mounted under it (network namespaces, container root filesystems), remove our
    cgroups and the directory."""
    path = os.path.realpath(path)
    tag = os.path.basename(path)
    for attempt in range(3):
        pids = set(_pids_referencing(path)) | _pids_in_cgroups(tag)
        if not pids:
            break
        sig = signal.SIGTERM if attempt == 0 else signal.SIGKILL
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (10 if attempt == 0 else 5)
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
    for mp in _mounts_under(path):
        if subprocess.run(["umount", mp], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mp], capture_output=True)
    for d in _cgroup_dirs(tag):
        for root, dirs, _files in sorted(os.walk(d), key=lambda x: len(x[0]), reverse=True):
            try:
                os.rmdir(root)
            except OSError:
                pass
    left = _mounts_under(path)
    if left:
        log("eagle-e2e: still mounted under %s: %s" % (path, left))
    shutil.rmtree(path, ignore_errors=True)


def reap_stale_dirs(log=print):
    """Clean up the directories of earlier sessions whose pytest died without tearing
    down (its owner process is gone) and that were not kept on purpose."""
    base = tempfile.gettempdir()
    for d in glob.glob(os.path.join(base, TMP_PREFIX + "*")):
        owner = os.path.join(d, "owner")
        if os.path.exists(os.path.join(d, "keep")) or not os.path.exists(owner):
            continue
        try:
            pid, start = open(owner).read().split()
        except (OSError, ValueError):
            continue
        if _proc_start_time(int(pid)) == start:
            continue  # that session is still running
        log("eagle-e2e: cleaning up stale %s" % d)
        cleanup_dir(d, log=log)


# ------------------------------------------------------------ namespaces and relays

def make_netns(tmp, name, hostname):
    """A persistent network + UTS namespace bound to files D/ns/NAME.{net,uts}, lo up."""
    nsdir = os.path.join(tmp, "ns")
    os.makedirs(nsdir, exist_ok=True)
    net, uts = os.path.join(nsdir, name + ".net"), os.path.join(nsdir, name + ".uts")
    for p in (net, uts):
        open(p, "w").close()
    run(["unshare", "--net=" + net, "--uts=" + uts, "hostname", hostname])
    run(["nsenter", "--net=" + net, "ip", "link", "set", "lo", "up"])
    return net, uts


def link_netns(net_a, addr_a, net_b, addr_b, prefix=24, devs=("eg0", "eg1")):
    """A veth pair between two of our namespaces, addr_a on one end, addr_b on the other."""
    run(["nsenter", "--net=" + net_a, "ip", "link", "add", devs[0], "type", "veth", "peer", "name", devs[1]])
    run(["nsenter", "--net=" + net_a, "ip", "link", "set", devs[1], "netns", net_b])
    for net, dev, addr in ((net_a, devs[0], addr_a), (net_b, devs[1], addr_b)):
        run(["nsenter", "--net=" + net, "ip", "addr", "add", "%s/%d" % (addr, prefix), "dev", dev])
        run(["nsenter", "--net=" + net, "ip", "link", "set", dev, "up"])


class Relay:
    """nsfwd.py: 127.0.0.1:port inside `netns` → target_host:target_port here."""

    def __init__(self, tmp, netns, port, target_host, target_port):
        logpath = os.path.join(tmp, "relay-%s-%d.log" % (os.path.basename(netns), port))
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "nsfwd.py"), netns, str(port), target_host, str(target_port)],
            stdout=subprocess.PIPE, stderr=open(logpath, "w"), text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            stop_process(self.proc)
            raise RuntimeError("relay into %s did not start: %s" % (netns, open(logpath).read()))

    def stop(self):
        stop_process(self.proc, timeout=2)


# --------------------------------------------------------------------------- engines

class Engine:
    """One dockerd in its own network/UTS namespace, all state under D/NAME."""

    def __init__(self, tmp, name, hostname):
        self.tmp, self.name, self.hostname = tmp, name, hostname
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "docker.sock")
        assert len(self.sock) < 100, "socket path too long for a unix socket: " + self.sock
        self.netns, self.utsns = make_netns(tmp, name, hostname)
        self.proc = None
        self.relays = []
        self.node_id = None

    def start(self, timeout=60):
        assert self.proc is None or self.proc.poll() is not None, "engine %s already runs" % self.name
        tag = os.path.basename(self.tmp)
        args = ["nsenter", "--net=" + self.netns, "--uts=" + self.utsns, "--",
                "dockerd", "--iptables=false", "--ip-masq=false",
                "--data-root", os.path.join(self.dir, "data"),
                "--exec-root", os.path.join(self.dir, "exec"),
                "--pidfile", os.path.join(self.dir, "pid"),
                "-H", "unix://" + self.sock,
                "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", "/%s-%s" % (tag, self.name),
                "--config-file", self._config_file()]
        env = dict(os.environ)
        env.pop("DOCKER_HOST", None)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=env,
                                     stdout=open(os.path.join(self.dir, "dockerd.log"), "a"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise Timeout("dockerd %s exited with %s:\n%s" % (self.name, self.proc.returncode,
                                                                  self.log_tail()))
            return self.ping()
        try:
            wait_until(up, timeout=timeout, what="dockerd %s to answer" % self.name)
        except Timeout as e:
            raise Timeout("%s\n%s" % (e, self.log_tail())) from None

    def _config_file(self):
        # An empty daemon.json of our own, so a machine-wide /etc/docker/daemon.json
        # (hosts, bridges, registries) does not leak into the test engine.
        path = os.path.join(self.dir, "daemon.json")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("{}\n")
        return path

    def ping(self):
        try:
            status, body = engine_api(self.sock, "GET", "/_ping", timeout=3)
            return status == 200
        except OSError:
            return False

    def stop(self, timeout=20, sig=signal.SIGTERM):
        """Stop dockerd (it stops its containers and containerd itself)."""
        return stop_process(self.proc, timeout=timeout, sig=sig)

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "dockerd.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def docker(self, *args, check=False, timeout=120, input=None):
        env = dict(os.environ, DOCKER_BUILDKIT="0", DOCKER_CONFIG=os.path.join(self.tmp, "docker-cli"))
        env.pop("DOCKER_HOST", None)
        env.pop("DOCKER_CONTEXT", None)
        return run([DOCKER, "-H", "unix://" + self.sock] + [str(a) for a in args],
                   check=check, timeout=timeout, env=env, input=input)

    def api(self, method, path, body=None, timeout=30):
        return engine_api(self.sock, method, path, body, timeout)

    def relay_registry(self, port):
        self.relays.append(Relay(self.tmp, self.netns, port, "127.0.0.1", port))

    def in_netns(self, *args, timeout=30, check=False):
        """Run a command inside this engine's network namespace."""
        return run(["nsenter", "--net=" + self.netns, "--"] + [str(a) for a in args],
                   check=check, timeout=timeout)

    def swarm_init(self, addr, port, data_path_port):
        self.docker("swarm", "init", "--advertise-addr", addr, "--listen-addr", "%s:%d" % (addr, port),
                    "--data-path-port", data_path_port, check=True, timeout=60)
        self.node_id = self.docker("info", "-f", "{{.Swarm.NodeID}}", check=True).stdout.strip()

    def swarm_leave(self):
        if self.running():
            self.docker("swarm", "leave", "--force", timeout=60)


# -------------------------------------------------------------------------- registry

class Registry:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "registry")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\n"
                    "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
                    "http:\n  addr: %s\n" % (os.path.join(self.dir, "data"), self.addr))
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise Timeout("registry exited: " + open(os.path.join(self.dir, "log")).read())
            return requests.get("http://%s/v2/" % self.addr, timeout=2).status_code == 200
        wait_until(up, timeout=30, what="the registry")

    def tags(self, repo):
        r = requests.get("http://%s/v2/%s/tags/list" % (self.addr, repo), timeout=5)
        return r.json().get("tags") or [] if r.status_code == 200 else []

    def stop(self):
        stop_process(self.proc, timeout=5)


# ---------------------------------------------------------------------------- images

IMAGES = {
    # name:tag → text served by busybox httpd on :8080 at /
    "eagle-test/web:1": "web 1",
    "eagle-test/web:2": "web 2",
    "eagle-test/web:3": "web 3",
}

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
EXPOSE 8080
# busybox httpd as PID 1 ignores SIGTERM: stop it at once instead of after 10s.
STOPSIGNAL SIGKILL
CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def build_images(engine, registry, tmp):
    busybox = shutil.which("busybox", path="/bin:/usr/bin") or "/bin/busybox"
    for ref, text in IMAGES.items():
        ctx = os.path.join(tmp, "images", ref.replace("/", "_").replace(":", "_"))
        os.makedirs(os.path.join(ctx, "www"), exist_ok=True)
        shutil.copy(busybox, os.path.join(ctx, "busybox"))
        with open(os.path.join(ctx, "www", "index.html"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(DOCKERFILE)
        full = "%s/%s" % (registry.addr, ref)
        engine.docker("build", "-q", "--network", "none", "-t", full, ctx, check=True, timeout=300)
        engine.docker("push", "-q", full, check=True, timeout=300)


# ----------------------------------------------------------------------- the cluster

class ClusterEnv:
    """The session's private world: a two-node swarm (manager + worker), a registry with
    the test images, and room for throwaway engines."""

    def __init__(self):
        base = tempfile.gettempdir()
        if len(base) > 40:
            base = "/tmp"
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=base))
        with open(os.path.join(self.tmp, "owner"), "w") as f:
            f.write("%d %s\n" % (os.getpid(), _proc_start_time(os.getpid())))
        self.engines = []
        self.reg = None
        self.registry = None
        self.manager = self.worker = None
        self._next_port = 20000
        self._port_lock = threading.Lock()

    # -- setup
    def start(self):
        self.reg = Registry(self.tmp)
        self.registry = self.reg.addr
        self.manager = self._engine("m", "eagle-e2e-manager")
        self.worker = self._engine("w", "eagle-e2e-worker")
        link_netns(self.manager.netns, MANAGER_ADDR, self.worker.netns, WORKER_ADDR)
        for e in (self.manager, self.worker):
            e.relay_registry(self.reg.port)
        parallel(self.manager.start, self.worker.start)
        swarm_port, data_port = free_port(), free_port()
        self.manager.swarm_init(MANAGER_ADDR, swarm_port, data_port)
        token = self.manager.docker("swarm", "join-token", "-q", "worker", check=True).stdout.strip()
        self.worker.docker("swarm", "join", "--listen-addr", "%s:%d" % (WORKER_ADDR, swarm_port),
                           "--advertise-addr", "%s:%d" % (WORKER_ADDR, swarm_port),
                           "--token", token, "%s:%d" % (MANAGER_ADDR, swarm_port), check=True, timeout=60)
        self.worker.node_id = self.worker.docker("info", "-f", "{{.Swarm.NodeID}}", check=True).stdout.strip()
        wait_until(lambda: len([n for n in self.nodes() if n["Status"]["State"] == "ready"]) == 2,
                   timeout=60, what="both swarm nodes ready")
        build_images(self.manager, self.reg, self.tmp)
        return self

    def _engine(self, name, hostname):
        e = Engine(self.tmp, name, hostname)
        self.engines.append(e)
        return e

    # -- what tests use
    @property
    def sock(self):
        return self.manager.sock

    @property
    def worker_sock(self):
        return self.worker.sock

    def image(self, name):
        """Full reference of a test image: image("web:1") → 127.0.0.1:PORT/eagle-test/web:1."""
        if "/" not in name:
            name = "eagle-test/" + name
        return "%s/%s" % (self.registry, name)

    def docker(self, *args, sock=None, check=False, timeout=120, input=None):
        """The docker CLI against the manager (or the engine at `sock`)."""
        engine = self.manager
        if sock is not None:
            engine = next(e for e in self.engines if e.sock == sock)
        return engine.docker(*args, check=check, timeout=timeout, input=input)

    def api(self, method, path, body=None):
        """The manager's Engine API (status, JSON)."""
        return self.manager.api(method, path, body)

    def nodes(self):
        status, body = self.manager.api("GET", "/nodes")
        assert status == 200, body
        return body

    def engine_services(self, label=None):
        """Services in the manager's engine, optionally those carrying a label (k or k=v)."""
        path = "/services" + (qfilters(label=[label]) if label else "")
        status, body = self.manager.api("GET", path)
        assert status == 200, body
        return body

    def services_of(self, name):
        """The engine services Eagle made for its service `name` (label eagle.service=name)."""
        return self.engine_services("eagle.service=" + name)

    def the_service_of(self, name):
        """The one engine service behind Eagle's service `name`."""
        found = self.services_of(name)
        assert len(found) == 1, "engine services labelled eagle.service=%s: %d" % (name, len(found))
        return found[0]

    def engine_service(self, name):
        """The engine's service `name` (dict) or None."""
        status, body = self.manager.api("GET", "/services/" + name)
        return body if status == 200 else None

    def engine_tasks(self, service, desired="running"):
        f = {"service": [service]}
        if desired:
            f["desired-state"] = [desired]
        status, body = self.manager.api("GET", "/tasks" + qfilters(**f))
        assert status == 200, body
        return body

    def running_tasks(self, service):
        return [t for t in self.engine_tasks(service) if t["Status"]["State"] == "running"]

    def host_port(self):
        """A port number for a host-mode published port, different for every caller."""
        with self._port_lock:
            self._next_port += 1
            return self._next_port

    def http_get(self, port, node="manager", path="/", timeout=5):
        """GET http://127.0.0.1:port/path from inside a node's namespace → body text or None."""
        engine = self.manager if node == "manager" else self.worker if node == "worker" else node
        cp = engine.in_netns("curl", "-s", "-m", str(timeout), "http://127.0.0.1:%d%s" % (port, path),
                             timeout=timeout + 5)
        return cp.stdout if cp.returncode == 0 else None

    def throwaway_engine(self, name):
        """A third engine, alone in its namespace, as a one-node swarm (127.0.0.1)."""
        taken = {x.name for x in self.engines}
        base, n = name, 1
        while name in taken:
            n += 1
            name = "%s-%d" % (base, n)
        e = self._engine(name, "eagle-e2e-" + base)
        e.start()
        e.swarm_init("127.0.0.1", 2377, 4789)
        return e

    # -- teardown
    def stop(self, log=print):
        for e in reversed(self.engines):
            try:
                e.swarm_leave()
            except Exception as ex:  # noqa: BLE001 - keep tearing down
                log("eagle-e2e: swarm leave on %s: %s" % (e.name, ex))
        for e in reversed(self.engines):
            e.stop(timeout=20)
            for r in e.relays:
                r.stop()
        if self.reg:
            self.reg.stop()
        cleanup_dir(self.tmp, log=log)


def parallel(*fns):
    """Run the functions in threads; re-raise the first failure."""
    errors = []

    def call(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)
    threads = [threading.Thread(target=call, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------------- eagled

DEFAULT = object()


class EagleError(AssertionError):
    pass


class Eagle:
    """One eagled process against the cluster's manager, with its own data directory."""

    _count = 0

    def __init__(self, env, build=None, data=None, extra_args=()):
        Eagle._count += 1
        self.env = env
        self.build = build or os.environ.get("EAGLE_BUILD") or os.path.join(REPO, "build")
        self.bin = os.path.join(self.build, "eagled")
        self.ctl_bin = os.path.join(self.build, "eaglectl")
        self.data = data or os.path.join(env.tmp, "eagled-%d" % Eagle._count)
        self.logpath = self.data + ".log"
        self.home = self.data + "-home"
        os.makedirs(self.home, exist_ok=True)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.password = secrets.token_urlsafe(18)
        self.extra_args = list(extra_args)
        self.proc = None
        self.token = None
        self.problems = []  # exits we did not ask for
        self._expected_exit = set()
        self.fault = None  # EAGLE_FAULT for the next start: eagled kills itself there

    # -- lifecycle
    def start(self, timeout=30):
        assert os.access(self.bin, os.X_OK), "no eagled at %s (run make)" % self.bin
        env = {k: v for k, v in os.environ.items() if not k.startswith("EAGLE_")}
        env["EAGLE_ADMIN_PASSWORD"] = self.password
        env["HOME"] = self.home
        if self.fault:
            env["EAGLE_FAULT"] = self.fault
        # Under the sanitizer build, h2o's own caches at exit are not leaks (tests/lsan.supp).
        env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" % os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lsan.supp"))
        args = [self.bin, "--listen", "127.0.0.1:%d" % self.port, "--data", self.data,
                "--engine", "unix://" + self.env.sock] + self.extra_args
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=open(self.logpath, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._expected_exit = {-signal.SIGKILL} if self.fault else set()

        def healthy():
            if self.proc.poll() is not None:
                raise EagleError("eagled exited with %s while starting:\n%s"
                                 % (self.proc.returncode, self.log()[-3000:]))
            return requests.get(self.url + "/v1/health", timeout=2).status_code == 200
        try:
            wait_until(healthy, timeout=timeout, interval=0.1, what="eagled /v1/health")
        except Timeout as e:
            raise EagleError("%s\n--- eagled log ---\n%s" % (e, self.log()[-3000:])) from None
        self.login()
        return self

    def login(self):
        r = requests.post(self.url + "/v1/auth/login",
                          json={"username": "admin", "password": self.password}, timeout=30)
        assert r.status_code == 200, "login: %s %s" % (r.status_code, r.text)
        self.token = r.json()["token"]
        return self.token

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop eagled with `sig` (SIGKILL if it does not go) and return its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            if rc not in self._expected_exit and rc != 0:
                self.problems.append("eagled exited by itself with status %s" % rc)
            self._expected_exit.add(rc)  # reported once
            return rc
        self._expected_exit = {0, -sig}
        rc = stop_process(self.proc, timeout=timeout, sig=sig)
        if rc not in self._expected_exit:
            self.problems.append("eagled exited with status %s after signal %d" % (rc, sig))
        return rc

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    def restart(self, kill9=False):
        """Stop (SIGTERM, or SIGKILL when kill9) and start again on the same data and port."""
        self.stop(sig=signal.SIGKILL if kill9 else signal.SIGTERM)
        self.start()
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        text = self.log()
        return [m for m in SANITIZER_MARKS if m in text]

    # -- clients
    def api(self, method, path, json=None, token=DEFAULT, raw=None, headers=None, timeout=60):
        h = dict(headers or {})
        tok = self.token if token is DEFAULT else token
        if tok is not None:
            h.setdefault("Authorization", "Bearer " + tok)
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
        return requests.request(method, self.url + path, json=json, data=raw, headers=h, timeout=timeout)

    def ok(self, method, path, json=None, status=None):
        """api() that must succeed (2xx, or exactly `status`) → decoded body (None for 204)."""
        r = self.api(method, path, json=json)
        good = r.status_code == status if status else 200 <= r.status_code < 300
        assert good, "%s %s → %s %s" % (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def ctl_env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("EAGLE_")}
        env["HOME"] = self.home
        if self.fault:
            env["EAGLE_FAULT"] = self.fault
        env["EAGLECTL_CONFIG"] = os.path.join(self.home, "eagle-config.json")
        env.update(extra)
        return env

    def ctl(self, *args, input=None, auth=True, env=None, timeout=120):
        """eaglectl --endpoint URL --token TOKEN ARGS... (auth=False: neither flag)."""
        assert os.access(self.ctl_bin, os.X_OK), "no eaglectl at %s (run make)" % self.ctl_bin
        pre = ["--endpoint", self.url, "--token", self.token] if auth else []
        return subprocess.run([self.ctl_bin] + pre + [str(a) for a in args], input=input,
                              capture_output=True, text=True, timeout=timeout,
                              env=env or self.ctl_env())

    # -- services the test made
    def remove_all_services(self, timeout=60):
        """Delete every service through the API, then make sure the engine holds none
        labelled eagle.service (docker service rm what is left)."""
        if self.running():
            try:
                r = self.api("GET", "/v1/services", timeout=10)
                if r.status_code == 200:
                    for s in r.json().get("items", []):
                        self.api("DELETE", "/v1/services/" + s["name"], timeout=30)
            except (requests.RequestException, ValueError):
                pass
        env = self.env
        try:
            wait_until(lambda: not env.engine_services("eagle.service"), timeout=15,
                       what="Eagle's services to leave the engine")
        except Timeout:
            for s in env.engine_services("eagle.service"):
                env.docker("service", "rm", s["ID"])
            wait_until(lambda: not env.engine_services("eagle.service"), timeout=timeout,
                       what="docker service rm of Eagle's services")


# ------------------------------------------------------------- assertions for tests

def assert_error(r, status, code, field=None):
    """An Eagle error answer: status, {"error": {"code", "message", "field"}}."""
    assert r.status_code == status, "expected %d %s, got %s %s" % (status, code, r.status_code, r.text)
    try:
        err = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError("not an error body: %r" % r.text) from None
    assert err["code"] == code, err
    assert err.get("message"), err
    if field is not None:
        assert err.get("field") == field, err
    return err


def engine_env(svc):
    """Env of an engine service as a dict."""
    env = svc["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or []
    return dict(e.split("=", 1) for e in env)


def engine_image(svc_or_task):
    """The image of an engine service or task, without the @sha256 digest Swarm pins."""
    spec = svc_or_task["Spec"]
    cs = (spec.get("TaskTemplate") or spec)["ContainerSpec"]
    return cs["Image"].split("@", 1)[0]


def engine_replicas(svc):
    mode = svc["Spec"]["Mode"]
    return mode["Replicated"]["Replicas"] if "Replicated" in mode else None
