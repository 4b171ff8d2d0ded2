/*
 * events.c — see events.h. The ring holds the newest EAGLE_EVENTS_KEEP events
 * in id order; the store holds the same, so a restart loses nothing.
 */
#include "events/events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/store.h"

static struct {
    pthread_mutex_t lock;
    struct eagle_event ring[EAGLE_EVENTS_KEEP];
    size_t head, count; /* ring[head] is the oldest */
    uint64_t last_id;
    void (*listener)(uint64_t, void *);
    void *listener_ud;
} ev = {.lock = PTHREAD_MUTEX_INITIALIZER};

void eagle_event_release(struct eagle_event *e)
{
    eagle_blob_unref(e->json);
    e->json = NULL;
}

static void ring_push(uint64_t id, const json_t *o)
{
    struct eagle_event *slot;
    char *text = json_dumps(o, JSON_COMPACT);

    if (ev.count == EAGLE_EVENTS_KEEP) {
        eagle_event_release(&ev.ring[ev.head]);
        ev.head = (ev.head + 1) % EAGLE_EVENTS_KEEP;
        ev.count--;
    }
    slot = &ev.ring[(ev.head + ev.count) % EAGLE_EVENTS_KEEP];
    ev.count++;
    memset(slot, 0, sizeof(*slot));
    slot->id = id;
    snprintf(slot->type, sizeof(slot->type), "%s", json_string_value(json_object_get(o, "type")) ?: "");
    snprintf(slot->tenant, sizeof(slot->tenant), "%s", json_string_value(json_object_get(o, "tenant")) ?: "");
    snprintf(slot->service, sizeof(slot->service), "%s", json_string_value(json_object_get(o, "service")) ?: "");
    slot->json = eagle_blob_new(text, strlen(text));
    free(text);
    ev.last_id = id;
}

int eagle_events_init(struct eagle_store *st, struct eagle_err *err)
{
    json_t *rows, *r;
    size_t i;
    struct eagle_sqlarg a[] = {SQL_INT(EAGLE_EVENTS_KEEP)};

    if (eagle_store_query(st,
                          "SELECT id, data FROM (SELECT id, data FROM events ORDER BY id DESC LIMIT ?) ORDER BY id",
                          a, 1, &rows, err) < 0)
        return -1;
    pthread_mutex_lock(&ev.lock);
    json_array_foreach(rows, i, r)
    {
        json_t *o = json_loads(json_string_value(json_object_get(r, "data")), 0, NULL);
        if (o) {
            json_object_set(o, "id", json_object_get(r, "id"));
            ring_push((uint64_t)json_integer_value(json_object_get(r, "id")), o);
        }
        json_decref(o);
    }
    pthread_mutex_unlock(&ev.lock);
    json_decref(rows);
    /* ids continue after the newest ever recorded, even if it was pruned */
    if (eagle_store_query(st, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", NULL, 0, &rows, err) == 0) {
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(json_array_get(rows, 0), "seq"));
        pthread_mutex_lock(&ev.lock);
        if (seq > ev.last_id)
            ev.last_id = seq;
        pthread_mutex_unlock(&ev.lock);
        json_decref(rows);
    }
    return 0;
}

void eagle_events_shutdown(void)
{
    pthread_mutex_lock(&ev.lock);
    for (size_t i = 0; i < ev.count; i++)
        eagle_event_release(&ev.ring[(ev.head + i) % EAGLE_EVENTS_KEEP]);
    ev.head = ev.count = 0;
    pthread_mutex_unlock(&ev.lock);
}

int eagle_events_append(struct eagle_store *st, json_t *events, struct eagle_err *err)
{
    json_t *e;
    size_t i, n = json_array_size(events);
    char now[32];
    json_t *ids = json_array();

    if (n == 0) {
        json_decref(ids);
        return 0;
    }
    eagle_now_rfc3339(now, sizeof(now));
    if (eagle_store_begin(st, err) < 0)
        goto fail;
    json_array_foreach(events, i, e)
    {
        json_t *rows;
        json_object_set_new(e, "time", json_string(now));
        char *data = json_dumps(e, JSON_COMPACT);
        struct eagle_sqlarg a[] = {SQL_TEXT(now), SQL_TEXT(json_string_value(json_object_get(e, "type"))),
                                   SQL_TEXT(data)};
        int rc = eagle_store_query(st, "INSERT INTO events (at, type, data) VALUES (?, ?, ?) RETURNING id", a, 3,
                                   &rows, err);
        free(data);
        if (rc < 0) {
            eagle_store_rollback(st);
            goto fail;
        }
        json_array_append(ids, json_object_get(json_array_get(rows, 0), "id"));
        json_decref(rows);
    }
    uint64_t last = (uint64_t)json_integer_value(json_array_get(ids, n - 1));
    struct eagle_sqlarg p[] = {SQL_INT((int64_t)last - EAGLE_EVENTS_KEEP)};
    if (eagle_store_exec(st, "DELETE FROM events WHERE id <= ?", p, 1, NULL, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto fail;
    }
    pthread_mutex_lock(&ev.lock);
    json_array_foreach(events, i, e)
    {
        json_object_set(e, "id", json_array_get(ids, i));
        ring_push((uint64_t)json_integer_value(json_array_get(ids, i)), e);
    }
    pthread_mutex_unlock(&ev.lock);
    json_decref(ids);
    if (ev.listener)
        ev.listener(last, ev.listener_ud);
    return 0;
fail:
    json_decref(ids);
    return -1;
}

size_t eagle_events_since(uint64_t after, struct eagle_event *out, size_t max, uint64_t *oldest)
{
    size_t n = 0, lo, hi;

    pthread_mutex_lock(&ev.lock);
    *oldest = ev.count ? ev.ring[ev.head].id : 0;
    /* binary search for the first id > after */
    lo = 0;
    hi = ev.count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ev.ring[(ev.head + mid) % EAGLE_EVENTS_KEEP].id <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < ev.count && n < max; i++) {
        out[n] = ev.ring[(ev.head + i) % EAGLE_EVENTS_KEEP];
        eagle_blob_ref(out[n].json);
        n++;
    }
    pthread_mutex_unlock(&ev.lock);
    return n;
}

uint64_t eagle_events_last_id(void)
{
    uint64_t id;
    pthread_mutex_lock(&ev.lock);
    id = ev.last_id;
    pthread_mutex_unlock(&ev.lock);
    return id;
}

void eagle_events_set_listener(void (*cb)(uint64_t last_id, void *ud), void *ud)
{
    ev.listener = cb;
    ev.listener_ud = ud;
}
