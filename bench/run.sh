#!/usr/bin/env bash
# bench/run.sh — Eagle's discovery benchmark, in one run, side by side:
#   eagled's discovery API  vs  the Docker Engine API calls a program would otherwise make
#   vs  nginx serving the same bytes from a file (the practical ceiling).
#
# Everything it starts lives under one temporary directory and inside one private
# network namespace made for the run (the engine, eagled, nginx and every client:
# wrk, curl, the Python watcher). So the engine's TCP API listens on 127.0.0.1 of
# that namespace with no forwarder, no port can clash with anything on the machine,
# and no traffic leaves 127.0.0.1. The machine's other engines are never touched.
# A trap undoes it all (processes by their ids, the namespace mount, cgroups, files);
# a watchdog ends the run after BENCH_MAX_SECONDS (default 880 s).
#
# Usage: bench/run.sh            (as root; see bench/README.md)
# Environment (optional):
#   BENCH_DURATION=10   seconds per wrk run        BENCH_REPEATS=5   wrk runs per figure (median)
#   BENCH_THREADS=2     wrk -t                     BENCH_CONNS=32    wrk -c
#   BENCH_RATE=10000    fixed rate for the p99     BENCH_WATCH=20    watcher repeats
#   BENCH_BIG=1000      services for the memory step (5 tasks each)
#   BENCH_NO_BUILD=1    use build/eagled as it is (no make)
#   BENCH_EAGLED=PATH   benchmark this eagled binary instead of build/eagled
#   BENCH_QUIET_WAIT=60  wait up to this long for load average < 1 before measuring
#   BENCH_KEEP=1        leave the temp dir and processes for debugging (printed at the end)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
DURATION=${BENCH_DURATION:-10}
REPEATS=${BENCH_REPEATS:-5}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
RATE=${BENCH_RATE:-10000}
WATCH_N=${BENCH_WATCH:-20}
BIG=${BENCH_BIG:-1000}
SMALL=100           # services for the throughput steps
REPLICAS=5          # tasks per service
MAX_SECONDS=${BENCH_MAX_SECONDS:-880}
PW=pw
EPORT=2375          # the engine's TCP API (inside our namespace)
APORT=8500          # eagled
NPORT=8081          # nginx
IMAGE=eagle-bench/busybox:1
CONSTRAINT='node.labels.bench==none'   # no node has it: tasks stay pending
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
DOCKER_BIN=/usr/bin/docker
[ -x "$DOCKER_BIN" ] || DOCKER_BIN=$(command -v docker)

START=$(date +%s)
STAMP=$(date +%Y-%m-%d-%H%M%S)
RESULTS="$HERE/results-$STAMP.txt"

say() { printf '[%4ds] %s\n' $(( $(date +%s) - START )) "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it starts dockerd and a network namespace)"

# ------------------------------------------------------------------ packages
need_pkgs=()
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx-light)
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
if ! { ldd /bin/busybox 2>&1 || true; } | grep -qE "not a dynamic|statically linked"; then need_pkgs+=(busybox-static); fi
command -v curl >/dev/null || need_pkgs+=(curl)
command -v unshare >/dev/null && command -v nsenter >/dev/null || need_pkgs+=(util-linux)
command -v ip >/dev/null || need_pkgs+=(iproute2)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing ${need_pkgs[*]} (apt-get)"
    # A freshly installed nginx (or docker.io) must not start as a system service: these
    # machines have a policy-rc.d that says no; elsewhere, one is put in place for the install.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -q >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null || inst_rc=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    [ "${inst_rc:-0}" = 0 ] || die "apt-get install ${need_pkgs[*]} failed"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ------------------------------------------------------------------ the world, and its undoing
T=$(mktemp -d /tmp/eagle-bench-XXXXXX)
TAG=$(basename "$T")
NS="$T/ns/net"
NSX=(nsenter "--net=$NS" --)
SOCK="$T/d/docker.sock"
mkdir -p "$T/ns" "$T/d" "$T/e" "$T/bin" "$T/www" "$T/nginx" "$T/ctx" "$T/cli" "$T/wrk"
echo "$$" >"$T/owner"
chmod 711 "$T"; chmod 755 "$T/www"   # nginx's workers run as www-data
DOCKERD_PID="" EAGLED_PID="" NGINX_PID="" WATCHDOG_PID=""

pids_of_ours() {
    # processes whose command line names our temp dir (dockerd, its containerd, eagled,
    # nginx, helpers), except this script and the watchdog.
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$$" ] && continue
        [ "$p" = "$BASHPID" ] && continue
        [ -n "$WATCHDOG_PID" ] && [ "$p" = "$WATCHDOG_PID" ] && continue
        tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$T/" && echo "$p"
    done
    return 0
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        say "BENCH_KEEP=1: left everything in $T (engine: docker -H unix://$SOCK; namespace $NS)"
        exit $rc
    fi
    if [ $rc != 0 ] && [ -d "$T" ]; then
        local keep="/tmp/eagle-bench-failed-$STAMP"
        mkdir -p "$keep"
        cp -r "$T/wrk" "$keep/" 2>/dev/null
        for f in e/eagled.log e2/eagled.log d/dockerd.log nginx/error.log; do
            [ -f "$T/$f" ] && cp "$T/$f" "$keep/${f//\//-}"
        done
        local core
        for core in "$T"/e/core* "$T"/e2/core*; do
            [ -f "$core" ] || continue
            cp "$T/bin/eagled" "$keep/eagled"
            cp "$core" "$keep/"
            gdb -batch -ex 'thread apply all bt' "$T/bin/eagled" "$core" >"$keep/backtrace.txt" 2>&1
            say "eagled dumped core: backtrace in $keep/backtrace.txt"
        done
        say "the run failed: logs kept in $keep"
    fi
    say "cleaning up $T"
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
    [ -n "$EAGLED_PID" ] && kill "$EAGLED_PID" 2>/dev/null
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        kill "$DOCKERD_PID"
        for _ in $(seq 1 200); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DOCKERD_PID" 2>/dev/null
    fi
    local round pid
    for round in 1 2 3; do
        local left
        left=$(pids_of_ours)
        [ -z "$left" ] && break
        for pid in $left; do kill $([ $round = 1 ] && echo -TERM || echo -KILL) "$pid" 2>/dev/null; done
        sleep 2
    done
    # unmount what is mounted under T (the namespace file, container layers), deepest first
    awk -v t="$T" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r mp; do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null; done
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$TAG*" 2>/dev/null | sort -r |
        while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

( sleep "$MAX_SECONDS"; echo "[watchdog] $MAX_SECONDS s passed: stopping the benchmark" >&2; kill -TERM $$ ) &
WATCHDOG_PID=$!

# ------------------------------------------------------------------ helper (Python, stdlib only)
cat >"$T/h.py" <<'PYEOF'
"""Helpers of bench/run.sh: Engine API over the unix socket, eagled calls, the watcher."""
import http.client, json, os, socket, statistics, sys, threading, time, urllib.parse
from concurrent.futures import ThreadPoolExecutor

SOCK = os.environ["SOCK"]
EAGLE = ("127.0.0.1", int(os.environ["APORT"]))
TOKEN = os.environ.get("TOKEN", "")

class UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path_ = path
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path_)
        self.sock = s

def engine(method, path, body=None, conn=None):
    c = conn or UnixConn(SOCK)
    data = json.dumps(body) if body is not None else None
    c.request(method, "/v1.41" + path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    raw = r.read()
    if conn is None:
        c.close()
    try:
        return r.status, json.loads(raw)
    except ValueError:
        return r.status, raw.decode(errors="replace")

def eagle(method, path, body=None, timeout=60, conn=None):
    c = conn or http.client.HTTPConnection(*EAGLE, timeout=timeout)
    h = {"Authorization": "Bearer " + TOKEN}
    data = None
    if body is not None:
        data = json.dumps(body)
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    if conn is None:
        c.close()
    idx = r.getheader("X-Eagle-Index")
    try:
        return r.status, json.loads(raw), idx, raw
    except ValueError:
        return r.status, raw.decode(errors="replace"), idx, raw

def spec(name, replicas):
    return {"Name": name, "Labels": {"bench": "eagle"},
            "TaskTemplate": {"ContainerSpec": {"Image": os.environ["IMAGE"], "Command": ["sleep", "86400"]},
                             "Placement": {"Constraints": [os.environ["CONSTRAINT"]]}},
            "Mode": {"Replicated": {"Replicas": replicas}}}

def create_services(first, last, replicas):
    """s<first>..s<last> in the engine, 8 at a time."""
    def one(i):
        st, body = engine("POST", "/services/create", spec("s%d" % i, replicas))
        if st != 201:
            raise SystemExit("create s%d: %s %s" % (i, st, body))
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(one, range(first, last + 1)))

def count_tasks(prefix="s"):
    st, tasks = engine("GET", "/tasks?filters=" + urllib.parse.quote(json.dumps({"desired-state": ["running"]})))
    return len(tasks)

def wait_engine_tasks(n, timeout):
    """Swarm's orchestrator makes the tasks shortly after the services."""
    end = time.time() + timeout
    while time.time() < end:
        if count_tasks() >= n:
            return
        time.sleep(0.5)
    raise SystemExit("engine: %d tasks, wanted %d" % (count_tasks(), n))

def wait_catalog(services, tasks, timeout):
    """Until GET /v1/discovery/services lists `services` services holding `tasks` instances."""
    end, t0, seen = time.time() + timeout, time.time(), None
    while time.time() < end:
        try:
            st, body, idx, raw = eagle("GET", "/v1/discovery/services")
            if st == 200:
                seen = (len(body["services"]), sum(len(s["instances"]) for s in body["services"]))
                if seen == (services, tasks):
                    print("%.1f" % (time.time() - t0))
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit("catalog: saw (services, instances) = %s, wanted (%d, %d)" % (seen, services, tasks))

def check_answer(name, replicas):
    """eagled's answer for one service against the engine's: same task ids."""
    st, body, idx, raw = eagle("GET", "/v1/discovery/services/" + name)
    assert st == 200, (st, body)
    st2, svc = engine("GET", "/services/" + name)
    st3, tasks = engine("GET", "/tasks?filters=" + urllib.parse.quote(json.dumps({"service": [svc["ID"]]})))
    want = sorted(t["ID"] for t in tasks if t["DesiredState"] == "running")
    got = sorted(i["task_id"] for i in body["instances"])
    if got != want or len(got) != replicas or body.get("replicas") != replicas:
        raise SystemExit("eagled's answer for %s differs from the engine's: eagled %s, engine %s, replicas %s"
                         % (name, got, want, body.get("replicas")))
    print("ok %s: %d instances, %d bytes, index %s, states %s" %
          (name, len(got), len(raw), idx, sorted({i["state"] for i in body["instances"]})))

def watch(name, repeats):
    """Change-to-watcher latency: a client blocked on ?index=N&wait=30s for `name`; scale it
    through eagled's API; time from the scale call's return to the watcher's wake."""
    def settled(n):
        end = time.time() + 20
        while time.time() < end:
            st, body, idx, _ = eagle("GET", "/v1/discovery/services/" + name)
            if st == 200 and body.get("replicas") == n and len(body["instances"]) == n:
                return int(idx)
            time.sleep(0.1)
        raise SystemExit("%s did not settle at %d instances" % (name, n))
    lat_ret, lat_start, scale_ms = [], [], []
    n = 1
    settled(n)
    time.sleep(1.2)
    for i in range(repeats):
        idx = settled(n)
        target = 2 if n == 1 else 1
        woke = {}
        def watcher():
            cur = idx
            while True:
                st, body, new, _ = eagle("GET", "/v1/discovery/services/%s?index=%d&wait=30s" % (name, cur),
                                         timeout=40)
                if st == 200 and body.get("replicas") == target:
                    woke["t"] = time.monotonic()
                    return
                if new is None or st != 200:
                    woke["err"] = (st, body)
                    return
                cur = int(new)  # woke for another change: block again
        th = threading.Thread(target=watcher)
        th.start()
        time.sleep(0.3)  # the watcher's request is in and suspended
        t0 = time.monotonic()
        st, body, _, _ = eagle("POST", "/v1/services/%s/scale" % name, {"replicas": target})
        t1 = time.monotonic()
        if st != 200:
            raise SystemExit("scale %s → %d: %s %s" % (name, target, st, body))
        th.join(45)
        if "t" not in woke:
            raise SystemExit("watcher did not wake: %s" % woke)
        lat_ret.append(max(0.0, woke["t"] - t1) * 1000)
        lat_start.append((woke["t"] - t0) * 1000)
        scale_ms.append((t1 - t0) * 1000)
        n = target
    def pct(v, p):
        v = sorted(v)
        k = (len(v) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (k - lo)
    print("WATCH p50=%.1f p99=%.1f max=%.1f from_start_p50=%.1f from_start_p99=%.1f scale_call_p50=%.1f "
          "scale_call_max=%.1f all=%s" % (pct(lat_ret, .5), pct(lat_ret, .99), max(lat_ret), pct(lat_start, .5),
                                          pct(lat_start, .99), pct(scale_ms, .5), max(scale_ms),
                                          ",".join("%.0f" % x for x in lat_ret)))

def main():
    cmd = sys.argv[1]
    if cmd == "create":
        create_services(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "wait-tasks":
        wait_engine_tasks(int(sys.argv[2]), float(sys.argv[3]))
    elif cmd == "wait-catalog":
        wait_catalog(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "check":
        check_answer(sys.argv[2], int(sys.argv[3]))
    elif cmd == "watch":
        watch(sys.argv[2], int(sys.argv[3]))
    elif cmd == "service-id":
        st, body = engine("GET", "/services/" + sys.argv[2])
        print(body["ID"])
    else:
        raise SystemExit("unknown command " + cmd)

main()
PYEOF
export SOCK APORT IMAGE CONSTRAINT
h() { "${NSX[@]}" env TOKEN="${TOKEN:-}" "$PY" "$T/h.py" "$@"; }

# ------------------------------------------------------------------ 1. the engine
say "network namespace $NS"
touch "$NS"
unshare --net="$NS" true
"${NSX[@]}" ip link set lo up

echo '{}' >"$T/d/daemon.json"   # not the machine's /etc/docker/daemon.json
say "starting dockerd (own namespace, unix socket + tcp://127.0.0.1:$EPORT, no TLS)"
env -u DOCKER_HOST setsid "${NSX[@]}" dockerd --iptables=false --ip-masq=false \
    --data-root "$T/d/data" --exec-root "$T/d/exec" --pidfile "$T/d/pid" \
    -H "unix://$SOCK" -H "tcp://127.0.0.1:$EPORT" \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$TAG" \
    --config-file "$T/d/daemon.json" </dev/null >"$T/d/dockerd.log" 2>&1 &
DOCKERD_PID=$!
dk() { env -u DOCKER_HOST -u DOCKER_CONTEXT DOCKER_CONFIG="$T/cli" DOCKER_BUILDKIT=0 "$DOCKER_BIN" -H "unix://$SOCK" "$@"; }
for _ in $(seq 1 600); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$T/d/dockerd.log" >&2; die "dockerd exited"; }
    curl -sf --unix-socket "$SOCK" http://x/_ping >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf --unix-socket "$SOCK" http://x/_ping >/dev/null || die "dockerd did not answer in 60 s"
"${NSX[@]}" curl -sf "http://127.0.0.1:$EPORT/_ping" >/dev/null || die "the engine's TCP API does not answer"
DOCKERD_REAL=$(cat "$T/d/pid")   # nsenter execs dockerd: same pid, but take the pidfile's word
dk swarm init --advertise-addr 127.0.0.1 >/dev/null
say "engine $(dk version -f '{{.Server.Version}}') up, swarm initialised"

say "building $IMAGE (FROM scratch + static busybox)"
cp /bin/busybox "$T/ctx/busybox"
cat >"$T/ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
STOPSIGNAL SIGKILL
CMD ["/bin/sleep", "86400"]
EOF
dk build -q --network none -t "$IMAGE" "$T/ctx" >/dev/null

# ------------------------------------------------------------------ 2. 100 services / 500 tasks
say "creating $SMALL services x $REPLICAS tasks (constraint $CONSTRAINT: tasks stay pending)"
h create 1 "$SMALL" "$REPLICAS"
h wait-tasks $((SMALL * REPLICAS)) 120

# ------------------------------------------------------------------ 3. eagled
if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
    say "building eagled (make -s)"
    (cd "$REPO" && make -s >/dev/null) || die "make failed"
fi
EAGLED_SRC=${BENCH_EAGLED:-$REPO/build/eagled}
cp "$EAGLED_SRC" "$T/bin/eagled"   # a copy: a rebuild alongside cannot pull it away
# start_eagled DIR: eagled with its data, log and working directory (where a core dump
# lands: ulimit -c unlimited, kept with the logs if the run fails) under DIR.
start_eagled() {
    local dir=$1
    mkdir -p "$dir"
    ( cd "$dir" && ulimit -c unlimited 2>/dev/null
      exec env -u EAGLE_CONFIG EAGLE_ADMIN_PASSWORD=$PW HOME="$dir" setsid "${NSX[@]}" "$T/bin/eagled" \
        --listen "127.0.0.1:$APORT" --data "$dir/data" --engine "unix://$SOCK" --log-level warn \
        </dev/null >"$dir/eagled.log" 2>&1 ) &
    EAGLED_PID=$!
}
EAGLED_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "${BENCH_EAGLED:-}" ] && EAGLED_REV="$EAGLED_REV ($BENCH_EAGLED)"
say "starting eagled (commit $EAGLED_REV + work tree) on 127.0.0.1:$APORT"
start_eagled "$T/e"
for _ in $(seq 1 300); do
    kill -0 "$EAGLED_PID" 2>/dev/null || { tail -20 "$T/e/eagled.log" >&2; die "eagled exited"; }
    "${NSX[@]}" curl -sf "http://127.0.0.1:$APORT/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=$("${NSX[@]}" curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "http://127.0.0.1:$APORT/v1/auth/login" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])') || die "login failed"
AUTH="Authorization: Bearer $TOKEN"
CATALOG_S=$(h wait-catalog "$SMALL" $((SMALL * REPLICAS)) 60) || die "eagled's catalog never listed all $SMALL services"
say "eagled's catalog lists $SMALL services / $((SMALL * REPLICAS)) instances (${CATALOG_S}s after login)"
CHECK=$(h check s42 "$REPLICAS") || die "wrong answer for s42"
say "$CHECK"

# ------------------------------------------------------------------ nginx with (a)'s exact bytes
"${NSX[@]}" curl -sf -H "$AUTH" -D "$T/www/s42.headers" -o "$T/www/s42.json" \
    "http://127.0.0.1:$APORT/v1/discovery/services/s42"
A_BYTES=$(stat -c %s "$T/www/s42.json")
chmod 644 "$T/www/s42.json"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    open_file_cache max=100;
    types { application/json json; }
    default_type application/json;
    client_body_temp_path $T/nginx/tmp;
    proxy_temp_path $T/nginx/tmp;
    fastcgi_temp_path $T/nginx/tmp;
    uwsgi_temp_path $T/nginx/tmp;
    scgi_temp_path $T/nginx/tmp;
    server {
        listen 127.0.0.1:$NPORT;
        root $T/www;
    }
}
EOF
mkdir -p "$T/nginx/tmp"
setsid "${NSX[@]}" "$NGINX" -c "$T/nginx/nginx.conf" -p "$T/nginx" </dev/null >"$T/nginx/out.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
    "${NSX[@]}" curl -sf "http://127.0.0.1:$NPORT/s42.json" -o "$T/www/check.json" 2>/dev/null && break
    sleep 0.1
done
cmp -s "$T/www/s42.json" "$T/www/check.json" || die "nginx does not serve (a)'s bytes"

# ------------------------------------------------------------------ 4. throughput
SID=$(h service-id s42)
FILTER=$("$PY" -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"service":[sys.argv[1]]},separators=(",",":"))))' "$SID")
URL_A="http://127.0.0.1:$APORT/v1/discovery/services/s42"
URL_B1="http://127.0.0.1:$EPORT/v1.41/services/$SID"
URL_B2="http://127.0.0.1:$EPORT/v1.41/tasks?filters=$FILTER"
URL_C="http://127.0.0.1:$NPORT/s42.json"
URL_D1="http://127.0.0.1:$APORT/v1/discovery/services"
URL_D2="http://127.0.0.1:$EPORT/v1.41/tasks"
size_of() { "${NSX[@]}" curl -sf "${@:2}" -o /dev/null -w '%{size_download}' "$1"; }
B1_BYTES=$(size_of "$URL_B1"); B2_BYTES=$(size_of "$URL_B2")
D1_BYTES=$(size_of "$URL_D1" -H "$AUTH"); D2_BYTES=$(size_of "$URL_D2")

# wrk_run NAME CONNS DURATION URL [extra wrk args]: one run, output kept in $T/wrk/NAME.N
declare -A RUNS
wrk_run() {
    local name=$1 c=$2 d=$3 url=$4; shift 4
    local n=$(( ${RUNS[$name]:-0} + 1 ))
    RUNS[$name]=$n
    "${NSX[@]}" wrk -t"$THREADS" -c"$c" -d"${d}s" --timeout 5s --latency "$@" "$url" >"$T/wrk/$name.$n" 2>&1 || true
    if [ -n "$EAGLED_PID" ] && ! kill -0 "$EAGLED_PID" 2>/dev/null; then
        wait "$EAGLED_PID" 2>/dev/null; local st=$?
        die "eagled died during wrk run '$name' #$n ($url): exit status $st$([ $st -gt 128 ] && echo " = signal $((st - 128))")"
    fi
    if grep -q 'Non-2xx' "$T/wrk/$name.$n"; then
        say "WARNING: $name run $n had non-2xx answers: $(grep Non-2xx "$T/wrk/$name.$n")"
    fi
}
# wrk_get FILE FIELD: rps | p50 | p99 (ms) | errors | requests
wrk_get() {
    "$PY" - "$1" "$2" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
what = sys.argv[2]
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
if what == "rps":
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    print(m.group(1) if m else "nan")
elif what in ("p50", "p90", "p99"):
    m = re.search(r"^\s+%s%%\s+(\S+)" % what[1:], text, re.M)
    print("%.3f" % ms(m.group(1)) if m else "nan")
elif what == "requests":
    m = re.search(r"(\d+) requests in", text)
    print(m.group(1) if m else 0)
elif what == "errors":
    n = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    n += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    n += sum(int(x) for x in m.groups()) if m else 0
    print(n)
EOF
}
median() { "$PY" -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:] if x!="nan"]; print("%.3f" % statistics.median(v) if v else "nan")' "$@"; }
# med NAME FIELD: median of FIELD over the runs of NAME
med() {
    local name=$1 field=$2 i vals=()
    for i in $(seq 1 "${RUNS[$name]:-0}"); do vals+=("$(wrk_get "$T/wrk/$name.$i" "$field")"); done
    median "${vals[@]}"
}
total_requests() {
    local name i s=0
    for name in "$@"; do
        for i in $(seq 1 "${RUNS[$name]:-0}"); do s=$(( s + $(wrk_get "$T/wrk/$name.$i" requests) )); done
    done
    echo "$s"
}
errs() {
    local name=$1 i s=0
    for i in $(seq 1 "${RUNS[$name]:-0}"); do s=$(( s + $(wrk_get "$T/wrk/$name.$i" errors) )); done
    echo "$s"
}

# Other work on this machine (builds, test suites) skews every figure: wait a little for a
# quiet moment (1-minute load average below 1.0), at most BENCH_QUIET_WAIT seconds.
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
for qi in $(seq 1 $((QUIET_WAIT / 5))); do
    awk '{exit !($1 < 1.0)}' /proc/loadavg && break
    [ "$qi" = 1 ] && say "waiting up to ${QUIET_WAIT}s for the machine to quieten (load $(cut -d' ' -f1 /proc/loadavg))"
    sleep 5
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
RSS_E_FRESH=$(rss_kb "$EAGLED_PID")
say "throughput: wrk -t$THREADS -c$CONNS -d${DURATION}s, $REPEATS rounds, targets interleaved (a b1 b2 c d1 d2)"
for r in $(seq 1 "$REPEATS"); do
    say "  round $r/$REPEATS"
    wrk_run a "$CONNS" "$DURATION" "$URL_A" -H "$AUTH"
    wrk_run b1 "$CONNS" "$DURATION" "$URL_B1"
    wrk_run b2 "$CONNS" "$DURATION" "$URL_B2"
    wrk_run c "$CONNS" "$DURATION" "$URL_C"
    wrk_run d1 "$CONNS" "$DURATION" "$URL_D1" -H "$AUTH"
    wrk_run d2 "$CONNS" "$DURATION" "$URL_D2"
done

# ------------------------------------------------------------------ p99 at a fixed rate
# wrk (not wrk2) has no rate option. A Lua delay() makes each connection wait 1 ms after
# each answer before its next request; the rate is then set by the number of connections.
# We calibrate the count for ~RATE req/s on a short run, then measure.
cat >"$T/wrk/paced.lua" <<'EOF'
function delay() return 1 end
EOF
paced_rate() { wrk_get "$1" rps; }
say "p99 at ~$RATE req/s: calibrating the connection count (wrk + Lua delay of 1 ms per request)"
PC=16 BEST_PC="" BEST_ERR=""
for attempt in 1 2 3 4 5; do
    "${NSX[@]}" wrk -t"$THREADS" -c"$PC" -d3s --latency -s "$T/wrk/paced.lua" -H "$AUTH" "$URL_A" >"$T/wrk/cal.$attempt" 2>&1 || true
    got=$(paced_rate "$T/wrk/cal.$attempt")
    say "  -c$PC → $got req/s"
    err=$("$PY" -c 'import sys; print(abs(float(sys.argv[1]) - float(sys.argv[2])))' "$got" "$RATE")
    if [ -z "$BEST_PC" ] || [ "$("$PY" -c 'import sys; print(int(float(sys.argv[1]) < float(sys.argv[2])))' "$err" "$BEST_ERR")" = 1 ]; then
        BEST_PC=$PC BEST_ERR=$err
    fi
    next=$("$PY" -c 'import sys; c,g,r,t=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]); print(max(t, round(c*r/g/t)*t))' "$PC" "$got" "$RATE" "$THREADS")
    [ "$next" = "$PC" ] && break
    PC=$next
done
PC=$BEST_PC
say "  measuring at -c$PC"
for r in $(seq 1 "$REPEATS"); do
    wrk_run pa "$PC" "$DURATION" "$URL_A" -s "$T/wrk/paced.lua" -H "$AUTH"
    wrk_run pc "$PC" "$DURATION" "$URL_C" -s "$T/wrk/paced.lua"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ 5. change-to-watcher latency
say "change-to-watcher latency: $WATCH_N scales of service 'watched' through eagled's API"
"${NSX[@]}" curl -sf -X POST -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"name\":\"watched\",\"image\":\"$IMAGE\",\"replicas\":1,\"command\":[\"sleep\",\"86400\"],\"placement\":{\"constraints\":[\"$CONSTRAINT\"]}}" \
    "http://127.0.0.1:$APORT/v1/services" -o "$T/e/watched.json" || {
    cat "$T/e/watched.json" >&2 2>/dev/null; die "POST /v1/services (watched) failed"; }
WATCH_LINE=$(h watch watched "$WATCH_N") || die "watcher step failed"
say "$WATCH_LINE"
"${NSX[@]}" curl -sf -X DELETE -H "$AUTH" "http://127.0.0.1:$APORT/v1/services/watched" -o /dev/null ||
    say "WARNING: DELETE /v1/services/watched failed"

# ------------------------------------------------------------------ 6. memory with BIG services
containerd_pid() { pgrep -f "containerd --config $T/d/exec" | head -1 || true; }
RSS_E_SMALL=$(rss_kb "$EAGLED_PID"); RSS_D_SMALL=$(rss_kb "$DOCKERD_REAL")   # after steps 4 and 5
say "memory: adding services s$((SMALL + 1))..s$BIG (x$REPLICAS pending tasks)"
t0=$(date +%s)
h create $((SMALL + 1)) "$BIG" "$REPLICAS"
h wait-tasks $((BIG * REPLICAS)) 300
say "  engine holds $BIG services / $((BIG * REPLICAS)) tasks ($(( $(date +%s) - t0 ))s)"
BIG_CATALOG_S=$(h wait-catalog "$BIG" $((BIG * REPLICAS)) 120) || die "eagled's catalog never listed all $BIG services"
say "  eagled's catalog lists them all (${BIG_CATALOG_S}s after the engine)"
E_SAMPLES=() D_SAMPLES=() C_SAMPLES=()
CPID=$(containerd_pid)
E_CPU0=$(awk '{print $14+$15}' "/proc/$EAGLED_PID/stat"); D_CPU0=$(awk '{print $14+$15}' "/proc/$DOCKERD_REAL/stat")
# VmRSS every 0.2 s for 15 s: a pass of the catalog (every 500 ms) cannot slip between samples.
# VmHWM is reset first (clear_refs 5), so the peak reported is this window's, not login's argon2id.
echo 5 >"/proc/$EAGLED_PID/clear_refs" 2>/dev/null || true
for _ in $(seq 1 75); do
    E_SAMPLES+=("$(rss_kb "$EAGLED_PID")"); D_SAMPLES+=("$(rss_kb "$DOCKERD_REAL")")
    [ -n "$CPID" ] && C_SAMPLES+=("$(rss_kb "$CPID")")
    sleep 0.2
done
E_CPU1=$(awk '{print $14+$15}' "/proc/$EAGLED_PID/stat"); D_CPU1=$(awk '{print $14+$15}' "/proc/$DOCKERD_REAL/stat")
HZ=$(getconf CLK_TCK)
E_CPU_PCT=$(( (E_CPU1 - E_CPU0) * 100 / HZ / 15 )); D_CPU_PCT=$(( (D_CPU1 - D_CPU0) * 100 / HZ / 15 ))
E_HWM=$(hwm_kb "$EAGLED_PID")
kb_med() { median "$@"; }
kb_max() { printf '%s\n' "$@" | sort -n | tail -1; }
RSS_E_BIG=$(kb_med "${E_SAMPLES[@]}"); RSS_E_BIG_MAX=$(kb_max "${E_SAMPLES[@]}")
RSS_D_BIG=$(kb_med "${D_SAMPLES[@]}")
RSS_C_BIG=$([ ${#C_SAMPLES[@]} -gt 0 ] && kb_med "${C_SAMPLES[@]}" || echo 0)
D1_BIG_BYTES=$(size_of "$URL_D1" -H "$AUTH")
say "  a quick look at (a) and (d1) with $BIG services in the catalog"
wrk_run abig "$CONNS" 5 "$URL_A" -H "$AUTH"
wrk_run d1big "$CONNS" 5 "$URL_D1" -H "$AUTH"
kill -0 "$EAGLED_PID" 2>/dev/null || die "eagled is gone after the memory step: $(tail -5 "$T/e/eagled.log")"
LEAK_REQS=$(total_requests a d1 pa)

# The eagled above has served millions of requests; its RSS includes whatever they left
# behind. For the catalog's own cost, a fresh eagled on the same engine (the first one is
# stopped so the engine is not polled twice), reached only by the few requests that wait
# for its catalog.
say "  a fresh eagled on the same engine, for the catalog's own memory"
kill "$EAGLED_PID"; for _ in $(seq 1 100); do kill -0 "$EAGLED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EAGLED_PID" 2>/dev/null && { say "WARNING: eagled did not stop on SIGTERM in 10 s"; kill -9 "$EAGLED_PID"; }
wait "$EAGLED_PID" 2>/dev/null && EAGLED_RC=0 || EAGLED_RC=$?
EAGLED_PID=""
mkdir -p "$T/e2"
start_eagled "$T/e2"
for _ in $(seq 1 300); do
    kill -0 "$EAGLED_PID" 2>/dev/null || { tail -20 "$T/e2/eagled.log" >&2; die "the fresh eagled exited"; }
    "${NSX[@]}" curl -sf "http://127.0.0.1:$APORT/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=$("${NSX[@]}" curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "http://127.0.0.1:$APORT/v1/auth/login" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])') || die "login (fresh eagled) failed"
FRESH_CATALOG_S=$(h wait-catalog "$BIG" $((BIG * REPLICAS)) 120) || die "the fresh eagled's catalog never listed all $BIG services"
sleep 5   # a few more polls of the engine
F_SAMPLES=()
F_HWM_ALL=$(hwm_kb "$EAGLED_PID")   # since start, login included
echo 5 >"/proc/$EAGLED_PID/clear_refs" 2>/dev/null || true
F_CPU0=$(awk '{print $14+$15}' "/proc/$EAGLED_PID/stat")
for _ in $(seq 1 75); do F_SAMPLES+=("$(rss_kb "$EAGLED_PID")"); sleep 0.2; done
F_CPU1=$(awk '{print $14+$15}' "/proc/$EAGLED_PID/stat")
F_CPU_PCT=$(( (F_CPU1 - F_CPU0) * 100 / $(getconf CLK_TCK) / 15 ))
RSS_F_BIG=$(median "${F_SAMPLES[@]}"); RSS_F_BIG_MAX=$(printf '%s\n' "${F_SAMPLES[@]}" | sort -n | tail -1)
F_HWM=$(hwm_kb "$EAGLED_PID")
say "  fresh eagled: catalog full after ${FRESH_CATALOG_S}s, VmRSS $RSS_F_BIG kB (max $RSS_F_BIG_MAX, VmHWM $F_HWM)"

# ------------------------------------------------------------------ report
A=$(med a rps); B1=$(med b1 rps); B2=$(med b2 rps); C=$(med c rps); D1=$(med d1 rps); D2=$(med d2 rps)
PA_RPS=$(med pa rps); PA_P50=$(med pa p50); PA_P99=$(med pa p99); PC_RPS=$(med pc rps); PC_P99=$(med pc p99)
calc() { "$PY" -c "import math; from math import *; print($1)"; }
# rps_list NAME: the req/s of every run of NAME, comma-separated
rps_list() {
    local name=$1 i out=""
    for i in $(seq 1 "${RUNS[$name]:-0}"); do out="$out$(wrk_get "$T/wrk/$name.$i" rps),"; done
    echo "${out%,}"
}
# Paired ratios: runs of the same round ran back to back, under the same background load,
# so the median over rounds of (x_i / y_i) is steadier than (median x) / (median y).
P_AC=$(calc "'%.2f' % __import__('statistics').median([a/c for a, c in zip([$(rps_list a)], [$(rps_list c)])])")
P_AB=$(calc "'%.1f' % __import__('statistics').median([a*(1/b1+1/b2) for a, b1, b2 in zip([$(rps_list a)], [$(rps_list b1)], [$(rps_list b2)])])")
P_DD=$(calc "'%.1f' % __import__('statistics').median([x/y for x, y in zip([$(rps_list d1)], [$(rps_list d2)])])")
BC=$(calc "'%.0f' % (1/(1/$B1+1/$B2))")
wv() { printf '%s\n' $WATCH_LINE | awk -F= -v k="$1" '$1==k {print $2}'; }
verdict() { if [ "$(calc "1 if $1 else 0")" = 1 ]; then echo met; else echo MISSED; fi; }
mib() { calc "'%.1f' % ($1/1024)"; }

{
echo "Eagle discovery benchmark — $STAMP"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "software: eagled $EAGLED_REV (+ work tree), dockerd $(dk version -f '{{.Server.Version}}'), nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "load average before/after the throughput steps: $LOAD_BEFORE / $LOAD_AFTER (other work on the machine disturbs the figures)"
echo "setup: one dockerd (one-node swarm) in a private network namespace; $SMALL services x $REPLICAS tasks,"
echo "       tasks PENDING (placement constraint $CONSTRAINT no node meets: real Swarm tasks, no containers)"
echo "wrk -t$THREADS -c$CONNS -d${DURATION}s, median of $REPEATS runs, runs interleaved; all on 127.0.0.1"
echo
printf '%-58s %12s %10s %10s\n' "what" "req/s" "p99 ms" "bytes"
printf '%-58s %12s %10s %10s\n' "(a)  eagled GET /v1/discovery/services/s42" "$A" "$(med a p99)" "$A_BYTES"
printf '%-58s %12s %10s %10s\n' "(b1) engine GET /services/{id}" "$B1" "$(med b1 p99)" "$B1_BYTES"
printf '%-58s %12s %10s %10s\n' "(b2) engine GET /tasks?filters={service:[id]}" "$B2" "$(med b2 p99)" "$B2_BYTES"
printf '%-58s %12s %10s %10s\n' "(b)  engine combined 1/(1/b1+1/b2)" "$BC" "" ""
printf '%-58s %12s %10s %10s\n' "(c)  nginx, (a)'s bytes as a static file" "$C" "$(med c p99)" "$A_BYTES"
printf '%-58s %12s %10s %10s\n' "(d1) eagled GET /v1/discovery/services (whole catalog)" "$D1" "$(med d1 p99)" "$D1_BYTES"
printf '%-58s %12s %10s %10s\n' "(d2) engine GET /tasks (unfiltered)" "$D2" "$(med d2 p99)" "$D2_BYTES"
echo
echo "fixed rate (wrk + Lua delay 1 ms/request, -t$THREADS -c$PC, ${DURATION}s, median of $REPEATS):"
printf '%-58s %12s %10s %10s\n' "(a)  eagled per-service lookup" "$PA_RPS" "$PA_P99" "p50 $PA_P50"
printf '%-58s %12s %10s %10s\n' "(c)  nginx, same bytes (reference)" "$PC_RPS" "$PC_P99" "p50 $(med pc p50)"
echo
echo "change-to-watcher (scale via POST /v1/services/watched/scale → blocked ?index=N&wait=30s wakes), $WATCH_N repeats:"
echo "  from the scale call's return: p50 $(wv p50) ms, p99 $(wv p99) ms, max $(wv max) ms"
echo "  from the scale call's start:  p50 $(wv from_start_p50) ms, p99 $(wv from_start_p99) ms; the scale call itself p50 $(wv scale_call_p50) ms"
echo "  every repeat (ms): $(wv all)"
echo
echo "memory (VmRSS; median of 75 samples, one every 0.2 s for 15 s, once the catalog held everything;"
echo "        VmHWM: the peak over those 15 s, reset at their start):"
echo "  eagled with $SMALL services / $((SMALL * REPLICAS)) tasks: $(mib "$RSS_E_FRESH") MiB just after start; $(mib "$RSS_E_SMALL") MiB after steps 4-5"
echo "     ($(total_requests a d1 pa) authenticated discovery requests in step 4: $(calc "'%.0f' % (($RSS_E_SMALL-$RSS_E_FRESH)*1024/max(1,$(total_requests a d1 pa)))") bytes of RSS growth per request)"
echo "  dockerd with $SMALL services / $((SMALL * REPLICAS)) tasks: $(mib "$RSS_D_SMALL") MiB"
echo "  FRESH eagled with $BIG services / $((BIG * REPLICAS)) tasks: $(mib "$RSS_F_BIG") MiB (min $(mib "$(printf '%s\n' "${F_SAMPLES[@]}" | sort -n | head -1)"), max $(mib "$RSS_F_BIG_MAX"), VmHWM $(mib "$F_HWM"); since start, login included: $(mib "$F_HWM_ALL")); CPU ${F_CPU_PCT}% of a core"
echo "     its 75 samples (MiB): $(printf '%s\n' "${F_SAMPLES[@]}" | awk '{printf "%.0f ", $1/1024}')"
echo "  the step-4 eagled with the same: $(mib "$RSS_E_BIG") MiB (max $(mib "$RSS_E_BIG_MAX"), VmHWM $(mib "$E_HWM")); CPU ${E_CPU_PCT}% of a core (polling every 500 ms)"
echo "  dockerd with the same: $(mib "$RSS_D_BIG") MiB (CPU ${D_CPU_PCT}% of a core); its containerd: $(mib "$RSS_C_BIG") MiB"
echo "  catalog caught up ${BIG_CATALOG_S}s after the engine held all $BIG; fresh eagled full ${FRESH_CATALOG_S}s after login; whole-catalog answer $D1_BIG_BYTES bytes"
echo "  with $BIG services: (a) $(med abig rps) req/s p99 $(med abig p99) ms; (d1) $(med d1big rps) req/s p99 $(med d1big p99) ms (one 5 s run each)"
echo
echo "targets (from the issue):"
echo "  (ratios of medians; in brackets the median over rounds of each round's own ratio)"
echo "  per-service lookup >= 1x nginx:               $(calc "'%.2f' % ($A/$C)")x [$P_AC]  $(verdict "$A >= $C")"
echo "  per-service lookup >= 10x engine combined:    $(calc "'%.1f' % ($A/$BC)")x [$P_AB]  $(verdict "$A >= 10*$BC")"
echo "  p99 <= 2 ms at $RATE req/s:                   p99 $PA_P99 ms at $PA_RPS req/s  $(verdict "$PA_P99 <= 2.0 and $PA_RPS >= 0.9*$RATE")"
echo "  whole catalog >= 10x engine /tasks:           $(calc "'%.1f' % ($D1/$D2)")x [$P_DD]  $(verdict "$D1 >= 10*$D2")"
echo "  change-to-watcher p99 <= 1 s:                 $(wv p99) ms  $(verdict "$(wv p99) <= 1000")"
echo "  eagled RSS with $BIG svc / $((BIG * REPLICAS)) tasks <= 32 MiB:  fresh $(mib "$RSS_F_BIG") MiB  $(verdict "$RSS_F_BIG <= 32*1024");  after load $(mib "$RSS_E_BIG") MiB  $(verdict "$RSS_E_BIG <= 32*1024")"
echo
echo "errors (non-2xx + socket errors, all runs): a $(errs a), b1 $(errs b1), b2 $(errs b2), c $(errs c), d1 $(errs d1), d2 $(errs d2), paced a $(errs pa), c $(errs pc)"
echo "answer check: $CHECK"
echo "every run (req/s, p99 ms):"
for name in a b1 b2 c d1 d2 pa pc abig d1big; do
    line="  $name:"
    for i in $(seq 1 "${RUNS[$name]:-0}"); do line="$line $(wrk_get "$T/wrk/$name.$i" rps)/$(wrk_get "$T/wrk/$name.$i" p99)"; done
    echo "$line"
done
echo "eagled (first) exit status on SIGTERM: $EAGLED_RC"
echo "eagled log warnings/errors: $(cat "$T/e/eagled.log" "$T/e2/eagled.log" | grep -ciE 'warn|error' || true) lines"
} | tee "$RESULTS"
grep -iE 'warn|error' "$T/e/eagled.log" | tail -5 >&2 || true
say "results written to $RESULTS (whole run $(( $(date +%s) - START ))s)"
