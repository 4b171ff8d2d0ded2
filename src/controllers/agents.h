/*
 * agents.h — eagle-agent's objects in an engine: the global service and the
 * Swarm secret holding its token (installed by api/agents.c).
 *
 * Installing makes the engine objects before the store records them, so a
 * crash in between leaves objects no row names. The reconciler sweeps them:
 * every pass, for each ready cluster, it removes this Eagle's agent services
 * and secrets other than the ones the cluster's row names. Installs, removals
 * and the sweep of one cluster hold its claim, so the sweep never sees an
 * install half done.
 */
#ifndef EAGLE_CONTROLLERS_AGENTS_H
#define EAGLE_CONTROLLERS_AGENTS_H

#include <jansson.h>

#include "controllers/context.h"
#include "core/err.h"
#include "engine/engine.h"

/* One change at a time to a cluster's agent, across API workers and the
 * reconciler: 1 when claimed, 0 when another thread holds it. */
int eagle_agent_claim(const char *cluster);
void eagle_agent_unclaim(const char *cluster);

/* The name of the secret for a token whose keyed hash is `token_hash`. */
void eagle_agent_secret_name(char *buf, size_t n, const char *cluster, const char *token_hash);

/* Remove this Eagle's agent services of `cluster`, then its secrets, except
 * the service with id `keep_service` and the secret named `keep_secret`
 * (either NULL: keep none). Sets *removed (may be NULL) to how many objects
 * went. -1 and err when the engine cannot list or remove a service. */
int eagle_agent_remove_objects(struct eagle_engine *eng, const char *cluster, const char *keep_service,
                               const char *keep_secret, int *removed, struct eagle_err *err);

/* The reconciler's sweep of one cluster (a store row of clusters) it found ready. */
void eagle_agent_sweep(struct eagle_worker *w, const json_t *cluster);

#endif
