/*
 * catalog.h — the one place that knows everything running: an in-memory read
 * model of clusters → nodes → services → tasks, with a global index that grows
 * by one per change and, per service, the answers discovery sends, serialised
 * once per change (blobs) and shared by every reader.
 *
 * Threads: one writer at a time (the watcher controller) runs passes
 * (eagle_catalog_pass_*()); readers (event loops, workers) call the
 * lookups, which copy out or take a reference under a read lock and never
 * block on I/O. Blobs are immutable and reference-counted (atomic), so a reader
 * may send one after the catalog has moved on.
 */
#ifndef EAGLE_CATALOG_H
#define EAGLE_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct eagle_blob {
    int refs; /* atomic */
    size_t len;
    char data[]; /* NUL-terminated */
};

/* A blob of `len` bytes copied from `data`, or left for the caller to fill when
 * `data` is NULL. */
struct eagle_blob *eagle_blob_new(const char *data, size_t len);
struct eagle_blob *eagle_blob_ref(struct eagle_blob *b);
void eagle_blob_unref(struct eagle_blob *b); /* NULL is a no-op */

/* What a reader gets for one service (references it must unref). */
struct eagle_catalog_entry {
    char name[64];
    char tenant[64]; /* "" for services Eagle does not manage */
    char cluster[64];
    char datacenter[64];
    uint64_t modify_index;
    struct eagle_blob *all;     /* {"name", ..., "instances": [every task meant to run]} */
    struct eagle_blob *healthy; /* the same with only running, not unhealthy instances */
    struct eagle_blob *docker;  /* the Engine API's own service inspect object */
    struct eagle_blob *labels;  /* the service's labels as a JSON object, for filters */
};

void eagle_catalog_entry_release(struct eagle_catalog_entry *e);

/* Start: the index begins at the current Unix time in milliseconds, so it keeps
 * growing across restarts and a watcher never waits on a stale index. */
void eagle_catalog_init(void);
void eagle_catalog_shutdown(void);

uint64_t eagle_catalog_index(void);

/* 0 and *e filled when `name` is in the catalog, -1 otherwise. */
int eagle_catalog_get(const char *name, struct eagle_catalog_entry *e);

/* Every service, sorted by name: an array of entries (caller releases each and
 * frees the array), and in *index (may be NULL) the index they are the view at. */
size_t eagle_catalog_list(struct eagle_catalog_entry **out, uint64_t *index);

/* Change listener: called on the writer's thread after each change, with the
 * new index. One listener (the HTTP layer's); set before the watcher starts. */
void eagle_catalog_set_listener(void (*cb)(uint64_t index, void *ud), void *ud);

/*
 * Writer, one pass over one cluster's engine, element by element, so the
 * engine's whole answers are never held:
 *   p = eagle_catalog_pass_begin(cluster, datacenter);
 *   eagle_catalog_pass_service(p, ...) for each element of GET /services, then
 *   eagle_catalog_pass_task(p, ...) for each element of GET /tasks (tasks are
 *   matched to the services given so far), then
 *   eagle_catalog_pass_nodes(p, GET /nodes's array), then
 *   eagle_catalog_pass_commit(p, events) to install it, or
 *   eagle_catalog_pass_abort(p) to keep the catalog's last view (say, when the
 *   engine stopped answering half way).
 * Elements are the raw JSON text of one array element (`len` bytes, need not be
 * NUL-terminated); an element that is not valid JSON fails with 502
 * "engine_error" (then abort). begin() takes the writer lock and commit() or
 * abort() (which free p) give it back: one pass at a time, on one thread.
 * commit() appends events for what changed since the last pass over that
 * cluster to `events` (objects with type, action, cluster, service, tenant,
 * task, node, from, to), in order, and returns the number of services whose
 * answer changed (the first pass over a cluster is a baseline: no events).
 */
struct eagle_catalog_pass;
struct eagle_catalog_pass *eagle_catalog_pass_begin(const char *cluster, const char *datacenter);
int eagle_catalog_pass_service(struct eagle_catalog_pass *p, const char *json, size_t len,
                               struct eagle_err *err);
int eagle_catalog_pass_task(struct eagle_catalog_pass *p, const char *json, size_t len,
                            struct eagle_err *err);
void eagle_catalog_pass_nodes(struct eagle_catalog_pass *p, const json_t *nodes);
size_t eagle_catalog_pass_commit(struct eagle_catalog_pass *p, json_t *events);
void eagle_catalog_pass_abort(struct eagle_catalog_pass *p); /* NULL is a no-op */

/* The same pass from whole arrays (GET /services, /tasks, /nodes; not consumed). */
size_t eagle_catalog_replace_cluster(const char *cluster, const char *datacenter, const json_t *services,
                                     const json_t *tasks, const json_t *nodes, json_t *events);
/* Forget a cluster (deleted); its services leave the catalog. */
void eagle_catalog_remove_cluster(const char *cluster, json_t *events);

/* Health from the health checker: "healthy", "unhealthy" or "unknown" per task id,
 * with a reason; applied at the next replace (and bumps the index when it changes). */
void eagle_catalog_set_health(const char *task_id, const char *health, const char *reason);

/* Discovery waits for the watcher's first full pass, so a restart never
 * answers "nothing runs" before it has looked. */
int eagle_catalog_primed(void);
void eagle_catalog_set_primed(void);

/* The health checker's word on a task into buf ("unknown" when none). */
void eagle_catalog_get_health(const char *task_id, char *buf, size_t n);

#endif
