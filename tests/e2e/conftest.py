"""Fixtures of Eagle's end-to-end suite.

`cluster_env` (session): a private two-node Docker Swarm (manager + worker, each
dockerd in its own network namespace), a registry holding the test images, all under
one temporary directory; see eaglelib.py for how and why. Nothing here touches an
engine the machine already runs.

`eagle` (per test): a fresh eagled on its own data directory and port, driving the
manager, logged in as admin. At teardown it deletes what the test created, stops
eagled, and fails the test if eagled crashed, exited badly, or reported a sanitizer
error.

Environment:
  EAGLE_BUILD=DIR    where eagled and eaglectl are (default: <repo>/build)
  EAGLE_E2E_KEEP=1   leave the engines, registry and temp dir behind for debugging
"""
import os
import shutil
import signal

import pytest

import eaglelib
from eaglelib import ClusterEnv, Eagle, reap_stale_dirs

KEEP = os.environ.get("EAGLE_E2E_KEEP") == "1"


def _say(msg):
    print(msg, flush=True)


@pytest.fixture(scope="session")
def cluster_env():
    reap_stale_dirs(log=_say)
    env = ClusterEnv()
    try:
        env.start()
    except BaseException:
        if KEEP:
            _keep(env)
        else:
            env.stop(log=_say)
        raise
    yield env
    if KEEP:
        _keep(env)
    else:
        env.stop(log=_say)


def _keep(env):
    open(os.path.join(env.tmp, "keep"), "w").close()
    _say("\neagle-e2e: EAGLE_E2E_KEEP=1, everything left in %s (manager %s, worker %s, registry %s);"
         "\n  clean up with: %s -c \"import sys; sys.path.insert(0, '%s'); import eaglelib; "
         "eaglelib.cleanup_dir('%s')\"" % (env.tmp, env.sock, env.worker_sock, env.registry,
                                            eaglelib.PYTHON, eaglelib.HERE, env.tmp))


@pytest.fixture(scope="session")
def eagle_build(cluster_env):
    """A copy of eagled, eaglectl and eagle-agent taken when the session starts, so a rebuild
    running alongside the suite cannot pull the binaries from under it."""
    src = os.environ.get("EAGLE_BUILD") or os.path.join(eaglelib.REPO, "build")
    dst = os.path.join(cluster_env.tmp, "bin")
    os.makedirs(dst, exist_ok=True)
    for name in ("eagled", "eaglectl", "eagle-agent"):
        if os.path.exists(os.path.join(src, name)):
            shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
    return dst


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _engines_alive(cluster_env):
    """The test world's own dockerd died once on this 2-core machine under the sanitizer
    suite, with no sign of why in what the suite kept. If it happens again, say so at
    once with the engine's own log, instead of a bare 'connection refused' per test."""
    for e in (cluster_env.manager, cluster_env.worker):
        if not (e.running() and e.ping()):
            pytest.fail("test engine %s is not answering (exit status %s); its log ends:\n%s"
                        % (e.name, e.proc.poll() if e.proc else None, e.log_tail(80)), pytrace=False)


@pytest.fixture
def eagle(cluster_env, eagle_build, request):
    _engines_alive(cluster_env)
    # A test starts from an engine without Eagle's services (a previous test's
    # leftovers would otherwise be adopted or collide with names).
    leftovers = cluster_env.engine_services("eagle.service") + cluster_env.engine_services("eagle.agent")
    for s in leftovers:
        cluster_env.docker("service", "rm", s["ID"])
    daemon = Eagle(cluster_env, build=eagle_build)
    try:
        daemon.start()
    except BaseException:
        daemon.stop(sig=signal.SIGKILL)
        raise
    yield daemon
    _finish(daemon, request)


def _finish(daemon, request):
    problems = []
    try:
        daemon.remove_all_services()
    except Exception as e:  # noqa: BLE001 - reported below
        problems.append("cleaning up services: %s" % e)
    daemon.stop()
    problems += daemon.problems
    reports = daemon.sanitizer_reports()
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed or problems or reports:
        _say("\n--- eagled log (%s), last lines ---\n%s" % (daemon.logpath, daemon.log()[-6000:]))
    if reports:
        problems.append("sanitizer report in eagled's log: %s" % ", ".join(reports))
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
