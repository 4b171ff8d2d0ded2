"""Restarting eagled loses nothing and duplicates nothing (DESIGN.md, principle 1)."""
import signal
import time

from eaglelib import TIMEOUT_SCALE, engine_replicas, wait_until


def holds_for(fn, seconds, interval=0.5, what="condition"):
    """fn() stays truthy for `seconds` (e.g. across a few reconcile passes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert fn(), "%s stopped holding" % what
        time.sleep(interval)


def one_engine_service_each(env, names):
    return all(len(env.services_of(n)) == 1 for n in names)


def revisions(eagle, name):
    return [(r["revision"], r["reason"], r["spec"]) for r in
            eagle.ok("GET", "/v1/services/%s/revisions" % name)["items"]]


def test_kill9_and_restart_keeps_services_revisions_and_clusters(eagle, cluster_env):
    dc2 = cluster_env.throwaway_engine("x2")
    try:
        eagle.ok("POST", "/v1/clusters", json={"name": "dc2", "datacenter": "dc2",
                                               "endpoint": "unix://" + dc2.sock})
        eagle.ok("POST", "/v1/services", json={"name": "web", "cluster": "local", "image": cluster_env.image("web:1"),
                                               "replicas": 1, "env": {"V": "1"}})
        eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 2})
        eagle.ok("PUT", "/v1/services/web", json={"name": "web", "cluster": "local", "image": cluster_env.image("web:2"),
                                                  "replicas": 2, "env": {"V": "2"}})
        eagle.ok("POST", "/v1/services", json={"name": "api", "cluster": "local", "image": cluster_env.image("web:1"),
                                               "replicas": 1})
        wait_until(lambda: all(eagle.ok("GET", "/v1/services/" + n)["status"] == "running"
                               for n in ("web", "api")), timeout=30, what="both applied")
        before = {n: eagle.ok("GET", "/v1/services/" + n) for n in ("web", "api")}
        revs_before = revisions(eagle, "web")
        clusters_before = sorted((c["name"], c["endpoint"]) for c in eagle.ok("GET", "/v1/clusters")["items"])
        engine_ids = {n: cluster_env.the_service_of(n)["ID"] for n in ("web", "api")}

        eagle.restart(kill9=True)

        after = {s["name"]: s for s in eagle.ok("GET", "/v1/services")["items"]}
        assert sorted(after) == ["api", "web"]
        for n in ("web", "api"):
            for k in ("revision", "spec", "cluster", "engine_id", "created_at", "created_by"):
                assert after[n][k] == before[n][k], (n, k)
        assert revisions(eagle, "web") == revs_before
        assert [r[:2] for r in revs_before] == [(3, "update"), (2, "scale"), (1, "create")]
        assert sorted((c["name"], c["endpoint"]) for c in eagle.ok("GET", "/v1/clusters")["items"]) \
            == clusters_before
        wait_until(lambda: eagle.ok("GET", "/v1/clusters/dc2")["status"] == "ready", timeout=30)

        # The engine still has exactly the same services, across several reconcile passes.
        holds_for(lambda: one_engine_service_each(cluster_env, ("web", "api")) and
                  {n: cluster_env.the_service_of(n)["ID"] for n in ("web", "api")} == engine_ids,
                  seconds=8, what="one engine service per Eagle service, the same ones")
        assert engine_replicas(cluster_env.the_service_of("web")) == 2
        # and Eagle still drives them
        eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 1})
        wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 1, timeout=30)
        assert eagle.ok("GET", "/v1/services/web")["revision"] == 4
    finally:
        eagle.api("DELETE", "/v1/clusters/dc2")
        dc2.swarm_leave()
        dc2.stop()


def test_kill9_right_after_a_write_is_finished_after_restart(eagle, cluster_env):
    # The write was accepted (201): whatever eagled had not yet done in the engine,
    # it finishes after the restart, exactly once.
    r = eagle.api("POST", "/v1/services", json={"name": "web", "image": cluster_env.image("web:1"),
                                                "replicas": 2})
    assert r.status_code == 201, r.text
    eagle.stop(sig=signal.SIGKILL)
    eagle.start()
    svc = wait_until(lambda: (lambda s: s if s["status"] == "running" else None)(
        eagle.ok("GET", "/v1/services/web")), timeout=30, what="web applied after the restart")
    assert svc["revision"] == 1
    holds_for(lambda: len(cluster_env.services_of("web")) == 1, seconds=8,
              what="exactly one engine service for web")
    assert engine_replicas(cluster_env.the_service_of("web")) == 2

    eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 3})
    eagle.stop(sig=signal.SIGKILL)
    eagle.start()
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 3, timeout=30,
               what="the scale applied after the restart")
    assert [r["revision"] for r in eagle.ok("GET", "/v1/services/web/revisions")["items"]] == [2, 1]
    assert len(cluster_env.services_of("web")) == 1


def test_sigterm_stops_cleanly_with_status_0(eagle, cluster_env):
    eagle.ok("POST", "/v1/services", json={"name": "web", "image": cluster_env.image("web:1"), "replicas": 1})
    assert eagle.stop(sig=signal.SIGTERM, timeout=15 * TIMEOUT_SCALE) == 0
    # the engine keeps running the service while Eagle is down
    assert len(cluster_env.services_of("web")) == 1
    eagle.start()
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1
