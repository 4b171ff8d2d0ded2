/*
 * watcher.c — see watcher.h.
 */
#include "controllers/watcher.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "controllers/context.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "events/events.h"
#include "store/store.h"

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, running, interval_ms;
    char *data_dir;
    json_t *known; /* cluster names in the catalog */
} wt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int on_service(void *ud, const char *json, size_t len, struct eagle_err *err)
{
    return eagle_catalog_pass_service(ud, json, len, err);
}

static int on_task(void *ud, const char *json, size_t len, struct eagle_err *err)
{
    return eagle_catalog_pass_task(ud, json, len, err);
}

/*
 * One look at a cluster: /services, /tasks and /nodes, the first two streamed
 * into the catalog one element at a time (at thousands of tasks /tasks is
 * megabytes of JSON; the catalog parses only the elements that changed).
 */
static void poll_cluster(struct eagle_worker *w, const json_t *cluster, json_t *events)
{
    const char *name = json_string_value(json_object_get(cluster, "name"));
    const char *dc = json_string_value(json_object_get(cluster, "datacenter"));
    struct eagle_err err;
    json_t *nodes = NULL;
    struct eagle_engine *eng = eagle_worker_engine(w, cluster, &err);
    struct eagle_catalog_pass *p;

    if (!eng)
        return;
    p = eagle_catalog_pass_begin(name, dc ? dc : "");
    if (eagle_engine_stream_array(eng, "/services", on_service, p, &err) == 0 &&
        eagle_engine_stream_array(eng, "/tasks", on_task, p, &err) == 0 &&
        eagle_engine_nodes(eng, &nodes, &err) == 0) {
        eagle_catalog_pass_nodes(p, nodes);
        eagle_catalog_pass_commit(p, events);
        json_object_set_new(wt.known, name, json_true());
    } else {
        eagle_catalog_pass_abort(p);
        log_debug("watcher", "cluster '%s': %s (the catalog keeps its last view)", name, err.msg);
    }
    json_decref(nodes);
}

static void pass(struct eagle_worker *w)
{
    struct eagle_err err;
    json_t *clusters = NULL, *events = json_array(), *c, *seen = json_object();
    const char *name;
    void *tmp;
    size_t i;

    if (eagle_store_cluster_list(w->store, &clusters, &err) == 0) {
        json_array_foreach(clusters, i, c)
        {
            json_object_set_new(seen, json_string_value(json_object_get(c, "name")), json_true());
            poll_cluster(w, c, events);
        }
        /* clusters deleted since the last pass leave the catalog */
        json_object_foreach_safe(wt.known, tmp, name, c)
        {
            if (!json_object_get(seen, name)) {
                eagle_catalog_remove_cluster(name, events);
                json_object_del(wt.known, name);
            }
        }
    }
    if (json_array_size(events) > 0 && eagle_events_append(w->store, events, &err) < 0)
        log_warn("watcher", "cannot record %zu events: %s", json_array_size(events), err.msg);
    eagle_catalog_set_primed();
    /* Hand back the pages freed since the last pass: what this pass parsed and replaced,
     * and the event loops' large answers (the whole catalog is megabytes at thousands of
     * services), which glibc would otherwise keep in each thread's arena. With little
     * freed it costs little. */
    malloc_trim(0);
    json_decref(events);
    json_decref(clusters);
    json_decref(seen);
}

static void *watcher_main(void *arg)
{
    struct eagle_worker w = {.data_dir = wt.data_dir};
    struct eagle_err err;

    w.store = eagle_store_open(wt.data_dir, 0, &err);
    if (!w.store) {
        log_error("watcher", "cannot open the store: %s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&wt.lock);
    while (!wt.stop) {
        pthread_mutex_unlock(&wt.lock);
        pass(&w);
        pthread_mutex_lock(&wt.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(wt.interval_ms % 1000) * 1000000L;
        until.tv_sec += wt.interval_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!wt.stop && pthread_cond_timedwait(&wt.cond, &wt.lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&wt.lock);
    eagle_worker_release(&w);
    return NULL;
}

int eagle_watcher_start(const char *data_dir, int interval_ms, struct eagle_err *err)
{
    wt.stop = 0;
    wt.interval_ms = interval_ms > 0 ? interval_ms : 500;
    wt.data_dir = xstrdup(data_dir);
    wt.known = json_object();
    if (pthread_create(&wt.tid, NULL, watcher_main, NULL) != 0) {
        free(wt.data_dir);
        json_decref(wt.known);
        return eagle_err_internal(err, "cannot start the watcher thread");
    }
    wt.running = 1;
    return 0;
}

void eagle_watcher_stop(void)
{
    if (!wt.running)
        return;
    pthread_mutex_lock(&wt.lock);
    wt.stop = 1;
    pthread_cond_broadcast(&wt.cond);
    pthread_mutex_unlock(&wt.lock);
    pthread_join(wt.tid, NULL);
    wt.running = 0;
    free(wt.data_dir);
    wt.data_dir = NULL;
    json_decref(wt.known);
    wt.known = NULL;
}
