"""GET /v1/services/{name}/tasks: every task on every node, with its container, from
one call to Eagle (which asks only the manager)."""
import uuid

from eaglelib import WORKER_ADDR, wait_until


def test_tasks_on_both_nodes_with_their_containers_and_addresses(eagle, cluster_env):
    net = "e2e-backend-" + uuid.uuid4().hex[:6]
    cluster_env.docker("network", "create", "-d", "overlay", net, check=True)
    try:
        r = eagle.api("POST", "/v1/services", json={
            "name": "web", "image": cluster_env.image("web:1"), "replicas": 4, "networks": [net],
            "placement": {"max_replicas_per_node": 2}})
        assert r.status_code == 201, r.text

        def four_running():
            items = eagle.ok("GET", "/v1/services/web/tasks")["items"]
            live = [t for t in items if t["state"] == "running" and t["desired_state"] == "running"]
            return live if len(live) == 4 else None
        tasks = wait_until(four_running, timeout=90, interval=0.5, what="4 running tasks in Eagle")

        engine_id = cluster_env.the_service_of("web")["ID"]
        engine_tasks = {t["ID"]: t for t in cluster_env.running_tasks(engine_id)}
        assert {t["id"] for t in tasks} == set(engine_tasks)
        nodes = {cluster_env.manager.node_id: ("eagle-e2e-manager", cluster_env.manager),
                 cluster_env.worker.node_id: ("eagle-e2e-worker", cluster_env.worker)}
        assert sorted(t["node_id"] for t in tasks) == sorted([cluster_env.manager.node_id] * 2 +
                                                             [cluster_env.worker.node_id] * 2)
        assert sorted(t["slot"] for t in tasks) == [1, 2, 3, 4]

        for t in tasks:
            e = engine_tasks[t["id"]]
            hostname, engine = nodes[t["node_id"]]
            assert t["node"] == hostname
            assert t["container_id"] == e["Status"]["ContainerStatus"]["ContainerID"]
            assert t["pid"] == e["Status"]["ContainerStatus"]["PID"] and t["pid"] > 0
            assert t["image"].split("@")[0] == cluster_env.image("web:1")
            assert t["revision"] == 1
            assert t["error"] == ""
            assert t["started_at"] and t["updated_at"]
            # the container really is on that node: its own engine knows it by that id
            c = engine.docker("inspect", "-f", "{{.State.Running}} {{.State.Pid}}", t["container_id"],
                              check=True).stdout.split()
            assert c == ["true", str(t["pid"])]
            # its address on the overlay network, as the engine assigned it
            want = {(att["Network"]["Spec"]["Name"], a) for att in e.get("NetworksAttachments", [])
                    for a in att["Addresses"]}
            got = {(a["network"], a["address"]) for a in t["addresses"]}
            assert got == want
            assert any(n == net for n, _ in got)
        on_worker = [t for t in tasks if t["node_id"] == cluster_env.worker.node_id]
        assert all(t["node_addr"] == WORKER_ADDR for t in on_worker)
    finally:
        eagle.api("DELETE", "/v1/services/web")
        wait_until(lambda: cluster_env.docker("network", "rm", net).returncode == 0, timeout=60,
                   what="the test network removed")


def test_tasks_on_the_worker_only(eagle, cluster_env):
    r = eagle.api("POST", "/v1/services", json={
        "name": "edge", "image": cluster_env.image("web:2"), "replicas": 2,
        "placement": {"constraints": ["node.role==worker"]}})
    assert r.status_code == 201, r.text

    def two_running():
        items = eagle.ok("GET", "/v1/services/edge/tasks")["items"]
        live = [t for t in items if t["state"] == "running" and t["desired_state"] == "running"]
        return live if len(live) == 2 else None
    tasks = wait_until(two_running, timeout=90, interval=0.5, what="2 running tasks on the worker")
    for t in tasks:
        assert t["node_id"] == cluster_env.worker.node_id
        assert t["node"] == "eagle-e2e-worker" and t["node_addr"] == WORKER_ADDR
        assert cluster_env.worker.docker("inspect", t["container_id"]).returncode == 0
        assert cluster_env.manager.docker("inspect", t["container_id"]).returncode != 0
