"""The test world itself works (no Eagle involved): if these fail, every other test
would fail for reasons that have nothing to do with Eagle."""
import uuid

from eaglelib import MANAGER_ADDR, WORKER_ADDR, wait_until


def test_two_node_swarm_is_ready(cluster_env):
    nodes = {n["Description"]["Hostname"]: n for n in cluster_env.nodes()}
    assert set(nodes) == {"eagle-e2e-manager", "eagle-e2e-worker"}
    assert nodes["eagle-e2e-manager"]["Spec"]["Role"] == "manager"
    assert nodes["eagle-e2e-worker"]["Spec"]["Role"] == "worker"
    assert nodes["eagle-e2e-worker"]["Status"]["Addr"] == WORKER_ADDR
    assert all(n["Status"]["State"] == "ready" for n in nodes.values())


def test_registry_has_the_test_images(cluster_env):
    assert cluster_env.reg.tags("eagle-test/web") and \
        {"1", "2"} <= set(cluster_env.reg.tags("eagle-test/web"))


def test_worker_pulls_through_the_registry_and_serves_a_host_port(cluster_env):
    name = "infra-" + uuid.uuid4().hex[:6]
    port = cluster_env.host_port()
    cluster_env.docker("service", "create", "-d", "--name", name, "--constraint", "node.role==worker",
                       "--publish", "mode=host,target=8080,published=%d" % port,
                       cluster_env.image("web:2"), check=True)
    try:
        task = wait_until(lambda: cluster_env.running_tasks(name), timeout=60, what="task running")[0]
        assert task["NodeID"] == cluster_env.worker.node_id
        assert wait_until(lambda: cluster_env.http_get(port, node="worker"), timeout=20) == "web 2\n"
        # and from the manager's namespace, over the link between the nodes
        out = cluster_env.manager.in_netns("curl", "-s", "-m", "5", "http://%s:%d/" % (WORKER_ADDR, port))
        assert out.stdout == "web 2\n"
    finally:
        cluster_env.docker("service", "rm", name)


def test_overlay_network_spans_both_nodes(cluster_env):
    net = "infra-net-" + uuid.uuid4().hex[:6]
    a, b = "infra-a-" + uuid.uuid4().hex[:6], "infra-b-" + uuid.uuid4().hex[:6]
    cluster_env.docker("network", "create", "-d", "overlay", net, check=True)
    try:
        for name, role in ((a, "manager"), (b, "worker")):
            cluster_env.docker("service", "create", "-d", "--name", name, "--network", net,
                               "--constraint", "node.role==" + role, cluster_env.image("web:1"), check=True)
        wait_until(lambda: cluster_env.running_tasks(a) and cluster_env.running_tasks(b), timeout=60)
        tb = cluster_env.running_tasks(b)[0]
        addr = [x for att in tb["NetworksAttachments"] if att["Network"]["Spec"]["Name"] == net
                for x in att["Addresses"]][0].split("/")[0]
        ta = cluster_env.running_tasks(a)[0]
        cid = ta["Status"]["ContainerStatus"]["ContainerID"]
        out = wait_until(lambda: cluster_env.docker(
            "exec", cid, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s 8080" % addr).stdout,
            timeout=20, what="HTTP over the overlay")
        assert out.endswith("web 1\n")
        assert MANAGER_ADDR != WORKER_ADDR
    finally:
        cluster_env.docker("service", "rm", a, b)
        wait_until(lambda: cluster_env.docker("network", "rm", net).returncode == 0, timeout=30)
