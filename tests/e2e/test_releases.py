"""Releases (rolling and canary) and Eagle's own health checks, end to end: what the
release API answers, what the engine runs at each step, what discovery and the event
stream show (src/api/releases.c, src/model/release.c, src/controllers/deploy.c,
src/controllers/health.c).

Every service here is placed on eagled's own node (node.role==manager), which eagled
checks itself; tasks on the worker, checked by eagle-agent, are in test_agent.py.
"""
import http.client
import json
import socket
import time

import pytest

from eaglelib import (TIMEOUT_SCALE, assert_error, engine_image, engine_replicas, run, wait_until)

ON_MANAGER = {"constraints": ["node.role==manager"]}
# (a timeout of 1 s and three failures in a row: a loaded machine does not make a healthy task sick)
CHECK = {"type": "http", "port": 8080, "path": "/", "interval": "500ms", "timeout": "1s",
         "unhealthy_threshold": 3}
TERMINAL = ("succeeded", "rolled_back", "aborted", "failed")
ACTIVE = ("pending", "running", "waiting_promotion", "promoting", "rolling_back", "aborting")


# --------------------------------------------------------------------------- helpers

def spec(cenv, name="web", image="web:1", replicas=4, check=CHECK, **fields):
    s = {"name": name, "image": cenv.image(image), "replicas": replicas, "placement": ON_MANAGER}
    if check is not None:
        s["health_check"] = dict(check)
    s.update(fields)
    return s


def create(eagle, s):
    r = eagle.api("POST", "/v1/services", json=s)
    assert r.status_code == 201, r.text
    return r.json()


def running(eagle, env, name, n, image=None, timeout=90):
    """Wait until the engine runs exactly n tasks of the service (all on `image` if
    given) and Eagle reports it applied and running."""
    engine_id = env.the_service_of(name)["ID"]

    def tasks_ok():
        tasks = env.running_tasks(engine_id)
        return len(tasks) == n and (image is None or all(engine_image(t) == env.image(image) for t in tasks))
    wait_until(tasks_ok, timeout=timeout, what="%d running tasks of %s%s in the engine"
               % (n, name, " on " + image if image else ""))
    return wait_until(lambda: (lambda s: s if s["replicas"]["running"] == n and s["status"] == "running"
                               else None)(eagle.ok("GET", "/v1/services/" + name)),
                      timeout=30, what="Eagle to report %d running for %s" % (n, name))


def start_release(eagle, name, body):
    r = eagle.api("POST", "/v1/services/%s/releases" % name, json=body)
    assert r.status_code == 201, r.text
    rel = r.json()
    assert rel["service"] == name and rel["state"] in ("pending", "running"), rel
    return rel


def canary_body(image=None, spec_=None, steps=(1,), min_healthy="1s", deadline="30s", auto=True):
    body = {"strategy": "canary", "canary": {"steps": list(steps), "min_healthy_time": min_healthy,
                                             "healthy_deadline": deadline, "auto_promote": auto}}
    if image is not None:
        body["image"] = image
    if spec_ is not None:
        body["spec"] = spec_
    return body


def get_release(eagle, rid):
    return eagle.ok("GET", "/v1/releases/" + rid)


def wait_state(eagle, rid, want, timeout=90, observe=None):
    """Poll the release until its state is one of `want` (a str or tuple); a terminal
    state that is not wanted fails at once. `observe(rel)` is called on every poll."""
    want = (want,) if isinstance(want, str) else tuple(want)
    seen = []

    def done():
        rel = get_release(eagle, rid)
        if not seen or seen[-1] != (rel["state"], rel["step"]):
            seen.append((rel["state"], rel["step"]))
        if observe:
            observe(rel)
        if rel["state"] in want:
            return rel
        assert rel["state"] not in TERMINAL, \
            "release %s ended %s (%s) while waiting for %s; states seen %s" % (
                rid, rel["state"], rel["message"], want, seen)
        return None
    return wait_until(done, timeout=timeout, interval=0.2,
                      what="release %s to reach %s (states seen so far: %s)" % (rid, want, seen))


def holds_for(fn, seconds, interval=0.5, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert fn(), "%s stopped holding" % what
        time.sleep(interval)


def canaries(env, name):
    """Engine services that are canary groups of `name`."""
    return env.engine_services("eagle.canary-of=" + name)


def reasons(eagle, name):
    return [(r["revision"], r["reason"]) for r in eagle.ok("GET", "/v1/services/%s/revisions" % name)["items"]]


def discovery(eagle, name):
    r = eagle.api("GET", "/v1/discovery/services/" + name)
    return r.json() if r.status_code == 200 else None


def task_answer(env, task):
    """GET / on :8080 from inside the task's own network namespace (tasks on the manager)."""
    cid = task["Status"]["ContainerStatus"]["ContainerID"]
    status, c = env.api("GET", "/containers/%s/json" % cid)
    assert status == 200, c
    pid = c["State"]["Pid"]
    cp = run(["nsenter", "--net=/proc/%d/ns/net" % pid, "--", "curl", "-s", "-m", "5",
              "http://127.0.0.1:8080/"], check=False, timeout=15)
    return cp.stdout if cp.returncode == 0 else None


def events(eagle, query, idle=1.0, limit=15.0):
    """Every kept event matching `query` (replayed from the start), read from
    GET /v1/events until the stream has been quiet for `idle` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", eagle.port, timeout=limit)
    try:
        conn.request("GET", "/v1/events?last_event_id=0&" + query,
                     headers={"Authorization": "Bearer " + eagle.token})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        assert resp.getheader("Content-Type", "").startswith("text/event-stream")
        conn.sock.settimeout(idle)
        out, deadline = [], time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = resp.fp.readline()
            except (socket.timeout, TimeoutError):
                break
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
        return out
    finally:
        conn.close()


def wait_event(eagle, query, pred, what, timeout=30):
    return wait_until(lambda: [e for e in events(eagle, query) if pred(e)], timeout=timeout, interval=0.5,
                      what=what)


@pytest.fixture(autouse=True)
def no_release_left(eagle, cluster_env):
    """Before: no canary group from elsewhere. After: abort what is still active (a
    service with an active release cannot be deleted), then make sure no canary group
    is left in the engine (they carry no eagle.service label, so the common teardown
    would not see them)."""
    for s in cluster_env.engine_services("eagle.canary-of"):
        cluster_env.docker("service", "rm", s["ID"])
    yield
    try:
        if eagle.running():
            for svc in eagle.ok("GET", "/v1/services")["items"]:
                for rel in eagle.ok("GET", "/v1/services/%s/releases" % svc["name"])["items"]:
                    if rel["state"] in ACTIVE:
                        eagle.api("POST", "/v1/releases/%s/abort" % rel["id"])
                        wait_until(lambda: get_release(eagle, rel["id"])["state"] in TERMINAL, timeout=30,
                                   what="release %s to end after abort (teardown)" % rel["id"])
    finally:
        for s in cluster_env.engine_services("eagle.canary-of"):
            cluster_env.docker("service", "rm", s["ID"])


# ----------------------------------------------------------------- canary, by itself

def test_healthy_canary_promotes_by_itself(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env))
    running(eagle, env, "web", 4)
    main_id = env.the_service_of("web")["ID"]

    rel = start_release(eagle, "web", canary_body(image=env.image("web:2"), steps=[1, "50%"],
                                                  min_healthy="2s", deadline="60s", auto=True))
    rid = rel["id"]
    assert rel["strategy"] == "canary" and rel["from_revision"] == 1 and rel["to_revision"] == 2
    assert rel["plan"]["canary"]["steps"] == [1, "50%"] and rel["plan"]["canary"]["auto_promote"] is True
    assert rel["plan"]["canary"]["min_healthy_ms"] == 2000
    assert rel["spec"]["image"] == env.image("web:2") and rel["spec"]["replicas"] == 4
    assert rel["created_by"] == "admin"

    # Follow it: at each poll, what the release says, what the engine runs, what discovery shows.
    seen = {"engine": {}, "progress": {}, "canary_instances": set()}

    def observe(r):
        if r["state"] != "running":
            return
        step = r["step"]
        seen["progress"].setdefault(step, r["progress"])
        cs = canaries(env, "web")
        main = env.engine_service(main_id)
        if len(cs) == 1 and main is not None:
            seen["engine"].setdefault(step, set()).add(
                (cs[0]["Spec"]["Name"], engine_replicas(cs[0]), engine_replicas(main)))
        d = discovery(eagle, "web")
        for i in (d or {}).get("instances", []):
            if i["canary"]:
                seen["canary_instances"].add((i["revision"], i["state"]))

    wait_state(eagle, rid, "running", timeout=30, observe=observe)
    rel = wait_state(eagle, rid, "succeeded", timeout=120, observe=observe)

    # steps 1 then 2, in that order, then promoted
    order = [e for e in events(eagle, "type=release&service=web") if e.get("release") == rid]
    actions = [(e["action"], e["step"]) for e in order]
    assert ("running", 1) in actions and ("running", 2) in actions, actions
    assert actions.index(("running", 1)) < actions.index(("running", 2)), actions
    assert [a for a, _ in actions][-2:] == ["promoting", "succeeded"], actions
    assert all(e["service"] == "web" and e["strategy"] == "canary" for e in order), order

    # step 1: 1 canary task + 3 of the old; step 2 (50% of 4): 2 + 2
    assert ("web-canary", 1, 3) in seen["engine"].get(1, set()), seen["engine"]
    assert ("web-canary", 2, 2) in seen["engine"].get(2, set()), seen["engine"]
    assert seen["progress"][1]["steps_total"] == 2 and seen["progress"][1]["tasks_total"] == 1, seen["progress"]
    assert seen["progress"][2]["tasks_total"] == 2, seen["progress"]
    assert (2, "running") in seen["canary_instances"], seen["canary_instances"]

    assert rel["progress"] == {"steps_done": 2, "steps_total": 2, "tasks_healthy": 4, "tasks_total": 4}, rel
    assert rel["message"]

    # the end: one engine service, the same one, every task on web:2; no canary group
    assert env.the_service_of("web")["ID"] == main_id
    running(eagle, env, "web", 4, image="web:2")
    wait_until(lambda: not canaries(env, "web") and env.engine_service("web-canary") is None, timeout=20,
               what="the canary group gone")
    main = env.the_service_of("web")
    assert engine_image(main) == env.image("web:2") and engine_replicas(main) == 4
    for t in env.running_tasks(main_id):
        assert wait_until(lambda: task_answer(env, t), timeout=20, what="task %s answering" % t["ID"]) \
            == "web 2\n", t["ID"]
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 2 and svc["spec"]["image"] == env.image("web:2")
    assert reasons(eagle, "web") == [(2, "release " + rid), (1, "create")]
    # discovery: no canary instance any more, every instance revision 2
    d = wait_until(lambda: (lambda d: d if d and len(d["instances"]) == 4 and
                            all(i["revision"] == 2 and not i["canary"] for i in d["instances"]) else None)(
        discovery(eagle, "web")), timeout=20, what="discovery: 4 instances of revision 2, none canary")
    assert d["revision"] == 2
    listed = eagle.ok("GET", "/v1/services/web/releases")["items"]
    assert [(r["id"], r["state"]) for r in listed] == [(rid, "succeeded")]


def test_failing_canary_rolls_back_by_itself(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env))
    running(eagle, env, "web", 4)
    main_id = env.the_service_of("web")["ID"]

    bad = spec(env, check=dict(CHECK, path="/missing"))  # busybox httpd answers 404
    rel = start_release(eagle, "web", canary_body(spec_=bad, steps=[1, "50%"], min_healthy="2s",
                                                  deadline="20s", auto=True))
    rid = rel["id"]
    saw_canary = []
    wait_state(eagle, rid, ("running",) + TERMINAL, timeout=30)
    rel = wait_state(eagle, rid, "rolled_back", timeout=60,
                     observe=lambda r: saw_canary.append(len(canaries(env, "web"))))
    assert 1 in saw_canary, "never saw the canary group while the release ran"
    assert rel["message"]
    assert rel["step"] == 1, rel  # never got past the first step
    back = [e for e in events(eagle, "type=release&service=web") if e.get("release") == rid]
    assert [e["action"] for e in back][-2:] == ["rolling_back", "rolled_back"], back
    assert "unhealthy" in back[-2]["message"] or "not healthy" in back[-2]["message"], back[-2]

    # the old revision, whole again, and nothing else
    wait_until(lambda: not canaries(env, "web"), timeout=20, what="the canary group gone")
    assert env.the_service_of("web")["ID"] == main_id
    running(eagle, env, "web", 4, image="web:1")
    main = env.the_service_of("web")
    assert engine_replicas(main) == 4 and engine_image(main) == env.image("web:1")
    assert main["Spec"]["Labels"]["eagle.revision"] == "1"
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 1 and svc["spec"]["health_check"]["path"] == "/"
    assert reasons(eagle, "web") == [(1, "create")]


# ---------------------------------------------------------------- rolling, bad image

def test_rolling_release_to_a_missing_image_rolls_back(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env, replicas=2, check=None))
    running(eagle, env, "web", 2)
    main_id = env.the_service_of("web")["ID"]

    rel = start_release(eagle, "web", {"strategy": "rolling", "image": env.image("web:404"),
                                       "rolling": {"min_healthy_time": "1s", "healthy_deadline": "40s"}})
    rid = rel["id"]
    assert rel["strategy"] == "rolling" and rel["plan"]["rolling"]["order"] == "start-first"
    # a rolling release has nothing to promote
    assert_error(eagle.api("POST", "/v1/releases/%s/promote" % rid), 409, "conflict")
    rel = wait_state(eagle, rid, "rolled_back", timeout=90)
    assert rel["message"], rel
    back = [e for e in events(eagle, "type=release&service=web") if e.get("release") == rid]
    assert [e["action"] for e in back][-2:] == ["rolling_back", "rolled_back"], back
    assert "failed" in back[-2]["message"] or "not healthy" in back[-2]["message"], back[-2]

    # the engine is back on web:1, on the same engine service
    assert env.the_service_of("web")["ID"] == main_id
    wait_until(lambda: engine_image(env.the_service_of("web")) == env.image("web:1"), timeout=30,
               what="the engine service back on web:1")
    running(eagle, env, "web", 2, image="web:1")
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["spec"]["image"] == env.image("web:1")
    revs = reasons(eagle, "web")
    # the release recorded its revision, and the rollback recorded the old spec again
    assert revs == [(3, "rollback of release " + rid), (2, "release " + rid), (1, "create")], revs
    assert eagle.ok("GET", "/v1/services/web/revisions/2")["spec"]["image"] == env.image("web:404")
    assert not canaries(env, "web")


# --------------------------------------------------------------- abort and promote

@pytest.mark.parametrize("when", ["running", "waiting_promotion"])
def test_abort_puts_the_old_state_back(eagle, cluster_env, when):
    env = cluster_env
    create(eagle, spec(env))
    running(eagle, env, "web", 4)
    main_id = env.the_service_of("web")["ID"]

    # "running": a long first step, aborted while the canary runs; "waiting_promotion":
    # one quick step, aborted while it waits to be promoted.
    body = canary_body(image=env.image("web:2"), steps=[1, "50%"], min_healthy="60s", deadline="120s",
                       auto=False) if when == "running" else \
        canary_body(image=env.image("web:2"), steps=[1], min_healthy="1s", deadline="30s", auto=False)
    rid = start_release(eagle, "web", body)["id"]
    wait_state(eagle, rid, when, timeout=60)
    wait_until(lambda: len(canaries(env, "web")) == 1 and
               len(env.running_tasks(canaries(env, "web")[0]["ID"])) == 1, timeout=60,
               what="one running canary task")
    assert engine_replicas(env.the_service_of("web")) == 3

    r = eagle.api("POST", "/v1/releases/%s/abort" % rid)
    assert r.status_code == 202, r.text
    assert r.json()["abort_requested"] is True and r.json()["id"] == rid
    rel = wait_state(eagle, rid, "aborted", timeout=30)
    assert rel["message"]

    wait_until(lambda: not canaries(env, "web"), timeout=20, what="the canary group gone")
    assert env.the_service_of("web")["ID"] == main_id
    running(eagle, env, "web", 4, image="web:1")
    assert engine_image(env.the_service_of("web")) == env.image("web:1")
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1
    assert reasons(eagle, "web") == [(1, "create")]

    # a finished release takes neither promote nor abort
    assert_error(eagle.api("POST", "/v1/releases/%s/promote" % rid), 409, "conflict")
    assert_error(eagle.api("POST", "/v1/releases/%s/abort" % rid), 409, "conflict")
    assert get_release(eagle, rid)["state"] == "aborted"
    # and the service is free again
    eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 2})


def test_manual_promote(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env))
    running(eagle, env, "web", 4)
    rid = start_release(eagle, "web", canary_body(image=env.image("web:2"), steps=[1], min_healthy="1s",
                                                  deadline="30s", auto=False))["id"]
    rel = wait_state(eagle, rid, "waiting_promotion", timeout=60)
    assert rel["promote_requested"] is False
    # it waits: nothing is promoted by itself
    holds_for(lambda: get_release(eagle, rid)["state"] == "waiting_promotion", seconds=3,
              what="waiting_promotion")
    assert len(canaries(env, "web")) == 1 and engine_replicas(canaries(env, "web")[0]) == 1
    assert engine_replicas(env.the_service_of("web")) == 3
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1

    r = eagle.api("POST", "/v1/releases/%s/promote" % rid)
    assert r.status_code == 202, r.text
    assert r.json()["promote_requested"] is True
    wait_state(eagle, rid, "succeeded", timeout=30)
    running(eagle, env, "web", 4, image="web:2")
    wait_until(lambda: not canaries(env, "web"), timeout=20, what="the canary group gone")
    assert reasons(eagle, "web") == [(2, "release " + rid), (1, "create")]
    assert_error(eagle.api("POST", "/v1/releases/%s/promote" % rid), 409, "conflict")


# ------------------------------------------------------------------ kill -9 mid-way

def test_kill9_mid_canary_resumes_after_restart(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env))
    running(eagle, env, "web", 4)
    main_id = env.the_service_of("web")["ID"]
    rid = start_release(eagle, "web", canary_body(image=env.image("web:2"), steps=[1, "50%"],
                                                  min_healthy="4s", deadline="90s", auto=True))["id"]
    rel = wait_state(eagle, rid, "running", timeout=30)
    assert rel["step"] == 1
    wait_until(lambda: len(canaries(env, "web")) == 1, timeout=20, what="the canary group")
    canary_id = canaries(env, "web")[0]["ID"]
    assert get_release(eagle, rid)["step"] == 1, "step 1 over before the kill: make it longer"

    eagle.restart(kill9=True)

    rel = get_release(eagle, rid)
    assert rel["state"] in ("running", "promoting", "succeeded"), rel
    steps = []
    wait_state(eagle, rid, "succeeded", timeout=120, observe=lambda r: steps.append(r["step"]))
    assert 2 in steps or get_release(eagle, rid)["progress"]["steps_done"] == 2, steps
    # The canary group it made before the kill was reused, not doubled.
    assert env.engine_service(canary_id) is None
    holds_for(lambda: not canaries(env, "web") and len(env.services_of("web")) == 1 and
              env.services_of("web")[0]["ID"] == main_id, seconds=6,
              what="no canary group and exactly the one main engine service")
    running(eagle, env, "web", 4, image="web:2")
    assert reasons(eagle, "web") == [(2, "release " + rid), (1, "create")]
    assert [r["id"] for r in eagle.ok("GET", "/v1/services/web/releases")["items"]] == [rid]


# ------------------------------------------------------------- one release at a time

def test_one_release_at_a_time(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env))
    create(eagle, spec(env, "api", replicas=1, check=None))
    running(eagle, env, "web", 4)
    rid = start_release(eagle, "web", canary_body(image=env.image("web:2"), steps=[1], min_healthy="1s",
                                                  deadline="30s", auto=False))["id"]

    err = assert_error(eagle.api("POST", "/v1/services/web/releases",
                                 json=canary_body(image=env.image("web:3"))), 409, "conflict")
    assert "release" in err["message"]
    assert_error(eagle.api("POST", "/v1/services/web/releases",
                           json={"strategy": "rolling", "image": env.image("web:3")}), 409, "conflict")
    assert_error(eagle.api("PUT", "/v1/services/web", json=spec(env, image="web:3")), 409, "conflict")
    assert_error(eagle.api("POST", "/v1/services/web/scale", json={"replicas": 6}), 409, "conflict")
    err = assert_error(eagle.api("DELETE", "/v1/services/web"), 409, "conflict")
    assert rid in err["message"], err
    wait_state(eagle, rid, "waiting_promotion", timeout=60)
    assert_error(eagle.api("PUT", "/v1/services/web", json=spec(env, image="web:3")), 409, "conflict")
    assert_error(eagle.api("POST", "/v1/services/web/scale", json={"replicas": 1}), 409, "conflict")
    assert_error(eagle.api("POST", "/v1/services/web/rollback", json={"revision": 1}), 409, "conflict")
    # nothing of that got through
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 1 and svc["spec"]["replicas"] == 4 and svc["spec"]["image"] == env.image("web:1")
    assert [r["id"] for r in eagle.ok("GET", "/v1/services/web/releases")["items"]] == [rid]
    assert engine_replicas(env.the_service_of("web")) == 3 and len(canaries(env, "web")) == 1

    # one per service: another service may have its own meanwhile
    other = start_release(eagle, "api", {"strategy": "rolling", "image": env.image("web:2"),
                                         "rolling": {"min_healthy_time": "1s", "healthy_deadline": "40s"}})
    wait_state(eagle, other["id"], "succeeded", timeout=90)
    running(eagle, env, "api", 1, image="web:2")

    eagle.ok("POST", "/v1/releases/%s/abort" % rid, status=202)
    wait_state(eagle, rid, "aborted", timeout=30)
    # over: the service takes changes again
    assert eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 2})["revision"] == 2


# ------------------------------------------------------------------------ health

def test_health_checks_mark_and_replace_unhealthy_tasks(eagle, cluster_env):
    env = cluster_env
    create(eagle, spec(env, "sick", replicas=1, check=dict(CHECK, path="/missing")))
    create(eagle, spec(env, "fine", replicas=1))
    sick_id = env.the_service_of("sick")["ID"]

    # The healthy one: "healthy", and stays so.
    def fine_healthy():
        d = discovery(eagle, "fine")
        insts = (d or {}).get("instances", [])
        return insts if len(insts) == 1 and insts[0]["health"] == "healthy" and insts[0]["healthy"] else None
    inst = wait_until(fine_healthy, timeout=60, what="fine's task healthy in discovery")[0]
    assert inst["health_reason"] and "200" in inst["health_reason"], inst

    # The sick one: seen "unhealthy" in discovery (blocking queries, to see every change),
    # then replaced by another task.
    seen_unhealthy, task_ids = set(), set()
    index, deadline = 0, time.monotonic() + 60 * TIMEOUT_SCALE
    while time.monotonic() < deadline and not seen_unhealthy:
        r = eagle.api("GET", "/v1/discovery/services/sick?index=%d&wait=5s" % index, timeout=15)
        index = int(r.headers.get("X-Eagle-Index", index))
        if r.status_code != 200:
            time.sleep(0.2)
            continue
        for i in r.json()["instances"]:
            task_ids.add(i["task_id"])
            if i["health"] == "unhealthy":
                assert i["healthy"] is False and i["health_reason"], i
                seen_unhealthy.add(i["task_id"])
    assert seen_unhealthy, "no instance of 'sick' ever showed health 'unhealthy' in discovery in 60 s " \
                           "(instances seen: %s)" % sorted(task_ids)

    # Killed (SIGKILL → exit 137) and replaced by a new task.
    def killed_and_replaced():
        all_tasks = env.engine_tasks(sick_id, desired=None)
        dead = [t for t in all_tasks if t["Status"]["State"] == "failed" and
                t["Status"].get("ContainerStatus", {}).get("ExitCode") == 137]
        dead_ids = {t["ID"] for t in dead}
        fresh = [t for t in all_tasks if t["ID"] not in dead_ids and t["DesiredState"] in ("running", "ready")]
        return (dead, fresh) if dead and fresh else None
    dead, fresh = wait_until(killed_and_replaced, timeout=60, what="a task of sick killed (137) and replaced")
    assert {t["ID"] for t in fresh}.isdisjoint({t["ID"] for t in dead})

    ev = wait_event(eagle, "type=health&service=sick", lambda e: e["action"] == "unhealthy",
                    what="a health event 'unhealthy' for sick")
    assert ev[0]["type"] == "health" and ev[0]["task"] and ev[0].get("reason"), ev[0]
    wait_event(eagle, "type=health&service=sick", lambda e: e["action"] == "replaced",
               what="a health event 'replaced' for sick")
    wait_event(eagle, "type=health&service=fine", lambda e: e["action"] == "healthy",
               what="a health event 'healthy' for fine")
    # the healthy one was never replaced
    assert not [e for e in events(eagle, "type=health&service=fine") if e["action"] != "healthy"]
    assert len(env.engine_tasks(env.the_service_of("fine")["ID"], desired=None)) == 1
    assert fine_healthy()


# ------------------------------------------------------------------------ bad input

BAD = [
    # (case, body (IMG = another image, IMG1 = the service's own), field at fault)
    ("unknown strategy", {"strategy": "blue-green", "image": "IMG"}, "strategy"),
    ("no strategy", {"image": "IMG"}, "strategy"),
    ("step over 100%", {"strategy": "canary", "image": "IMG", "canary": {"steps": ["150%"]}}, "canary.steps[0]"),
    ("step of 0 tasks", {"strategy": "canary", "image": "IMG", "canary": {"steps": [1, 0]}}, "canary.steps[1]"),
    ("image and revision", {"strategy": "canary", "image": "IMG", "revision": 1}, "spec"),
    ("no target", {"strategy": "rolling"}, "spec"),
    ("unknown field", {"strategy": "rolling", "image": "IMG", "colour": "red"}, "colour"),
    ("canary settings on a rolling release", {"strategy": "rolling", "image": "IMG", "canary": {}}, "canary"),
    ("unknown canary setting", {"strategy": "canary", "image": "IMG", "canary": {"speed": 1}}, "canary.speed"),
    ("deadline before min_healthy_time", {"strategy": "canary", "image": "IMG",
                                          "canary": {"min_healthy_time": "10s", "healthy_deadline": "5s"}},
     "healthy_deadline"),
    ("bad order", {"strategy": "rolling", "image": "IMG", "rolling": {"order": "random"}}, "rolling.order"),
    ("revision not earlier", {"strategy": "rolling", "revision": 1}, "revision"),
    ("nothing to release", {"strategy": "rolling", "image": "IMG1"}, "spec"),
    ("only replicas change", {"strategy": "canary",
                                     "spec": {"image": "IMG1", "replicas": 3, "placement": ON_MANAGER}}, "spec"),
    ("spec of another service", {"strategy": "rolling", "spec": {"name": "other", "image": "IMG"}}, "spec.name"),
    ("bad spec", {"strategy": "rolling", "spec": {"image": "IMG", "replicas": -1}}, "spec.replicas"),
]


@pytest.mark.parametrize("case,body,field", BAD, ids=[c[0] for c in BAD])
def test_bad_release_is_refused_and_creates_nothing(eagle, cluster_env, case, body, field):
    env = cluster_env
    create(eagle, spec(env, replicas=1, check=None))
    body = json.loads(json.dumps(body).replace('"IMG"', json.dumps(env.image("web:2")))
                      .replace('"IMG1"', json.dumps(env.image("web:1"))))
    assert_error(eagle.api("POST", "/v1/services/web/releases", json=body), 400, "invalid_argument", field=field)
    assert eagle.ok("GET", "/v1/services/web/releases")["items"] == []
    assert reasons(eagle, "web") == [(1, "create")]
    assert not canaries(env, "web")
    assert engine_image(env.the_service_of("web")) == env.image("web:1")


def test_canary_of_a_global_service_is_refused(eagle, cluster_env):
    env = cluster_env
    create(eagle, {"name": "agent", "image": env.image("web:1"), "mode": "global"})
    r = eagle.api("POST", "/v1/services/agent/releases", json=canary_body(image=env.image("web:2")))
    assert_error(r, 400, "invalid_argument", field="strategy")
    assert eagle.ok("GET", "/v1/services/agent/releases")["items"] == []
    assert reasons(eagle, "agent") == [(1, "create")]
    assert not canaries(env, "agent")


def test_unknown_service_or_release_is_404(eagle, cluster_env):
    assert_error(eagle.api("POST", "/v1/services/nope/releases",
                           json=canary_body(image=cluster_env.image("web:2"))), 404, "not_found")
    assert_error(eagle.api("GET", "/v1/services/nope/releases"), 404, "not_found")
    for method, path in [("GET", "/v1/releases/0123456789abcdef"), ("POST", "/v1/releases/0123456789abcdef/promote"),
                         ("POST", "/v1/releases/0123456789abcdef/abort")]:
        assert_error(eagle.api(method, path), 404, "not_found")
