"""eaglectl as a user types it: log in once, then commands without --endpoint/--token,
checked against Eagle's API and the engine."""
import json
import os
import stat

from eaglelib import engine_env, engine_replicas, wait_until


def user(eagle, *args, input=None):
    """A command typed by a logged-in user: no --endpoint/--token, the config file has them."""
    return eagle.ctl(*args, input=input, auth=False)


def ok(cp):
    assert cp.returncode == 0, "eaglectl exited %d\nstdout: %s\nstderr: %s" % (cp.returncode, cp.stdout,
                                                                               cp.stderr)
    return cp.stdout


def login(eagle):
    return ok(eagle.ctl("--endpoint", eagle.url, "login", "--password-stdin", input=eagle.password + "\n",
                        auth=False))


def row(out, first):
    """The table row whose first column is `first`, as a list of cells."""
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise AssertionError("no row %r in:\n%s" % (first, out))


def table(out):
    """A table's rows as dicts by header (cells are single words up to the last column)."""
    lines = [l for l in out.splitlines() if l.strip()]
    header = lines[0].split()
    return [dict(zip(header, l.split(None, len(header) - 1))) for l in lines[1:]]


def test_login_writes_the_config_and_later_commands_use_it(eagle):
    login(eagle)
    path = eagle.ctl_env()["EAGLECTL_CONFIG"]
    assert os.path.exists(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert eagle.url in open(path).read()
    assert "admin" in ok(user(eagle, "whoami"))
    assert ok(user(eagle, "-o", "json", "cluster", "get", "local"))


def test_login_with_a_wrong_password_fails(eagle):
    cp = eagle.ctl("--endpoint", eagle.url, "login", "--password-stdin", input="wrong\n", auth=False)
    assert cp.returncode != 0
    assert cp.stderr.strip()
    assert not os.path.exists(eagle.ctl_env()["EAGLECTL_CONFIG"]) or \
        "token" not in open(eagle.ctl_env()["EAGLECTL_CONFIG"]).read()


def test_a_users_session_with_a_service(eagle, cluster_env):
    login(eagle)
    image = cluster_env.image("web:1")

    ok(user(eagle, "service", "create", "web", "--image", image, "--replicas", "2", "--env", "K=V"))
    engine = cluster_env.the_service_of("web")
    assert engine_replicas(engine) == 2 and engine_env(engine)["K"] == "V"

    out = ok(user(eagle, "service", "ls"))
    assert any(c == "2" or c.endswith("/2") for c in row(out, "web")[1:]), out  # replicas

    ok(user(eagle, "service", "scale", "web", "3"))
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 3, timeout=30)
    assert eagle.ok("GET", "/v1/services/web")["revision"] == 2

    ok(user(eagle, "service", "rollback", "web", "--revision", "1"))
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["revision"] == 3 and svc["spec"]["replicas"] == 2
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 2, timeout=30)

    out = ok(user(eagle, "service", "revisions", "web"))
    assert "rollback to 1" in " ".join(row(out, "3")), out
    assert "scale" in " ".join(row(out, "2")) and "create" in " ".join(row(out, "1")), out
    assert out.index("rollback to 1") < out.index("scale") < out.index("create")  # newest first

    def tasks_running():
        rows = table(ok(user(eagle, "service", "tasks", "web")))
        live = [r for r in rows if r["STATE"] == "running" and r["DESIRED"] == "running"]
        if len(live) != 2:  # say what was seen, if it never settles
            raise AssertionError("rows: %s" % [(r["ID"], r["STATE"], r["DESIRED"], r.get("ERROR")) for r in rows])
        return live
    live = wait_until(tasks_running, timeout=60, what="service tasks shows 2 running")
    engine_id = cluster_env.the_service_of("web")["ID"]
    running_ids = {t["ID"] for t in cluster_env.running_tasks(engine_id)}
    for r in live:
        assert r["NODE"] in ("eagle-e2e-manager", "eagle-e2e-worker")
        assert any(i.startswith(r["ID"]) for i in running_ids), (r, running_ids)

    got = json.loads(ok(user(eagle, "-o", "json", "service", "get", "web")))
    assert got["name"] == "web" and got["revision"] == 3 and got["spec"]["env"] == {"K": "V"}

    out = ok(user(eagle, "cluster", "ls"))
    assert "ready" in row(out, "local"), out

    out = ok(user(eagle, "cluster", "nodes", "local"))
    assert "eagle-e2e-manager" in out and "eagle-e2e-worker" in out

    ok(user(eagle, "service", "rm", "web"))
    wait_until(lambda: not cluster_env.services_of("web"), timeout=30, what="web gone from the engine")
    assert eagle.ok("GET", "/v1/services")["items"] == []


def test_errors_print_the_servers_message_and_exit_non_zero(eagle, cluster_env):
    login(eagle)
    message = eagle.api("POST", "/v1/services/nope/scale", json={"replicas": 2}).json()["error"]["message"]
    cp = user(eagle, "service", "scale", "nope", "2")
    assert cp.returncode != 0
    assert message in cp.stderr, cp.stderr

    bad = {"name": "bad", "image": "Not An::Image"}
    message = eagle.api("POST", "/v1/services", json=bad).json()["error"]["message"]
    cp = user(eagle, "service", "create", "bad", "--image", "Not An::Image")
    assert cp.returncode != 0
    assert message in cp.stderr, cp.stderr
    assert eagle.ok("GET", "/v1/services")["items"] == [] and not cluster_env.services_of("bad")


def test_without_login_a_command_fails_with_unauthorized(eagle):
    cp = eagle.ctl("--endpoint", eagle.url, "service", "ls", auth=False)
    assert cp.returncode != 0
    assert cp.stderr.strip()


def test_json_output_is_the_servers_answer(eagle, cluster_env):
    login(eagle)
    ok(user(eagle, "service", "create", "web", "--image", cluster_env.image("web:1"), "--replicas", "1"))
    listed = json.loads(ok(user(eagle, "-o", "json", "service", "ls")))
    assert [s["name"] for s in listed["items"]] == ["web"]
    clusters = json.loads(ok(user(eagle, "-o", "json", "cluster", "ls")))
    assert [c["name"] for c in clusters["items"]] == ["local"]
    revs = json.loads(ok(user(eagle, "-o", "json", "service", "revisions", "web")))
    assert [r["revision"] for r in revs["items"]] == [1]


def test_tenants_tokens_and_a_release_watched_from_the_cli(eagle, cluster_env):
    """The tenancy commands, a read-only token shown once, and a canary release started and
    followed with --watch (one line per change when not on a terminal; exit 0 on success)."""
    ok(eagle.ctl("user", "create", "alice", "--password-stdin", input="alice-pass-1\n"))
    ok(eagle.ctl("tenant", "create", "team-a", "--owner", "alice", "--quota", "replicas=4"))
    assert "team-a" in row(ok(eagle.ctl("tenant", "ls")), "team-a")
    usage = table(ok(eagle.ctl("tenant", "usage", "team-a")))
    assert {r["QUOTA"]: r["LIMIT"] for r in usage}["replicas"] == "4"
    assert row(ok(eagle.ctl("member", "ls", "team-a")), "alice")[1] == "owner"

    created = eagle.ctl("token", "create", "ci", "--read-only")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) == 64 and "shown" in created.stderr
    assert token not in ok(eagle.ctl("token", "ls"))
    denied = eagle.ctl("--endpoint", eagle.url, "--token", token, "tenant", "create", "nope", auth=False)
    assert denied.returncode == 1 and "read-only" in denied.stderr

    ok(eagle.ctl("service", "create", "web", "--image", cluster_env.image("web:1"), "--replicas", "2"))
    wait_until(lambda: engine_replicas(cluster_env.the_service_of("web")) == 2, timeout=30)
    started = eagle.ctl("release", "start", "web", "--strategy", "canary", "--image", cluster_env.image("web:2"),
                        "--steps", "1,100%", "--min-healthy", "1s", "--deadline", "60s", "--auto-promote",
                        "--watch", timeout=150)
    assert started.returncode == 0, "stdout: %s\nstderr: %s" % (started.stdout, started.stderr)
    lines = [l for l in started.stdout.splitlines() if l.strip()]
    assert any("step 1/2" in l for l in lines) and any("step 2/2" in l for l in lines), started.stdout
    assert "succeeded" in lines[-1], started.stdout
    assert any("[####################]" in l for l in lines), started.stdout  # the bar fills on success
    svc = eagle.ok("GET", "/v1/services/web")
    assert svc["spec"]["image"] == cluster_env.image("web:2") and svc["revision"] == 2
    assert not cluster_env.engine_services("eagle.canary-of=web")  # the canary group is gone
