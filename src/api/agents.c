/*
 * agents.c — eagle-agent: installing it on a cluster as a global Swarm
 * service (PUT/GET/DELETE /v1/clusters/{name}/agent, platform admins), and
 * the agents' own call (POST /v1/agent/sync), authenticated by the cluster's
 * agent token instead of a user's.
 *
 * The token is 32 random bytes, shown to nobody: eagled puts it in a Swarm
 * secret the agent service mounts, and keeps only its keyed hash. Installing
 * again replaces the service, the secret and the token (so it also rotates
 * the token). Engine objects are made before the store records them and are
 * removed again when a later step fails; a crash in between leaves objects no
 * row names, which the reconciler sweeps (controllers/agents.c).
 */
#include <sodium.h>
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

#define AGENT_SERVICE "eagle-agent"

static json_t *agent_out(const json_t *row)
{
    json_t *o = json_deep_copy(row);
    json_object_del(o, "token_hash");
    json_object_set_new(o, "agents", eagle_health_agents(json_string_value(json_object_get(row, "cluster"))));
    return o;
}

int api_cluster_agent_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    if (eagle_api_require_admin(call, err) < 0 ||
        eagle_store_agent_get(call->worker->store, call->params[0], &row, err) < 0)
        return -1;
    call->out = agent_out(row);
    json_decref(row);
    return 0;
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

int api_cluster_agent_put(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"image", "url", "engine_socket", "proc", "all_nodes", NULL};
    const char *cluster = call->params[0];
    struct eagle_store *st = call->worker->store;
    json_t *body = NULL, *crow = NULL, *info = NULL, *spec = NULL, *secret = NULL, *row = NULL;
    struct eagle_engine *eng;
    char *service_id = NULL;
    const char *secret_id = NULL;
    unsigned char raw[32];
    char token[65], hash[129], b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)],
        secret_name[128];
    int rc = -1, claimed = 0;

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
    const char *local = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
    int unix_socket = strncmp(json_string_value(json_object_get(crow, "endpoint")) ?: "", "unix://", 7) == 0;
    if (!eagle_agent_claim(cluster)) {
        eagle_err_set(err, 409, "conflict", NULL, "the agent of cluster '%s' is being changed: try again",
                      cluster);
        goto out;
    }
    claimed = 1;
    if (eagle_agent_remove_objects(eng, cluster, NULL, NULL, NULL, err) < 0) {
        eagle_err_wrap(err, "remove the previous agent of cluster '%s'", cluster);
        goto out;
    }

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
    eagle_api_token_hash(token, hash);
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)token, strlen(token),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(raw, sizeof(raw));
    eagle_agent_secret_name(secret_name, sizeof(secret_name), cluster, hash);
    json_t *sreq = json_pack("{s:s, s:s, s:{s:s, s:s}}", "Name", secret_name, "Data", b64, "Labels",
                             "eagle.agent", cluster, "eagle.instance", eagle_daemon_instance());
    sodium_memzero(b64, sizeof(b64));
    int src = eagle_engine_call(eng, "POST", "/secrets/create", sreq, &secret, err);
    json_decref(sreq);
    if (src < 0 || !(secret_id = json_string_value(json_object_get(secret, "ID")))) {
        eagle_err_wrap(err, "create the agent's secret on cluster '%s'", cluster);
        goto out;
    }

    char *env_url = xasprintf("EAGLE_AGENT_URL=%s", url),
         *env_cluster = xasprintf("EAGLE_AGENT_CLUSTER=%s", cluster);
    spec = json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:{}},"
        " s:{s:{s:s, s:[s, s, s, s, s], s:[s, s], s:[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}],"
        "       s:[{s:{s:s, s:s, s:s, s:i}, s:s, s:s}]},"
        "    s:[{s:s}], s:{s:s, s:I}, s:{s:[]}}}",
        "Name", AGENT_SERVICE, "Labels", "eagle.agent", cluster, "eagle.instance", eagle_daemon_instance(),
        "Mode", "Global", "TaskTemplate", "ContainerSpec", "Image", image, "Env", env_url, env_cluster,
        "EAGLE_AGENT_TOKEN_FILE=/run/secrets/eagle-agent-token",
        "EAGLE_AGENT_ENGINE=unix:///var/run/docker.sock", "EAGLE_AGENT_PROC=/host/proc", "CapabilityAdd",
        "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "Mounts", "Type", "bind", "Source", sock, "Target",
        "/var/run/docker.sock", "ReadOnly", 0, "Type", "bind", "Source", proc, "Target", "/host/proc",
        "ReadOnly", 1, "Secrets", "File", "Name", "eagle-agent-token", "UID", "0", "GID", "0", "Mode", 0400,
        "SecretID", secret_id, "SecretName", secret_name, "Networks", "Target", "host", "RestartPolicy",
        "Condition", "any", "Delay", (json_int_t)2000000000, "Placement", "Constraints");
    free(env_url);
    free(env_cluster);
    if (!spec) {
        eagle_err_internal(err, "cannot build the agent's service spec");
        goto undo;
    }
    if (unix_socket && local && !json_is_true(all)) { /* eagled checks its own node itself */
        char *c = xasprintf("node.id!=%s", local);
        json_array_append_new(
            json_object_get(json_object_get(json_object_get(spec, "TaskTemplate"), "Placement"),
                            "Constraints"),
            json_string(c));
        free(c);
    }
    if (eagle_engine_service_create(eng, spec, &service_id, err) < 0) {
        if (err->status == 409)
            eagle_err_set(err, 409, "conflict", NULL,
                          "cluster '%s' already has a service named '%s' that is not Eagle's agent", cluster,
                          AGENT_SERVICE);
        else
            eagle_err_wrap(err, "create the agent service on cluster '%s'", cluster);
        goto undo;
    }
    eagle_daemon_fault_point("agent-in-engine");
    if (eagle_store_begin(st, err) < 0)
        goto undo;
    if (eagle_store_agent_put(st, cluster, hash, image, url, sock, proc, service_id, eagle_api_username(call),
                              err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "cluster.agent.install", cluster, "ok", image,
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto undo;
    }
    if (eagle_store_agent_get(st, cluster, &row, err) < 0)
        goto out;
    log_info("agents", "eagle-agent %s installed on cluster '%s' (service %.12s), reaching eagled at %s",
             image, cluster, service_id, url);
    call->out = agent_out(row);
    rc = 0;
    goto out;
undo : {
    struct eagle_err e2;
    if (eagle_agent_remove_objects(eng, cluster, NULL, NULL, NULL, &e2) < 0)
        log_warn("agents", "cannot undo the agent install on '%s' (the reconciler will): %s", cluster,
                 e2.msg);
}
out:
    if (claimed)
        eagle_agent_unclaim(cluster);
    sodium_memzero(token, sizeof(token));
    json_decref(body);
    json_decref(crow);
    json_decref(info);
    json_decref(spec);
    json_decref(secret);
    json_decref(row);
    free(service_id);
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
    if (!eagle_agent_claim(cluster)) {
        eagle_err_set(err, 409, "conflict", NULL, "the agent of cluster '%s' is being changed: try again",
                      cluster);
        goto out;
    }
    claimed = 1;
    if (!(eng = eagle_worker_engine(call->worker, crow, err)) ||
        eagle_agent_remove_objects(eng, cluster, NULL, NULL, NULL, err) < 0) {
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

/* POST /v1/agent/sync: "Authorization: Bearer <agent token>" and {"cluster", ...}. */
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
    if (eagle_store_agent_get(call->worker->store, cluster, &row, err) < 0 ||
        strlen(json_string_value(json_object_get(row, "token_hash")) ?: "") != strlen(hash) ||
        sodium_memcmp(json_string_value(json_object_get(row, "token_hash")), hash, strlen(hash)) != 0) {
        /* one answer for "no such cluster" and "wrong token" */
        eagle_err_set(err, 401, "unauthenticated", NULL, "not a valid agent token for cluster '%s'", cluster);
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
