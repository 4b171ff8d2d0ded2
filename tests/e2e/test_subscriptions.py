"""Event callbacks (/v1/subscriptions): every matching event is POSTed to the
subscriber in order, signed with HMAC-SHA256 over the exact body, retried with
backoff until it is answered 2xx, across restarts of the receiver and of eagled
(kill -9); a silent endpoint delays no one else; bad input is refused.

The receivers are small HTTP servers in this process on 127.0.0.1. What a
subscriber must get is read independently from eagled's store (the events
table, after the subscription's first cursor): every body must be the stored
event text with its id, byte for byte, in id order, each once.
"""
import hashlib
import hmac
import http.server
import json
import os
import socket
import sqlite3
import threading
import time

from eaglelib import TIMEOUT_SCALE, assert_error, wait_until


# ----------------------------------------------------------------- receivers

class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers 500 to
    the first `fail_first` of them, 200 afterwards. Every answer closes its
    connection, so stop() really takes the endpoint away; start() again brings
    it back on the same port."""

    def __init__(self, fail_first=0):
        self.fail_first = fail_first
        self.requests = []  # {"t", "status", "headers", "body" (bytes)}
        self.lock = threading.Lock()
        self.port = None
        self.server = None
        self.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = 500 if len(receiver.requests) < receiver.fail_first else 200
                    receiver.requests.append({"t": time.monotonic(), "status": status,
                                              "headers": dict(self.headers), "body": body})
                answer = b"not now" if status == 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def all(self):
        with self.lock:
            return list(self.requests)

    def delivered(self):
        """The requests answered 200, in arrival order."""
        return [r for r in self.all() if r["status"] == 200]


class Silent:
    """A socket that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append((time.monotonic(), conn))

    def stop(self):
        self.closed = True
        self.sock.close()
        for _, c in self.accepted:
            c.close()


# ------------------------------------------------------------------- helpers

def subscribe(eagle, url, **fields):
    body = {"url": url}
    body.update(fields)
    r = eagle.api("POST", "/v1/subscriptions", json=body)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert len(sub["secret"]) == 64 and int(sub["secret"], 16) >= 0
    assert sub["state"] == "active" and sub["failures"] == 0
    assert isinstance(sub["cursor"], int)
    return sub


def signature_ok(sub, req):
    want = "sha256=" + hmac.new(sub["secret"].encode(), req["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(req["headers"].get("X-Eagle-Signature", ""), want)


def reference(eagle, service, after):
    """The texts of the events of `service` (tenant default) after event `after`, as the
    store recorded them: each callback body must be the stored event with its "id"
    appended, byte for byte (what the event stream carries too)."""
    db = sqlite3.connect(os.path.join(eagle.data, "eagle.db"), timeout=10)
    try:
        rows = db.execute("SELECT id, data FROM events WHERE id > ? ORDER BY id", (after,)).fetchall()
    finally:
        db.close()
    texts = []
    for event_id, data in rows:
        e = json.loads(data)
        if e["type"] != "node" and e.get("service") == service and e.get("tenant") == "default":
            assert data.endswith("}")
            texts.append(data[:-1] + ',"id":%d}' % event_id)
    return texts


def ids(texts):
    return [json.loads(t)["id"] for t in texts]


def caught_up(eagle, receiver, service, after):
    """The receiver got (answered 200) exactly the stream's events, in order, once each."""
    want = reference(eagle, service, after)
    got = [r["body"].decode() for r in receiver.delivered()]
    return want and got == want and want


def service_spec(cluster_env, name, replicas=1):
    return {"name": name, "image": cluster_env.image("web:1"), "replicas": replicas}


def scale(eagle, name, n):
    eagle.ok("POST", "/v1/services/%s/scale" % name, json={"replicas": n})


def sub_state(eagle, sub_id):
    return eagle.ok("GET", "/v1/subscriptions/" + sub_id)


# --------------------------------------------------------------------- tests

def test_events_arrive_in_order_signed_and_retried_after_500s(eagle, cluster_env):
    rcv = Receiver(fail_first=3)
    try:
        sub = subscribe(eagle, rcv.url, service="cb-web")
        assert sub["service"] == "cb-web" and sub["types"] is None and sub["tenant"] == "default"
        assert "secret" not in sub_state(eagle, sub["id"])

        # a scripted sequence: create, scale up, update, scale down
        eagle.ok("POST", "/v1/services", json=service_spec(cluster_env, "cb-web"))
        wait_until(lambda: rcv.all(), timeout=20, what="the first callback")
        scale(eagle, "cb-web", 2)
        eagle.ok("PUT", "/v1/services/cb-web", json={"name": "cb-web", "image": cluster_env.image("web:2"),
                                                     "replicas": 2})
        scale(eagle, "cb-web", 1)

        texts = wait_until(lambda: caught_up(eagle, rcv, "cb-web", sub["cursor"]), timeout=90,
                           what="every event of cb-web delivered in order")
        kinds = [(json.loads(t)["type"], json.loads(t)["action"]) for t in texts]
        assert ("service", "create") in kinds and ("task", "create") in kinds, kinds

        reqs = rcv.all()
        # the first event: three 500s, then 200, after about 1 s, 2 s and 4 s
        first = [r for r in reqs if r["headers"]["X-Eagle-Event-Id"] == str(ids(texts)[0])]
        assert [r["status"] for r in first] == [500, 500, 500, 200], [r["status"] for r in first]
        assert [r["headers"]["X-Eagle-Attempt"] for r in first] == ["1", "2", "3", "4"]
        gaps = [b["t"] - a["t"] for a, b in zip(first, first[1:])]
        for gap, want in zip(gaps, (1, 2, 4)):
            assert want * 0.9 <= gap <= want + 1.5 * TIMEOUT_SCALE, gaps
        # nothing after it was sent before it succeeded
        assert all(r["headers"]["X-Eagle-Event-Id"] == str(ids(texts)[0]) for r in reqs[:4])
        for r in reqs:
            assert signature_ok(sub, r), r["headers"]
            assert r["headers"]["Content-Type"] == "application/json"
            assert r["headers"]["X-Eagle-Subscription"] == sub["id"]
            assert json.loads(r["body"])["id"] == int(r["headers"]["X-Eagle-Event-Id"])

        # the store agrees: cursor at (or, with later events, past) the last one; the log
        # newest first, with the retries of the first event
        first_id = ids(texts)[0]
        state = wait_until(lambda: (lambda s: s if s["cursor"] >= ids(texts)[-1] else None)(
            sub_state(eagle, sub["id"])), timeout=10, what="the cursor at the last event")
        assert state["state"] == "active" and state["failures"] == 0
        log = eagle.ok("GET", "/v1/subscriptions/%s/deliveries?limit=1000" % sub["id"])["items"]
        assert [d["event_id"] for d in reversed(log) if d["status"] == 200][:len(texts)] == ids(texts)
        attempts = [d for d in reversed(log) if d["event_id"] == first_id]
        assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 500), (2, 500), (3, 500), (4, 200)]
        assert attempts[0]["error"].startswith("HTTP 500") and attempts[-1]["error"] == ""
        assert all(d["duration_ms"] >= 0 and d["at"] for d in log)
        # limit: the newest two (later deliveries may have come in front since the read above)
        two = eagle.ok("GET", "/v1/subscriptions/%s/deliveries?limit=2" % sub["id"])["items"]
        log = eagle.ok("GET", "/v1/subscriptions/%s/deliveries?limit=1000" % sub["id"])["items"]
        assert len(two) == 2 and two[0] in log and log[log.index(two[0]):][:2] == two, (two, log[:4])

        # re-delivery: rewind to before the first event; all of them come again, in order
        before = len(rcv.delivered())
        r = eagle.api("POST", "/v1/subscriptions/%s/redeliver" % sub["id"], json={"from_event_id": first_id - 1})
        assert r.status_code == 200, r.text
        assert r.json()["cursor"] == first_id - 1 and "secret" not in r.json()

        def redelivered():
            bodies = [x["body"].decode() for x in rcv.delivered()[before:]]
            if texts[0] not in bodies:
                return None
            start = bodies.index(texts[0])
            return bodies[start:start + len(texts)] if len(bodies) >= start + len(texts) else None
        assert wait_until(redelivered, timeout=30, what="the re-delivery") == texts
        audit = eagle.ok("GET", "/v1/audit?target=" + sub["id"])["items"]
        assert [a["action"] for a in audit] == ["subscription.redeliver", "subscription.create"]
    finally:
        rcv.stop()


def test_delivery_survives_receiver_restart_and_eagled_kill9(eagle, cluster_env):
    rcv = Receiver()
    try:
        sub = subscribe(eagle, rcv.url, service="cb-restart")
        eagle.ok("POST", "/v1/services", json=service_spec(cluster_env, "cb-restart"))
        wait_until(lambda: caught_up(eagle, rcv, "cb-restart", sub["cursor"]), timeout=60,
                   what="the first events delivered")

        rcv.stop()  # the receiver goes away; events keep coming
        scale(eagle, "cb-restart", 2)
        wait_until(lambda: sub_state(eagle, sub["id"])["state"] == "retrying", timeout=30,
                   what="the subscription to retry")
        acknowledged = len(rcv.delivered())

        eagle.restart(kill9=True)
        scale(eagle, "cb-restart", 1)  # and more after the restart
        rcv.start()

        texts = wait_until(lambda: caught_up(eagle, rcv, "cb-restart", sub["cursor"]), timeout=120,
                           what="every event delivered after the restarts")
        got = ids(texts)
        assert got == sorted(set(got))  # in order, nothing acknowledged sent twice
        later = rcv.all()[acknowledged:]
        assert int(later[0]["headers"]["X-Eagle-Attempt"]) > 1  # the failures were remembered
        for r in rcv.all():
            assert signature_ok(sub, r)
        state = wait_until(lambda: (lambda s: s if s["cursor"] >= got[-1] else None)(sub_state(eagle, sub["id"])),
                           timeout=10, what="the cursor at the last event")
        assert state["state"] == "active" and state["last_error"] == ""
        errors = [d for d in eagle.ok("GET", "/v1/subscriptions/%s/deliveries" % sub["id"])["items"]
                  if d["status"] != 200]
        assert errors and all(d["status"] == 0 and d["error"] for d in errors)
    finally:
        rcv.stop()


def test_a_silent_endpoint_does_not_delay_another_subscriber(eagle, cluster_env):
    silent, rcv = Silent(), Receiver()
    try:
        mute = subscribe(eagle, silent.url, service="cb-iso")
        sub = subscribe(eagle, rcv.url, service="cb-iso")
        t0 = time.monotonic()
        eagle.ok("POST", "/v1/services", json=service_spec(cluster_env, "cb-iso"))
        wait_until(lambda: silent.accepted, timeout=10, what="the silent endpoint to be called")
        wait_until(lambda: rcv.delivered(), timeout=5, what="the healthy subscriber's first event")
        scale(eagle, "cb-iso", 2)
        texts = wait_until(lambda: caught_up(eagle, rcv, "cb-iso", sub["cursor"]), timeout=60,
                           what="the healthy subscriber to get everything")
        first_hang = silent.accepted[0][0]
        # the healthy one got its events while the silent one's first request still hung
        assert rcv.delivered()[0]["t"] - t0 < 5 * TIMEOUT_SCALE
        assert any(r["t"] < first_hang + 9 for r in rcv.delivered()[1:]), "nothing arrived during the hang"
        t = time.monotonic()
        assert eagle.api("GET", "/v1/subscriptions").status_code == 200 and time.monotonic() - t < 2 * TIMEOUT_SCALE

        # the silent one times out (10 s), is logged, and retried
        log = wait_until(lambda: eagle.ok("GET", "/v1/subscriptions/%s/deliveries" % mute["id"])["items"],
                         timeout=30, what="the silent endpoint's timeout in its log")
        assert log[-1]["event_id"] == ids(texts)[0] and log[-1]["status"] == 0
        assert "timed out" in log[-1]["error"] and 9000 <= log[-1]["duration_ms"] <= 10000 + 2000 * TIMEOUT_SCALE
        state = sub_state(eagle, mute["id"])
        assert state["state"] == "retrying" and state["cursor"] == mute["cursor"]
        assert state["failures"] >= 1 and state["next_attempt_at"]
    finally:
        silent.stop()
        rcv.stop()


def test_bad_input_is_refused(eagle):
    for url in ("ftp://example.com/hook", "example.com/hook", "http://", "http:///hook", "", "http://a b/",
                "http://h/" + "x" * 2048, 5, None):
        r = eagle.api("POST", "/v1/subscriptions", json={"url": url})
        assert_error(r, 400, "invalid_argument", field="url")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={}), 400, "invalid_argument", field="url")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "types": ["tasks"]}),
                 400, "invalid_argument", field="types")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "types": []}),
                 400, "invalid_argument", field="types")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "service": "No!"}),
                 400, "invalid_argument", field="service")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "color": "red"}),
                 400, "invalid_argument", field="color")
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "tenant": "nope"}),
                 404, "not_found", field="tenant")
    assert_error(eagle.api("GET", "/v1/subscriptions/0123456789abcdef"), 404, "not_found")

    sub = subscribe(eagle, "http://127.0.0.1:9/hook", types=["task", "node", "task"])
    assert sub["types"] == ["task", "node"] and sub["node_events"] is True
    last = eagle.ok("GET", "/v1/subscriptions/" + sub["id"])["cursor"]
    for body, field in (({"from_event_id": -1}, "from_event_id"), ({"from_event_id": "1"}, "from_event_id"),
                        ({"from_event_id": last + 1000}, "from_event_id"), ({"from": 1}, "from")):
        r = eagle.api("POST", "/v1/subscriptions/%s/redeliver" % sub["id"], json=body)
        assert_error(r, 400, "invalid_argument", field=field)
    assert_error(eagle.api("GET", "/v1/subscriptions/%s/deliveries?limit=0" % sub["id"]), 400,
                 "invalid_argument", field="limit")
    assert [s["id"] for s in eagle.ok("GET", "/v1/subscriptions")["items"]] == [sub["id"]]
    assert eagle.api("DELETE", "/v1/subscriptions/" + sub["id"]).status_code == 204
    assert_error(eagle.api("GET", "/v1/subscriptions/" + sub["id"]), 404, "not_found")
    assert_error(eagle.api("DELETE", "/v1/subscriptions/" + sub["id"]), 404, "not_found")


def test_tenants_see_only_their_subscriptions_and_no_node_events(eagle):
    for user in ("cb-dev", "cb-viewer", "cb-other"):
        eagle.ok("POST", "/v1/users", json={"username": user, "password": "pw-" + user + "-123456"})
    eagle.ok("POST", "/v1/tenants", json={"name": "cb-team"})
    eagle.ok("PUT", "/v1/tenants/cb-team/members/cb-dev", json={"role": "developer"})
    eagle.ok("PUT", "/v1/tenants/cb-team/members/cb-viewer", json={"role": "viewer"})

    def token(user):
        r = eagle.api("POST", "/v1/auth/login", json={"username": user, "password": "pw-" + user + "-123456"},
                      token=None)
        assert r.status_code == 200, r.text
        return r.json()["token"]
    dev, viewer, other = token("cb-dev"), token("cb-viewer"), token("cb-other")

    r = eagle.api("POST", "/v1/subscriptions", json={"url": "http://localhost:9/", "types": ["node"]}, token=dev)
    assert_error(r, 403, "forbidden", field="types")
    # a tenant's callback may not name loopback, link-local, ... addresses (callback-deny)
    for url in ("http://127.0.0.1:9/", "http://127.8.9.10/", "http://[::1]:9/", "http://0.0.0.0:9/",
                "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:9/"):
        err = assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": url}, token=dev), 400,
                           "invalid_argument", field="url")
        assert "callback-deny" in err["message"], err
    r = eagle.api("POST", "/v1/subscriptions", json={"url": "http://localhost:9/"}, token=dev)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["tenant"] == "cb-team" and sub["node_events"] is False and sub["created_by"] == "cb-dev"
    assert_error(eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/"}, token=viewer),
                 403, "forbidden")
    assert eagle.api("GET", "/v1/subscriptions/" + sub["id"], token=viewer).status_code == 200
    assert_error(eagle.api("DELETE", "/v1/subscriptions/" + sub["id"], token=viewer), 403, "forbidden")
    assert_error(eagle.api("GET", "/v1/subscriptions/" + sub["id"], token=other), 404, "not_found")
    assert eagle.api("GET", "/v1/subscriptions", token=other).json()["items"] == []
    r = eagle.api("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/", "tenant": "cb-team"}, token=other)
    assert_error(r, 404, "not_found", field="tenant")
    assert [s["id"] for s in eagle.api("GET", "/v1/subscriptions?tenant=cb-team", token=viewer).json()["items"]] \
        == [sub["id"]]

    # a tenant's subscriptions go with it
    assert eagle.api("DELETE", "/v1/tenants/cb-team").status_code == 204
    assert_error(eagle.api("GET", "/v1/subscriptions/" + sub["id"]), 404, "not_found")


def test_a_tenants_callback_cannot_reach_loopback_through_a_name(eagle):
    """A name is checked where it resolves, at every connection: a developer's
    subscription to http://localhost:PORT never reaches the receiver there, and says
    why; the platform admin's subscription to the same receiver gets the event."""
    eagle.ok("POST", "/v1/users", json={"username": "fence-dev", "password": "pw-fence-dev-123456"})
    eagle.ok("POST", "/v1/tenants", json={"name": "fence"})
    eagle.ok("PUT", "/v1/tenants/fence/members/fence-dev", json={"role": "developer"})
    dev = eagle.api("POST", "/v1/auth/login", json={"username": "fence-dev", "password": "pw-fence-dev-123456"},
                    token=None).json()["token"]
    receiver = Receiver()
    try:
        r = eagle.api("POST", "/v1/subscriptions", token=dev,
                      json={"url": "http://localhost:%d/hook" % receiver.port, "types": ["service"]})
        assert r.status_code == 201, r.text
        fenced = r.json()
        admins = subscribe(eagle, receiver.url, tenant="fence", types=["service"])
        eagle.ok("POST", "/v1/services", json={"name": "fence-web", "tenant": "fence",
                                                "image": "eagle-test/none:1", "replicas": 0})
        wait_until(lambda: [q for q in receiver.delivered()
                            if q["headers"].get("X-Eagle-Subscription") == admins["id"]],
                   timeout=30, what="the admin's subscription to deliver the service event")
        state = wait_until(lambda: (lambda s: s if s["failures"] >= 1 else None)(sub_state(eagle, fenced["id"])),
                           timeout=30, what="the developer's subscription to fail its first attempt")
        assert "callback-deny" in state["last_error"], state
        assert "127.0.0.1" in state["last_error"] or "::1" in state["last_error"], state
        log = eagle.ok("GET", "/v1/subscriptions/%s/deliveries" % fenced["id"])["items"]
        assert log and log[0]["status"] == 0 and "callback-deny" in log[0]["error"], log
        assert not [q for q in receiver.all() if q["headers"].get("X-Eagle-Subscription") == fenced["id"]]
    finally:
        receiver.stop()
        eagle.api("DELETE", "/v1/services/fence-web")
