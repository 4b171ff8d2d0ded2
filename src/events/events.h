/*
 * events.h — what happened, in order: service, task, node (and later release,
 * build, health) events, each with an id that only grows, kept in the store
 * (a bounded history) and in a ring in memory that event streams and
 * callbacks read from.
 *
 * Threads: appends come from controller threads (with their own store
 * connection); reads from anywhere (one mutex; no I/O under it). The listener
 * is called on the appending thread after the events are readable.
 */
#ifndef EAGLE_EVENTS_H
#define EAGLE_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/err.h"

struct eagle_store;

#define EAGLE_EVENTS_KEEP 10000 /* events kept in the store and in memory */

/* One event as readers get it: the JSON text and what filters need. */
struct eagle_event {
    uint64_t id;
    char type[16];
    char tenant[64];
    char service[64];
    struct eagle_blob *json; /* {"id", "time", "type", "action", ...}; a reference */
};

/* Load the newest EAGLE_EVENTS_KEEP events from the store into memory. */
int eagle_events_init(struct eagle_store *st, struct eagle_err *err);
void eagle_events_shutdown(void);

/* Record `events` (an array of objects; each gets "id" and "time") in one
 * transaction, prune the history, then make them readable and tell the listener. */
int eagle_events_append(struct eagle_store *st, json_t *events, struct eagle_err *err);

/* Up to `max` events with id > after, oldest first, into out[] (references the
 * caller releases with eagle_event_release). *oldest gets the oldest id still
 * kept (0 when none), so a reader can tell it asked for something forgotten. */
size_t eagle_events_since(uint64_t after, struct eagle_event *out, size_t max, uint64_t *oldest);
void eagle_event_release(struct eagle_event *e);
uint64_t eagle_events_last_id(void);

void eagle_events_set_listener(void (*cb)(uint64_t last_id, void *ud), void *ud);

#endif
