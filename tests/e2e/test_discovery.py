"""Discovery and events (docs/api.md, "Discovery and events"): blocking queries that
wake within about one catalog poll of a change in the engine (a scale, a task failing
on the worker, a node drained), the catalog's view of a service's instances (node,
host address, container, addresses; filters; the Engine API's own object), the
resumable event stream (order, Last-Event-ID, history kept across kill -9, filters,
the "reset" for history no longer kept — pruning simulated by deleting the oldest
rows while eagled is stopped), and program access with a read-only API token.

Wake latencies are printed (run with -s to see them); the bound asserted is 2 s, for
a loaded machine (the watcher polls every 500 ms).
"""
import json
import os
import re
import socket
import sqlite3
import threading
import time
import uuid

import requests

from eaglelib import DEFAULT, TIMEOUT_SCALE, assert_error, engine_image, wait_until

WAKE_LIMIT = 2.0 * TIMEOUT_SCALE  # seconds from a change in the engine to the blocked call's answer
INSTANCE_KEYS = {"task_id", "slot", "node_id", "node", "host_addr", "state", "desired_state", "health",
                 "health_reason", "healthy", "revision", "canary", "container_id", "addresses", "ports",
                 "started_at", "datacenter", "error"}
SERVICE_KEYS = {"name", "tenant", "cluster", "datacenter", "labels", "mode", "replicas", "revision",
                "instances", "modify_index"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


# ------------------------------------------------------------------- helpers

def spec(cenv, name, image="web:1", **fields):
    s = {"name": name, "image": cenv.image(image)}
    s.update(fields)
    return s


def create(eagle, s):
    r = eagle.api("POST", "/v1/services", json=s)
    assert r.status_code == 201, r.text
    return r.json()


def disc(eagle, path="", token=DEFAULT, timeout=60, **params):
    """GET /v1/discovery/services[/path] with query parameters (a value None: the bare flag)."""
    q = "&".join(k if v is None else "%s=%s" % (k, v) for k, v in params.items())
    return eagle.api("GET", "/v1/discovery/services" + ("/" + path if path else "") + ("?" + q if q else ""),
                     token=token, timeout=timeout)


def index_of(r):
    assert "X-Eagle-Index" in r.headers, "no X-Eagle-Index on %s %s" % (r.status_code, r.text)
    return int(r.headers["X-Eagle-Index"])


def settled(eagle, name, n, token=DEFAULT, timeout=90, pred=None):
    """Wait until discovery shows exactly n instances of `name`, all running and meant to
    run (and pred(answer) if given) → (answer, X-Eagle-Index)."""
    def check():
        r = disc(eagle, name, token=token)
        if r.status_code != 200:
            return None
        a = r.json()
        inst = a["instances"]
        ok = len(inst) == n and all(i["state"] == "running" and i["desired_state"] == "running" for i in inst)
        return (a, index_of(r)) if ok and (pred is None or pred(a)) else None
    return wait_until(check, timeout=timeout, interval=0.25,
                      what="discovery to show %d running instances of %s" % (n, name))


class Blocked:
    """A blocking GET running in a thread, so the test can change things meanwhile."""

    def __init__(self, eagle, path, token=DEFAULT, timeout=60):
        self.response = self.error = None
        self.started = time.monotonic()
        self.finished = None

        def run():
            try:
                self.response = eagle.api("GET", path, token=token, timeout=timeout)
            except Exception as e:  # noqa: BLE001 - reported by result()
                self.error = e
            self.finished = time.monotonic()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def still_waiting(self, seconds=0.6):
        """True if the call has not answered after `seconds` (so it really blocks)."""
        self.thread.join(seconds)
        return self.thread.is_alive()

    def result(self, timeout=40):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the blocking call did not answer within %ss" % timeout
        if self.error:
            raise self.error
        return self.response


def block_then(eagle, path, trigger, what, token=DEFAULT):
    """Park a blocking call on `path`, check it waits, run trigger(), and return
    (response, seconds from the end of trigger() to the answer)."""
    b = Blocked(eagle, path, token=token)
    assert b.still_waiting(), "%s: the blocking call answered before any change: %s %s" % (
        what, b.response.status_code if b.response is not None else b.error,
        b.response.text[:2000] if b.response is not None else "")
    trigger()
    t_changed = time.monotonic()
    r = b.result()
    latency = b.finished - t_changed
    print("\nwake latency (%s): %.3f s" % (what, latency))
    return r, latency


def follow(eagle, name, index, pred, timeout=90, token=DEFAULT):
    """A watcher's loop: blocking calls from `index` until pred(answer) → (answer, index, wakes)."""
    deadline = time.monotonic() + timeout
    wakes = 0
    last = None
    while time.monotonic() < deadline:
        r = disc(eagle, name, token=token, index=index, wait="5s")
        assert r.status_code == 200, r.text
        nxt = index_of(r)
        if nxt != index:
            wakes += 1
        index = nxt
        last = r.json()
        if pred(last):
            return last, index, wakes
    raise AssertionError("%s: the condition did not come within %ss; last answer: %s" % (name, timeout, last))


def node_info(cluster_env, node_id):
    n = next(n for n in cluster_env.nodes() if n["ID"] == node_id)
    return n["Description"]["Hostname"], n["Status"]["Addr"]


def addresses_of(engine_task):
    return sorted((att["Network"]["Spec"]["Name"], a) for att in engine_task.get("NetworksAttachments") or []
                  for a in att["Addresses"])


def make_token(eagle, name="cdn", read_only=True):
    r = eagle.api("POST", "/v1/tokens", json={"name": name, "read_only": read_only})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["read_only"] is read_only and body["name"] == name and body["token"]
    return body["token"]


def overlay(cluster_env):
    net = "e2e-disc-" + uuid.uuid4().hex[:6]
    cluster_env.docker("network", "create", "-d", "overlay", net, check=True)
    return net


def remove_network(eagle, cluster_env, net, services=()):
    for s in services:
        eagle.api("DELETE", "/v1/services/" + s)
    wait_until(lambda: cluster_env.docker("network", "rm", net).returncode == 0
               or cluster_env.docker("network", "inspect", net).returncode != 0,
               timeout=60, what="network %s removed" % net)


# --------------------------------------------------------------- event stream

def _socket_of(resp):
    for get in (lambda: resp.raw._connection.sock, lambda: resp.raw._fp.fp.raw._sock):
        try:
            s = get()
        except AttributeError:
            continue
        if s is not None:
            return s
    return None


class EventStream:
    """GET /v1/events read in a thread; frames parsed from the "id:", "event:",
    "data:" lines and the empty line that ends each, comments (":") kept apart."""

    def __init__(self, eagle, query="", last_event_id=None, token=DEFAULT):
        headers = {"Accept": "text/event-stream"}
        tok = eagle.token if token is DEFAULT else token
        if tok:
            headers["Authorization"] = "Bearer " + tok
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.resp = requests.get(eagle.url + "/v1/events" + query, headers=headers, stream=True, timeout=(5, 60))
        assert self.resp.status_code == 200, "%s %s" % (self.resp.status_code, self.resp.text)
        assert self.resp.headers.get("Content-Type", "").startswith("text/event-stream"), self.resp.headers
        self.frames = []
        self.comments = []
        self.ended = False
        self.error = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_until(lambda: self.comments or self.frames, timeout=10, interval=0.02,
                   what="the stream's opening comment")

    def _read(self):
        buf = b""
        cur = {}
        try:
            for chunk in self.resp.iter_content(chunk_size=None):
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    line = raw.decode().rstrip("\r")
                    if line == "":
                        if cur:
                            self._frame(cur)
                        cur = {}
                    elif line.startswith(":"):
                        with self.lock:
                            self.comments.append(line[1:].strip())
                    else:
                        field, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field == "data" and "data" in cur:
                            cur["data"] += "\n" + value
                        else:
                            cur[field] = value
        except Exception as e:  # noqa: BLE001 - a closed stream ends here
            self.error = e
        finally:
            self.ended = True

    def _frame(self, cur):
        f = {"id": int(cur["id"]) if "id" in cur else None, "event": cur.get("event", "message"),
             "data": cur.get("data", "")}
        try:
            f["json"] = json.loads(f["data"])
        except ValueError:
            f["json"] = None
        with self.lock:
            self.frames.append(f)

    def all(self):
        with self.lock:
            return list(self.frames)

    def events(self):
        """The frames with an id (not reset)."""
        return [f for f in self.all() if f["id"] is not None]

    def wait_for(self, pred, timeout=30, what="an event"):
        """Wait for a frame matching pred(json) → the frame."""
        def found():
            return next((f for f in self.events() if f["json"] and pred(f["json"])), None)
        return wait_until(found, timeout=timeout, interval=0.05, what=what)

    def wait_id(self, event_id, timeout=30):
        """Wait until the stream has delivered event `event_id` or later."""
        wait_until(lambda: any(f["id"] >= event_id for f in self.events()), timeout=timeout, interval=0.05,
                   what="event %d on the stream" % event_id)

    def close(self):
        s = _socket_of(self.resp)
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.resp.close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_ev(e, type_, action=None, service=None, **fields):
    return e["type"] == type_ and (action is None or e["action"] == action) and \
        (service is None or e.get("service") == service) and all(e.get(k) == v for k, v in fields.items())


def check_frames(frames):
    """Framing and ids: each frame has an id equal to its data's, the event name equal to
    its type, a time; ids strictly increase."""
    last = 0
    for f in frames:
        assert f["id"] is not None and f["json"] is not None, f
        e = f["json"]
        assert e["id"] == f["id"] and f["event"] == e["type"], f
        assert RFC3339.match(e["time"]), e
        assert e["cluster"] == "local", e
        assert f["id"] > last, "ids do not increase: %d after %d" % (f["id"], last)
        last = f["id"]


def task_histories(events, service):
    """task id → its events in order, checking each one continues from the one before."""
    hist = {}
    for e in events:
        if e["type"] != "task" or e.get("service") != service:
            continue
        h = hist.setdefault(e["task"], [])
        if not h:
            assert e["action"] == "create", "the first event of task %s is %s" % (e["task"], e)
            assert e.get("to") and "from" not in e, e
        else:
            assert h[-1]["action"] != "remove", "an event after the task's remove: %s" % e
            prev = h[-1]["to"] if "to" in h[-1] else None
            assert e["action"] in ("state", "remove"), e
            assert e.get("from") == prev, "task %s: %s after a %s to %s" % (e["task"], e, h[-1]["action"], prev)
            if e["action"] == "state":
                assert e.get("to") and e["to"] != e["from"], e
        h.append(e)
    return hist


def stored_events(eagle):
    """The events table, as eagled stored it: (id, the text the stream must carry)."""
    db = sqlite3.connect(os.path.join(eagle.data, "eagle.db"), timeout=10)
    try:
        rows = db.execute("SELECT id, data FROM events ORDER BY id").fetchall()
    finally:
        db.close()
    return [(i, data[:-1] + ',"id":%d}' % i) for i, data in rows]


# ------------------------------------------------------ blocking queries wake

def test_blocking_query_wakes_on_a_scale(eagle, cluster_env):
    create(eagle, spec(cluster_env, "web", replicas=1))
    before, index = settled(eagle, "web", 1)
    assert before["replicas"] == 1 and before["modify_index"] == index

    global_index = index_of(disc(eagle))
    whole = Blocked(eagle, "/v1/discovery/services?index=%d&wait=30s" % global_index)
    r, latency = block_then(
        eagle, "/v1/discovery/services/web?index=%d&wait=30s" % index,
        lambda: eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 3}), "scale 1 -> 3")
    assert r.status_code == 200, r.text
    woke = r.json()
    assert index_of(r) > index and woke["modify_index"] == index_of(r)
    assert latency < WAKE_LIMIT, "woke %.2f s after the scale" % latency
    # (a pass that read /services just before the scale and /tasks just after shows the new
    # tasks first and the new spec a pass later)
    if woke["replicas"] != 3:
        woke, _, _ = follow(eagle, "web", index_of(r), lambda a: a["replicas"] == 3, timeout=10)
    assert woke["replicas"] == 3 and woke["revision"] == 2, woke
    # a blocking list (global index) wakes on it too
    lst = whole.result()
    assert lst.status_code == 200 and index_of(lst) > global_index, lst.text
    assert whole.finished - whole.started > 0.5, "the list did not block"
    wait_until(lambda: [s["replicas"] for s in disc(eagle).json()["services"] if s["name"] == "web"] == [3],
               timeout=10, what="the list to show web at 3 replicas")

    # a watcher following on gets the three instances running
    after, _, wakes = follow(eagle, "web", index_of(r), lambda a: len(a["instances"]) == 3 and all(
        i["state"] == "running" for i in a["instances"]))
    assert {i["slot"] for i in after["instances"]} == {1, 2, 3}
    print("scale: %d more wakes until 3 running" % wakes)


def test_blocking_query_wakes_when_a_task_fails_on_the_worker(eagle, cluster_env):
    create(eagle, spec(cluster_env, "web", replicas=1, placement={"constraints": ["node.role==worker"]},
                       restart_policy={"condition": "any", "delay": "1s"}))
    before, index = settled(eagle, "web", 1)
    inst = before["instances"][0]
    assert inst["node_id"] == cluster_env.worker.node_id and inst["container_id"]

    r, latency = block_then(
        eagle, "/v1/discovery/services/web?index=%d&wait=30s" % index,
        lambda: cluster_env.docker("kill", inst["container_id"], sock=cluster_env.worker_sock, check=True),
        "task killed on the worker")
    assert r.status_code == 200, r.text
    woke = r.json()
    assert index_of(r) > index
    same = [i for i in woke["instances"] if i["task_id"] == inst["task_id"]]
    replaced = [i for i in woke["instances"] if i["task_id"] != inst["task_id"]]
    assert replaced or (same and same[0]["state"] != "running"), \
        "the answer after the kill shows no change of the task: %s" % woke
    assert latency < WAKE_LIMIT, "woke %.2f s after the kill" % latency

    # ...and then the replacement, running, in a new container
    after, _, _ = follow(eagle, "web", index_of(r), lambda a: len(a["instances"]) == 1 and
                         a["instances"][0]["task_id"] != inst["task_id"] and
                         a["instances"][0]["state"] == "running")
    new = after["instances"][0]
    assert new["container_id"] and new["container_id"] != inst["container_id"]
    assert new["slot"] == inst["slot"]


def test_blocking_query_wakes_when_the_worker_is_drained(eagle, cluster_env):
    worker = cluster_env.worker.node_id
    create(eagle, spec(cluster_env, "web", replicas=2))
    before, index = settled(eagle, "web", 2, pred=lambda a: any(i["node_id"] == worker for i in a["instances"]))
    on_worker = [i["task_id"] for i in before["instances"] if i["node_id"] == worker]

    nodes = EventStream(eagle, "?type=node")
    try:
        r, latency = block_then(
            eagle, "/v1/discovery/services/web?index=%d&wait=30s" % index,
            lambda: cluster_env.docker("node", "update", "--availability", "drain", worker, check=True),
            "worker drained")
        assert r.status_code == 200, r.text
        woke = r.json()
        assert index_of(r) > index
        still = [i for i in woke["instances"] if i["task_id"] in on_worker and i["desired_state"] == "running"]
        new = [i for i in woke["instances"] if i["task_id"] not in {x["task_id"] for x in before["instances"]}]
        assert not still or new, "the answer after the drain still has the worker's task meant to run: %s" % woke
        assert latency < WAKE_LIMIT, "woke %.2f s after the drain" % latency

        # the worker's task moves to the manager
        after, _, _ = follow(eagle, "web", index_of(r), lambda a: len(a["instances"]) == 2 and all(
            i["node_id"] == cluster_env.manager.node_id and i["state"] == "running" for i in a["instances"]))
        assert not {i["task_id"] for i in after["instances"]} & set(on_worker)

        # an admin's stream saw the node change
        f = nodes.wait_for(lambda e: is_ev(e, "node", "update", node=worker, to="ready/drain"), timeout=10,
                           what="node update event for the drain")
        assert f["json"]["from"] == "ready/active", f
        assert "service" not in f["json"] and "tenant" not in f["json"]
    finally:
        nodes.close()
        cluster_env.docker("node", "update", "--availability", "active", worker, check=True)
        wait_until(lambda: next(n for n in cluster_env.nodes() if n["ID"] == worker)["Spec"]["Availability"]
                   == "active", timeout=30, what="the worker active again")


def test_engine_events_feed_the_catalog_between_polls(eagle, cluster_env):
    """With polls a minute apart, what the manager's event stream reports reaches the catalog
    at once: a new service, a scale, and its tasks starting on the manager's own node."""
    eagle.stop()
    eagle.extra_args += ["--catalog-interval-ms", "60000"]
    eagle.start()
    on_manager = {"constraints": ["node.role==manager"]}
    wait_until(lambda: "following the events of cluster 'local'" in eagle.log().split("eagled ")[-1],
               timeout=20, what="eagled to follow the manager's events")

    r, latency = block_then(eagle, "/v1/discovery/services?index=%d&wait=30s" % index_of(disc(eagle)),
                            lambda: create(eagle, spec(cluster_env, "web", replicas=1, placement=on_manager)),
                            "service created, polls 60 s apart")
    assert r.status_code == 200 and "web" in [s["name"] for s in r.json()["services"]], r.text
    assert latency < WAKE_LIMIT, "woke %.2f s after the create" % latency
    # (without the events, the task's start would show only at the next poll, a minute on)
    _, index, _ = follow(eagle, "web", index_of(r), lambda a: len(a["instances"]) == 1 and
                         a["instances"][0]["state"] == "running", timeout=40)

    r, latency = block_then(eagle, "/v1/discovery/services/web?index=%d&wait=30s" % index,
                            lambda: eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 2}),
                            "scale 1 -> 2, polls 60 s apart")
    assert r.status_code == 200, r.text
    assert latency < WAKE_LIMIT, "woke %.2f s after the scale" % latency
    follow(eagle, "web", index_of(r), lambda a: a["replicas"] == 2 and len(a["instances"]) == 2 and
           all(i["state"] == "running" for i in a["instances"]), timeout=40)


def test_blocking_query_without_change_returns_when_the_wait_runs_out(eagle, cluster_env):
    create(eagle, spec(cluster_env, "web", replicas=1))
    _, index = settled(eagle, "web", 1)
    lst = disc(eagle)
    assert lst.status_code == 200
    global_index = index_of(lst)
    assert lst.json()["index"] == global_index >= index

    calls = {"wait=2s": Blocked(eagle, "/v1/discovery/services/web?index=%d&wait=2s" % index),
             "wait=2 (seconds)": Blocked(eagle, "/v1/discovery/services/web?index=%d&wait=2" % index),
             "list": Blocked(eagle, "/v1/discovery/services?index=%d&wait=2s" % global_index)}
    for what, b in calls.items():
        r = b.result(timeout=10)
        took = b.finished - b.started
        print("\nno change (%s): answered after %.3f s" % (what, took))
        assert r.status_code == 200, r.text
        assert 2.0 <= took < 2.0 + 1.5 * TIMEOUT_SCALE, "%s: answered after %.2f s" % (what, took)
        if what == "list":
            assert index_of(r) == global_index and r.json()["index"] == global_index
        else:
            assert index_of(r) == index and r.json()["modify_index"] == index

    # an index already passed, or 0, answers at once
    for past in (index - 1, 0):
        t = time.monotonic()
        r = disc(eagle, "web", index=past, wait="30s")
        assert r.status_code == 200 and index_of(r) == index and time.monotonic() - t < 1.0, (past, r.text)


def test_waiting_for_a_service_that_does_not_exist_yet(eagle, cluster_env):
    r = disc(eagle, "late")
    assert_error(r, 404, "not_found")
    now = index_of(r)

    # an index in the future: waits the whole wait, then 404 with the index
    b = Blocked(eagle, "/v1/discovery/services/late?index=%d&wait=2s" % (now + 1000000))
    r = b.result(timeout=10)
    took = b.finished - b.started
    print("\nfuture index, unknown service: 404 after %.3f s" % took)
    assert_error(r, 404, "not_found")
    assert 2.0 <= took < 2.0 + 1.5 * TIMEOUT_SCALE, took
    assert now <= index_of(r) < now + 1000000

    # blocking on the 404's index: answers when the service appears
    r = disc(eagle, "late")
    index = index_of(r)
    t_created = []

    def make():
        create(eagle, spec(cluster_env, "late", replicas=1))
        t_created.append(time.monotonic())
    b = Blocked(eagle, "/v1/discovery/services/late?index=%d&wait=30s" % index)
    assert b.still_waiting(), "answered before the service existed: %s" % b.response.text
    make()
    r = b.result()
    t_done = b.finished
    while r.status_code == 404 and time.monotonic() - t_created[0] < 10:  # woken by another change
        r = disc(eagle, "late", index=index_of(r), wait="10s")
        t_done = time.monotonic()
    latency = t_done - t_created[0]
    print("wake latency (service created): %.3f s" % latency)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "late" and index_of(r) > index
    assert latency < WAKE_LIMIT, latency

    # blocking on the service, deleting it: 404 at once with an index past the one waited on
    _, index = settled(eagle, "late", 1)
    r, latency = block_then(eagle, "/v1/discovery/services/late?index=%d&wait=30s" % index,
                            lambda: eagle.ok("DELETE", "/v1/services/late", status=204), "service deleted")
    assert_error(r, 404, "not_found")
    assert index_of(r) > index
    assert latency < WAKE_LIMIT, latency


def test_bad_arguments_are_400_naming_the_field(eagle, cluster_env):
    cases = [("/v1/discovery/services/web?index=abc", "index"),
             ("/v1/discovery/services/web?index=-1", "index"),
             ("/v1/discovery/services/web?index=1.5", "index"),
             ("/v1/discovery/services/web?index=", "index"),
             ("/v1/discovery/services/web?index=5&wait=soon", "wait"),
             ("/v1/discovery/services/web?wait=5x", "wait"),
             ("/v1/discovery/services/web?format=xml", "format"),
             ("/v1/discovery/services?index=abc", "index"),
             ("/v1/discovery/services?index=1&wait=later", "wait"),
             ("/v1/events?type=task,bogus", "type"),
             ("/v1/events?last_event_id=abc", "last_event_id")]
    for path, field in cases:
        r = eagle.api("GET", path, timeout=10)
        assert_error(r, 400, "invalid_argument", field=field)
        assert "X-Eagle-Index" not in r.headers, (path, r.headers)
    r = eagle.api("GET", "/v1/events", headers={"Last-Event-ID": "x1"}, timeout=10)
    assert_error(r, 400, "invalid_argument", field="last_event_id")
    for path in ("/v1/discovery/services", "/v1/discovery/services/web", "/v1/events"):
        assert_error(eagle.api("GET", path, token=None, timeout=10), 401, "unauthorized")
    assert_error(eagle.api("GET", "/v1/events", token="not-a-token", timeout=10), 401, "unauthorized")


# ------------------------------------------------------------ what it holds

def test_instances_on_the_worker_with_node_address_container_and_networks(eagle, cluster_env):
    net = overlay(cluster_env)
    try:
        create(eagle, spec(cluster_env, "edge", replicas=2, networks=[net], labels={"team": "cdn"},
                           placement={"constraints": ["node.role==worker"]}))
        svc, index = settled(eagle, "edge", 2)
        engine_id = cluster_env.the_service_of("edge")["ID"]
        engine_tasks = {t["ID"]: t for t in cluster_env.running_tasks(engine_id)}
        hostname, addr = node_info(cluster_env, cluster_env.worker.node_id)

        assert set(svc) == SERVICE_KEYS, set(svc) ^ SERVICE_KEYS
        assert svc["name"] == "edge" and svc["tenant"] == "default" and svc["cluster"] == "local"
        assert svc["datacenter"] == "dc1" and svc["mode"] == "replicated" and svc["replicas"] == 2
        assert svc["revision"] == 1 and svc["modify_index"] == index
        assert svc["labels"]["team"] == "cdn" and svc["labels"]["eagle.service"] == "edge"
        assert svc["labels"]["eagle.tenant"] == "default" and svc["labels"]["eagle.revision"] == "1"

        assert {i["task_id"] for i in svc["instances"]} == set(engine_tasks)
        assert sorted(i["slot"] for i in svc["instances"]) == [1, 2]
        for i in svc["instances"]:
            e = engine_tasks[i["task_id"]]
            assert set(i) == INSTANCE_KEYS, set(i) ^ INSTANCE_KEYS
            assert i["node_id"] == cluster_env.worker.node_id == e["NodeID"]
            assert i["node"] == hostname and i["host_addr"] == addr, (i, hostname, addr)
            assert i["container_id"] == e["Status"]["ContainerStatus"]["ContainerID"]
            assert i["started_at"] == e["Status"]["Timestamp"]
            assert sorted((a["network"], a["address"]) for a in i["addresses"]) == addresses_of(e)
            assert any(a["network"] == net for a in i["addresses"]), i["addresses"]
            assert i["ports"] == [] and i["error"] is None and i["datacenter"] == "dc1"
            assert i["healthy"] is True and i["health"] == "unknown" and i["health_reason"] is None
            assert i["revision"] == 1 and i["canary"] is False
            # the container is on the worker's engine, not the manager's
            assert cluster_env.worker.docker("inspect", i["container_id"]).returncode == 0
            assert cluster_env.manager.docker("inspect", i["container_id"]).returncode != 0

        # the whole catalog holds the same answer
        lst = disc(eagle)
        assert lst.status_code == 200
        body = lst.json()
        assert set(body) == {"index", "services"} and body["index"] == index_of(lst) >= index
        mine = [s for s in body["services"] if s["name"] == "edge"]
        assert mine == [svc]
    finally:
        remove_network(eagle, cluster_env, net, ["edge"])


def test_list_filters_and_healthy(eagle, cluster_env):
    eagle.ok("POST", "/v1/tenants", json={"name": "disc-team"})
    create(eagle, spec(cluster_env, "api", replicas=1, labels={"team": "web"},
                       placement={"constraints": ["node.role==manager"]}))
    create(eagle, spec(cluster_env, "edge", replicas=1, labels={"team": "cdn"}, tenant="disc-team"))
    create(eagle, spec(cluster_env, "stuck", replicas=1, labels={"team": "cdn", "tier": "x"},
                       placement={"constraints": ["node.labels.eagle-e2e-nowhere==yes"]}))
    try:
        settled(eagle, "api", 1)
        settled(eagle, "edge", 1)
        stuck = wait_until(lambda: (lambda r: r.json() if r.status_code == 200 and
                                    len(r.json()["instances"]) == 1 else None)(disc(eagle, "stuck")),
                           timeout=30, what="the stuck service's pending instance")
        i = stuck["instances"][0]
        assert set(i) == INSTANCE_KEYS
        assert i["state"] != "running" and i["desired_state"] == "running" and i["healthy"] is False, i
        # not assigned: every key there, null
        assert i["node_id"] is None and i["node"] is None and i["host_addr"] is None, i
        assert i["container_id"] is None and i["started_at"] is None, i

        def names(**params):
            r = disc(eagle, **params)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["index"] == index_of(r)
            got = [s["name"] for s in body["services"]]
            assert got == sorted(got), got
            return got
        mine = {"api", "edge", "stuck"}
        assert mine <= set(names())
        assert names(label="team=cdn") == ["edge", "stuck"]
        assert names(label="team=web") == ["api"]
        assert names(label="tier") == ["stuck"]
        assert names(label="eagle.service=api") == ["api"]
        assert names(label="eagle.tenant=disc-team") == ["edge"]
        assert names(label="nope") == []
        assert names(tenant="disc-team") == ["edge"]
        assert mine - {"edge"} <= set(names(tenant="default")) and "edge" not in names(tenant="default")
        assert names(tenant="no-such-tenant") == []
        assert mine <= set(names(datacenter="dc1"))
        assert names(datacenter="mars") == []
        assert names(label="team=cdn", tenant="default", datacenter="dc1") == ["stuck"]

        # healthy: only running instances; a service without one is still listed, with none
        for flag in ({"healthy": None}, {"healthy": "1"}, {"healthy": "true"}):
            r = disc(eagle, label="team=cdn", **flag)
            got = {s["name"]: s["instances"] for s in r.json()["services"]}
            assert set(got) == {"edge", "stuck"} and got["stuck"] == [] and len(got["edge"]) == 1, (flag, got)
            assert disc(eagle, "stuck", **flag).json()["instances"] == []
            assert len(disc(eagle, "edge", **flag).json()["instances"]) == 1
        assert len(disc(eagle, "stuck").json()["instances"]) == 1

        # datacenter on a single service
        assert disc(eagle, "edge", datacenter="dc1").status_code == 200
        r = disc(eagle, "edge", datacenter="mars")
        assert_error(r, 404, "not_found")
        index_of(r)
    finally:
        for s in ("api", "edge", "stuck"):
            eagle.api("DELETE", "/v1/services/" + s)
        wait_until(lambda: cluster_env.docker("network", "rm", "eagle-t-disc-team").returncode == 0
                   or cluster_env.docker("network", "inspect", "eagle-t-disc-team").returncode != 0,
                   timeout=60, what="the tenant's network removed")


# -------------------------------------------------------------- event stream

def test_event_stream_order_resume_and_filters(eagle, cluster_env):
    with EventStream(eagle) as every, EventStream(eagle, "?type=task&service=seq") as only:
        assert every.comments[0] == "eagle event stream"
        create(eagle, spec(cluster_env, "other", replicas=1))  # noise for the filters

        # the script: create, scale up, scale down, delete
        create(eagle, spec(cluster_env, "seq", replicas=1))
        every.wait_for(lambda e: is_ev(e, "task", service="seq", to="running"), timeout=60,
                       what="seq's first task running")
        eagle.ok("POST", "/v1/services/seq/scale", json={"replicas": 2})
        wait_until(lambda: len({e["task"] for e in (f["json"] for f in every.events())
                                if is_ev(e, "task", service="seq", to="running")}) == 2,
                   timeout=60, interval=0.1, what="seq's second task running")
        eagle.ok("POST", "/v1/services/seq/scale", json={"replicas": 1})
        every.wait_for(lambda e: is_ev(e, "task", service="seq") and (
            e["action"] == "remove" or e.get("to") in ("shutdown", "complete", "remove", "failed")),
            timeout=60, what="a seq task stopping")
        eagle.ok("DELETE", "/v1/services/seq", status=204)
        every.wait_for(lambda e: is_ev(e, "service", "remove", "seq"), timeout=60, what="seq removed")

        def all_tasks_removed():
            h = task_histories([f["json"] for f in every.events()], "seq")
            return h if h and all(x[-1]["action"] == "remove" for x in h.values()) else None
        wait_until(all_tasks_removed, timeout=30, what="every task of seq removed")

        frames = every.events()
        check_frames(frames)
        assert not [f for f in every.all() if f["id"] is None], "a frame without id: %s" % every.all()
        seq = [f["json"] for f in frames if f["json"].get("service") == "seq"]
        assert all(e["tenant"] == "default" for e in seq), seq
        svc_actions = [e["action"] for e in seq if e["type"] == "service"]
        assert seq[0]["type"] == "service" and seq[0]["action"] == "create", seq[0]
        assert svc_actions[0] == "create" and svc_actions[-1] == "remove", svc_actions
        assert svc_actions.count("update") >= 2 and set(svc_actions[1:-1]) == {"update"}, svc_actions
        hist = task_histories(seq, "seq")
        assert len(hist) >= 2, hist
        created = {t: h[0]["id"] for t, h in hist.items()}
        running_at = {t: next((e["id"] for e in h if e.get("to") == "running"), None) for t, h in hist.items()}
        stopped_at = {t: next((e["id"] for e in h if e["action"] == "remove" or
                               e.get("to") not in ("new", "pending", "assigned", "accepted", "ready",
                                                   "preparing", "starting", "running")), None)
                      for t, h in hist.items()}
        updates = [e["id"] for e in seq if is_ev(e, "service", "update")]
        removed = next(e["id"] for e in seq if is_ev(e, "service", "remove"))
        # scale up: after an update, a new task is created and runs
        up = [t for t in hist if created[t] > updates[0] and running_at[t]]
        assert up, "no task created after the scale up's update: %s" % seq
        # scale down: after that, another update, and a task stops before the service goes
        down = [u for u in updates if u > running_at[up[0]]]
        assert down, "no update after the second task ran: %s" % seq
        assert any(s and down[0] < s < removed for s in stopped_at.values()), \
            "no task stopped between the scale down and the removal: %s" % seq
        assert all(h[-1]["action"] == "remove" and h[-1]["id"] > created[t] for t, h in hist.items())

        # the filtered stream: exactly the task events of seq, same ids, same bytes
        last = frames[-1]["id"]
        want = [(f["id"], f["data"]) for f in frames if f["json"]["type"] == "task"
                and f["json"].get("service") == "seq"]
        only.wait_id(want[-1][0])
        got = [(f["id"], f["data"]) for f in only.events() if f["id"] <= last]
        assert got == want, "type=task&service=seq: %s\nexpected %s" % (got, want)

        # the stream carries what the store recorded
        stored = dict(stored_events(eagle))
        assert all(stored.get(f["id"]) == f["data"] for f in frames), "stream and store differ"

        # resume: Last-Event-ID (header) and ?last_event_id= continue right after the id given
        mid = frames[len(frames) // 2]["id"]
        expected = [(f["id"], f["data"]) for f in frames if f["id"] > mid]
        with EventStream(eagle, last_event_id=mid) as r1, EventStream(eagle, "?last_event_id=%d" % mid) as r2:
            for r in (r1, r2):
                r.wait_id(last)
                got = [(f["id"], f["data"]) for f in r.all() if f["id"] is None or f["id"] <= last]
                assert got == expected, "resumed after %d: got ids %s, expected %s" % (
                    mid, [g[0] for g in got], [x[0] for x in expected])
        # from 0: everything kept, no reset (nothing was pruned)
        with EventStream(eagle, "?last_event_id=0") as r0:
            r0.wait_id(last)
            assert r0.all()[0]["event"] != "reset", r0.all()[0]
            got = [(f["id"], f["data"]) for f in r0.all() if f["id"] <= last]
            assert got == [(i, d) for i, d in stored_events(eagle) if i <= last]
            assert [x for x in got if x[0] >= frames[0]["id"]] == [(f["id"], f["data"]) for f in frames]
        # from the newest: nothing until the next event, which is the very next id
        with EventStream(eagle, last_event_id=last) as tail:
            eagle.ok("DELETE", "/v1/services/other", status=204)
            f = tail.wait_for(lambda e: True, timeout=30, what="the next event")
            assert f is tail.all()[0], tail.all()
            every.wait_id(f["id"])
            after = [x for x in every.events() if x["id"] > last]
            assert (f["id"], f["data"]) == (after[0]["id"], after[0]["data"]), (f, after)


def test_event_history_survives_kill9_and_ids_keep_growing(eagle, cluster_env):
    with EventStream(eagle) as s:
        create(eagle, spec(cluster_env, "keep", replicas=1))
        s.wait_for(lambda e: is_ev(e, "task", service="keep", to="running"), timeout=60,
                   what="keep's task running")
        before = [(f["id"], f["data"]) for f in s.events()]
        check_frames(s.events())
        eagle.restart(kill9=True)
        wait_until(lambda: s.ended, timeout=15, what="the open stream to end with eagled")
    last = before[-1][0]
    assert [x for x in stored_events(eagle) if x[0] >= before[0][0]][:len(before)] == before

    with EventStream(eagle, "?last_event_id=0") as r0, EventStream(eagle, last_event_id=before[0][0]) as r1:
        r0.wait_id(last)
        r1.wait_id(last)
        got = [(f["id"], f["data"]) for f in r0.all() if f["id"] is not None and f["id"] <= last]
        assert [x for x in got if x[0] >= before[0][0]] == before, "replayed after the restart: %s" % got
        assert r0.all()[0]["event"] != "reset"
        assert [(f["id"], f["data"]) for f in r1.all() if f["id"] <= last] == before[1:]
        # new events continue with larger ids; the restart's baseline made no "create" for keep
        create(eagle, spec(cluster_env, "fresh", replicas=1))
        f = r0.wait_for(lambda e: is_ev(e, "service", "create", "fresh"), timeout=30, what="fresh created")
        assert f["id"] > last
        check_frames(r0.events())
        creates = [x for x in r0.events() if is_ev(x["json"], "service", "create", "keep")]
        assert len(creates) == 1 and creates[0]["id"] <= last, creates


def test_resuming_from_before_the_oldest_kept_event_starts_with_a_reset(eagle, cluster_env):
    # Pruning keeps the newest 10000 events; dropping the oldest rows from the store while
    # eagled is stopped leaves it in the same state as pruning would, without 10000 events.
    with EventStream(eagle) as s:
        create(eagle, spec(cluster_env, "web", replicas=1))
        s.wait_for(lambda e: is_ev(e, "task", service="web", to="running"), timeout=60, what="web running")
        create(eagle, spec(cluster_env, "api", replicas=1))
        s.wait_for(lambda e: is_ev(e, "task", service="api", to="running"), timeout=60, what="api running")
    eagle.stop()
    kept = stored_events(eagle)
    assert len(kept) >= 4, kept
    oldest = kept[2][0]
    db = sqlite3.connect(os.path.join(eagle.data, "eagle.db"), timeout=10)
    try:
        with db:
            db.execute("DELETE FROM events WHERE id < ?", (oldest,))
    finally:
        db.close()
    eagle.start()

    for how in ({"last_event_id": 1}, {"query": "?last_event_id=0"}):
        with EventStream(eagle, **how) as r:
            r.wait_id(kept[-1][0])
            frames = r.all()
            reset = frames[0]
            assert reset["event"] == "reset" and reset["id"] is None, frames[:2]
            assert reset["json"]["oldest"] == oldest and "no longer kept" in reset["json"]["error"], reset
            assert len([f for f in frames if f["event"] == "reset"]) == 1
            assert [(f["id"], f["data"]) for f in frames[1:] if f["id"] <= kept[-1][0]] == kept[2:], how
    # from an id still kept: no reset
    with EventStream(eagle, last_event_id=oldest) as r:
        r.wait_id(kept[-1][0])
        assert [(f["id"], f["data"]) for f in r.all() if f["id"] is None or f["id"] <= kept[-1][0]] == kept[3:]


# ------------------------------------------------------- read-only API token

def test_a_read_only_token_reads_discovery_and_events_but_cannot_write(eagle, cluster_env):
    ro = make_token(eagle, "cdn", read_only=True)
    me = eagle.api("GET", "/v1/me", token=ro)
    assert me.status_code == 200 and me.json()["read_only"] is True, me.text

    create(eagle, spec(cluster_env, "web", replicas=1))
    _, index = settled(eagle, "web", 1, token=ro)
    lst = disc(eagle, token=ro)
    assert lst.status_code == 200 and "web" in [s["name"] for s in lst.json()["services"]]

    with EventStream(eagle, "?type=service,task&service=web", token=ro) as s:
        r, latency = block_then(eagle, "/v1/discovery/services/web?index=%d&wait=30s" % index,
                                lambda: eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 2}),
                                "scale, read-only watcher", token=ro)
        assert r.status_code == 200 and r.json()["replicas"] == 2 and index_of(r) > index, r.text
        assert latency < WAKE_LIMIT, latency
        s.wait_for(lambda e: is_ev(e, "service", "update", "web"), timeout=10, what="web's update event")
        s.wait_for(lambda e: is_ev(e, "task", "create", "web"), timeout=30, what="the new task's event")
        check_frames(s.events())
        assert all(f["json"]["service"] == "web" for f in s.events())

    writes = [("POST", "/v1/services", spec(cluster_env, "ro-made", replicas=1)),
              ("PUT", "/v1/services/web", spec(cluster_env, "web", image="web:2", replicas=1)),
              ("POST", "/v1/services/web/scale", {"replicas": 5}),
              ("POST", "/v1/services/web/rollback", {"revision": 1}),
              ("DELETE", "/v1/services/web", None),
              ("POST", "/v1/tokens", {"name": "more", "read_only": False})]
    for method, path, body in writes:
        assert_error(eagle.api(method, path, json=body, token=ro), 403, "forbidden")
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 2 and svc["spec"]["replicas"] == 2
    assert_error(eagle.api("GET", "/v1/services/ro-made"), 404, "not_found")


# ------------------------------------------- format=docker: the engine's object

def test_format_docker_is_the_engines_service_object(eagle, cluster_env):
    port = cluster_env.host_port()
    create(eagle, spec(cluster_env, "web", replicas=1, labels={"team": "cdn"},
                       ports=[{"target": 8080, "published": port, "protocol": "tcp", "mode": "host"}],
                       update_config={"parallelism": 1, "delay": "0s", "monitor": "1s", "order": "stop-first"}))
    svc, index = settled(eagle, "web", 1)
    inst = svc["instances"][0]
    # (Swarm lists a host-mode port once per address family it bound; Eagle passes that on)
    assert {tuple(sorted(p.items())) for p in inst["ports"]} == {
        tuple(sorted({"target": 8080, "published": port, "protocol": "tcp", "mode": "host"}.items()))}
    engine_id = cluster_env.the_service_of("web")["ID"]

    def inspect():
        return json.loads(cluster_env.docker("service", "inspect", engine_id, check=True).stdout)[0]

    def same_as_engine():
        r = disc(eagle, "web", format="docker")
        assert r.status_code == 200, r.text
        d, e = r.json(), inspect()
        return (r, d, e) if d["Version"]["Index"] == e["Version"]["Index"] else None
    r, d, e = wait_until(same_as_engine, timeout=10, interval=0.25,
                         what="format=docker to carry the engine's Version.Index")
    assert index_of(r) == disc(eagle, "web").json()["modify_index"]
    assert d["ID"] == e["ID"] == engine_id
    assert d["Spec"]["Name"] == e["Spec"]["Name"]
    assert d["Spec"]["Labels"] == e["Spec"]["Labels"] and d["Spec"]["Labels"]["team"] == "cdn"
    assert d["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == e["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert engine_image(d) == cluster_env.image("web:1")
    assert d["Spec"]["Mode"] == e["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
    assert d["Endpoint"] == e["Endpoint"]
    assert d["CreatedAt"] == e["CreatedAt"] and d["UpdatedAt"] == e["UpdatedAt"]
    # healthy does not apply to it
    assert disc(eagle, "web", format="docker", healthy=None).json() == d
    assert disc(eagle, "web", format="eagle").json() == disc(eagle, "web").json()

    # a rolling update through Eagle: once Swarm says it completed, so does format=docker
    s = spec(cluster_env, "web", image="web:2", replicas=1, labels={"team": "cdn"},
             ports=[{"target": 8080, "published": port, "protocol": "tcp", "mode": "host"}],
             update_config={"parallelism": 1, "delay": "0s", "monitor": "1s", "order": "stop-first"})
    eagle.ok("PUT", "/v1/services/web", json=s)
    e = wait_until(lambda: (lambda x: x if (x.get("UpdateStatus") or {}).get("State") == "completed" else None)(
        inspect()), timeout=90, interval=0.5, what="Swarm to complete the update")

    def docker_view():
        d = disc(eagle, "web", format="docker").json()
        e2 = inspect()
        return d if d["Version"]["Index"] == e2["Version"]["Index"] and \
            d.get("UpdateStatus") == e2.get("UpdateStatus") else None
    try:
        d = wait_until(docker_view, timeout=5, interval=0.25, what="format=docker to follow the engine")
    except AssertionError:
        d = disc(eagle, "web", format="docker").json()
        raise AssertionError("format=docker is stale after the update completed: it says Version.Index %s, "
                             "UpdateStatus %s; the engine says %s, %s (modify_index %s)"
                             % (d["Version"]["Index"], d.get("UpdateStatus"), inspect()["Version"]["Index"],
                                inspect().get("UpdateStatus"), disc(eagle, "web").json()["modify_index"])) from None
    assert engine_image(d) == cluster_env.image("web:2")
