"""Tenancy: who may do what on every route, quotas at their boundary, node pools, the
safety rules, the tenant network, tokens, the login rate limit, the audit log, and two
tenants side by side on one Eagle (docs/api.md, "Tenancy").

The isolation matrix is generated from the route table: every route that
docs/openapi.json documents or src/http/routes.c serves must have an entry in EXPECT,
so a new endpoint cannot escape being classified.
"""
import json
import os
import re
import socket
import threading
import time

import requests

from eaglelib import REPO, assert_error, engine_image, engine_replicas, wait_until

PASSWORD = "tenancy-pass-1"  # 8+ characters, the same for every user made here
MIB = 1024 * 1024


# ------------------------------------------------------------------------ helpers

def spec(cenv, name, image="web:1", **fields):
    s = {"name": name, "image": cenv.image(image)}
    s.update(fields)
    return s


class User:
    """An Eagle user with its own token (session from login, or an API token)."""

    def __init__(self, eagle, name, password=PASSWORD, token=None):
        self.eagle, self.name, self.password, self.token = eagle, name, password, token

    def login(self):
        r = self.eagle.api("POST", "/v1/auth/login", json={"username": self.name, "password": self.password},
                           token=None)
        assert r.status_code == 200, "login %s: %s %s" % (self.name, r.status_code, r.text)
        self.token = r.json()["token"]
        return self.token

    def api(self, method, path, json=None, **kw):
        kw.setdefault("token", self.token)
        return self.eagle.api(method, path, json=json, **kw)

    def ok(self, method, path, json=None, status=None):
        r = self.api(method, path, json=json)
        good = r.status_code == status if status else 200 <= r.status_code < 300
        assert good, "%s %s as %s → %s %s" % (method, path, self.name, r.status_code, r.text)
        return r.json() if r.content else None


def admin_of(eagle):
    return User(eagle, "admin", eagle.password, token=eagle.token)


def make_user(eagle, name, login=True):
    eagle.ok("POST", "/v1/users", json={"username": name, "password": PASSWORD}, status=201)
    u = User(eagle, name)
    if login:
        u.login()
    return u


def make_tenant(eagle, name, owner=None, members=(), **fields):
    """A tenant (admin) with an owner and {user: role} members; returns its answer."""
    body = dict(fields, name=name)
    if owner:
        body["owner"] = owner.name
    t = eagle.ok("POST", "/v1/tenants", json=body, status=201)
    for user, role in dict(members).items():
        eagle.ok("PUT", "/v1/tenants/%s/members/%s" % (name, user.name), json={"role": role})
    return t


def created(user, s):
    r = user.api("POST", "/v1/services", json=s)
    assert r.status_code == 201, "create %s as %s: %s %s" % (s.get("name"), user.name, r.status_code, r.text)
    return r.json()


def revision_of(eagle, name):
    return eagle.ok("GET", "/v1/services/" + name)["revision"]


def not_created(eagle, env, name):
    """A refused create left nothing: no service in Eagle, none in the engine."""
    assert_error(eagle.api("GET", "/v1/services/" + name), 404, "not_found")
    assert env.services_of(name) == [], "engine services labelled eagle.service=%s exist" % name


def running_nodes(env, name, n):
    """Wait until the engine runs n tasks of the service; their node ids."""
    engine_id = env.the_service_of(name)["ID"]
    tasks = wait_until(lambda: (lambda ts: ts if len(ts) == n else None)(env.running_tasks(engine_id)),
                       timeout=90, what="%d running tasks of %s" % (n, name))
    return [t["NodeID"] for t in tasks]


def engine_constraints(svc):
    return (svc["Spec"]["TaskTemplate"].get("Placement") or {}).get("Constraints") or []


def engine_network_ids(svc):
    return [n["Target"] for n in svc["Spec"]["TaskTemplate"].get("Networks") or []]


def engine_network(env, name):
    status, body = env.api("GET", "/networks/" + name)
    return body if status == 200 else None


def quota_error(r, key, quota, in_use, requested, unit=""):
    """422 quota_exceeded on quotas.<key>, its message naming quota, in use and requested."""
    err = assert_error(r, 422, "quota_exceeded", field="quotas." + key)
    msg = err["message"]
    assert key in msg, msg
    for label, value in (("quota", quota), ("in use", in_use), ("requested", requested)):
        assert "%s %s%s" % (label, value, unit) in msg, "%r lacks '%s %s%s'" % (msg, label, value, unit)
    return err


def holds_for(check, seconds, interval=0.25):
    """check() (which asserts) passes on every call for `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        check()
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


# ------------------------------------------------------------------ the event stream

class EventStream:
    """GET /v1/events read in the background over a plain socket (HTTP/1.0, so the body
    is the stream as sent), until close()."""

    def __init__(self, eagle, token, query=""):
        self.sock = socket.create_connection(("127.0.0.1", eagle.port), timeout=10)
        self.sock.sendall(("GET /v1/events%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                           "Authorization: Bearer %s\r\n\r\n" % (query, token)).encode())
        self.sock.settimeout(0.2)
        self.buf = b""
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.done.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.buf += data

    def _parts(self):
        with self.lock:
            raw = self.buf
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            return None, b""
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        if any(h.lower().replace(" ", "") == "transfer-encoding:chunked" for h in lines[1:]):
            out = b""
            while True:
                size_line, nl, rest = body.partition(b"\r\n")
                if not nl:
                    break
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0 or len(rest) < size:
                    break
                out += rest[:size]
                body = rest[size + 2:]
            body = out
        return status, body

    def status(self):
        return wait_until(lambda: self._parts()[0], timeout=15, what="the event stream's status line")

    def text(self):
        return self._parts()[1].decode(errors="replace")

    def events(self):
        out = []
        for frame in self.text().split("\n\n"):
            kind, data = None, None
            for line in frame.split("\n"):
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
            if data is not None and kind != "reset":
                out.append(json.loads(data))
        return out

    def close(self):
        self.done.set()
        self.thread.join(5)
        try:
            self.sock.close()
        except OSError:
            pass


# ============================================================ 1. the isolation matrix

ROLES = ("admin", "owner", "developer", "viewer", "nobody", "other", "owner_ro", "anonymous")
OK = "2xx"
PUBLIC = "public"


def rule(admin, owner, developer, viewer, nobody, other):
    return dict(admin=admin, owner=owner, developer=developer, viewer=viewer, nobody=nobody, other=other)


# The rules (docs/api.md, "Roles"). `nobody` has no tenant; `other` is the owner of tenant B
# acting on tenant A's things. Another tenant's things do not exist for you (404, never 403,
# never 200); a member whose role is too weak gets 403; admin-only calls answer 403 to every
# non-admin. Two columns are derived from these: `owner_ro` (the owner with a read-only API
# token: the owner's answer for GET, 403 for anything else but logout) and `anonymous`
# (no token: 401).
ANY_USER = rule(OK, OK, OK, OK, OK, OK)
TENANT_READ = rule(OK, OK, OK, OK, 404, 404)
TENANT_WRITE = rule(OK, OK, OK, 403, 404, 404)
TENANT_OWNER = rule(OK, OK, 403, 403, 404, 404)
PLATFORM_ADMIN = rule(OK, 403, 403, 403, 403, 403)
# your own user, your own tokens: yourself yes; `nobody` and `other` act on A's owner's → 404
SELF = rule(OK, OK, OK, OK, 404, 404)


def with_(base, **over):
    d = dict(base)
    d.update(over)
    return d


EXPECT = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/openapi.json"): PUBLIC,
    ("POST", "/v1/auth/login"): PUBLIC,
    ("POST", "/v1/auth/logout"): ANY_USER,
    ("GET", "/v1/me"): ANY_USER,
    ("GET", "/v1/clusters"): ANY_USER,
    # the admin's body has a bad name: 400 proves the role check passed (and comes first)
    ("POST", "/v1/clusters"): with_(PLATFORM_ADMIN, admin=400),
    ("GET", "/v1/clusters/{name}"): ANY_USER,
    # `local` still has services: 409 for the admin
    ("DELETE", "/v1/clusters/{name}"): with_(PLATFORM_ADMIN, admin=409),
    ("GET", "/v1/clusters/{name}/nodes"): PLATFORM_ADMIN,
    # no agent is installed here (404 for the admin); the admin's install body lacks its url (400)
    ("GET", "/v1/clusters/{name}/agent"): with_(PLATFORM_ADMIN, admin=404),
    ("PUT", "/v1/clusters/{name}/agent"): with_(PLATFORM_ADMIN, admin=400),
    ("DELETE", "/v1/clusters/{name}/agent"): with_(PLATFORM_ADMIN, admin=404),
    # no user's token: an agent's own token (tests/e2e/test_agent.py)
    ("POST", "/v1/agent/sync"): PUBLIC,
    ("GET", "/v1/services"): TENANT_READ,  # asked with ?tenant=A
    ("POST", "/v1/services"): TENANT_WRITE,
    ("GET", "/v1/services/{name}"): TENANT_READ,
    ("PUT", "/v1/services/{name}"): TENANT_WRITE,
    ("DELETE", "/v1/services/{name}"): TENANT_WRITE,
    ("POST", "/v1/services/{name}/scale"): TENANT_WRITE,
    ("POST", "/v1/services/{name}/rollback"): TENANT_WRITE,
    ("GET", "/v1/services/{name}/revisions"): TENANT_READ,
    ("GET", "/v1/services/{name}/revisions/{revision}"): TENANT_READ,
    ("GET", "/v1/services/{name}/tasks"): TENANT_READ,
    ("POST", "/v1/services/{name}/releases"): TENANT_WRITE,
    ("GET", "/v1/services/{name}/releases"): TENANT_READ,
    ("GET", "/v1/releases/{id}"): TENANT_READ,
    # a rolling release has nothing to promote: 409 once the role check passed
    ("POST", "/v1/releases/{id}/promote"): with_(TENANT_WRITE, admin=409, owner=409, developer=409),
    # 202 while the release is active, 409 once it is over
    ("POST", "/v1/releases/{id}/abort"): with_(TENANT_WRITE, admin=(202, 409), owner=(202, 409),
                                                developer=(202, 409)),
    ("GET", "/v1/tokens"): ANY_USER,
    ("POST", "/v1/tokens"): ANY_USER,
    ("DELETE", "/v1/tokens/{id}"): SELF,
    ("GET", "/v1/users"): PLATFORM_ADMIN,
    ("POST", "/v1/users"): PLATFORM_ADMIN,
    ("GET", "/v1/users/{name}"): SELF,
    ("DELETE", "/v1/users/{name}"): PLATFORM_ADMIN,
    ("PUT", "/v1/users/{name}/password"): SELF,
    ("GET", "/v1/tenants"): ANY_USER,
    ("POST", "/v1/tenants"): PLATFORM_ADMIN,
    ("GET", "/v1/tenants/{name}"): TENANT_READ,
    ("PUT", "/v1/tenants/{name}"): PLATFORM_ADMIN,
    ("DELETE", "/v1/tenants/{name}"): PLATFORM_ADMIN,
    ("GET", "/v1/tenants/{name}/usage"): TENANT_READ,
    ("GET", "/v1/tenants/{name}/members"): TENANT_READ,
    ("PUT", "/v1/tenants/{name}/members/{user}"): TENANT_OWNER,
    ("DELETE", "/v1/tenants/{name}/members/{user}"): TENANT_OWNER,
    ("GET", "/v1/audit"): TENANT_OWNER,  # asked with ?tenant=A
    ("GET", "/v1/discovery/services"): ANY_USER,
    ("GET", "/v1/discovery/services/{name}"): TENANT_READ,
    ("GET", "/v1/events"): TENANT_READ,  # asked with ?tenant=A (a stream: status only)
    ("GET", "/v1/subscriptions"): TENANT_READ,  # asked with ?tenant=A
    ("POST", "/v1/subscriptions"): TENANT_WRITE,
    ("GET", "/v1/subscriptions/{id}"): TENANT_READ,
    ("DELETE", "/v1/subscriptions/{id}"): TENANT_WRITE,
    ("GET", "/v1/subscriptions/{id}/deliveries"): TENANT_READ,
    ("POST", "/v1/subscriptions/{id}/redeliver"): TENANT_WRITE,
}

# Routes whose side effects later routes would feel (revoking tokens) go last.
LAST = [("PUT", "/v1/users/{name}/password")]


def expected(route, role):
    base = EXPECT[route]
    if role == "anonymous":
        return 401
    if role == "owner_ro":
        if route[0] == "GET":
            return base["owner"]
        return OK if route == ("POST", "/v1/auth/logout") else 403
    return base[role]


def matches(status, want):
    if want == OK:
        return 200 <= status < 300
    if isinstance(want, tuple):
        return status in want
    return status == want


def openapi_routes():
    with open(os.path.join(REPO, "docs", "openapi.json")) as f:
        doc = json.load(f)
    out = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("parameters", "summary", "description"):
                continue
            out[(method.upper(), path)] = op.get("security") == []
    return out


def served_routes():
    with open(os.path.join(REPO, "src", "http", "routes.c")) as f:
        text = f.read()
    out = {}
    for m in re.finditer(r'\{\s*"([A-Z]+)",\s*"(/[^"]*)",\s*\w+,\s*([^}]*)\}', text):
        out[(m.group(1), m.group(2))] = "ROUTE_PUBLIC" in m.group(3)
    assert len(out) > 20, "could not read the route table from src/http/routes.c"
    return out


RELEASE_OVER = ("succeeded", "rolled_back", "aborted", "failed")


def settle_releases(admin, ids):
    """Abort the releases still going and wait until they are over (a service with a release
    in progress cannot be deleted)."""
    def over():
        states = {}
        for rid in ids:
            rel = admin.ok("GET", "/v1/releases/" + rid)
            states[rid] = rel["state"]
            if rel["state"] in RELEASE_OVER:
                continue
            if not rel["abort_requested"]:
                admin.api("POST", "/v1/releases/%s/abort" % rid)
            return None
        return states
    return wait_until(over, timeout=60, what="the releases to be over")


class Matrix:
    """Tenant A ("ta") with real objects, its members, and the other roles."""

    def __init__(self, eagle, env):
        self.eagle, self.env = eagle, env
        a = self.admin = admin_of(eagle)
        owner = make_user(eagle, "a-own")
        dev = make_user(eagle, "a-dev")
        viewer = make_user(eagle, "a-view")
        nobody = make_user(eagle, "loner")
        other = make_user(eagle, "b-own")
        make_user(eagle, "spare", login=False)
        make_user(eagle, "victim-user", login=False)
        make_tenant(eagle, "ta", owner=owner, members={dev: "developer", viewer: "viewer"})
        make_tenant(eagle, "tb", owner=other)
        make_tenant(eagle, "tdel")
        ro = owner.ok("POST", "/v1/tokens", json={"name": "owner-ro", "read_only": True}, status=201)
        self.users = {"admin": a, "owner": owner, "developer": dev, "viewer": viewer, "nobody": nobody,
                      "other": other, "owner_ro": User(eagle, "a-own", token=ro["token"])}
        # one API token each to revoke
        self.own_token = {r: self.users[r].ok("POST", "/v1/tokens", json={"name": "del-me"}, status=201)["id"]
                          for r in ("admin", "owner", "developer", "viewer")}
        # tenant A's services: the main one, one with a release, victims to delete, one per releaser
        img = env.image("web:1")
        self.web_spec = {"name": "a-web", "tenant": "ta", "image": img, "replicas": 1}
        created(a, self.web_spec)
        a.ok("PUT", "/v1/services/a-web", json=dict(self.web_spec, env={"V": "2"}))  # revision 2
        for name in ["a-rel"] + ["a-rel-" + r for r in ("admin", "owner", "developer")] + \
                ["a-del-" + r for r in ("admin", "owner", "developer")]:
            created(a, {"name": name, "tenant": "ta", "image": img, "replicas": 0})
        self.release_id = a.ok("POST", "/v1/services/a-rel/releases",
                               json={"strategy": "rolling", "image": env.image("web:2")}, status=201)["id"]
        sub = {"url": "http://localhost:9/hook", "tenant": "ta", "types": ["service"]}
        s = a.ok("POST", "/v1/subscriptions", json=sub, status=201)
        self.sub_id, self.sub_cursor = s["id"], s["cursor"]
        self.sub_body = sub
        self.victim_sub = {r: a.ok("POST", "/v1/subscriptions", json=sub, status=201)["id"]
                           for r in ("admin", "owner", "developer")}
        wait_until(lambda: a.api("GET", "/v1/discovery/services/a-web").status_code == 200, timeout=30,
                   what="a-web in the discovery catalog")
        self.leak_markers = ["a-web", "a-rel", self.release_id, self.sub_id, '"ta"', "eagle-t-ta", "a-own",
                             "a-dev", "a-view"]

    # -- building one request
    def fill(self, path):
        values = [("/v1/services/{name}", "a-web"), ("/v1/discovery/services/{name}", "a-web"),
                  ("/v1/tenants/{name}", "ta"), ("/v1/clusters/{name}", "local"),
                  ("/v1/releases/{id}", self.release_id), ("/v1/subscriptions/{id}", self.sub_id),
                  ("/v1/tokens/{id}", self.own_token["owner"]), ("/v1/users/{name}", "a-own"),
                  ("{revision}", "1"), ("{user}", "spare")]
        for pattern, value in values:
            if pattern.startswith("/"):
                if path.startswith(pattern):
                    path = path.replace(pattern, pattern.split("{")[0] + value, 1)
            else:
                path = path.replace(pattern, value)
        assert "{" not in path, "no value to fill %s with: add one to Matrix.fill" % path
        return path

    def request(self, route, role):
        """{path, json, token, stream, before, after} for `role` calling `route`."""
        method, pattern = route
        allowed = expected(route, role) not in (401, 403, 404)
        user = self.users.get(role)
        req = {"path": self.fill(pattern), "json": None, "token": user.token if user else None,
               "stream": False, "before": None, "after": None}
        owner = self.users["owner"]
        a = self.admin

        def self_or_owner():  # SELF routes: yourself, but nobody/other act on A's owner
            return (user or owner).name if role not in ("nobody", "other", "admin") else "a-own"

        if route == ("POST", "/v1/auth/logout"):  # a token of its own, to end
            if role == "owner_ro":
                req["token"] = owner.ok("POST", "/v1/tokens", json={"name": "bye", "read_only": True},
                                        status=201)["token"]
            elif role != "anonymous":
                req["token"] = User(self.eagle, user.name, user.password).login()
            tok = req["token"]

            def ended():
                if self.eagle.api("GET", "/v1/me", token=tok).status_code != 401:
                    return "the token still works after logout"
            req["after"] = ended
        elif route == ("POST", "/v1/clusters"):
            req["json"] = {"name": "Bad_Name", "datacenter": "dc1", "endpoint": "unix:///nonexistent.sock"}
        elif route in (("DELETE", "/v1/clusters/{name}"), ("DELETE", "/v1/clusters/{name}/agent")):
            pass
        elif route == ("PUT", "/v1/clusters/{name}/agent"):
            req["json"] = {"image": self.env.image("eagle-agent:none")}
        elif route == ("GET", "/v1/services"):
            req["path"] += "?tenant=ta"
        elif route == ("POST", "/v1/services"):
            req["json"] = {"name": "mx-" + role.replace("_", "-"), "tenant": "ta",
                           "image": self.env.image("web:1"), "replicas": 0}
        elif route == ("PUT", "/v1/services/{name}"):
            req["json"] = self.web_spec
        elif route == ("DELETE", "/v1/services/{name}"):
            req["path"] = "/v1/services/a-del-" + (role if allowed else "admin")
        elif route == ("POST", "/v1/services/{name}/scale"):
            req["json"] = {"replicas": 1}
        elif route == ("POST", "/v1/services/{name}/rollback"):
            req["json"] = {"revision": 1}
        elif route == ("POST", "/v1/services/{name}/releases"):
            req["path"] = "/v1/services/%s/releases" % ("a-rel-" + role if allowed else "a-rel")
            req["json"] = {"strategy": "rolling", "image": self.env.image("web:2"),
                           "rolling": {"min_healthy_time": "0s"}}
        elif route == ("GET", "/v1/services/{name}/releases"):
            req["path"] = "/v1/services/a-rel/releases"
        elif route == ("POST", "/v1/tokens"):
            req["json"] = {"name": "mx"}
        elif route == ("DELETE", "/v1/tokens/{id}"):
            mine = role in self.own_token and role not in ("nobody", "other")
            req["path"] = "/v1/tokens/" + self.own_token[role if mine else "owner"]
        elif route == ("POST", "/v1/users"):
            req["json"] = {"username": "mx-user", "password": PASSWORD}
        elif route == ("GET", "/v1/users/{name}"):
            req["path"] = "/v1/users/" + self_or_owner()
        elif route == ("DELETE", "/v1/users/{name}"):
            req["path"] = "/v1/users/victim-user"
        elif route == ("PUT", "/v1/users/{name}/password"):
            if role == "admin":  # anyone's, without the current password
                req["path"], req["json"] = "/v1/users/spare/password", {"password": PASSWORD}
            else:
                req["path"] = "/v1/users/%s/password" % self_or_owner()
                req["json"] = {"password": PASSWORD, "current_password": PASSWORD}
            if role in ("owner", "developer", "viewer"):  # their tokens are revoked: log in again
                req["after"] = lambda: self.relogin(role)
        elif route == ("POST", "/v1/tenants"):
            req["json"] = {"name": "tmx"}
        elif route == ("PUT", "/v1/tenants/{name}"):
            req["json"] = {"quotas": {}}
        elif route == ("DELETE", "/v1/tenants/{name}"):
            req["path"] = "/v1/tenants/tdel"
        elif route == ("PUT", "/v1/tenants/{name}/members/{user}"):
            req["json"] = {"role": "viewer"}
        elif route == ("DELETE", "/v1/tenants/{name}/members/{user}"):
            if allowed:
                req["before"] = lambda: a.ok("PUT", "/v1/tenants/ta/members/spare", json={"role": "viewer"})
        elif route == ("GET", "/v1/audit"):
            req["path"] += "?tenant=ta"
        elif route == ("GET", "/v1/events"):
            req["path"] += "?tenant=ta"
            req["stream"] = True
        elif route == ("GET", "/v1/subscriptions"):
            req["path"] += "?tenant=ta"
        elif route == ("POST", "/v1/subscriptions"):
            req["json"] = self.sub_body
        elif route == ("DELETE", "/v1/subscriptions/{id}"):
            req["path"] = "/v1/subscriptions/" + self.victim_sub[role if allowed else "admin"]
        elif route == ("POST", "/v1/subscriptions/{id}/redeliver"):
            req["json"] = {"from_event_id": self.sub_cursor}
        elif method != "GET" and route not in {("POST", "/v1/releases/{id}/promote"),
                                               ("POST", "/v1/releases/{id}/abort")}:
            raise AssertionError("%s %s: no request built for it: add it to Matrix.request" % route)
        return req

    def relogin(self, role):
        u = self.users[role]
        u.login()
        if role == "owner":  # a password change revokes the owner's API tokens too
            ro = u.ok("POST", "/v1/tokens", json={"name": "owner-ro", "read_only": True}, status=201)
            self.users["owner_ro"].token = ro["token"]

    def call(self, method, req):
        if req["before"]:
            req["before"]()
        headers = {"Authorization": "Bearer " + req["token"]} if req["token"] else {}
        if req["stream"]:
            r = requests.request(method, self.eagle.url + req["path"], headers=headers, stream=True, timeout=30)
            status, text = r.status_code, "" if r.status_code == 200 else r.text
            r.close()
        else:
            r = requests.request(method, self.eagle.url + req["path"], json=req["json"], headers=headers,
                                 timeout=60)
            status, text = r.status_code, r.text
        problem = req["after"]() if req["after"] and 200 <= status < 300 else None
        return status, text, problem if isinstance(problem, str) else None

    def fingerprint(self):
        """What a refused call must not change, as the admin sees it."""
        a = self.admin
        # (the deploy controller makes the revisions of the services with a release: a-rel*)
        return json.dumps([
            sorted((s["name"], s["tenant"], None if s["name"].startswith("a-rel") else s["revision"],
                    s["spec"].get("replicas")) for s in a.ok("GET", "/v1/services")["items"]),
            a.ok("GET", "/v1/tenants")["items"],
            a.ok("GET", "/v1/tenants/ta/members")["items"],
            sorted(u["username"] for u in a.ok("GET", "/v1/users")["items"]),
            sorted(s["id"] for s in a.ok("GET", "/v1/subscriptions")["items"]),
            [(r["id"], r["abort_requested"], r["promote_requested"])
             for r in a.ok("GET", "/v1/services/a-rel/releases")["items"]],
            [c["name"] for c in a.ok("GET", "/v1/clusters")["items"]],
            sorted(t["id"] for t in self.users["owner"].ok("GET", "/v1/tokens")["items"]),
        ], sort_keys=True)


def test_isolation_matrix_over_every_route(eagle, cluster_env):
    documented, served = openapi_routes(), served_routes()
    routes = dict(documented)
    routes.update({k: v or routes.get(k, False) for k, v in served.items()})
    unclassified = sorted(set(routes) - set(EXPECT))
    assert not unclassified, "routes without an entry in EXPECT (classify them): %s" % unclassified
    stale = sorted(set(EXPECT) - set(routes))
    assert not stale, "EXPECT names routes the server does not have: %s" % stale
    for route, public in routes.items():
        assert public == (EXPECT[route] == PUBLIC), "%s %s: public in the route table is %s" % (route + (public,))

    m = Matrix(eagle, cluster_env)
    order = sorted((r for r in routes if EXPECT[r] != PUBLIC), key=lambda r: (r in LAST, r[1], r[0]))
    mismatches, checked = [], 0

    def check(route, role, req):
        method = route[0]
        want = expected(route, role)
        status, text, problem = m.call(method, req)
        where = "%s %s as %s (%s)" % (method, req["path"], role,
                                      m.users[role].name if role in m.users else "no token")
        if not matches(status, want):
            mismatches.append("%s: expected %s, got %d %s" % (where, want, status, text[:200]))
        elif problem:
            mismatches.append("%s: %s" % (where, problem))
        elif role in ("nobody", "other") and 200 <= status < 300:
            leaked = [k for k in m.leak_markers if k in text]
            if leaked:
                mismatches.append("%s: the answer shows tenant A's %s: %s" % (where, leaked, text[:300]))
        if status in (403, 404):
            try:
                code = json.loads(text)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if code != {403: "forbidden", 404: "not_found"}[status]:
                mismatches.append("%s: %d without its error object: %s" % (where, status, text[:200]))

    for route in order:
        denied = [r for r in ROLES if expected(route, r) in (401, 403, 404)]
        allowed = [r for r in ROLES if r not in denied]
        reqs = {role: m.request(route, role) for role in denied}
        before = m.fingerprint() if route[0] != "GET" else None
        for role in denied:
            check(route, role, reqs[role])
            checked += 1
        if before is not None and m.fingerprint() != before:
            mismatches.append("%s %s: a refused call changed something: before %s, after %s"
                              % (route[0], route[1], before, m.fingerprint()))
        for role in allowed:
            check(route, role, m.request(route, role))
            checked += 1
    assert not mismatches, "%d of %d calls answered other than expected:\n  %s" % (
        len(mismatches), checked, "\n  ".join(mismatches))
    # the unfiltered lists of the outsiders show nothing of tenant A
    for role in ("nobody", "other"):
        for path in ("/v1/services", "/v1/subscriptions", "/v1/tenants", "/v1/discovery/services", "/v1/tokens",
                     "/v1/me", "/v1/clusters"):
            r = m.users[role].api("GET", path)
            assert r.status_code == 200, "GET %s as %s: %s %s" % (path, role, r.status_code, r.text)
            text = r.text
            leaked = [k for k in m.leak_markers if k in text]
            assert not leaked, "GET %s as %s shows tenant A's %s: %s" % (path, role, leaked, text[:300])
    assert "a-web" not in json.dumps(m.users["other"].ok("GET", "/v1/audit?tenant=tb"))

    # what the allowed writes did, they did
    releases = {r["service"]: r for r in (m.admin.ok("GET", "/v1/services/%s/releases" % n)["items"][0]
                                          for n in ("a-rel", "a-rel-admin", "a-rel-owner", "a-rel-developer"))}
    assert {r["created_by"] for r in releases.values()} == {"admin", "a-own", "a-dev"}
    assert releases["a-rel"]["abort_requested"] is True or releases["a-rel"]["state"] in RELEASE_OVER
    settle_releases(m.admin, [r["id"] for r in releases.values()])
    assert_error(m.admin.api("GET", "/v1/services/a-del-developer"), 404, "not_found")
    assert m.admin.ok("GET", "/v1/services/a-web")["tenant"] == "ta"
    assert {s["name"] for s in m.admin.ok("GET", "/v1/services?tenant=ta")["items"]} >= \
        {"mx-admin", "mx-owner", "mx-developer"}
    assert not {"mx-viewer", "mx-nobody", "mx-other", "mx-owner-ro"} & \
        {s["name"] for s in m.admin.ok("GET", "/v1/services")["items"]}


def test_a_deleted_tenants_former_member_does_not_see_a_new_tenant_of_that_name(eagle, cluster_env):
    """Deleting a tenant ends its memberships at once, on every route (also the discovery,
    event and subscription routes, which read the caller's tenants with the token)."""
    user = make_user(eagle, "ex-member")
    make_tenant(eagle, "tx", members={user: "developer"})
    assert user.ok("GET", "/v1/discovery/services")["services"] == []  # the token is in use
    assert user.ok("GET", "/v1/me")["tenants"] == {"tx": "developer"}
    eagle.ok("DELETE", "/v1/tenants/tx", status=204)
    assert user.ok("GET", "/v1/me")["tenants"] == {}

    make_tenant(eagle, "tx")  # another team's, same name
    eagle.ok("POST", "/v1/services", json=spec(cluster_env, "tx-secret", replicas=0, tenant="tx"), status=201)
    eagle.ok("POST", "/v1/subscriptions", json={"url": "http://127.0.0.1:9/x", "tenant": "tx"}, status=201)
    wait_until(lambda: eagle.api("GET", "/v1/discovery/services/tx-secret").status_code == 200, timeout=30,
               what="tx-secret in the catalog")
    assert_error(user.api("GET", "/v1/services/tx-secret"), 404, "not_found")
    leaks = []
    r = user.api("GET", "/v1/discovery/services/tx-secret")
    if r.status_code != 404:
        leaks.append("GET /v1/discovery/services/tx-secret → %d %s" % (r.status_code, r.text[:120]))
    r = user.api("GET", "/v1/discovery/services")
    if "tx-secret" in r.text:
        leaks.append("GET /v1/discovery/services lists tx-secret")
    r = user.api("GET", "/v1/subscriptions")
    if '"tx"' in r.text:
        leaks.append("GET /v1/subscriptions lists tx's subscription")
    stream = EventStream(eagle, user.token, "?tenant=tx")
    try:
        if stream.status() != 404:
            leaks.append("GET /v1/events?tenant=tx → %d" % stream.status())
    finally:
        stream.close()
    assert not leaks, "a former member of the deleted tenant 'tx' sees the new 'tx': %s" % leaks


# ============================================================ 2. quotas at the boundary

def test_replicas_quota_at_the_boundary_for_create_update_scale_and_rollback(eagle, cluster_env):
    dev = make_user(eagle, "q-dev")
    make_tenant(eagle, "qr", members={dev: "developer"}, quotas={"replicas": 4})
    created(dev, spec(cluster_env, "r1", replicas=2))

    # create: one over → 422, nothing made; exactly at the quota → 201
    quota_error(dev.api("POST", "/v1/services", json=spec(cluster_env, "r2", replicas=3)), "replicas", 4, 2, 3)
    not_created(eagle, cluster_env, "r2")
    created(dev, spec(cluster_env, "r2", replicas=2))
    usage = dev.ok("GET", "/v1/tenants/qr/usage")
    assert usage["tenant"] == "qr" and usage["quotas"]["replicas"] == 4
    assert usage["usage"]["replicas"] == 4 and usage["usage"]["services"] == 2

    # update (PUT): one over → 422, nothing changes; at the quota → 200
    quota_error(dev.api("PUT", "/v1/services/r2", json=spec(cluster_env, "r2", image="web:2", replicas=3)),
                "replicas", 4, 2, 3)
    assert revision_of(eagle, "r2") == 1
    engine = cluster_env.the_service_of("r2")
    assert engine_replicas(engine) == 2 and engine_image(engine) == cluster_env.image("web:1")
    dev.ok("PUT", "/v1/services/r2", json=spec(cluster_env, "r2", image="web:2", replicas=2))
    assert engine_image(cluster_env.the_service_of("r2")) == cluster_env.image("web:2")

    # scale: one over → 422; freeing one replica elsewhere makes room exactly
    quota_error(dev.api("POST", "/v1/services/r2/scale", json={"replicas": 3}), "replicas", 4, 2, 3)
    assert revision_of(eagle, "r2") == 2 and engine_replicas(cluster_env.the_service_of("r2")) == 2
    dev.ok("POST", "/v1/services/r1/scale", json={"replicas": 1})  # r1: revision 2, 1 replica
    dev.ok("POST", "/v1/services/r2/scale", json={"replicas": 3})  # 1 + 3 = 4
    assert engine_replicas(cluster_env.the_service_of("r2")) == 3
    assert dev.ok("GET", "/v1/tenants/qr/usage")["usage"]["replicas"] == 4

    # rollback to a revision that needs more than the quota → 422; with room → 200
    quota_error(dev.api("POST", "/v1/services/r1/rollback", json={"revision": 1}), "replicas", 4, 3, 2)
    assert revision_of(eagle, "r1") == 2 and engine_replicas(cluster_env.the_service_of("r1")) == 1
    dev.ok("POST", "/v1/services/r2/scale", json={"replicas": 2})
    svc = dev.ok("POST", "/v1/services/r1/rollback", json={"revision": 1})  # 2 + 2 = 4
    assert svc["revision"] == 3 and svc["spec"]["replicas"] == 2
    assert engine_replicas(cluster_env.the_service_of("r1")) == 2
    usage = dev.ok("GET", "/v1/tenants/qr/usage")["usage"]
    assert usage["replicas"] == 4 and usage["services"] == 2

    # every refusal is in the audit log as a failed write
    failed = [e for e in eagle.ok("GET", "/v1/audit?user=q-dev&limit=1000")["items"]
              if e["result"] == "failed: 422 quota_exceeded"]
    assert sorted(e["action"] for e in failed) == sorted([
        "POST /v1/services", "PUT /v1/services/{name}", "POST /v1/services/{name}/scale",
        "POST /v1/services/{name}/rollback"]), failed
    assert all("quota" in e["detail"] for e in failed), failed


def test_memory_quota_at_the_boundary_and_limits_are_required(eagle, cluster_env):
    dev = make_user(eagle, "m-dev")
    make_tenant(eagle, "qm", members={dev: "developer"}, quotas={"memory": "256Mi"})
    quota = 256 * MIB

    def mem(name, replicas, per_task=64 * MIB, image="web:1"):
        return spec(cluster_env, name, image=image, replicas=replicas,
                    resources={"limits": {"memory": per_task}})

    # no memory limit under a memory quota → 422 naming resources.limits.memory
    r = dev.api("POST", "/v1/services", json=spec(cluster_env, "m0", replicas=1))
    err = assert_error(r, 422, "quota_exceeded", field="resources.limits.memory")
    assert "resources.limits.memory" in err["message"]
    not_created(eagle, cluster_env, "m0")
    r = dev.api("POST", "/v1/services", json=spec(cluster_env, "m0", replicas=1,
                                                 resources={"limits": {"cpus": 0.5}}))
    assert_error(r, 422, "quota_exceeded", field="resources.limits.memory")
    not_created(eagle, cluster_env, "m0")

    created(dev, mem("m1", 2))  # 128 MiB
    quota_error(dev.api("POST", "/v1/services", json=mem("m2", 3)), "memory", quota, 128 * MIB, 192 * MIB,
                " bytes")
    not_created(eagle, cluster_env, "m2")
    created(dev, mem("m2", 2))  # 256 MiB: exactly the quota
    assert dev.ok("GET", "/v1/tenants/qm/usage")["usage"]["memory"] == quota
    assert engine_memory(cluster_env.the_service_of("m2")) == 64 * MIB

    # update: one byte more per task is over
    r = dev.api("PUT", "/v1/services/m2", json=mem("m2", 2, per_task=64 * MIB + 1, image="web:2"))
    quota_error(r, "memory", quota, 128 * MIB, 128 * MIB + 2, " bytes")
    assert revision_of(eagle, "m2") == 1
    assert engine_memory(cluster_env.the_service_of("m2")) == 64 * MIB
    assert engine_image(cluster_env.the_service_of("m2")) == cluster_env.image("web:1")
    dev.ok("PUT", "/v1/services/m2", json=mem("m2", 2, image="web:2"))

    # scale
    quota_error(dev.api("POST", "/v1/services/m2/scale", json={"replicas": 3}), "memory", quota, 128 * MIB,
                192 * MIB, " bytes")
    assert engine_replicas(cluster_env.the_service_of("m2")) == 2
    dev.ok("POST", "/v1/services/m1/scale", json={"replicas": 1})
    dev.ok("POST", "/v1/services/m2/scale", json={"replicas": 3})  # 64 + 192 = 256
    assert dev.ok("GET", "/v1/tenants/qm/usage")["usage"]["memory"] == quota

    # rollback of m1 to its 2-task revision: 128 + 192 > 256
    quota_error(dev.api("POST", "/v1/services/m1/rollback", json={"revision": 1}), "memory", quota, 192 * MIB,
                128 * MIB, " bytes")
    assert revision_of(eagle, "m1") == 2 and engine_replicas(cluster_env.the_service_of("m1")) == 1
    dev.ok("POST", "/v1/services/m2/scale", json={"replicas": 2})
    dev.ok("POST", "/v1/services/m1/rollback", json={"revision": 1})  # 128 + 128 = 256
    assert engine_replicas(cluster_env.the_service_of("m1")) == 2
    usage = dev.ok("GET", "/v1/tenants/qm/usage")
    assert usage["usage"]["memory"] == quota and usage["quotas"]["memory"] == quota

    # the quota binds admins too
    r = eagle.api("POST", "/v1/services", json=dict(mem("m3", 1), tenant="qm"))
    quota_error(r, "memory", quota, quota, 64 * MIB, " bytes")
    not_created(eagle, cluster_env, "m3")


def engine_memory(svc):
    return ((svc["Spec"]["TaskTemplate"].get("Resources") or {}).get("Limits") or {}).get("MemoryBytes")


# ================================================================== 3. node pools

def test_node_pool_places_every_task_on_the_pool_and_cannot_be_escaped(eagle, cluster_env):
    worker_id = cluster_env.worker.node_id
    cluster_env.docker("node", "update", "--label-add", "eagle.pool=edge", worker_id, check=True)
    try:
        dev = make_user(eagle, "p-dev")
        t = make_tenant(eagle, "tp", members={dev: "developer"}, pool="edge")
        assert t["pool"] == "edge"
        own = ["node.platform.os==linux"]
        svc = created(dev, spec(cluster_env, "edge-web", replicas=3, placement={"constraints": own}))
        assert svc["spec"]["placement"]["constraints"] == own  # the stored spec is unchanged

        engine = cluster_env.the_service_of("edge-web")
        assert sorted(engine_constraints(engine)) == sorted(own + ["node.labels.eagle.pool==edge"])
        assert engine["Spec"]["Labels"]["eagle.tenant"] == "tp"
        assert running_nodes(cluster_env, "edge-web", 3) == [worker_id] * 3

        tasks = [t for t in dev.ok("GET", "/v1/services/edge-web/tasks")["items"]
                 if t["desired_state"] == "running"]
        assert len(tasks) == 3, tasks
        assert {(t["node_id"], t["node"]) for t in tasks} == {(worker_id, "eagle-e2e-worker")}, tasks

        # a spec of its own cannot drop the pool: the engine still carries it, whatever it says
        for constraints in ([], ["node.role==manager"], ["node.labels.eagle.pool!=edge"]):
            dev.ok("PUT", "/v1/services/edge-web", json=spec(cluster_env, "edge-web", replicas=3,
                                                              placement={"constraints": constraints}))
            got = engine_constraints(cluster_env.the_service_of("edge-web"))
            assert "node.labels.eagle.pool==edge" in got, got
            assert sorted(got) == sorted(constraints + ["node.labels.eagle.pool==edge"]), got
        svc = created(dev, spec(cluster_env, "edge-free", replicas=0))
        assert engine_constraints(cluster_env.the_service_of("edge-free")) == ["node.labels.eagle.pool==edge"]
        assert "placement" not in svc["spec"] or not (svc["spec"]["placement"] or {}).get("constraints")
    finally:
        cluster_env.docker("node", "update", "--label-rm", "eagle.pool", worker_id)


# ============================================================= 4. the safety rules

def test_safety_rules_for_developers_and_the_allow_exceptions(eagle, cluster_env):
    dev = make_user(eagle, "s-dev")
    make_tenant(eagle, "ts", members={dev: "developer"})

    def refused(s, field):
        assert_error(dev.api("POST", "/v1/services", json=s), 403, "forbidden", field=field)
        not_created(eagle, cluster_env, s["name"])

    sockets = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run",
               "/run", "/"]
    for path in sockets:
        refused(spec(cluster_env, "s1", mounts=[{"type": "bind", "source": path, "target": "/x"}]),
                "mounts[0].source")
    refused(spec(cluster_env, "s1", mounts=[{"type": "bind", "source": "/tmp", "target": "/x"}]),
            "mounts[0].source")
    refused(spec(cluster_env, "s1", mounts=[{"type": "volume", "source": "data", "target": "/data"},
                                            {"type": "bind", "source": "/srv", "target": "/srv"}]),
            "mounts[1].source")
    refused(spec(cluster_env, "s1", networks=["host"]), "networks[0]")
    refused(spec(cluster_env, "s1", cap_add=["CAP_NET_ADMIN"]), "cap_add")

    # volumes and tmpfs are always allowed
    created(dev, spec(cluster_env, "s-vol", replicas=0, mounts=[{"type": "volume", "source": "data",
                                                                 "target": "/data"},
                                                                {"type": "tmpfs", "target": "/scratch"}]))
    # an update cannot sneak one in either
    r = dev.api("PUT", "/v1/services/s-vol", json=spec(cluster_env, "s-vol", replicas=0, cap_add=["CAP_SYS_ADMIN"]))
    assert_error(r, 403, "forbidden", field="cap_add")
    assert revision_of(eagle, "s-vol") == 1
    assert "CapabilityAdd" not in cluster_env.the_service_of("s-vol")["Spec"]["TaskTemplate"]["ContainerSpec"]

    # the admin allows bind mounts and added capabilities
    eagle.ok("PUT", "/v1/tenants/ts", json={"allow": {"bind_mounts": True, "cap_add": True}})
    created(dev, spec(cluster_env, "s-bind", replicas=0,
                      mounts=[{"type": "bind", "source": "/tmp", "target": "/host-tmp", "read_only": True}]))
    mounts = cluster_env.the_service_of("s-bind")["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert [(x["Type"], x["Source"], x["Target"]) for x in mounts] == [("bind", "/tmp", "/host-tmp")]
    for path in sockets:  # never the docker socket
        refused(spec(cluster_env, "s2", mounts=[{"type": "bind", "source": path, "target": "/x"}]),
                "mounts[0].source")
    created(dev, spec(cluster_env, "s-cap", replicas=0, cap_add=["CAP_NET_ADMIN"]))
    assert cluster_env.the_service_of("s-cap")["Spec"]["TaskTemplate"]["ContainerSpec"]["CapabilityAdd"] == \
        ["CAP_NET_ADMIN"]
    refused(spec(cluster_env, "s2", networks=["host"]), "networks[0]")  # not allowed: host_network
    # ...and taking an exception back binds again, on scale and rollback too
    eagle.ok("PUT", "/v1/tenants/ts", json={"allow": {"bind_mounts": True}})
    assert_error(dev.api("POST", "/v1/services/s-cap/scale", json={"replicas": 1}), 403, "forbidden",
                 field="cap_add")
    assert revision_of(eagle, "s-cap") == 1

    # an admin is bound by none of these (in a tenant without exceptions, and in default)
    made = eagle.ok("POST", "/v1/services", json=spec(cluster_env, "s-admin", replicas=0, tenant="ts",
                                                      cap_add=["CAP_NET_ADMIN"],
                                                      mounts=[{"type": "bind", "source": "/srv",
                                                               "target": "/srv"}]), status=201)
    assert made["tenant"] == "ts"
    eagle.ok("PUT", "/v1/tenants/ts", json={"allow": {}})
    assert_error(dev.api("POST", "/v1/services/s-admin/scale", json={"replicas": 1}), 403, "forbidden",
                 field="mounts[0].source")
    eagle.ok("POST", "/v1/services", json=spec(cluster_env, "s-host", replicas=0, networks=["host"]),
             status=201)
    cs = cluster_env.the_service_of("s-admin")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert cs["CapabilityAdd"] == ["CAP_NET_ADMIN"] and cs["Mounts"][0]["Source"] == "/srv"


# ========================================================== 5. the tenant network

def test_tenant_services_join_their_own_network_and_no_other(eagle, cluster_env):
    dev1 = make_user(eagle, "n-dev1")
    dev2 = make_user(eagle, "n-dev2")
    t1 = make_tenant(eagle, "tn1", members={dev1: "developer"})
    make_tenant(eagle, "tn2", members={dev2: "developer"})
    assert t1["network"] == "eagle-t-tn1"
    assert eagle.ok("GET", "/v1/tenants/default")["network"] is None

    created(dev1, spec(cluster_env, "n1", replicas=0))
    net = engine_network(cluster_env, "eagle-t-tn1")
    assert net and net["Driver"] == "overlay" and net["Labels"].get("eagle.tenant") == "tn1", net
    assert engine_network_ids(cluster_env.the_service_of("n1")) == [net["Id"]]

    # its own network by name: allowed, attached once
    created(dev1, spec(cluster_env, "n2", replicas=0, networks=["eagle-t-tn1"]))
    assert engine_network_ids(cluster_env.the_service_of("n2")) == [net["Id"]]

    # another tenant's network, or any other: 403, nothing made
    created(dev2, spec(cluster_env, "n3", replicas=0))  # tn2's network now exists too
    net2 = engine_network(cluster_env, "eagle-t-tn2")
    assert net2 and net2["Labels"].get("eagle.tenant") == "tn2"
    for nets, field in ((["eagle-t-tn2"], "networks[0]"), (["eagle-t-tn1", "eagle-t-tn2"], "networks[1]"),
                        (["ingress"], "networks[0]"), (["bridge"], "networks[0]")):
        r = dev1.api("POST", "/v1/services", json=spec(cluster_env, "n4", replicas=0, networks=nets))
        assert_error(r, 403, "forbidden", field=field)
        not_created(eagle, cluster_env, "n4")
    r = dev1.api("PUT", "/v1/services/n1", json=spec(cluster_env, "n1", replicas=0, networks=["eagle-t-tn2"]))
    assert_error(r, 403, "forbidden", field="networks[0]")
    assert revision_of(eagle, "n1") == 1
    assert engine_network_ids(cluster_env.the_service_of("n1")) == [net["Id"]]
    assert engine_network_ids(cluster_env.the_service_of("n3")) == [net2["Id"]]

    # the admin's services in default join no tenant network
    eagle.ok("POST", "/v1/services", json=spec(cluster_env, "n-admin", replicas=0), status=201)
    assert engine_network_ids(cluster_env.the_service_of("n-admin")) == []


def test_a_release_cannot_attach_another_tenants_network(eagle, cluster_env):
    """A release's spec is a spec like any other: the network rule applies to it too."""
    dev1 = make_user(eagle, "r-dev1")
    dev2 = make_user(eagle, "r-dev2")
    make_tenant(eagle, "tr1", members={dev1: "developer"})
    make_tenant(eagle, "tr2", members={dev2: "developer"})
    created(dev1, spec(cluster_env, "rn1", replicas=0))
    created(dev2, spec(cluster_env, "rn2", replicas=0))  # tr2's network exists
    for nets, field in ((["eagle-t-tr2"], "networks[0]"), (["eagle-t-tr1", "eagle-t-tr2"], "networks[1]")):
        r = dev1.api("POST", "/v1/services/rn1/releases",
                     json={"strategy": "rolling", "spec": spec(cluster_env, "rn1", replicas=0, networks=nets)})
        err = assert_error(r, 403, "forbidden")
        assert (err.get("field") or "").endswith(field), err
    assert dev1.ok("GET", "/v1/services/rn1/releases")["items"] == []
    own = engine_network(cluster_env, "eagle-t-tr1")["Id"]
    assert engine_network_ids(cluster_env.the_service_of("rn1")) == [own]


# ======================================================================= 6. tokens

def test_tokens_logout_revoke_malformed_garbage_and_read_only(eagle, cluster_env):
    dev = make_user(eagle, "t-dev")
    other = make_user(eagle, "t-other")
    make_tenant(eagle, "tt", members={dev: "developer"})
    created(dev, spec(cluster_env, "tok-web", replicas=0))

    # a session token after logout
    session = dev.token
    assert dev.api("GET", "/v1/me").status_code == 200
    assert dev.api("POST", "/v1/auth/logout").status_code == 204
    assert_error(dev.api("GET", "/v1/me", token=session), 401, "unauthorized")
    assert_error(dev.api("GET", "/v1/services", token=session), 401, "unauthorized")
    dev.login()

    # an API token: shown once, never listed with its secret, works until revoked
    made = dev.ok("POST", "/v1/tokens", json={"name": "ci", "expires_in_days": 2}, status=201)
    secret = made["token"]
    assert made["name"] == "ci" and made["read_only"] is False and made["id"] and made["expires_at"]
    listing = dev.api("GET", "/v1/tokens")
    assert listing.status_code == 200 and secret not in listing.text
    items = listing.json()["items"]
    assert [t["id"] for t in items] == [made["id"]], items  # session tokens are not listed
    assert all("token" not in t and "secret" not in t for t in items), items
    assert made["id"] not in [t["id"] for t in eagle.ok("GET", "/v1/tokens")["items"]]  # only your own
    me = dev.ok("GET", "/v1/me")
    assert dev.api("GET", "/v1/me", token=secret).json()["username"] == "t-dev"
    assert me["tenants"] == {"tt": "developer"}
    assert_error(other.api("DELETE", "/v1/tokens/" + made["id"]), 404, "not_found")  # not theirs
    assert dev.api("GET", "/v1/me", token=secret).status_code == 200
    assert dev.api("DELETE", "/v1/tokens/" + made["id"]).status_code == 204
    assert_error(dev.api("GET", "/v1/me", token=secret), 401, "unauthorized")
    assert dev.ok("GET", "/v1/tokens")["items"] == []

    # malformed headers and garbage tokens
    for header in ("Bearer", "Bearer ", "Token " + dev.token, dev.token, "Basic " + dev.token,
                   "Bearer  " + dev.token, "Bearer " + dev.token + " x"):
        r = eagle.api("GET", "/v1/me", token=None, headers={"Authorization": header})
        assert_error(r, 401, "unauthorized")
    for token in ("garbage", "0" * 64, dev.token[:-1] + ("0" if dev.token[-1] != "0" else "1"), "x" * 300):
        assert_error(eagle.api("GET", "/v1/services", token=token), 401, "unauthorized")

    # a read-only token: every GET, no write
    ro = dev.ok("POST", "/v1/tokens", json={"name": "ro", "read_only": True}, status=201)
    assert ro["read_only"] is True
    reader = User(eagle, "t-dev", token=ro["token"])
    assert reader.ok("GET", "/v1/me")["read_only"] is True
    assert [s["name"] for s in reader.ok("GET", "/v1/services")["items"]] == ["tok-web"]
    for path in ("/v1/services/tok-web", "/v1/services/tok-web/revisions", "/v1/tenants/tt", "/v1/tokens",
                 "/v1/discovery/services"):
        assert reader.api("GET", path).status_code == 200, path
    writes = [("POST", "/v1/services", spec(cluster_env, "tok-new", replicas=0)),
              ("PUT", "/v1/services/tok-web", spec(cluster_env, "tok-web", replicas=1)),
              ("POST", "/v1/services/tok-web/scale", {"replicas": 1}),
              ("POST", "/v1/services/tok-web/rollback", {}),
              ("DELETE", "/v1/services/tok-web", None),
              ("POST", "/v1/tokens", {"name": "more"}),
              ("DELETE", "/v1/tokens/" + ro["id"], None),
              ("PUT", "/v1/users/t-dev/password", {"password": PASSWORD, "current_password": PASSWORD}),
              ("POST", "/v1/subscriptions", {"url": "http://127.0.0.1:9/x", "tenant": "tt"})]
    for method, path, body in writes:
        err = assert_error(reader.api(method, path, json=body), 403, "forbidden")
        assert "read-only" in err["message"], err
    assert_error(reader.api("POST", "/v1/services", json={"garbage": True}), 403, "forbidden")
    not_created(eagle, cluster_env, "tok-new")
    assert revision_of(eagle, "tok-web") == 1
    assert engine_replicas(cluster_env.the_service_of("tok-web")) == 0
    assert [t["id"] for t in dev.ok("GET", "/v1/tokens")["items"]] == [ro["id"]]
    # refused before authentication completes: not in the audit log
    assert not [e for e in eagle.ok("GET", "/v1/audit?user=t-dev&limit=1000")["items"]
                if e["result"].startswith("failed")]
    # logout is allowed with a read-only token, and ends it
    assert reader.api("POST", "/v1/auth/logout").status_code == 204
    assert_error(reader.api("GET", "/v1/me"), 401, "unauthorized")


def test_login_rate_limit(eagle):
    make_user(eagle, "rl-one", login=False)
    make_user(eagle, "rl-two", login=False)

    def login(user, password):
        return eagle.api("POST", "/v1/auth/login", json={"username": user, "password": password}, token=None)

    for i in range(5):
        assert_error(login("rl-one", "wrong-password-%d" % i), 401, "unauthorized")
    err = assert_error(login("rl-one", "wrong-password-5"), 429, "too_many_attempts")
    assert "127.0.0.1" in err["message"] and "try again" in err["message"], err
    r = login("rl-one", PASSWORD)  # the right password is refused while blocked
    assert_error(r, 429, "too_many_attempts")
    assert "token" not in r.text
    r = login("rl-two", PASSWORD)  # another user from the same address is not
    assert r.status_code == 200 and r.json()["token"], r.text


# ======================================================================= 7. audit

def test_audit_records_every_write_of_a_tenant_for_its_owner(eagle, cluster_env):
    owner = make_user(eagle, "au-own")
    dev = make_user(eagle, "au-dev")
    viewer = make_user(eagle, "au-view", login=False)
    b_owner = make_user(eagle, "au-bown")
    make_tenant(eagle, "tau", owner=owner, members={dev: "developer"}, quotas={"replicas": 2})
    make_tenant(eagle, "taub", owner=b_owner)
    start = eagle.ok("GET", "/v1/audit?limit=1")["items"][0]["at"]

    created(dev, spec(cluster_env, "aud", replicas=1))
    dev.ok("POST", "/v1/services/aud/scale", json={"replicas": 2})
    quota_error(dev.api("POST", "/v1/services/aud/scale", json={"replicas": 3}), "replicas", 2, 0, 3)
    dev.ok("PUT", "/v1/services/aud", json=spec(cluster_env, "aud", image="web:2", replicas=2))
    owner.ok("PUT", "/v1/tenants/tau/members/au-view", json={"role": "viewer"})
    created(dev, spec(cluster_env, "aud2", replicas=0))
    dev.ok("DELETE", "/v1/services/aud2", status=204)

    entries = owner.ok("GET", "/v1/audit?tenant=tau")["items"]
    assert entries == sorted(entries, key=lambda e: e["id"], reverse=True), "not newest first"
    for e in entries:
        assert e["tenant"] == "tau" and e["source"] == "127.0.0.1" and e["at"] >= start, e

    def find(action, target, user):
        hits = [e for e in entries if (e["action"], e["target"], e["username"]) == (action, target, user)]
        assert len(hits) == 1, "%s %s by %s: %d entries in %s" % (action, target, user, len(hits), entries)
        return hits[0]

    create = find("service.create", "aud", "au-dev")
    assert create["result"] == "accepted" and cluster_env.image("web:1") in create["detail"]
    scale = find("service.scale", "aud", "au-dev")
    assert scale["result"] == "accepted" and scale["detail"] == "scale: replicas: 1 -> 2", scale
    update = find("service.update", "aud", "au-dev")
    assert update["result"] == "accepted" and update["detail"].startswith("update: image: "), update
    assert '"%s" -> "%s"' % (cluster_env.image("web:1"), cluster_env.image("web:2")) in update["detail"]
    member = find("member.set", "au-view", "au-own")
    assert member["result"] == "ok" and member["detail"] == "viewer"
    find("service.create", "aud2", "au-dev")
    assert find("service.delete", "aud2", "au-dev")["result"] == "ok"
    find("tenant.create", "tau", "admin")

    # who may read it
    assert_error(dev.api("GET", "/v1/audit?tenant=tau"), 403, "forbidden")
    viewer.login()
    assert_error(viewer.api("GET", "/v1/audit?tenant=tau"), 403, "forbidden")
    assert_error(b_owner.api("GET", "/v1/audit?tenant=tau"), 404, "not_found")
    assert_error(owner.api("GET", "/v1/audit"), 403, "forbidden", field="tenant")
    assert_error(owner.api("GET", "/v1/audit?tenant=taub"), 404, "not_found")
    assert_error(eagle.api("GET", "/v1/audit?tenant=tau", token=None), 401, "unauthorized")
    assert [e["target"] for e in b_owner.ok("GET", "/v1/audit?tenant=taub")["items"]] == ["taub"]

    # filters: user, target, time range
    by_dev = owner.ok("GET", "/v1/audit?tenant=tau&user=au-dev")["items"]
    assert by_dev and all(e["username"] == "au-dev" for e in by_dev)
    assert {(e["action"], e["target"]) for e in by_dev} == {
        ("service.create", "aud"), ("service.scale", "aud"), ("service.update", "aud"),
        ("service.create", "aud2"), ("service.delete", "aud2")}
    on_aud = owner.ok("GET", "/v1/audit?tenant=tau&target=aud")["items"]
    assert [e["action"] for e in on_aud] == ["service.update", "service.scale", "service.create"]
    at = scale["at"]
    window = owner.ok("GET", "/v1/audit?tenant=tau&since=%s&until=%s" % (at, at))["items"]
    assert scale["id"] in [e["id"] for e in window] and all(e["at"] == at for e in window), window
    assert owner.ok("GET", "/v1/audit?tenant=tau&until=2000-01-01T00:00:00Z")["items"] == []
    assert owner.ok("GET", "/v1/audit?tenant=tau&since=2999-01-01T00:00:00Z")["items"] == []
    later = owner.ok("GET", "/v1/audit?tenant=tau&since=%s" % at)["items"]
    assert all(e["at"] >= at for e in later) and update["id"] in [e["id"] for e in later]
    assert len(owner.ok("GET", "/v1/audit?tenant=tau&limit=2")["items"]) == 2
    assert_error(owner.api("GET", "/v1/audit?tenant=tau&limit=0"), 400, "invalid_argument", field="limit")

    # the failed write (over the quota) is recorded, for the admins
    failed = [e for e in eagle.ok("GET", "/v1/audit?user=au-dev")["items"] if e["result"].startswith("failed")]
    assert len(failed) == 1, failed
    f = failed[0]
    assert f["result"] == "failed: 422 quota_exceeded", f
    assert f["action"] == "POST /v1/services/{name}/scale" and f["target"] == "/v1/services/aud/scale", f
    assert "replicas quota" in f["detail"] and f["source"] == "127.0.0.1", f
    assert f["tenant"] == "", f


# =========================================================== 8. two tenants side by side

def test_two_tenants_see_only_their_own_services_discovery_and_events(eagle, cluster_env):
    a_dev = make_user(eagle, "x-adev")
    b_dev = make_user(eagle, "x-bdev")
    make_tenant(eagle, "xa", members={a_dev: "developer"})
    make_tenant(eagle, "xb", members={b_dev: "developer"})
    created(a_dev, spec(cluster_env, "xa-web", replicas=1))
    created(b_dev, spec(cluster_env, "xb-web", replicas=1))

    # services
    assert [s["name"] for s in a_dev.ok("GET", "/v1/services")["items"]] == ["xa-web"]
    assert [s["name"] for s in b_dev.ok("GET", "/v1/services")["items"]] == ["xb-web"]
    assert_error(a_dev.api("GET", "/v1/services?tenant=xb"), 404, "not_found")
    assert_error(a_dev.api("GET", "/v1/services/xb-web"), 404, "not_found")
    assert [t["name"] for t in a_dev.ok("GET", "/v1/tenants")["items"]] == ["xa"]
    assert {s["name"] for s in eagle.ok("GET", "/v1/services")["items"]} >= {"xa-web", "xb-web"}

    # discovery
    wait_until(lambda: {"xa-web", "xb-web"} <= {s["name"] for s in
                                                eagle.ok("GET", "/v1/discovery/services")["services"]},
               timeout=30, what="both services in the catalog")
    for user, mine, theirs, tenant in ((a_dev, "xa-web", "xb-web", "xb"), (b_dev, "xb-web", "xa-web", "xa")):
        listed = user.ok("GET", "/v1/discovery/services")["services"]
        assert [s["name"] for s in listed] == [mine], listed
        assert user.ok("GET", "/v1/discovery/services?tenant=" + tenant)["services"] == []
        assert_error(user.api("GET", "/v1/discovery/services/" + theirs), 404, "not_found")
        assert user.ok("GET", "/v1/discovery/services/" + mine)["name"] == mine
    # The whole catalog's answer is kept per index: callers who may see different
    # tenants each get their own, even when they ask at one index.
    def views_at_one_index():
        rs = [c.api("GET", "/v1/discovery/services") for c in (eagle, a_dev, b_dev, eagle, a_dev)]
        if len({r.headers["X-Eagle-Index"] for r in rs}) != 1:
            return None
        return [sorted(s["name"] for s in r.json()["services"]) for r in rs]
    views = wait_until(views_at_one_index, timeout=30, what="the catalog as three callers see it at one index")
    assert {"xa-web", "xb-web"} <= set(views[0]) and views[0] == views[3], views
    assert views[1] == views[4] == ["xa-web"] and views[2] == ["xb-web"], views

    # events: each stream gets its own tenant's, never the other's (the admin's gets both)
    streams = {"a": EventStream(eagle, a_dev.token), "b": EventStream(eagle, b_dev.token),
               "admin": EventStream(eagle, eagle.token)}
    try:
        for s in streams.values():
            assert s.status() == 200, s.text()
        wait_until(lambda: all(": eagle event stream" in s.text() for s in streams.values()), timeout=10,
                   what="the streams to open")
        a_dev.ok("POST", "/v1/services/xa-web/scale", json={"replicas": 2})
        b_dev.ok("POST", "/v1/services/xb-web/scale", json={"replicas": 2})

        def saw(stream, service):
            return any(e.get("service") == service for e in stream.events())
        wait_until(lambda: saw(streams["a"], "xa-web") and saw(streams["b"], "xb-web"), timeout=30,
                   what="each tenant's own events")
        wait_until(lambda: saw(streams["admin"], "xa-web") and saw(streams["admin"], "xb-web"), timeout=30,
                   what="the admin's stream to show both tenants' events")
        # keep reading a while: the other tenant's events were sent by now if they ever would be.
        # (The watcher reports what changed between two looks at the engine, so the second
        # scale waits for the first one's service event, or the two could make one.)
        def xb_updates():
            return sum(1 for e in streams["admin"].events() if e.get("service") == "xb-web" and e["type"] == "service")
        wait_until(lambda: xb_updates() >= 1, timeout=30, what="xb-web's first update in the admin's stream")
        b_dev.ok("POST", "/v1/services/xb-web/scale", json={"replicas": 1})
        wait_until(lambda: xb_updates() >= 2, timeout=30, what="xb-web's second update in the admin's stream")

        def nothing_foreign():
            for key, own_tenant, own_service in (("a", "xa", "xa-web"), ("b", "xb", "xb-web")):
                foreign = [e for e in streams[key].events()
                           if e.get("tenant") != own_tenant or e.get("service") != own_service]
                assert not foreign, "the stream of tenant %s got: %s" % (own_tenant, foreign)
        holds_for(nothing_foreign, 3.0)  # keep reading a few seconds: stragglers would show
    finally:
        for s in streams.values():
            s.close()
