/*
 * watcher.c — see watcher.h.
 */
#include "controllers/watcher.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
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

/*
 * A follower per cluster reads its manager's /events and wakes the watcher,
 * so what the manager sees happen (a service or node changed, a container on
 * its own node created, started, dead or gone) is in the catalog about
 * KICK_DELAY_MS later instead of at the next poll. The polls stay: they see
 * what no event reports (tasks on other nodes) and heal a missed event.
 */
struct follower {
    json_t *cluster; /* the store's row it follows */
    pthread_t tid;
    atomic_int stop;
    int open; /* its feed answered, and has not failed since */
    struct follower *next;
};

/* a burst of events (a scale starts many tasks) makes one pass, not one each */
#define KICK_DELAY_MS 50
/* ...and the passes after an event's come 1, 2, 4... s apart (up to the poll
 * interval): the tasks it set moving report in to the manager over the next
 * moments, and their states bring no event of their own */
#define FOLLOWUP_MS 1000
/* a steady flow of events (a task crash-looping) makes a pass at most this often */
#define KICK_GAP_MS 250
#define FOLLOW_PATH                                                                                          \
    "/events?filters=%7B%22type%22%3A%5B%22service%22%2C%22node%22%2C%22container%22%5D%2C%22event%22%3A%"   \
    "5B%22create%22%2C%22update%22%2C%22remove%22%2C%22start%22%2C%22die%22%2C%22destroy%22%5D%7D"

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, running, interval_ms;
    int kick; /* an engine event arrived since the last pass began */
    char *data_dir;
    json_t *known;              /* cluster names in the catalog */
    struct follower *followers; /* the watcher thread's own, until it has stopped */
} wt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void kick(void)
{
    pthread_mutex_lock(&wt.lock);
    wt.kick = 1;
    pthread_cond_signal(&wt.cond);
    pthread_mutex_unlock(&wt.lock);
}

static int on_engine_event(void *ud, const char *data, size_t len, struct eagle_err *err)
{
    struct follower *f = ud;
    (void)len, (void)err;
    if (!data) { /* the feed is open: say so once it was not, and look at what it missed meanwhile */
        if (!f->open)
            log_info("watcher", "following the events of cluster '%s'",
                     json_string_value(json_object_get(f->cluster, "name")));
        f->open = 1;
    }
    kick(); /* what happened does not matter: the pass looks at everything */
    return 0;
}

/* Sleep up to ms, ending early when the follower is told to stop. */
static void follower_pause(struct follower *f, int ms)
{
    struct timespec step = {0, 100 * 1000 * 1000};
    for (int slept = 0; slept < ms && !f->stop; slept += 100)
        nanosleep(&step, NULL);
}

static void *follower_main(void *arg)
{
    struct follower *f = arg;
    struct eagle_worker w = {.data_dir = wt.data_dir};
    const char *name = json_string_value(json_object_get(f->cluster, "name"));
    int backoff_ms = 1000;

    while (!f->stop) {
        struct eagle_err err;
        struct eagle_engine *eng = eagle_worker_engine(&w, f->cluster, &err);
        int rc = eng ? eagle_engine_follow(eng, FOLLOW_PATH, on_engine_event, f, &f->stop, &err) : -1;
        if (f->stop)
            break;
        if (rc < 0 && f->open)
            log_warn("watcher", "cluster '%s': its events: %s (polls go on; following again)", name, err.msg);
        else if (rc < 0)
            log_debug("watcher", "cluster '%s': following its events: %s (polls go on)", name, err.msg);
        else
            log_info("watcher", "cluster '%s' ended its events feed (polls go on; following again)", name);
        /* a feed that opened is a working one: start over at the shortest pause */
        if (f->open)
            backoff_ms = 1000;
        f->open = 0;
        follower_pause(f, backoff_ms);
        backoff_ms = backoff_ms < 16000 ? backoff_ms * 2 : 30000;
    }
    eagle_worker_release(&w);
    return NULL;
}

static int same_cluster(const json_t *a, const json_t *b)
{
    static const char *const keys[] = {"name", "endpoint", "tls", "created_at", NULL};
    for (int i = 0; keys[i]; i++)
        if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])))
            return 0;
    return 1;
}

/* Stop the followers `keep` does not keep (all of them when keep is NULL), all at once. */
static void followers_stop(struct follower **list, int (*keep)(const struct follower *, const json_t *),
                           const json_t *clusters)
{
    struct follower **pp, *f;
    for (f = *list; f; f = f->next)
        if (!keep || !keep(f, clusters))
            f->stop = 1;
    for (pp = list; (f = *pp);) {
        if (!f->stop) {
            pp = &f->next;
            continue;
        }
        pthread_join(f->tid, NULL); /* within about a second (eagle_engine_follow) */
        *pp = f->next;
        json_decref(f->cluster);
        free(f);
    }
}

static int still_there(const struct follower *f, const json_t *clusters)
{
    size_t i;
    const json_t *c;
    json_array_foreach(clusters, i, c) if (same_cluster(f->cluster, c)) return 1;
    return 0;
}

/* One follower per cluster in the store, started anew when its row changed. */
static void followers_sync(const json_t *clusters)
{
    size_t i;
    json_t *c;

    followers_stop(&wt.followers, still_there, clusters);
    json_array_foreach(clusters, i, c)
    {
        struct follower *f;
        for (f = wt.followers; f && !same_cluster(f->cluster, c); f = f->next)
            ;
        if (f)
            continue;
        f = xcalloc(1, sizeof(*f));
        f->cluster = json_deep_copy(c);
        if (pthread_create(&f->tid, NULL, follower_main, f) != 0) {
            log_warn("watcher", "cannot start a thread to follow cluster '%s' (polls go on)",
                     json_string_value(json_object_get(c, "name")));
            json_decref(f->cluster);
            free(f);
            continue;
        }
        f->next = wt.followers;
        wt.followers = f;
    }
}

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
        followers_sync(clusters);
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
    int followup_ms = 0;                        /* the next follow-up's gap; 0: none due */
    int64_t last_kicked_ms = -KICK_GAP_MS * 10; /* when the last pass an event made began */
    pthread_mutex_lock(&wt.lock);
    while (!wt.stop) {
        wt.kick = 0; /* events from here on make another pass */
        pthread_mutex_unlock(&wt.lock);
        pass(&w);
        pthread_mutex_lock(&wt.lock);
        int wait_ms = wt.interval_ms;
        if (followup_ms > 0 && followup_ms < wt.interval_ms) {
            wait_ms = followup_ms;
            followup_ms *= 2;
        } else {
            followup_ms = 0;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        until.tv_sec += wait_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!wt.stop && !wt.kick && pthread_cond_timedwait(&wt.cond, &wt.lock, &until) == 0)
            ;
        if (wt.kick && !wt.stop) {
            followup_ms = FOLLOWUP_MS;
            long delay_ms = KICK_DELAY_MS, since = eagle_monotonic_ms() - last_kicked_ms;
            if (since < KICK_GAP_MS - KICK_DELAY_MS)
                delay_ms = KICK_GAP_MS - since;
            struct timespec burst = {0, delay_ms * 1000000L};
            pthread_mutex_unlock(&wt.lock);
            nanosleep(&burst, NULL);
            pthread_mutex_lock(&wt.lock);
            last_kicked_ms = eagle_monotonic_ms();
        }
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
    followers_stop(&wt.followers, NULL, NULL);
    wt.running = 0;
    free(wt.data_dir);
    wt.data_dir = NULL;
    json_decref(wt.known);
    wt.known = NULL;
}
