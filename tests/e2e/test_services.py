"""Services through their whole life, checked both in Eagle's answers and in the engine
(docs/api.md, "Services")."""
import json

import pytest

from eaglelib import (assert_error, engine_env, engine_image, engine_replicas, parallel, wait_until)


def spec(cenv, name="web", image="web:1", **fields):
    s = {"name": name, "image": cenv.image(image)}
    s.update(fields)
    return s


def create(eagle, s):
    r = eagle.api("POST", "/v1/services", json=s)
    assert r.status_code == 201, r.text
    return r.json()


def running(eagle, env, name, n):
    """Wait until the engine runs n tasks of the service and Eagle says so too."""
    engine_id = env.the_service_of(name)["ID"]
    wait_until(lambda: len(env.running_tasks(engine_id)) == n, timeout=60,
               what="%d running tasks of %s in the engine" % (n, name))
    return wait_until(lambda: (lambda s: s if s["replicas"]["running"] == n and s["status"] == "running"
                               else None)(eagle.ok("GET", "/v1/services/" + name)),
                      timeout=30, what="Eagle to report %d running for %s" % (n, name))


def reasons(eagle, name):
    return [(r["revision"], r["reason"]) for r in eagle.ok("GET", "/v1/services/%s/revisions" % name)["items"]]


def nothing_in_eagle_or_engine(eagle, env):
    assert eagle.ok("GET", "/v1/services")["items"] == []
    assert env.engine_services("eagle.service") == []


# --------------------------------------------------------------------------- life

def test_create_runs_the_service_in_the_engine(eagle, cluster_env):
    svc = create(eagle, spec(cluster_env, replicas=2, env={"GREETING": "hello", "EMPTY": ""},
                             labels={"team": "cdn"}))
    assert svc["name"] == "web" and svc["cluster"] == "local" and svc["revision"] == 1
    assert svc["created_by"] == "admin" and svc["created_at"] and svc["updated_at"]
    assert svc["spec"]["replicas"] == 2 and svc["spec"]["image"] == cluster_env.image("web:1")
    assert svc["spec"]["env"] == {"GREETING": "hello", "EMPTY": ""}
    assert svc["replicas"]["desired"] == 2

    engine = cluster_env.the_service_of("web")
    assert svc["engine_id"] == engine["ID"]
    assert engine_replicas(engine) == 2
    assert engine_image(engine) == cluster_env.image("web:1")
    env = engine_env(engine)
    assert env["GREETING"] == "hello" and env["EMPTY"] == ""
    assert engine["Spec"]["Labels"]["team"] == "cdn"

    svc = running(eagle, cluster_env, "web", 2)
    assert svc["status_message"] == ""
    assert reasons(eagle, "web") == [(1, "create")]


def test_get_and_list(eagle, cluster_env):
    create(eagle, spec(cluster_env, "api", replicas=1))
    create(eagle, spec(cluster_env, "web", replicas=1))
    got = eagle.ok("GET", "/v1/services/web")
    assert got["name"] == "web" and got["spec"]["replicas"] == 1 and got["revision"] == 1
    names = sorted(s["name"] for s in eagle.ok("GET", "/v1/services")["items"])
    assert names == ["api", "web"]
    names = sorted(s["name"] for s in eagle.ok("GET", "/v1/services?cluster=local")["items"])
    assert names == ["api", "web"]


def test_update_makes_a_new_revision_and_the_engine_follows(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1, env={"V": "1"}))
    r = eagle.api("PUT", "/v1/services/web", json=spec(cluster_env, image="web:2", replicas=2, env={"V": "2"}))
    assert r.status_code == 200, r.text
    svc = r.json()
    assert svc["revision"] == 2 and svc["spec"]["image"] == cluster_env.image("web:2")
    assert svc["spec"]["env"] == {"V": "2"}

    def engine_updated():
        e = cluster_env.the_service_of("web")
        return engine_image(e) == cluster_env.image("web:2") and engine_env(e) == {"V": "2"} \
            and engine_replicas(e) == 2
    wait_until(engine_updated, timeout=30, what="the engine service to carry revision 2")
    running(eagle, cluster_env, "web", 2)
    engine_id = cluster_env.the_service_of("web")["ID"]
    wait_until(lambda: all(engine_image(t) == cluster_env.image("web:2")
                           for t in cluster_env.running_tasks(engine_id)), timeout=60,
               what="every running task on web:2")
    assert reasons(eagle, "web") == [(2, "update"), (1, "create")]
    assert eagle.ok("GET", "/v1/services/web/revisions/1")["spec"]["env"] == {"V": "1"}


def test_update_without_name_keeps_the_name(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1))
    s = spec(cluster_env, image="web:2", replicas=1)
    del s["name"]
    r = eagle.api("PUT", "/v1/services/web", json=s)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "web" and r.json()["revision"] == 2


def test_scale_up_and_down(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1))
    running(eagle, cluster_env, "web", 1)

    svc = eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 3})
    assert svc["revision"] == 2 and svc["spec"]["replicas"] == 3 and svc["replicas"]["desired"] == 3
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 3, timeout=30)
    running(eagle, cluster_env, "web", 3)

    svc = eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 1})
    assert svc["revision"] == 3 and svc["spec"]["replicas"] == 1
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 1, timeout=30)
    running(eagle, cluster_env, "web", 1)

    assert reasons(eagle, "web") == [(3, "scale"), (2, "scale"), (1, "create")]
    rev2 = eagle.ok("GET", "/v1/services/web/revisions/2")
    assert rev2["service"] == "web" and rev2["reason"] == "scale" and rev2["spec"]["replicas"] == 3
    assert rev2["created_by"] == "admin"


def test_concurrent_changes_to_one_service_are_taken_in_turn(eagle, cluster_env):
    """Changes to one service are made one at a time; one that arrives while another is being
    applied (by a client or by the reconciler) waits its turn instead of being refused."""
    create(eagle, spec(cluster_env, replicas=1))
    answers = []

    def scale(n):
        return lambda: answers.append(eagle.api("POST", "/v1/services/web/scale", json={"replicas": n}))
    parallel(*[scale(n) for n in (2, 3, 4, 5)])

    assert sorted(r.status_code for r in answers) == [200] * 4, [r.text for r in answers]
    assert sorted(r.json()["revision"] for r in answers) == [2, 3, 4, 5]
    last = max((r.json() for r in answers), key=lambda s: s["revision"])
    assert [rev for rev, why in reasons(eagle, "web")] == [5, 4, 3, 2, 1]
    running(eagle, cluster_env, "web", last["spec"]["replicas"])


def test_scale_to_zero_stops_every_task(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=2))
    running(eagle, cluster_env, "web", 2)
    eagle.ok("POST", "/v1/services/web/scale", json={"replicas": 0})
    running(eagle, cluster_env, "web", 0)
    assert engine_replicas(cluster_env.the_service_of("web")) == 0


def test_rollback_to_any_earlier_revision(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1, env={"V": "1"}))
    eagle.ok("PUT", "/v1/services/web", json=spec(cluster_env, image="web:2", replicas=1, env={"V": "2"}))
    eagle.ok("PUT", "/v1/services/web", json=spec(cluster_env, image="web:3", replicas=2, env={"V": "3"}))

    svc = eagle.ok("POST", "/v1/services/web/rollback", json={"revision": 1})
    assert svc["revision"] == 4
    assert svc["spec"]["image"] == cluster_env.image("web:1") and svc["spec"]["env"] == {"V": "1"}
    assert svc["spec"]["replicas"] == 1

    def engine_at_v1():
        e = cluster_env.the_service_of("web")
        return engine_image(e) == cluster_env.image("web:1") and engine_env(e) == {"V": "1"} \
            and engine_replicas(e) == 1
    wait_until(engine_at_v1, timeout=30, what="the engine back on revision 1's spec")
    running(eagle, cluster_env, "web", 1)
    assert reasons(eagle, "web") == [(4, "rollback to 1"), (3, "update"), (2, "update"), (1, "create")]

    # Without a revision: the one before the current (3), as a new revision 5.
    svc = eagle.ok("POST", "/v1/services/web/rollback", json={})
    assert svc["revision"] == 5 and svc["spec"]["image"] == cluster_env.image("web:3")
    assert svc["spec"]["replicas"] == 2
    assert reasons(eagle, "web")[0] == (5, "rollback to 3")
    wait_until(lambda: engine_image(cluster_env.the_service_of("web")) == cluster_env.image("web:3"),
               timeout=30)

    assert_error(eagle.api("POST", "/v1/services/web/rollback", json={"revision": 99}), 404, "not_found")
    assert_error(eagle.api("GET", "/v1/services/web/revisions/99"), 404, "not_found")
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 5


def test_delete_removes_it_from_eagle_and_the_engine(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1))
    engine_id = cluster_env.the_service_of("web")["ID"]
    r = eagle.api("DELETE", "/v1/services/web")
    assert r.status_code == 204, r.text
    assert_error(eagle.api("GET", "/v1/services/web"), 404, "not_found")
    assert_error(eagle.api("GET", "/v1/services/web/revisions"), 404, "not_found")
    assert eagle.ok("GET", "/v1/services")["items"] == []
    wait_until(lambda: cluster_env.engine_service(engine_id) is None and not cluster_env.services_of("web"),
               timeout=30, what="the engine service gone")
    # the name is free again, and starts over at revision 1
    assert create(eagle, spec(cluster_env, replicas=1))["revision"] == 1


def test_global_service_runs_one_task_per_node(eagle, cluster_env):
    svc = create(eagle, spec(cluster_env, "agent", mode="global"))
    assert svc["spec"]["mode"] == "global"
    engine = cluster_env.the_service_of("agent")
    assert "Global" in engine["Spec"]["Mode"]
    wait_until(lambda: sorted(t["NodeID"] for t in cluster_env.running_tasks(engine["ID"])) ==
               sorted([cluster_env.manager.node_id, cluster_env.worker.node_id]),
               timeout=60, what="one running task on each node")
    assert_error(eagle.api("POST", "/v1/services/agent/scale", json={"replicas": 3}), 400, "invalid_argument")
    assert eagle.ok("GET", "/v1/services/agent")["revision"] == 1


def test_published_host_port_serves_and_follows_updates(eagle, cluster_env):
    port = cluster_env.host_port()
    s = spec(cluster_env, replicas=1, ports=[{"target": 8080, "published": port, "protocol": "tcp",
                                              "mode": "host"}],
             placement={"constraints": ["node.role==manager"]})
    svc = create(eagle, s)
    assert svc["spec"]["ports"] == [{"target": 8080, "published": port, "protocol": "tcp", "mode": "host"}]
    assert wait_until(lambda: cluster_env.http_get(port), timeout=60, what="web:1 on the port") == "web 1\n"

    s["image"] = cluster_env.image("web:2")
    eagle.ok("PUT", "/v1/services/web", json=s)
    wait_until(lambda: cluster_env.http_get(port) == "web 2\n", timeout=60, what="web:2 on the port")


# ---------------------------------------------------------------------- bad input

BAD_SPECS = [
    # (case, spec fields over a valid one, field at fault)
    ("unknown field", {"colour": "red"}, "colour"),
    ("replicas of the wrong type", {"replicas": "two"}, "replicas"),
    ("negative replicas", {"replicas": -1}, "replicas"),
    ("too many replicas", {"replicas": 1001}, "replicas"),
    ("bad image reference", {"image": "Not An::Image"}, "image"),
    ("no image", {"image": None}, "image"),
    ("bad name", {"name": "Web_1"}, "name"),
    ("no name", {"name": None}, "name"),
    ("name too long", {"name": "a" * 64}, "name"),
    ("env not a map", {"env": ["K=V"]}, "env"),
    ("port out of range", {"ports": [{"target": 70000}]}, "ports[0].target"),
    ("unknown mode", {"mode": "sometimes"}, "mode"),
]


@pytest.mark.parametrize("case,fields,field", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_refused_and_leaves_nothing(eagle, cluster_env, case, fields, field):
    s = spec(cluster_env, "bad", replicas=1)
    for k, v in fields.items():
        if v is None:
            s.pop(k)
        else:
            s[k] = v
    assert_error(eagle.api("POST", "/v1/services", json=s), 400, "invalid_argument", field=field)
    nothing_in_eagle_or_engine(eagle, cluster_env)


def test_reserved_label_is_refused(eagle, cluster_env):
    r = eagle.api("POST", "/v1/services", json=spec(cluster_env, "bad", labels={"eagle.service": "other"}))
    err = assert_error(r, 400, "invalid_argument")
    assert err["field"].startswith("labels")
    nothing_in_eagle_or_engine(eagle, cluster_env)


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"web"', ""], ids=["garbage", "array", "string", "empty"])
def test_a_body_that_is_not_a_json_object_is_invalid_json(eagle, cluster_env, body):
    assert_error(eagle.api("POST", "/v1/services", raw=body), 400, "invalid_json")
    nothing_in_eagle_or_engine(eagle, cluster_env)


def test_a_body_over_1mib_is_invalid_json(eagle, cluster_env):
    s = spec(cluster_env, "big", replicas=1, env={"BIG": "x" * (1024 * 1024 + 10)})
    assert_error(eagle.api("POST", "/v1/services", raw=json.dumps(s)), 400, "invalid_json")
    nothing_in_eagle_or_engine(eagle, cluster_env)


def test_a_taken_name_is_409_and_the_first_service_is_untouched(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1, env={"FIRST": "1"}))
    r = eagle.api("POST", "/v1/services", json=spec(cluster_env, image="web:2", replicas=3))
    assert_error(r, 409, "conflict")
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 1 and svc["spec"]["image"] == cluster_env.image("web:1")
    engine = cluster_env.the_service_of("web")
    assert engine_replicas(engine) == 1 and engine_env(engine) == {"FIRST": "1"}
    assert reasons(eagle, "web") == [(1, "create")]


def test_an_unknown_service_is_404_everywhere(eagle, cluster_env):
    for method, path, body in [("GET", "/v1/services/nope", None),
                               ("PUT", "/v1/services/nope", spec(cluster_env, "nope")),
                               ("DELETE", "/v1/services/nope", None),
                               ("POST", "/v1/services/nope/scale", {"replicas": 2}),
                               ("POST", "/v1/services/nope/rollback", {"revision": 1}),
                               ("GET", "/v1/services/nope/revisions", None),
                               ("GET", "/v1/services/nope/revisions/1", None),
                               ("GET", "/v1/services/nope/tasks", None)]:
        assert_error(eagle.api(method, path, json=body), 404, "not_found")
    nothing_in_eagle_or_engine(eagle, cluster_env)


@pytest.mark.parametrize("body,field", [({"replicas": -1}, "replicas"), ({"replicas": "3"}, "replicas"),
                                        ({}, "replicas"), ({"replicas": 2, "extra": 1}, "extra")],
                         ids=["negative", "string", "missing", "unknown field"])
def test_bad_scale_is_refused_and_changes_nothing(eagle, cluster_env, body, field):
    create(eagle, spec(cluster_env, replicas=1))
    assert_error(eagle.api("POST", "/v1/services/web/scale", json=body), 400, "invalid_argument", field=field)
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1
    assert engine_replicas(cluster_env.the_service_of("web")) == 1
    assert reasons(eagle, "web") == [(1, "create")]


def test_bad_update_is_refused_and_changes_nothing(eagle, cluster_env):
    create(eagle, spec(cluster_env, replicas=1))
    cases = [(spec(cluster_env, "other", replicas=2), 400, "invalid_argument", "name"),
             (spec(cluster_env, replicas=2, cluster="elsewhere"), None, None, "cluster"),
             (spec(cluster_env, replicas=-5), 400, "invalid_argument", "replicas")]
    for body, status, code, field in cases:
        r = eagle.api("PUT", "/v1/services/web", json=body)
        if status is None:  # moving to another cluster: refused, 400 (or 404: no such cluster)
            assert r.status_code in (400, 404), r.text
        else:
            assert_error(r, status, code, field=field)
    assert_error(eagle.api("PUT", "/v1/services/web", raw="{oops"), 400, "invalid_json")
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 1
    assert engine_replicas(cluster_env.the_service_of("web")) == 1
    assert reasons(eagle, "web") == [(1, "create")]


def test_unknown_cluster_in_spec_is_refused(eagle, cluster_env):
    r = eagle.api("POST", "/v1/services", json=spec(cluster_env, "bad", cluster="nowhere"))
    # docs/api.md: 404 for "no such cluster"; a spec field at fault may also be 400 on "cluster".
    assert r.status_code in (400, 404), r.text
    err = r.json()["error"]
    assert err["code"] in ("not_found", "invalid_argument")
    nothing_in_eagle_or_engine(eagle, cluster_env)
