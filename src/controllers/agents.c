/*
 * agents.c — see agents.h.
 */
#include "controllers/agents.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/claims.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon.h"
#include "store/agents.h"

int eagle_agent_claim(const char *cluster)
{
    return eagle_agent_claim_wait(cluster, 0);
}

int eagle_agent_claim_wait(const char *cluster, int timeout_ms)
{
    char key[96];
    snprintf(key, sizeof(key), "agent:%s", cluster); /* service names have no ':' */
    return eagle_claim_wait(key, timeout_ms);
}

void eagle_agent_unclaim(const char *cluster)
{
    char key[96];
    snprintf(key, sizeof(key), "agent:%s", cluster);
    eagle_unclaim(key);
}

/* GET /<what> filtered on eagle.agent=<cluster> and this Eagle's instance. */
static int list_objects(struct eagle_engine *eng, const char *what, const char *cluster, json_t **out,
                        struct eagle_err *err)
{
    char path[512];
    /* {"label":["eagle.agent=<cluster>","eagle.instance=<id>"]}, URL-encoded;
     * cluster names are [a-z0-9-] and instance ids hex */
    snprintf(
        path, sizeof(path),
        "/%s?filters=%%7B%%22label%%22%%3A%%5B%%22eagle.agent%%3D%s%%22%%2C%%22eagle.instance%%3D%s%%22%%5D%%"
        "7D",
        what, cluster, eagle_daemon_instance());
    return eagle_engine_call(eng, "GET", path, NULL, out, err);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *secret_name_of(const json_t *secret)
{
    return str(json_object_get(secret, "Spec"), "Name");
}

/* Is `value` the `key` of some row of `rows`? */
static int named(const json_t *rows, const char *key, const char *value)
{
    const json_t *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        if (value && str(r, key) && strcmp(str(r, key), value) == 0)
            return 1;
    }
    return 0;
}

/* Remove the services and secrets in the lists that no row of `rows` (may be
 * NULL) names; counts into *removed. */
static int remove_unnamed(struct eagle_engine *eng, const char *cluster, const json_t *services,
                          const json_t *secrets, const json_t *rows, int *removed, struct eagle_err *err)
{
    const json_t *x;
    char path[128];
    size_t i;

    json_array_foreach(services, i, x)
    {
        const char *id = str(x, "ID");
        struct eagle_err e2;
        if (!id || named(rows, "service_id", id))
            continue;
        if (eagle_engine_service_delete(eng, id, &e2) < 0) {
            if (e2.status == 404)
                continue;
            *err = e2;
            return -1;
        }
        (*removed)++;
    }
    json_array_foreach(secrets, i, x)
    {
        const char *id = str(x, "ID"), *name = secret_name_of(x);
        struct eagle_err e2;
        if (!id || named(rows, "secret_name", name))
            continue;
        snprintf(path, sizeof(path), "/secrets/%.64s", id);
        if (eagle_engine_call(eng, "DELETE", path, NULL, NULL, &e2) == 0)
            (*removed)++;
        else if (e2.status != 404) /* still used by a service on its way out: the next pass */
            log_warn("agents", "cannot remove secret %s of the agent of '%s': %s", name ? name : id, cluster,
                     e2.msg);
    }
    return 0;
}

int eagle_agent_remove_objects(struct eagle_engine *eng, const char *cluster, int *removed,
                               struct eagle_err *err)
{
    json_t *services = NULL, *secrets = NULL;
    int n = 0, rc = -1;

    if (list_objects(eng, "services", cluster, &services, err) == 0 &&
        remove_unnamed(eng, cluster, services, NULL, NULL, &n, err) == 0 &&
        list_objects(eng, "secrets", cluster, &secrets, err) == 0)
        rc = remove_unnamed(eng, cluster, NULL, secrets, NULL, &n, err);
    if (removed)
        *removed = n;
    json_decref(services);
    json_decref(secrets);
    return rc;
}

/* The service that runs the agent on `node` alone, with the secret holding its token. */
static json_t *node_spec(const json_t *agent, const char *node, const char *secret_id,
                         const char *secret_name)
{
    const char *cluster = str(agent, "cluster");
    char *env_url = xasprintf("EAGLE_AGENT_URL=%s", str(agent, "url")),
         *env_cluster = xasprintf("EAGLE_AGENT_CLUSTER=%s", cluster),
         *name = xasprintf("eagle-agent-%s", node), *constraint = xasprintf("node.id==%s", node);
    json_t *spec = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:{s:{}},"
        " s:{s:{s:s, s:[s, s, s, s, s], s:[s, s], s:[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}],"
        "       s:[{s:{s:s, s:s, s:s, s:i}, s:s, s:s}]},"
        "    s:[{s:s}], s:{s:s, s:I}, s:{s:[s]}}}",
        "Name", name, "Labels", "eagle.agent", cluster, "eagle.agent.node", node, "eagle.instance",
        eagle_daemon_instance(), "Mode", "Global", "TaskTemplate", "ContainerSpec", "Image",
        str(agent, "image"), "Env", env_url, env_cluster,
        "EAGLE_AGENT_TOKEN_FILE=/run/secrets/eagle-agent-token",
        "EAGLE_AGENT_ENGINE=unix:///var/run/docker.sock", "EAGLE_AGENT_PROC=/host/proc", "CapabilityAdd",
        "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "Mounts", "Type", "bind", "Source", str(agent, "engine_socket"),
        "Target", "/var/run/docker.sock", "ReadOnly", 0, "Type", "bind", "Source", str(agent, "proc"),
        "Target", "/host/proc", "ReadOnly", 1, "Secrets", "File", "Name", "eagle-agent-token", "UID", "0",
        "GID", "0", "Mode", 0400, "SecretID", secret_id, "SecretName", secret_name, "Networks", "Target",
        "host", "RestartPolicy", "Condition", "any", "Delay", (json_int_t)2000000000, "Placement",
        "Constraints", constraint);
    free(env_url);
    free(env_cluster);
    free(name);
    free(constraint);
    return spec;
}

/* Start the agent of one node: a new token in a new secret, the node's
 * service, then the row naming both. On failure what was made is removed
 * (or, after a crash, swept by the next pass). */
static int start_node(struct eagle_engine *eng, struct eagle_store *st, const json_t *agent, const char *node,
                      struct eagle_err *err)
{
    const char *cluster = str(agent, "cluster");
    unsigned char raw[32];
    char token[65], hash[129], secret_name[96], path[128],
        b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    json_t *secret = NULL, *spec = NULL;
    const char *secret_id;
    char *service_id = NULL;
    int rc = -1;

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    eagle_api_token_hash(token, hash);
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)token, strlen(token),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(token, sizeof(token));
    snprintf(secret_name, sizeof(secret_name), "eagle-agent-%.25s-%.8s", node, hash);
    json_t *sreq =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "Name", secret_name, "Data", b64, "Labels", "eagle.agent",
                  cluster, "eagle.agent.node", node, "eagle.instance", eagle_daemon_instance());
    sodium_memzero(b64, sizeof(b64));
    int src = eagle_engine_call(eng, "POST", "/secrets/create", sreq, &secret, err);
    json_decref(sreq);
    if (src < 0 || !(secret_id = str(secret, "ID"))) {
        eagle_err_wrap(err, "create the secret of node %.12s's agent", node);
        goto out;
    }
    if (!(spec = node_spec(agent, node, secret_id, secret_name))) {
        eagle_err_internal(err, "cannot build the agent's service spec");
        goto undo;
    }
    if (eagle_engine_service_create(eng, spec, &service_id, err) < 0) {
        if (err->status == 409)
            eagle_err_set(
                err, 409, "conflict", NULL,
                "cluster '%s' already has a service named 'eagle-agent-%s' that is not this Eagle's agent",
                cluster, node);
        else
            eagle_err_wrap(err, "create the service of node %.12s's agent", node);
        goto undo;
    }
    eagle_daemon_fault_point("agent-in-engine");
    if (eagle_store_agent_node_put(st, cluster, node, hash, service_id, secret_name, err) < 0)
        goto undo;
    log_info("agents", "eagle-agent started on node %.12s of cluster '%s' (service %.12s)", node, cluster,
             service_id);
    rc = 0;
    goto out;
undo : {
    struct eagle_err e2;
    if (service_id && eagle_engine_service_delete(eng, service_id, &e2) < 0 && e2.status != 404)
        log_warn("agents", "cannot remove service %.12s (the next pass will): %s", service_id, e2.msg);
    snprintf(path, sizeof(path), "/secrets/%.64s", secret_id);
    if (eagle_engine_call(eng, "DELETE", path, NULL, NULL, &e2) < 0 && e2.status != 404)
        log_warn("agents", "cannot remove secret %s (the next pass will): %s", secret_name, e2.msg);
}
out:
    json_decref(secret);
    json_decref(spec);
    free(service_id);
    return rc;
}

int eagle_agent_converge(struct eagle_engine *eng, struct eagle_store *st, const json_t *agent, int *created,
                         int *removed, struct eagle_err *err)
{
    const char *cluster = str(agent, "cluster"), *exclude = str(agent, "exclude_node");
    json_t *rows = NULL, *nodes = NULL, *services = NULL, *secrets = NULL, *keep = json_array(), *r, *n;
    int made = 0, gone = 0, failed = 0, rc = -1;
    size_t i;

    if (eagle_store_agent_node_list(st, cluster, &rows, err) < 0 ||
        eagle_engine_nodes(eng, &nodes, err) < 0 ||
        list_objects(eng, "services", cluster, &services, err) < 0 ||
        list_objects(eng, "secrets", cluster, &secrets, err) < 0)
        goto out;

    /* Rows whose node left the swarm (or is eagled's own), or whose service
     * someone removed, go first; their objects are then unnamed. */
    json_array_foreach(rows, i, r)
    {
        const char *node = str(r, "node");
        int excluded = exclude && strcmp(exclude, node) == 0, in_swarm = named(nodes, "ID", node);
        int running = named(services, "ID", str(r, "service_id"));
        if (in_swarm && !excluded && running) {
            json_array_append(keep, r);
            continue;
        }
        if (eagle_store_agent_node_delete(st, cluster, node, err) < 0)
            goto out;
        log_info("agents", "node %.12s of cluster '%s': %s", node, cluster,
                 excluded   ? "eagled checks it itself: removing its agent"
                 : in_swarm ? "its agent's service is gone: starting a new one"
                            : "left the swarm: removing its agent");
    }
    if (remove_unnamed(eng, cluster, services, secrets, keep, &gone, err) < 0)
        goto out;

    json_array_foreach(nodes, i, n)
    {
        const char *node = str(n, "ID");
        if (!node || (exclude && strcmp(exclude, node) == 0) || named(keep, "node", node))
            continue;
        struct eagle_err e2;
        if (start_node(eng, st, agent, node, &e2) == 0) {
            made++;
        } else if (failed++ == 0) { /* the other nodes still get theirs */
            *err = e2;
        } else {
            log_warn("agents", "node %.12s of cluster '%s': %s", node, cluster, e2.msg);
        }
    }
    rc = failed ? -1 : 0;
out:
    if (created)
        *created = made;
    if (removed)
        *removed = gone;
    json_decref(rows);
    json_decref(nodes);
    json_decref(services);
    json_decref(secrets);
    json_decref(keep);
    return rc;
}

void eagle_agent_sweep(struct eagle_worker *w, const json_t *cluster)
{
    const char *name = str(cluster, "name");
    struct eagle_engine *eng;
    struct eagle_err err;
    json_t *agent = NULL;
    int created = 0, removed = 0;

    if (!name || !eagle_agent_claim(name))
        return; /* an install or removal is under way */
    if (eagle_store_agent_get(w->store, name, &agent, &err) < 0 && err.status != 404) {
        log_warn("agents", "cluster '%s': %s", name, err.msg);
        goto out;
    }
    if (!(eng = eagle_worker_engine(w, cluster, &err)))
        goto fail;
    if (agent ? eagle_agent_converge(eng, w->store, agent, &created, &removed, &err) < 0
              : eagle_agent_remove_objects(eng, name, &removed, &err) < 0)
        goto fail;
    if (removed)
        log_info("agents", "removed %d eagle-agent object(s) no record names from cluster '%s'", removed,
                 name);
    goto out;
fail:
    log_warn("agents", "cluster '%s': %s", name, err.msg);
out:
    json_decref(agent);
    eagle_agent_unclaim(name);
}
