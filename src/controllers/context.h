/*
 * context.h — what a thread that does work owns (STYLE: each worker and
 * controller thread has its own store connection and engine clients).
 * A struct eagle_worker is used by exactly one thread.
 */
#ifndef EAGLE_CONTEXT_H
#define EAGLE_CONTEXT_H

#include <jansson.h>

#include "core/err.h"

struct eagle_store;
struct eagle_engine;

#define EAGLE_WORKER_ENGINES 16

struct eagle_worker {
    const char *data_dir;
    struct eagle_store *store;
    struct engine_slot {
        char *cluster;
        char *endpoint;
        struct eagle_engine *engine;
    } engines[EAGLE_WORKER_ENGINES];
    unsigned next_slot; /* round-robin eviction when all slots are used */
};

/* The engine client for a cluster row ({name, endpoint, tls}), cached in the
 * worker; TLS material is read from DATA/clusters/<name>/{ca,cert,key}.pem.
 * The worker keeps ownership. */
struct eagle_engine *eagle_worker_engine(struct eagle_worker *w, const json_t *cluster, struct eagle_err *err);
/* Forget a cluster's cached client (after it is deleted or changed). */
void eagle_worker_forget(struct eagle_worker *w, const char *cluster);
/* Close the store and every engine client. */
void eagle_worker_release(struct eagle_worker *w);

#endif
