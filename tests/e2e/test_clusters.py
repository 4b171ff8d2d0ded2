"""Clusters: the `local` one eagled registers from --engine, adding more, and a cluster
whose engine goes away and comes back (docs/api.md, "Clusters")."""
import json
import os
import signal

from eaglelib import MANAGER_ADDR, WORKER_ADDR, assert_error, wait_until


def cluster_names(eagle):
    return [c["name"] for c in eagle.ok("GET", "/v1/clusters")["items"]]


def test_local_cluster_exists_and_is_ready(eagle, cluster_env):
    info = json.loads(cluster_env.docker("info", "-f", "{{json .}}", check=True).stdout)
    local = wait_until(lambda: next((c for c in eagle.ok("GET", "/v1/clusters")["items"]
                                     if c["name"] == "local" and c["status"] == "ready"), None),
                       timeout=20, what="cluster local ready")
    assert local["endpoint"] == "unix://" + cluster_env.sock
    assert local["swarm_id"] == info["Swarm"]["Cluster"]["ID"]
    assert local["engine_version"] == info["ServerVersion"]
    assert local["reason"] == ""
    assert local["tls"] is False
    assert local["checked_at"] and local["created_at"]
    assert eagle.ok("GET", "/v1/clusters/local")["swarm_id"] == local["swarm_id"]


def test_nodes_shows_the_manager_and_the_worker(eagle, cluster_env):
    engine_nodes = {n["ID"]: n for n in cluster_env.nodes()}
    items = eagle.ok("GET", "/v1/clusters/local/nodes")["items"]
    assert {n["id"] for n in items} == set(engine_nodes) == {cluster_env.manager.node_id,
                                                             cluster_env.worker.node_id}
    by_host = {n["hostname"]: n for n in items}
    manager, worker = by_host["eagle-e2e-manager"], by_host["eagle-e2e-worker"]
    assert manager["id"] == cluster_env.manager.node_id
    assert manager["role"] == "manager" and manager["leader"] is True
    assert worker["id"] == cluster_env.worker.node_id
    assert worker["role"] == "worker" and worker["leader"] is False
    assert worker["addr"] == WORKER_ADDR
    assert manager["addr"] in (MANAGER_ADDR, engine_nodes[manager["id"]]["Status"]["Addr"])
    for n in items:
        e = engine_nodes[n["id"]]
        assert n["state"] == "ready" and n["availability"] == "active"
        assert n["engine_version"] == e["Description"]["Engine"]["EngineVersion"]
        assert n["nano_cpus"] == e["Description"]["Resources"]["NanoCPUs"]
        assert n["memory_bytes"] == e["Description"]["Resources"]["MemoryBytes"]
        assert n["os"] == "linux" and n["arch"]


def test_nodes_of_an_unknown_cluster_is_404(eagle):
    assert_error(eagle.api("GET", "/v1/clusters/nope/nodes"), 404, "not_found")
    assert_error(eagle.api("GET", "/v1/clusters/nope"), 404, "not_found")


def test_registering_an_engine_that_does_not_answer_is_503_and_creates_nothing(eagle, cluster_env):
    missing = os.path.join(cluster_env.tmp, "no-such-engine.sock")
    r = eagle.api("POST", "/v1/clusters", json={"name": "dc-missing", "datacenter": "nowhere",
                                                "endpoint": "unix://" + missing})
    assert_error(r, 503, "engine_unavailable")
    assert cluster_names(eagle) == ["local"]
    assert_error(eagle.api("GET", "/v1/clusters/dc-missing"), 404, "not_found")


def test_registering_a_worker_engine_is_refused_on_endpoint(eagle, cluster_env):
    # The worker's engine answers, but it is not a Swarm manager.
    r = eagle.api("POST", "/v1/clusters", json={"name": "dc-worker", "datacenter": "dc1",
                                                "endpoint": "unix://" + cluster_env.worker_sock})
    assert_error(r, 400, "invalid_argument", field="endpoint")
    assert cluster_names(eagle) == ["local"]


def test_registering_a_malformed_endpoint_is_refused(eagle):
    for endpoint in ("http://127.0.0.1:2375", "unix://", "127.0.0.1:2375", "", "tcp://"):
        r = eagle.api("POST", "/v1/clusters", json={"name": "dc-bad", "datacenter": "dc1",
                                                    "endpoint": endpoint})
        assert_error(r, 400, "invalid_argument", field="endpoint")
    assert cluster_names(eagle) == ["local"]


def test_registering_a_taken_name_is_409(eagle, cluster_env):
    r = eagle.api("POST", "/v1/clusters", json={"name": "local", "datacenter": "dc1",
                                                "endpoint": "unix://" + cluster_env.sock})
    assert_error(r, 409, "conflict")
    assert cluster_names(eagle) == ["local"]


def test_a_cluster_with_services_cannot_be_removed(eagle, cluster_env):
    eagle.ok("POST", "/v1/services", json={"name": "pinned", "image": cluster_env.image("web:1"),
                                           "replicas": 0}, status=201)
    assert_error(eagle.api("DELETE", "/v1/clusters/local"), 409, "conflict")
    assert eagle.ok("GET", "/v1/clusters/local")["name"] == "local"


def test_a_cluster_whose_engine_goes_away_becomes_unreachable_and_recovers(eagle, cluster_env):
    engine = cluster_env.throwaway_engine("x1")
    try:
        swarm_id = engine.docker("info", "-f", "{{.Swarm.Cluster.ID}}", check=True).stdout.strip()
        r = eagle.api("POST", "/v1/clusters", json={"name": "dc2", "datacenter": "shanghai",
                                                    "endpoint": "unix://" + engine.sock})
        assert r.status_code == 201, r.text
        dc2 = r.json()
        assert dc2["name"] == "dc2" and dc2["datacenter"] == "shanghai"
        assert dc2["status"] == "ready" and dc2["swarm_id"] == swarm_id
        assert sorted(cluster_names(eagle)) == ["dc2", "local"]
        assert [n["hostname"] for n in eagle.ok("GET", "/v1/clusters/dc2/nodes")["items"]] == ["eagle-e2e-x1"]

        engine.stop(sig=signal.SIGKILL)
        gone = wait_until(lambda: (lambda c: c if c["status"] == "unreachable" else None)(
            eagle.ok("GET", "/v1/clusters/dc2")), timeout=40, interval=0.5, what="dc2 unreachable")
        assert gone["reason"], gone
        # the other cluster is not affected
        assert eagle.ok("GET", "/v1/clusters/local")["status"] == "ready"

        engine.start()
        back = wait_until(lambda: (lambda c: c if c["status"] == "ready" else None)(
            eagle.ok("GET", "/v1/clusters/dc2")), timeout=60, interval=0.5, what="dc2 ready again")
        assert back["reason"] == ""
        assert back["swarm_id"] == swarm_id

        assert eagle.api("DELETE", "/v1/clusters/dc2").status_code == 204
        assert cluster_names(eagle) == ["local"]
        assert_error(eagle.api("GET", "/v1/clusters/dc2"), 404, "not_found")
    finally:
        engine.swarm_leave()
        engine.stop()
