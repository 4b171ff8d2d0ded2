/*
 * health.h — the controller that runs Eagle's own health checks (the spec's
 * "health_check") against every running task on eagled's node, inside the
 * task's network namespace (health/checker), feeds the results to the catalog
 * (discovery's "health"/"healthy") and the release gates, records health
 * events, and replaces a task that stays unhealthy past its threshold by
 * killing its container (Swarm starts a new one).
 *
 * Which tasks: those of clusters reached through a local unix socket (the
 * engine's own node); tasks on other nodes need eagle-agent there (not yet).
 */
#ifndef EAGLE_HEALTH_H
#define EAGLE_HEALTH_H

#include "core/err.h"

int eagle_health_start(const char *data_dir, struct eagle_err *err);
void eagle_health_stop(void);

#endif
