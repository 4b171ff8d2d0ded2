/*
 * health.h — the controller that runs Eagle's own health checks (the spec's
 * "health_check") against every running task, inside the task's network
 * namespace, feeds the results to the catalog (discovery's "health"/"healthy")
 * and the release gates, records health events, and replaces a task that
 * stays unhealthy past its threshold by killing its container (Swarm starts a
 * new one).
 *
 * Where the checks run: tasks on eagled's own node (a cluster reached through
 * a local unix socket) are checked in-process (health/checker); tasks on any
 * other node by eagle-agent there (src/agent), which asks for its targets and
 * returns their results through eagle_health_agent_sync() about once a second,
 * and kills what this controller asks it to. A node whose agent has not synced
 * for EAGLE_AGENT_STALE_MS has its tasks' health set back to "unknown".
 */
#ifndef EAGLE_HEALTH_H
#define EAGLE_HEALTH_H

#include <jansson.h>

#include "core/err.h"

#define EAGLE_AGENT_STALE_MS 10000
#define EAGLE_AGENT_INTERVAL_MS 1000

int eagle_health_start(const char *data_dir, struct eagle_err *err);
void eagle_health_stop(void);

/* One sync of an agent of `cluster` (its token already checked): `req` is the
 * agent's body ({"node", "hostname", "version", "results", "killed"}, see
 * docs/api.md); *answer gets {"interval_ms", "targets", "kill"}. 0, or -1 with
 * err (400 naming the field) on a malformed body. Any thread. */
int eagle_health_agent_sync(const char *cluster, const json_t *req, json_t **answer, struct eagle_err *err);

/* The agents of `cluster` heard from since eagled started: [{"node", "hostname",
 * "version", "last_seen", "stale", "targets", "healthy", "unhealthy", "unknown"}]. */
json_t *eagle_health_agents(const char *cluster);

/* 1 when `node` of `cluster` has its tasks checked: it is eagled's own node of
 * a unix-socket cluster, or its agent synced within EAGLE_AGENT_STALE_MS. */
int eagle_health_node_checked(const char *cluster, const char *node);

/* Forget the agents of `cluster` (its agent was removed); their tasks' health becomes unknown. */
void eagle_health_forget_agents(const char *cluster);

#endif
