/*
 * clusters.c — /v1/clusters: a cluster is one Docker Swarm (one data centre),
 * reached through its manager's Engine API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "controllers/agents.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "model/spec.h"
#include "store/agents.h"
#include "store/store.h"

#define MAX_PEM (64 * 1024)

static json_t *cluster_out(const json_t *row)
{
    json_t *o = json_deep_copy(row);
    json_object_set_new(o, "tls", json_boolean(json_integer_value(json_object_get(row, "tls"))));
    return o;
}

int api_clusters_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *rows, *items = json_array(), *row;
    size_t i;

    if (eagle_store_cluster_list(call->worker->store, &rows, err) < 0) {
        json_decref(items);
        return -1;
    }
    json_array_foreach(rows, i, row) json_array_append_new(items, cluster_out(row));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_clusters_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    if (eagle_store_cluster_get(call->worker->store, call->params[0], &row, err) < 0)
        return -1;
    call->out = cluster_out(row);
    json_decref(row);
    return 0;
}

static int write_file(const char *path, const char *text, struct eagle_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);

    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return eagle_err_internal(err, "cannot write '%s': %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

static void remove_tls_dir(const char *dir)
{
    static const char *files[] = {"ca.pem", "cert.pem", "key.pem"};
    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s", dir, files[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

/* Validate {"ca", "cert", "key"} PEM texts and write them under DATA/clusters/<name>/. */
static int save_tls(struct eagle_call *call, const char *name, const json_t *tls, struct eagle_err *err)
{
    static const char *keys[] = {"ca", "cert", "key"};
    const char *k;
    json_t *v;
    char *dir = NULL;
    int rc = -1;

    if (!json_is_object(tls))
        return eagle_err_invalid(err, "tls",
                                 "tls must be an object {\"ca\", \"cert\", \"key\"} of PEM texts");
    json_object_foreach((json_t *)tls, k, v)
    {
        if (strcmp(k, "ca") && strcmp(k, "cert") && strcmp(k, "key")) {
            char field[64];
            snprintf(field, sizeof(field), "tls.%s", k);
            return eagle_err_invalid(err, field, "unknown field '%s'", field);
        }
    }
    for (size_t i = 0; i < 3; i++) {
        char field[16];
        snprintf(field, sizeof(field), "tls.%s", keys[i]);
        v = json_object_get(tls, keys[i]);
        if (!json_is_string(v) || json_string_length(v) > MAX_PEM ||
            !strstr(json_string_value(v), "-----BEGIN "))
            return eagle_err_invalid(err, field, "%s must be a PEM text (at most %d bytes)", field, MAX_PEM);
    }
    char *parent = xasprintf("%s/clusters", call->worker->data_dir);
    mkdir(parent, 0700);
    free(parent);
    dir = xasprintf("%s/clusters/%s", call->worker->data_dir, name);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        eagle_err_internal(err, "cannot create '%s': %s", dir, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s.pem", dir, keys[i]);
        int w = write_file(p, json_string_value(json_object_get(tls, keys[i])), err);
        free(p);
        if (w < 0) {
            remove_tls_dir(dir);
            goto out;
        }
    }
    rc = 0;
out:
    free(dir);
    return rc;
}

static int valid_datacenter(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EAGLE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

int api_clusters_create(struct eagle_call *call, struct eagle_err *err)
{
    json_t *body = NULL, *v, *tls, *row = NULL, *swarm = NULL, *version = NULL;
    struct eagle_engine *eng = NULL;
    const char *key, *name, *datacenter, *endpoint;
    char *tls_dir = NULL;
    struct eagle_engine_tls t = {0};
    char *ca = NULL, *cert = NULL, *keyf = NULL;
    int rc = -1, saved_tls = 0;

    if (eagle_api_require_admin(call, err) < 0 || eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "datacenter") && strcmp(key, "endpoint") &&
            strcmp(key, "tls")) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    name = json_string_value(json_object_get(body, "name"));
    datacenter = json_string_value(json_object_get(body, "datacenter"));
    endpoint = json_string_value(json_object_get(body, "endpoint"));
    tls = json_object_get(body, "tls");
    if (!name || !eagle_name_valid(name)) {
        eagle_err_invalid(err, "name", "name must match [a-z0-9][a-z0-9-]* (at most %d characters)",
                          EAGLE_NAME_MAX);
        goto out;
    }
    if (!datacenter || !valid_datacenter(datacenter)) {
        eagle_err_invalid(err, "datacenter", "datacenter must be 1-%d letters, digits, '.', '_' or '-'",
                          EAGLE_NAME_MAX);
        goto out;
    }
    if (!endpoint || strlen(endpoint) > 1024) {
        eagle_err_invalid(err, "endpoint", "endpoint must be unix:///path or tcp://host:port");
        goto out;
    }
    if (eagle_store_cluster_get(call->worker->store, name, &row, err) == 0) {
        eagle_err_set(err, 409, "conflict", "name", "cluster '%s' already exists", name);
        goto out;
    }
    if (tls && !json_is_null(tls)) {
        if (strncmp(endpoint, "tcp://", 6) != 0) {
            eagle_err_invalid(err, "tls", "tls applies only to a tcp:// endpoint");
            goto out;
        }
        if (save_tls(call, name, tls, err) < 0)
            goto out;
        saved_tls = 1;
        tls_dir = xasprintf("%s/clusters/%s", call->worker->data_dir, name);
        ca = xasprintf("%s/ca.pem", tls_dir);
        cert = xasprintf("%s/cert.pem", tls_dir);
        keyf = xasprintf("%s/key.pem", tls_dir);
        t = (struct eagle_engine_tls){ca, cert, keyf};
    }
    eng = eagle_engine_new(endpoint, saved_tls ? &t : NULL, 10000, err);
    if (!eng)
        goto out;
    if (eagle_engine_version(eng, &version, err) < 0)
        goto out;
    if (eagle_engine_swarm(eng, &swarm, err) < 0) {
        if (strcmp(err->code, "not_swarm_manager") == 0 || err->status == 503)
            eagle_err_set(err, 400, "invalid_argument", "endpoint",
                          "the engine at %s is not a Swarm manager (run 'docker swarm init' there, or give a "
                          "manager's endpoint)",
                          endpoint);
        goto out;
    }
    if (eagle_store_begin(call->worker->store, err) < 0)
        goto out;
    if (eagle_store_cluster_create(call->worker->store, name, datacenter, endpoint, saved_tls,
                                   json_string_value(json_object_get(swarm, "ID")),
                                   json_string_value(json_object_get(version, "Version")), err) < 0 ||
        eagle_store_audit(call->worker->store, eagle_api_username(call), "", "cluster.create", name, "ok",
                          endpoint, call->source, err) < 0 ||
        eagle_store_commit(call->worker->store, err) < 0) {
        eagle_store_rollback(call->worker->store);
        goto out;
    }
    json_decref(row);
    row = NULL;
    if (eagle_store_cluster_get(call->worker->store, name, &row, err) < 0)
        goto out;
    call->status = 201;
    call->out = cluster_out(row);
    rc = 0;
out:
    if (rc < 0 && saved_tls && tls_dir)
        remove_tls_dir(tls_dir);
    eagle_engine_free(eng);
    json_decref(body);
    json_decref(row);
    json_decref(swarm);
    json_decref(version);
    free(tls_dir);
    free(ca);
    free(cert);
    free(keyf);
    return rc;
}

int api_clusters_delete(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0];
    struct eagle_store *st = call->worker->store;

    json_t *agent = NULL;
    if (eagle_api_require_admin(call, err) < 0)
        return -1;
    if (eagle_store_agent_get(st, name, &agent, err) == 0) {
        json_decref(agent);
        return eagle_err_conflict(
            err, "cluster '%s' runs eagle-agent: remove it first (DELETE /v1/clusters/%s/agent)", name, name);
    }
    /* Leftovers of an agent install or removal that did not finish are swept only
     * while the cluster is registered: a last sweep, if the engine answers. */
    json_t *crow = NULL;
    if (eagle_store_cluster_get(st, name, &crow, err) < 0)
        return -1;
    if (eagle_agent_claim_wait(name, 15000)) {
        struct eagle_err e2;
        struct eagle_engine *eng = eagle_worker_engine(call->worker, crow, &e2);
        int removed = 0;
        if (eng && eagle_agent_remove_objects(eng, name, &removed, &e2) < 0)
            log_warn("clusters", "cluster '%s': cannot look for eagle-agent leftovers: %s", name, e2.msg);
        else if (removed)
            log_info("clusters", "cluster '%s': removed %d eagle-agent leftover(s)", name, removed);
        eagle_agent_unclaim(name);
    }
    json_decref(crow);
    if (eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_cluster_delete(st, name, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "cluster.delete", name, "ok", "", call->source,
                          err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    char *dir = xasprintf("%s/clusters/%s", call->worker->data_dir, name);
    remove_tls_dir(dir);
    free(dir);
    eagle_worker_forget(call->worker, name);
    call->status = 204;
    return 0;
}

static json_t *node_out(const json_t *n)
{
    json_t *spec = json_object_get(n, "Spec"), *desc = json_object_get(n, "Description"),
           *status = json_object_get(n, "Status"), *res = json_object_get(desc, "Resources"),
           *labels = json_object_get(spec, "Labels");
    json_t *mgr = json_object_get(n, "ManagerStatus");
    json_t *lab = json_is_object(labels) ? json_incref(labels) : json_object();

    return json_pack("{s:O?, s:O?, s:O?, s:b, s:O?, s:O?, s:O?, s:I, s:I, s:o, s:O?, s:O?, s:O?}", "id",
                     json_object_get(n, "ID"), "hostname", json_object_get(desc, "Hostname"), "role",
                     json_object_get(spec, "Role"), "leader", json_is_true(json_object_get(mgr, "Leader")),
                     "availability", json_object_get(spec, "Availability"), "state",
                     json_object_get(status, "State"), "addr", json_object_get(status, "Addr"), "nano_cpus",
                     (json_int_t)json_integer_value(json_object_get(res, "NanoCPUs")), "memory_bytes",
                     (json_int_t)json_integer_value(json_object_get(res, "MemoryBytes")), "labels", lab,
                     "engine_version", json_object_get(json_object_get(desc, "Engine"), "EngineVersion"),
                     "os", json_object_get(json_object_get(desc, "Platform"), "OS"), "arch",
                     json_object_get(json_object_get(desc, "Platform"), "Architecture"));
}

int api_clusters_nodes(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row, *nodes = NULL, *items, *n;
    struct eagle_engine *eng;
    size_t i;

    if (eagle_api_require_admin(call, err) < 0 ||
        eagle_store_cluster_get(call->worker->store, call->params[0], &row, err) < 0)
        return -1;
    eng = eagle_worker_engine(call->worker, row, err);
    json_decref(row);
    if (!eng || eagle_engine_nodes(eng, &nodes, err) < 0)
        return eagle_err_wrap(err, "list the nodes of cluster '%s'", call->params[0]);
    items = json_array();
    json_array_foreach(nodes, i, n) json_array_append_new(items, node_out(n));
    json_decref(nodes);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}
