"""TCP port bridge between two network namespaces.

    nsfwd.py LISTEN_NETNS LISTEN_PORT TARGET_HOST TARGET_PORT

Listens on 127.0.0.1:LISTEN_PORT inside the network namespace bound at LISTEN_NETNS
(a file under the test's temp dir) and relays every connection to TARGET_HOST:TARGET_PORT
as seen from the namespace this process started in. The test engines live in private
namespaces; this is how they reach the registry that listens on 127.0.0.1 of the test's
own namespace, under the same "127.0.0.1:PORT" name every node uses in image refs.

setns(2) for a network namespace switches only the calling thread, and a socket stays in
the namespace it was created in: so we switch, create the listener, and switch back.
"""
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def relay(client, target):
    try:
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


def main():
    ns_path, port, host, target_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(ns_path, os.O_RDONLY)
    setns(there)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    setns(home)
    os.close(there)
    os.close(home)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client, (host, target_port)), daemon=True).start()


if __name__ == "__main__":
    main()
