/*
 * context.c — see context.h.
 */
#include "controllers/context.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "engine/engine.h"
#include "store/store.h"

static void slot_clear(struct engine_slot *s)
{
    eagle_engine_free(s->engine);
    free(s->cluster);
    free(s->endpoint);
    memset(s, 0, sizeof(*s));
}

struct eagle_engine *eagle_worker_engine(struct eagle_worker *w, const json_t *cluster, struct eagle_err *err)
{
    const char *name = json_string_value(json_object_get(cluster, "name"));
    const char *endpoint = json_string_value(json_object_get(cluster, "endpoint"));
    int tls = (int)json_integer_value(json_object_get(cluster, "tls"));
    struct engine_slot *slot = NULL;

    if (!name || !endpoint)
        return eagle_err_internal(err, "cluster row without name or endpoint"), NULL;
    for (int i = 0; i < EAGLE_WORKER_ENGINES; i++) {
        struct engine_slot *s = &w->engines[i];
        if (s->cluster && strcmp(s->cluster, name) == 0) {
            if (strcmp(s->endpoint, endpoint) == 0)
                return s->engine;
            slot = s; /* the endpoint changed: replace */
            break;
        }
    }
    if (!slot) {
        for (int i = 0; i < EAGLE_WORKER_ENGINES && !slot; i++)
            if (!w->engines[i].cluster)
                slot = &w->engines[i];
        if (!slot)
            slot = &w->engines[w->next_slot++ % EAGLE_WORKER_ENGINES];
    }
    slot_clear(slot);

    char *ca = NULL, *cert = NULL, *key = NULL;
    struct eagle_engine_tls t = {0};
    if (tls) {
        ca = xasprintf("%s/clusters/%s/ca.pem", w->data_dir, name);
        cert = xasprintf("%s/clusters/%s/cert.pem", w->data_dir, name);
        key = xasprintf("%s/clusters/%s/key.pem", w->data_dir, name);
        t.ca_file = ca;
        t.cert_file = cert;
        t.key_file = key;
    }
    struct eagle_engine *e = eagle_engine_new(endpoint, tls ? &t : NULL, 30000, err);
    free(ca);
    free(cert);
    free(key);
    if (!e)
        return NULL;
    slot->cluster = xstrdup(name);
    slot->endpoint = xstrdup(endpoint);
    slot->engine = e;
    return e;
}

void eagle_worker_forget(struct eagle_worker *w, const char *cluster)
{
    for (int i = 0; i < EAGLE_WORKER_ENGINES; i++)
        if (w->engines[i].cluster && strcmp(w->engines[i].cluster, cluster) == 0)
            slot_clear(&w->engines[i]);
}

void eagle_worker_release(struct eagle_worker *w)
{
    for (int i = 0; i < EAGLE_WORKER_ENGINES; i++)
        slot_clear(&w->engines[i]);
    eagle_store_close(w->store);
    w->store = NULL;
}
