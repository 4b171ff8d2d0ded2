"""A remote cluster reached over TCP with TLS client certificates (docs/api.md,
"Clusters"). The engine is a throwaway one-node swarm in its own namespace; in front
of its socket sits a TLS terminator on 127.0.0.1 that demands a client certificate
signed by the test's CA — what `dockerd --tlsverify` does — so eagled's TLS client
(libcurl with the PEMs it was given) is exercised for real."""
import os
import socket
import ssl
import stat
import subprocess
import threading

from eaglelib import assert_error, free_port, wait_until


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1, a client certificate, and a stranger."""
    os.makedirs(d, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=eagle-test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key",
                "-out", name + ".csr", cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger",
            "-keyout", "stranger.key", "-out", "stranger.pem", cwd=d)
    return {n: open(os.path.join(d, n)).read() for n in os.listdir(d) if n.endswith((".pem", ".key"))}


class TLSFront:
    """TLS on 127.0.0.1:PORT, client certificate required, relayed to a unix socket."""

    def __init__(self, pki_dir, unix_path):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(pki_dir, "server.pem"), os.path.join(pki_dir, "server.key"))
        self.ctx.load_verify_locations(os.path.join(pki_dir, "ca.pem"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.unix_path = unix_path
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.handshakes_refused = 0
        self.stopped = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_refused += 1
            conn.close()
            return
        up = socket.socket(socket.AF_UNIX)
        up.connect(self.unix_path)

        def pump(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        t = threading.Thread(target=pump, args=(up, tls), daemon=True)
        t.start()
        pump(tls, up)
        t.join(5)
        tls.close()
        up.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def test_a_tls_cluster_with_client_certificates(eagle, cluster_env):
    engine = cluster_env.throwaway_engine("tls")
    pki = make_pki(os.path.join(cluster_env.tmp, "pki"))
    front = TLSFront(os.path.join(cluster_env.tmp, "pki"), engine.sock)
    endpoint = "tcp://127.0.0.1:%d" % front.port
    try:
        # a certificate the engine does not trust: refused, and nothing is recorded
        r = eagle.api("POST", "/v1/clusters", json={
            "name": "edge", "datacenter": "remote", "endpoint": endpoint,
            "tls": {"ca": pki["ca.pem"], "cert": pki["stranger.pem"], "key": pki["stranger.key"]}})
        assert_error(r, 503, "engine_unavailable")
        assert [c["name"] for c in eagle.ok("GET", "/v1/clusters")["items"]] == ["local"]
        assert not os.path.exists(os.path.join(eagle.data, "clusters", "edge"))
        assert front.handshakes_refused >= 1

        # the right one
        r = eagle.api("POST", "/v1/clusters", json={
            "name": "edge", "datacenter": "remote", "endpoint": endpoint,
            "tls": {"ca": pki["ca.pem"], "cert": pki["client.pem"], "key": pki["client.key"]}})
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["tls"] is True and c["status"] == "ready" and c["endpoint"] == endpoint
        swarm_id = engine.docker("info", "-f", "{{.Swarm.Cluster.ID}}", check=True).stdout.strip()
        assert c["swarm_id"] == swarm_id
        key = os.path.join(eagle.data, "clusters", "edge", "key.pem")
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        nodes = eagle.ok("GET", "/v1/clusters/edge/nodes")["items"]
        assert [n["hostname"] for n in nodes] == ["eagle-e2e-tls"]

        # the periodic check goes through TLS too and keeps it ready
        wait_until(lambda: eagle.ok("GET", "/v1/clusters/edge")["checked_at"] != c["checked_at"],
                   timeout=20, what="a second check of edge")
        assert eagle.ok("GET", "/v1/clusters/edge")["status"] == "ready"

        # deleting the cluster removes its key material
        assert eagle.api("DELETE", "/v1/clusters/edge").status_code == 204
        assert not os.path.exists(key)
    finally:
        front.stop()
        engine.swarm_leave()
        engine.stop()


def test_tls_input_is_checked(eagle):
    base = {"name": "edge", "datacenter": "remote"}
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    r = eagle.api("POST", "/v1/clusters", json=dict(base, endpoint="unix:///run/x.sock",
                                                    tls={"ca": pem, "cert": pem, "key": pem}))
    assert_error(r, 400, "invalid_argument", "tls")
    r = eagle.api("POST", "/v1/clusters", json=dict(base, endpoint="tcp://127.0.0.1:1",
                                                    tls={"ca": pem, "cert": "not a pem", "key": pem}))
    assert_error(r, 400, "invalid_argument", "tls.cert")
    r = eagle.api("POST", "/v1/clusters", json=dict(base, endpoint="tcp://127.0.0.1:1",
                                                    tls={"ca": pem, "cert": pem, "key": pem, "pass": "x"}))
    assert_error(r, 400, "invalid_argument", "tls.pass")
    assert [c["name"] for c in eagle.ok("GET", "/v1/clusters")["items"]] == ["local"]
