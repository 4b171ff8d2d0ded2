/*
 * agents.c — eagle-agent: installing it on a cluster (PUT/GET/DELETE
 * /v1/clusters/{name}/agent, platform admins), and the agents' own call
 * (POST /v1/agent/sync), authenticated by a node's agent token instead of a
 * user's.
 *
 * Each node gets its own Swarm service and its own token, 32 random bytes
 * shown to nobody: eagled puts it in a Swarm secret only that node's service
 * mounts, and keeps only its keyed hash, with the node it belongs to
 * (controllers/agents.c). Installing records the agent, then starts the
 * nodes' agents; installing again replaces them all (and so rotates every
 * token). A failed install leaves nothing; one cut short by a crash is
 * finished by the reconciler, which also starts the agent of a node that
 * joins later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "controllers/agents.h"
#include "controllers/health.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon.h"
#include "engine/engine.h"
#include "model/spec.h"
#include "store/agents.h"
#include "store/store.h"

/* How long an install or removal waits for the reconciler's pass over the
 * same cluster (or another call) to let go of the agent. */
#define CLAIM_WAIT_MS 15000

static int claim(const char *cluster, struct eagle_err *err)
{
    if (eagle_agent_claim_wait(cluster, CLAIM_WAIT_MS))
        return 0;
    return eagle_err_set(err, 409, "conflict", NULL, "the agent of cluster '%s' is being changed: try again",
                         cluster);
}

static int agent_out(struct eagle_store *st, const json_t *row, json_t **out, struct eagle_err *err)
{
    const char *cluster = json_string_value(json_object_get(row, "cluster"));
    json_t *nodes;
    if (eagle_store_agent_node_list(st, cluster, &nodes, err) < 0)
        return -1;
    *out = json_deep_copy(row);
    json_object_set_new(*out, "nodes", nodes);
    json_object_set_new(*out, "agents", eagle_health_agents(cluster));
    return 0;
}

int api_cluster_agent_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    int rc;

    if (eagle_api_require_admin(call, err) < 0 ||
        eagle_store_agent_get(call->worker->store, call->params[0], &row, err) < 0)
        return -1;
    rc = agent_out(call->worker->store, row, &call->out, err);
    json_decref(row);
    return rc;
}

/* A value with no whitespace or control characters, 1..max bytes. */
static int plain(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

static int abs_path(const char *s)
{
    return plain(s, 1024) && s[0] == '/' && !strstr(s, "/../") &&
           strcmp(s + strlen(s) - (strlen(s) > 2 ? 3 : 0), "/..");
}

/* Forget the agent row after a failed install (its objects are gone already). */
static void undo_row(struct eagle_store *st, const char *cluster)
{
    struct eagle_err e2;
    if (eagle_store_begin(st, &e2) < 0 || eagle_store_agent_delete(st, cluster, &e2) < 0 ||
        eagle_store_commit(st, &e2) < 0) {
        eagle_store_rollback(st);
        log_warn("agents", "cannot forget the failed agent install on '%s': %s", cluster, e2.msg);
    }
}

/* The audit entry of a change already made (its failure is only logged). */
static void audit(struct eagle_store *st, struct eagle_call *call, const char *action, const char *cluster,
                  const char *detail)
{
    struct eagle_err e2;
    if (eagle_store_begin(st, &e2) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", action, cluster, "ok", detail, call->source,
                          &e2) < 0 ||
        eagle_store_commit(st, &e2) < 0) {
        eagle_store_rollback(st);
        log_warn("agents", "cannot audit %s of '%s': %s", action, cluster, e2.msg);
    }
}

int api_cluster_agent_put(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"image", "url", "engine_socket", "proc", "all_nodes", NULL};
    const char *cluster = call->params[0];
    struct eagle_store *st = call->worker->store;
    json_t *body = NULL, *crow = NULL, *info = NULL, *row = NULL;
    struct eagle_engine *eng;
    int rc = -1, claimed = 0, created = 0;

    if (eagle_api_require_admin(call, err) < 0 || eagle_api_body(call, &body, err) < 0 ||
        eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    const char *image = json_string_value(json_object_get(body, "image"));
    const char *url = json_string_value(json_object_get(body, "url"));
    const char *sock = json_string_value(json_object_get(body, "engine_socket"));
    const char *proc = json_string_value(json_object_get(body, "proc"));
    json_t *all = json_object_get(body, "all_nodes");
    int has_sock =
        json_object_get(body, "engine_socket") && !json_is_null(json_object_get(body, "engine_socket"));
    int has_proc = json_object_get(body, "proc") && !json_is_null(json_object_get(body, "proc"));
    if (!plain(image, 255)) {
        eagle_err_invalid(err, "image",
                          "'image' must name the eagle-agent image (1-255 characters, no spaces)");
        goto out;
    }
    if (!plain(url, 512) || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strlen(url) < 9) {
        eagle_err_invalid(err, "url",
                          "'url' must be the http:// or https:// address at which agents reach eagled "
                          "(at most 512 characters)");
        goto out;
    }
    if (has_sock && !abs_path(sock)) {
        eagle_err_invalid(err, "engine_socket", "'engine_socket' must be an absolute path on the nodes");
        goto out;
    }
    if (has_proc && !abs_path(proc)) {
        eagle_err_invalid(err, "proc", "'proc' must be an absolute path on the nodes");
        goto out;
    }
    if (all && !json_is_null(all) && !json_is_boolean(all)) {
        eagle_err_invalid(err, "all_nodes", "'all_nodes' must be true or false");
        goto out;
    }
    if (!sock)
        sock = "/var/run/docker.sock";
    if (!proc)
        proc = "/proc";
    if (eagle_store_cluster_get(st, cluster, &crow, err) < 0)
        goto out;
    if (!(eng = eagle_worker_engine(call->worker, crow, err)) || eagle_engine_info(eng, &info, err) < 0) {
        eagle_err_wrap(err, "reach cluster '%s'", cluster);
        goto out;
    }
    /* eagled checks the tasks of its own node itself (when it shares the engine's host) */
    const char *local = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
    int unix_socket = strncmp(json_string_value(json_object_get(crow, "endpoint")) ?: "", "unix://", 7) == 0;
    const char *exclude = unix_socket && local && !json_is_true(all) ? local : "";

    if (claim(cluster, err) < 0)
        goto out;
    claimed = 1;
    if (eagle_agent_remove_objects(eng, cluster, NULL, err) < 0) {
        eagle_err_wrap(err, "remove the previous agent of cluster '%s'", cluster);
        goto out;
    }
    /* The row first: a crash from here on leaves an install the reconciler finishes. */
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_agent_put(st, cluster, image, url, sock, proc, exclude, eagle_api_username(call), err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_health_forget_agents(cluster); /* the old tokens are gone with their secrets */
    if (eagle_store_agent_get(st, cluster, &row, err) < 0)
        goto out;
    if (eagle_agent_converge(eng, st, row, &created, NULL, err) < 0) {
        /* undone in the order a crash would leave right: the row, then what it named */
        struct eagle_err e2;
        undo_row(st, cluster);
        if (eagle_agent_remove_objects(eng, cluster, NULL, &e2) < 0)
            log_warn("agents", "cannot undo the agent install on '%s' (the reconciler will): %s", cluster,
                     e2.msg);
        goto out;
    }
    audit(st, call, "cluster.agent.install", cluster, image);
    log_info("agents", "eagle-agent %s installed on cluster '%s' (%d node(s)), reaching eagled at %s", image,
             cluster, created, url);
    if (agent_out(st, row, &call->out, err) < 0)
        goto out;
    rc = 0;
out:
    if (claimed)
        eagle_agent_unclaim(cluster);
    json_decref(body);
    json_decref(crow);
    json_decref(info);
    json_decref(row);
    return rc;
}

int api_cluster_agent_delete(struct eagle_call *call, struct eagle_err *err)
{
    const char *cluster = call->params[0];
    struct eagle_store *st = call->worker->store;
    json_t *crow = NULL, *row = NULL;
    struct eagle_engine *eng;
    int rc = -1, claimed = 0;

    if (eagle_api_require_admin(call, err) < 0 || eagle_store_cluster_get(st, cluster, &crow, err) < 0 ||
        eagle_store_agent_get(st, cluster, &row, err) < 0)
        goto out;
    if (claim(cluster, err) < 0)
        goto out;
    claimed = 1;
    /* The engine's objects first, so a failure is the caller's error and leaves the
     * agent installed; a crash after them leaves a row the reconciler serves again
     * (the removal did not answer, and did not happen). */
    if (!(eng = eagle_worker_engine(call->worker, crow, err)) ||
        eagle_agent_remove_objects(eng, cluster, NULL, err) < 0) {
        eagle_err_wrap(err, "remove the agent from cluster '%s'", cluster);
        goto out;
    }
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_agent_delete(st, cluster, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "cluster.agent.remove", cluster, "ok", "",
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_health_forget_agents(cluster);
    call->status = 204;
    rc = 0;
out:
    if (claimed)
        eagle_agent_unclaim(cluster);
    json_decref(crow);
    json_decref(row);
    return rc;
}

int api_agent_sync(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"cluster", "node", "hostname", "version", "results", "killed", NULL};
    json_t *body = NULL, *row = NULL;
    const char *a = call->authorization;
    char hash[129];
    int rc = -1;

    if (!a || strncmp(a, "Bearer ", 7) != 0 || strlen(a + 7) != 64)
        return eagle_err_set(err, 401, "unauthenticated", NULL,
                             "an agent token is required (Authorization: Bearer)");
    if (eagle_api_body(call, &body, err) < 0 || eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    const char *cluster = json_string_value(json_object_get(body, "cluster"));
    if (!cluster || !eagle_name_valid(cluster)) {
        eagle_err_invalid(err, "cluster", "'cluster' must name the agent's cluster");
        goto out;
    }
    eagle_api_token_hash(a + 7, hash);
    if (eagle_store_agent_node_by_token(call->worker->store, hash, &row, err) < 0 && err->status != 404)
        goto out; /* the store's own trouble */
    if (!row || strcmp(json_string_value(json_object_get(row, "cluster")) ?: "", cluster) != 0) {
        /* one answer for "no such cluster" and "wrong token" */
        eagle_err_set(err, 401, "unauthenticated", NULL, "not a valid agent token for cluster '%s'", cluster);
        goto out;
    }
    const char *node = json_string_value(json_object_get(body, "node"));
    const char *own = json_string_value(json_object_get(row, "node"));
    if (node && *node && strlen(node) <= 64 && !strchr(node, '/') && strcmp(node, own) != 0) {
        /* (a malformed node is the 400 of the checks below) */
        eagle_err_set(err, 403, "forbidden", "node", "this token belongs to the agent of node %s, not %.64s",
                      own, node);
        goto out;
    }
    if (eagle_health_agent_sync(cluster, body, &call->out, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(body);
    json_decref(row);
    return rc;
}
