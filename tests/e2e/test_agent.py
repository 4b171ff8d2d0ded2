"""eagle-agent, end to end: installed by eagled as a global Swarm service on the
worker node (the manager is eagled's own node, checked in-process), it checks the
worker's tasks inside their network namespaces and replaces the unhealthy ones
(src/agent/agent.c, src/api/agents.c, src/controllers/health.c).

The agent reaches eagled through a relay inside the worker's network namespace
(127.0.0.1:P there → eagled here), as an agent on a real node reaches eagled's
address. Its image is built FROM scratch out of the eagle-agent binary under test
(scripts/agent-image.sh) and pushed to the test registry, from which the worker pulls.
"""
import glob
import json
import os
import subprocess

import pytest
import requests

from eaglelib import (MANAGER_ADDR, REPO, Engine, Relay, assert_error, free_port, link_netns,
                      wait_until)
from test_releases import canary_body, discovery, events, start_release, wait_event

ON_WORKER = {"constraints": ["node.role==worker"]}
CHECK = {"type": "http", "port": 8080, "path": "/", "interval": "500ms", "timeout": "1s",
         "unhealthy_threshold": 3}


@pytest.fixture(scope="session")
def agent_image(cluster_env, eagle_build):
    """The agent image, built from the eagle-agent under test and pushed to the registry."""
    env = cluster_env
    binary = os.path.join(eagle_build, "eagle-agent")
    assert os.access(binary, os.X_OK), "no eagle-agent in %s (run make)" % eagle_build
    tag = env.image("eagle-agent:test")
    cp = subprocess.run([os.path.join(REPO, "scripts", "agent-image.sh"), tag, binary],
                        env=dict(os.environ, DOCKER_HOST="unix://" + env.sock),
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr
    env.docker("push", "-q", tag, check=True, timeout=300)
    return tag


@pytest.fixture
def agent(eagle, cluster_env, agent_image):
    """eagle-agent installed on the cluster ("local"), reaching this eagled; removed after."""
    env = cluster_env
    port = free_port()
    relay = Relay(env.tmp, env.worker.netns, port, "127.0.0.1", eagle.port)
    # as an operator would: eaglectl, with the defaults it leaves out (--proc, --all-nodes)
    cp = eagle.ctl("-o", "json", "cluster", "agent", "install", "local", "--image", agent_image,
                   "--url", "http://127.0.0.1:%d" % port, "--engine-socket", env.worker_sock)
    assert cp.returncode == 0, cp.stderr
    try:
        installed = json.loads(cp.stdout)
        assert installed["proc"] == "/proc" and installed["engine_socket"] == env.worker_sock, installed
        yield installed
    finally:
        eagle.api("DELETE", "/v1/clusters/local/agent")
        for s in env.engine_services("eagle.agent"):
            env.docker("service", "rm", s["ID"])
        relay.stop()


def agents_seen(eagle):
    r = eagle.api("GET", "/v1/clusters/local/agent")
    return r.json()["agents"] if r.status_code == 200 else []


def live_agent(eagle, env, timeout=90):
    return wait_until(lambda: [a for a in agents_seen(eagle)
                               if a["node"] == env.worker.node_id and not a["stale"]],
                      timeout=timeout, what="the worker's agent syncing with eagled")[0]


def create(eagle, env, name, check=CHECK, replicas=1):
    s = {"name": name, "image": env.image("web:1"), "replicas": replicas, "placement": ON_WORKER,
         "health_check": dict(check)}
    r = eagle.api("POST", "/v1/services", json=s)
    assert r.status_code == 201, r.text


def instances(eagle, name):
    return (discovery(eagle, name) or {}).get("instances", [])


def test_agent_checks_and_replaces_tasks_on_the_worker(eagle, cluster_env, agent):
    env = cluster_env
    assert agent["cluster"] == "local" and "token_hash" not in agent, agent
    # one node runs it: the worker (eagled checks the manager, its own node, itself)
    assert [n["node"] for n in agent["nodes"]] == [env.worker.node_id], agent
    assert "token_hash" not in agent["nodes"][0] and agent["exclude_node"] == env.manager.node_id, agent

    # The engine runs it as the worker's own service, with the worker's own token in a secret.
    svc = env.engine_services("eagle.agent")
    assert [s["ID"] for s in svc] == [agent["nodes"][0]["service_id"]], svc
    assert svc[0]["Spec"]["Name"] == "eagle-agent-" + env.worker.node_id, svc
    assert svc[0]["Spec"]["TaskTemplate"]["Placement"]["Constraints"] == ["node.id==" + env.worker.node_id], svc
    cs = svc[0]["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert cs["Secrets"][0]["File"]["Name"] == "eagle-agent-token", cs
    assert cs["Secrets"][0]["SecretName"] == agent["nodes"][0]["secret_name"], cs
    assert not [e for e in cs.get("Env", []) if "TOKEN=" in e], cs  # no token in the spec
    seen = live_agent(eagle, env)
    assert seen["hostname"] == "eagle-e2e-worker" and seen["version"], seen
    cp = eagle.ctl("cluster", "agent", "show", "local")
    assert cp.returncode == 0, cp.stderr
    assert "image: " + agent["image"] in cp.stdout, cp.stdout
    line = [l for l in cp.stdout.splitlines() if l.startswith(env.worker.node_id)]
    assert line and "eagle-e2e-worker" in line[0] and "syncing" in line[0], cp.stdout

    create(eagle, env, "fine")
    create(eagle, env, "sick", check=dict(CHECK, path="/missing"))
    sick_id = env.the_service_of("sick")["ID"]

    # The worker's healthy task: "healthy" in discovery, with the check's reason.
    def fine_healthy():
        insts = instances(eagle, "fine")
        return insts if len(insts) == 1 and insts[0]["health"] == "healthy" else None
    inst = wait_until(fine_healthy, timeout=90, what="fine's task on the worker healthy in discovery")[0]
    assert inst["node_id"] == env.worker.node_id and inst["healthy"] is True, inst
    assert "200" in inst["health_reason"], inst
    tasks = eagle.ok("GET", "/v1/services/fine/tasks")["items"]
    assert [t["health"] for t in tasks if t["desired_state"] == "running"] == ["healthy"], tasks
    cp = eagle.ctl("service", "tasks", "fine")
    assert cp.returncode == 0 and "HEALTH" in cp.stdout and "healthy" in cp.stdout, cp.stdout + cp.stderr

    # The sick one: unhealthy, then killed by the agent (SIGKILL: 137) and replaced.
    def killed_and_replaced():
        tasks = env.engine_tasks(sick_id, desired=None)
        dead = [t for t in tasks if t["Status"]["State"] == "failed" and
                t["Status"].get("ContainerStatus", {}).get("ExitCode") == 137]
        fresh = [t for t in tasks if t not in dead and t["DesiredState"] == "running"]
        return (dead, fresh) if dead and fresh else None
    dead, _ = wait_until(killed_and_replaced, timeout=90, what="sick's task killed by the agent and replaced")
    assert all(t["NodeID"] == env.worker.node_id for t in dead), dead
    ev = wait_event(eagle, "type=health&service=sick", lambda e: e["action"] == "unhealthy",
                    what="a health event 'unhealthy' for sick")
    assert "404" in ev[0]["reason"], ev[0]
    wait_event(eagle, "type=health&service=sick", lambda e: e["action"] == "replaced",
               what="a health event 'replaced' for sick")
    # the healthy one was left alone
    assert len(env.engine_tasks(env.the_service_of("fine")["ID"], desired=None)) == 1
    assert not [e for e in events(eagle, "type=health&service=fine") if e["action"] != "healthy"]

    # The agent's own account of its node. The sick task keeps being killed and replaced,
    # so there are moments with only fine's task to check: wait for one with both.
    seen = wait_until(lambda: (lambda a: a if a["targets"] >= 2 and a["healthy"] >= 1 else None)(
        live_agent(eagle, env)), timeout=60, what="the worker's agent checking both tasks")
    assert seen["hostname"] == "eagle-e2e-worker", seen

    # eagled killed and restarted: the agent carries on, health comes back, and the
    # reconciler's sweep of leftover agent objects leaves the installed one alone.
    eagle.restart(kill9=True)
    live_agent(eagle, env)
    wait_until(fine_healthy, timeout=60, what="fine healthy again after eagled's restart")
    assert [s["ID"] for s in env.engine_services("eagle.agent")] == [agent["nodes"][0]["service_id"]]

    # Removed: no service or secret left, and its tasks' health is unknown again.
    cp = eagle.ctl("cluster", "agent", "rm", "local")
    assert cp.returncode == 0 and "eagle-agent removed from cluster 'local'" in cp.stdout, cp.stdout + cp.stderr
    assert env.engine_services("eagle.agent") == []
    assert not agent_secrets(env)
    wait_until(lambda: instances(eagle, "fine") and instances(eagle, "fine")[0]["health"] == "unknown",
               timeout=30, what="fine's health unknown once its agent is gone")
    assert_error(eagle.api("GET", "/v1/clusters/local/agent"), 404, "not_found")


def test_an_install_cut_short_by_a_crash_is_finished_by_the_reconciler(eagle, cluster_env, agent_image):
    """kill -9 after the engine has the worker's agent service and secret but before the
    store names them: the restarted eagled removes those and starts the worker's agent
    anew, with a token it knows. A service removed by hand comes back the same way."""
    env = cluster_env
    port = free_port()
    relay = Relay(env.tmp, env.worker.netns, port, "127.0.0.1", eagle.port)
    body = {"image": agent_image, "url": "http://127.0.0.1:%d" % port, "engine_socket": env.worker_sock}
    try:
        eagle.stop()
        eagle.fault = "agent-in-engine"
        eagle.start()
        try:
            r = eagle.api("PUT", "/v1/clusters/local/agent", json=body, timeout=60)
            raise AssertionError("eagled answered instead of dying at the fault point: %s %s"
                                 % (r.status_code, r.text))
        except requests.ConnectionError:
            pass
        wait_until(lambda: not eagle.running(), timeout=10, what="eagled to die at the fault point")
        leftover = env.engine_services("eagle.agent")
        assert len(leftover) == 1 and len(agent_secrets(env)) == 1, leftover  # the crash left them
        eagle.stop()
        eagle.fault = None
        eagle.start()

        def finished(not_service):
            r = eagle.api("GET", "/v1/clusters/local/agent")
            nodes = r.json().get("nodes", []) if r.status_code == 200 else []
            svcs = [s["ID"] for s in env.engine_services("eagle.agent")]
            ok = len(nodes) == 1 and svcs == [nodes[0]["service_id"]] and svcs[0] != not_service
            return nodes[0] if ok else None
        node = wait_until(lambda: finished(leftover[0]["ID"]), timeout=30,
                          what="the reconciler to replace the leftover agent service with one it names")
        assert node["node"] == env.worker.node_id, node
        assert [s["Spec"]["Name"] for s in agent_secrets(env)] == [node["secret_name"]]
        assert "eagle-agent object(s) no record names from cluster 'local'" in eagle.log()
        live_agent(eagle, env)  # its token is one eagled knows

        # Removed by hand: a new service (and token) within a pass or two.
        env.docker("service", "rm", node["service_id"], check=True)
        again = wait_until(lambda: finished(node["service_id"]), timeout=30,
                           what="the reconciler to start the worker's agent again")
        assert again["secret_name"] != node["secret_name"], again
        wait_until(lambda: [s["Spec"]["Name"] for s in agent_secrets(env)] == [again["secret_name"]],
                   timeout=30, what="the old token's secret to go")
        live_agent(eagle, env)
    finally:
        eagle.api("DELETE", "/v1/clusters/local/agent")
        relay.stop()


def agent_secrets(env):
    status, secrets = env.api("GET", "/secrets")
    assert status == 200, secrets
    return [s for s in secrets if "eagle.agent" in s["Spec"].get("Labels", {})]


NODE3_ADDR, NODE3_PEER = "198.18.214.2", "198.18.214.1"


def test_a_node_that_joins_gets_its_own_agent_and_one_that_leaves_loses_it(eagle, cluster_env, agent):
    """The reconciler does a global service's job: a third engine joins the swarm and gets an
    agent service and token of its own; once it has left and been removed, they go. (Its agent
    never starts: node3 cannot reach the registry. What is tested is the bookkeeping.)"""
    env = cluster_env
    worker_agent = agent["nodes"][0]
    node3 = Engine(env.tmp, "n3", "eagle-e2e-node3")
    # node3 reaches the manager's swarm address over a link of its own
    link_netns(env.manager.netns, NODE3_PEER, node3.netns, NODE3_ADDR, devs=("eg3m", "eg3n"))
    node3.in_netns("ip", "route", "add", MANAGER_ADDR + "/32", "dev", "eg3n", check=True)
    node3_id = None
    try:
        node3.start()
        info = env.docker("info", "-f", "{{json .Swarm.RemoteManagers}}", check=True).stdout
        manager = json.loads(info)[0]["Addr"]
        token = env.docker("swarm", "join-token", "-q", "worker", check=True).stdout.strip()
        port = free_port()
        node3.docker("swarm", "join", "--listen-addr", "%s:%d" % (NODE3_ADDR, port), "--advertise-addr",
                     "%s:%d" % (NODE3_ADDR, port), "--token", token, manager, check=True, timeout=60)
        node3_id = node3.docker("info", "-f", "{{.Swarm.NodeID}}", check=True).stdout.strip()

        def node_row(node):
            rows = [n for n in eagle.ok("GET", "/v1/clusters/local/agent")["nodes"] if n["node"] == node]
            return rows[0] if rows else None
        row = wait_until(lambda: node_row(node3_id), timeout=60, what="the reconciler to start node3's agent")
        svc = env.engine_service(row["service_id"])
        assert svc and svc["Spec"]["Name"] == "eagle-agent-" + node3_id, svc
        assert svc["Spec"]["TaskTemplate"]["Placement"]["Constraints"] == ["node.id==" + node3_id], svc
        assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretName"] == row["secret_name"]
        assert sorted(s["Spec"]["Name"] for s in agent_secrets(env)) == sorted(
            [worker_agent["secret_name"], row["secret_name"]])
        assert "eagle-agent started on node %s of cluster 'local'" % node3_id[:12] in eagle.log()

        # node3 leaves and is removed from the swarm: its agent's service and token go
        node3.docker("swarm", "leave", "--force", check=True, timeout=60)
        wait_until(lambda: next(n for n in env.nodes() if n["ID"] == node3_id)["Status"]["State"] == "down",
                   timeout=60, what="node3 down in the manager's view")
        env.docker("node", "rm", "--force", node3_id, check=True)
        node3_id = None
        wait_until(lambda: env.engine_service(row["service_id"]) is None and
                   [s["Spec"]["Name"] for s in agent_secrets(env)] == [worker_agent["secret_name"]],
                   timeout=60, what="node3's agent service and secret to go")
        assert node_row(row["node"]) is None
        # the worker's agent was left alone
        assert [n["service_id"] for n in eagle.ok("GET", "/v1/clusters/local/agent")["nodes"]] == \
            [worker_agent["service_id"]]
    finally:
        if node3_id:
            node3.docker("swarm", "leave", "--force", timeout=60)
            env.docker("node", "rm", "--force", node3_id)
        node3.stop()
        env.manager.in_netns("ip", "link", "del", "eg3m")  # (the session's teardown unmounts its namespaces)


def test_failing_canary_on_the_worker_rolls_back(eagle, cluster_env, agent):
    """Releases gate on the agent's results: a canary on the worker that never gets
    healthy rolls back by itself (without an agent it would count as ready)."""
    env = cluster_env
    live_agent(eagle, env)
    create(eagle, env, "web", replicas=2)
    wait_until(lambda: len([i for i in instances(eagle, "web") if i["health"] == "healthy"]) == 2,
               timeout=90, what="web's two tasks on the worker healthy")
    bad = {"name": "web", "image": env.image("web:2"), "replicas": 2, "placement": ON_WORKER,
           "health_check": dict(CHECK, path="/missing")}
    rid = start_release(eagle, "web", canary_body(spec_=bad, steps=[1], min_healthy="2s", deadline="20s"))["id"]
    rel = wait_until(lambda: (lambda r: r if r["state"] in ("rolled_back", "failed") else None)(
        eagle.ok("GET", "/v1/releases/" + rid)), timeout=120, what="the release rolled back")
    assert rel["state"] == "rolled_back", rel
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1


def test_agent_install_input_and_sync_auth(eagle, cluster_env):
    env = cluster_env
    good = {"image": env.image("eagle-agent:test"), "url": "http://127.0.0.1:1"}
    for body, field in [({"url": good["url"]}, "image"),
                        ({"image": good["image"]}, "url"),
                        (dict(good, url="ftp://x"), "url"),
                        (dict(good, image="a b"), "image"),
                        (dict(good, engine_socket="relative/path"), "engine_socket"),
                        (dict(good, proc="/x/../etc"), "proc"),
                        (dict(good, all_nodes="yes"), "all_nodes"),
                        (dict(good, colour="red"), "colour")]:
        assert_error(eagle.api("PUT", "/v1/clusters/local/agent", json=body), 400, "invalid_argument", field)
    assert_error(eagle.api("PUT", "/v1/clusters/nowhere/agent", json=good), 404, "not_found")
    # nothing was made by the refused calls
    assert env.engine_services("eagle.agent") == []
    assert_error(eagle.api("GET", "/v1/clusters/local/agent"), 404, "not_found")

    # Only platform admins install agents.
    eagle.ok("POST", "/v1/users", json={"username": "dev1", "password": "a-long-password-1"})
    r = eagle.api("POST", "/v1/auth/login", json={"username": "dev1", "password": "a-long-password-1"}, token=None)
    assert_error(eagle.api("PUT", "/v1/clusters/local/agent", json=good, token=r.json()["token"]), 403, "forbidden")

    # The sync call wants the cluster's agent token, nothing else.
    sync = {"cluster": "local", "node": "n1", "results": []}
    assert_error(eagle.api("POST", "/v1/agent/sync", json=sync, token=None), 401, "unauthenticated")
    assert_error(eagle.api("POST", "/v1/agent/sync", json=sync), 401, "unauthenticated")  # a user's token
    assert_error(eagle.api("POST", "/v1/agent/sync", json=sync, token="0" * 64), 401, "unauthenticated")


def test_sync_with_the_real_token_validates_its_body(eagle, cluster_env, agent):
    """The agent's token (read from the secret file the worker's engine mounted) is
    accepted; a malformed body is refused with the field named, and a target that is
    not the node's is ignored."""
    env = cluster_env
    live_agent(eagle, env)
    svc = env.engine_services("eagle.agent")[0]
    running = wait_until(lambda: [t for t in env.engine_tasks(svc["ID"]) if t["Status"]["State"] == "running"],
                         timeout=30, what="the manager to see the agent's task running")
    cid = running[0]["Status"]["ContainerStatus"]["ContainerID"]
    files = glob.glob(os.path.join(env.worker.dir, "data", "containers", cid, "mounts", "secrets", "*"))
    assert files, "no secret file in the agent's container %s" % cid
    token = open(files[0]).read().strip()
    assert len(token) == 64
    node = env.worker.node_id
    ok = eagle.api("POST", "/v1/agent/sync", token=token,
                   json={"cluster": "local", "node": node, "results": [
                       {"task": "not-a-target", "health": "unhealthy", "reason": "made up"}]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["interval_ms"] == 1000 and ok.json()["kill"] == [], ok.json()
    for body, field in [({"cluster": "local"}, "node"),
                        ({"cluster": "local", "node": "a/b"}, "node"),
                        ({"cluster": "local", "node": node, "results": {}}, "results"),
                        ({"cluster": "local", "node": node, "results": [{"task": "t", "health": "fine"}]},
                         "results[0]"),
                        ({"cluster": "local", "node": node, "killed": [{}]}, "killed[0]"),
                        ({"cluster": "local", "node": node, "extra": 1}, "extra"),
                        ({"node": node}, "cluster")]:
        assert_error(eagle.api("POST", "/v1/agent/sync", json=body, token=token), 400, "invalid_argument", field)
    # The token is the worker's alone: it cannot speak for another node (it would learn that
    # node's tasks and could report them unhealthy), nor for another cluster.
    for other in (env.manager.node_id, "nodex"):
        r = eagle.api("POST", "/v1/agent/sync", token=token, json={"cluster": "local", "node": other,
                      "results": [{"task": "t", "health": "unhealthy", "reason": "lies"}]})
        assert_error(r, 403, "forbidden", "node")
        assert node in r.json()["error"]["message"], r.json()
    assert_error(eagle.api("POST", "/v1/agent/sync", token=token, json={"cluster": "elsewhere", "node": node}),
                 401, "unauthenticated")
    # a made-up result did not reach any event
    assert not [e for e in events(eagle, "type=health") if e.get("task") == "not-a-target"]
    # the cluster cannot be deleted while it runs the agent
    assert_error(eagle.api("DELETE", "/v1/clusters/local"), 409, "conflict")
