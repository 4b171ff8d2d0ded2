/*
 * agents.c — see agents.h.
 */
#include "controllers/agents.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "daemon.h"
#include "store/agents.h"

int eagle_agent_claim(const char *cluster)
{
    char key[96];
    snprintf(key, sizeof(key), "agent:%s", cluster); /* service names have no ':' */
    return eagle_daemon_claim(key);
}

void eagle_agent_unclaim(const char *cluster)
{
    char key[96];
    snprintf(key, sizeof(key), "agent:%s", cluster);
    eagle_daemon_unclaim(key);
}

void eagle_agent_secret_name(char *buf, size_t n, const char *cluster, const char *token_hash)
{
    snprintf(buf, n, "eagle-agent-token-%s-%.8s", cluster, token_hash);
}

/* GET /<what> filtered on eagle.agent=<cluster> and this Eagle's instance. */
static int list_objects(struct eagle_engine *eng, const char *what, const char *cluster, json_t **out,
                        struct eagle_err *err)
{
    char path[512];
    /* {"label":["eagle.agent=<cluster>","eagle.instance=<id>"]}, URL-encoded;
     * cluster names are [a-z0-9-] and instance ids hex */
    snprintf(path, sizeof(path),
             "/%s?filters=%%7B%%22label%%22%%3A%%5B%%22eagle.agent%%3D%s%%22%%2C%%22eagle.instance%%3D%s%%22%"
             "%5D%%7D",
             what, cluster, eagle_daemon_instance());
    return eagle_engine_call(eng, "GET", path, NULL, out, err);
}

int eagle_agent_remove_objects(struct eagle_engine *eng, const char *cluster, const char *keep_service,
                               const char *keep_secret, int *removed, struct eagle_err *err)
{
    json_t *list = NULL, *x;
    char path[128];
    size_t i;
    int n = 0;

    if (removed)
        *removed = 0;
    if (list_objects(eng, "services", cluster, &list, err) < 0)
        return -1;
    json_array_foreach(list, i, x)
    {
        const char *id = json_string_value(json_object_get(x, "ID"));
        struct eagle_err e2;
        if (!id || (keep_service && strcmp(id, keep_service) == 0))
            continue;
        if (eagle_engine_service_delete(eng, id, &e2) < 0) {
            if (e2.status == 404)
                continue;
            *err = e2;
            json_decref(list);
            return -1;
        }
        n++;
    }
    json_decref(list);
    list = NULL;
    if (list_objects(eng, "secrets", cluster, &list, err) < 0)
        return -1;
    json_array_foreach(list, i, x)
    {
        const char *id = json_string_value(json_object_get(x, "ID"));
        const char *name = json_string_value(json_object_get(json_object_get(x, "Spec"), "Name"));
        struct eagle_err e2;
        if (!id || (keep_secret && name && strcmp(name, keep_secret) == 0))
            continue;
        snprintf(path, sizeof(path), "/secrets/%.64s", id);
        if (eagle_engine_call(eng, "DELETE", path, NULL, NULL, &e2) == 0)
            n++;
        else if (e2.status != 404) /* still used by a service on its way out: the next pass */
            log_warn("agents", "cannot remove secret %s of the agent of '%s': %s", name ? name : id, cluster,
                     e2.msg);
    }
    json_decref(list);
    if (removed)
        *removed = n;
    return 0;
}

void eagle_agent_sweep(struct eagle_worker *w, const json_t *cluster)
{
    const char *name = json_string_value(json_object_get(cluster, "name"));
    struct eagle_engine *eng;
    struct eagle_err err;
    json_t *row = NULL;
    char secret[128];
    int removed = 0;

    if (!name || !eagle_agent_claim(name))
        return; /* an install or removal is under way */
    if (eagle_store_agent_get(w->store, name, &row, &err) < 0 && err.status != 404) {
        log_warn("agents", "sweep of cluster '%s': %s", name, err.msg);
        goto out;
    }
    if (row)
        eagle_agent_secret_name(secret, sizeof(secret), name,
                                json_string_value(json_object_get(row, "token_hash")) ?: "");
    if (!(eng = eagle_worker_engine(w, cluster, &err)) ||
        eagle_agent_remove_objects(eng, name,
                                   row ? json_string_value(json_object_get(row, "service_id")) : NULL,
                                   row ? secret : NULL, &removed, &err) < 0) {
        log_warn("agents", "sweep of cluster '%s': %s", name, err.msg);
        goto out;
    }
    if (removed)
        log_info("agents",
                 "removed %d leftover eagle-agent object(s) from cluster '%s' (an install or removal "
                 "that did not finish)",
                 removed, name);
out:
    json_decref(row);
    eagle_agent_unclaim(name);
}
