/*
 * reconcile.h — bringing a service in the engine to its desired revision in
 * the store, and the controller thread that does so for whatever is unsettled
 * (after an engine outage, or a crash between recording and applying), and that
 * checks every cluster's engine.
 *
 * The engine service carries labels eagle.service=<name> and
 * eagle.revision=<n>; lookups by label make applying idempotent, so a service is
 * adopted rather than created twice.
 */
#ifndef EAGLE_RECONCILE_H
#define EAGLE_RECONCILE_H

#include <jansson.h>

#include "controllers/context.h"
#include "core/err.h"

/* Apply the service's current desired revision to its cluster's engine and
 * record it applied. The caller holds the service's claim (eagle_claim). */
int eagle_service_apply(struct eagle_worker *w, const char *name, struct eagle_err *err);

struct eagle_spec;
struct eagle_engine;
/* The Engine API spec for `spec` run for `tenant`: the tenant's node pool and
 * network added (the spec is changed accordingly), `labels` plus eagle.tenant
 * on the service and its containers. NULL and err on failure; caller decrefs. */
json_t *eagle_service_engine_spec(struct eagle_worker *w, struct eagle_engine *eng, const char *tenant,
                                  struct eagle_spec *spec, const json_t *labels, struct eagle_err *err);

/* Remove the service from its engine (by id and by label), then from the store. */
int eagle_service_remove(struct eagle_worker *w, const char *name, struct eagle_err *err);

/* Find the engine service labelled for `name` in an engine; *out is the
 * inspect object or NULL when there is none. */
int eagle_service_find(struct eagle_engine *eng, const char *engine_id, const char *name, json_t **out,
                       struct eagle_err *err);

/* Probe one cluster's engine and record ready/unreachable: 1 when ready, 0
 * when not, -1 and err when the store cannot record it. */
int eagle_cluster_check(struct eagle_worker *w, const json_t *cluster, struct eagle_err *err);

/* The controller thread: start and stop it. */
int eagle_reconciler_start(const char *data_dir, int interval_s, struct eagle_err *err);
void eagle_reconciler_stop(void);

#endif
