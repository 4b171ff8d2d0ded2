/*
 * agents.h — eagle-agent's objects in an engine: one Swarm service per node,
 * each with its own Swarm secret holding that node's token.
 *
 * Why one service per node and not one global service: a Swarm secret reaches
 * only the nodes that run a task using it, so a token per node is one no
 * other node ever holds. eagled knows each token's node, and a node's agent
 * can speak for that node alone: a compromised node can neither report other
 * nodes' tasks unhealthy nor learn what runs there.
 *
 * eagle_agent_converge() brings the engine in line with the store: a service
 * for every node of the swarm (but the excluded one, checked by eagled
 * itself), none for a node that left, a new one where a service went missing,
 * and nothing no row names (what a crash between the engine's objects and the
 * store's row leaves). The install calls it, and the reconciler every pass,
 * so a node that joins gets its agent within one pass. A node's engine
 * objects are made before the row that names them, and its row goes before
 * its objects, so a crash between two steps leaves nothing converge cannot
 * repair. Installs, removals and the reconciler's pass over one cluster hold
 * its claim, so no pass sees another half done.
 */
#ifndef EAGLE_CONTROLLERS_AGENTS_H
#define EAGLE_CONTROLLERS_AGENTS_H

#include <jansson.h>

#include "controllers/context.h"
#include "core/err.h"
#include "engine/engine.h"
#include "store/store.h"

/* One change at a time to a cluster's agent, across API workers and the
 * reconciler: 1 when claimed, 0 when another thread holds it. */
int eagle_agent_claim(const char *cluster);
void eagle_agent_unclaim(const char *cluster);
/* eagle_agent_claim(), retried for up to `timeout_ms` (a reconciler pass holds
 * the claim for a few engine calls). */
int eagle_agent_claim_wait(const char *cluster, int timeout_ms);

/* Remove every agent service of `cluster` this Eagle made, then their
 * secrets; *removed (may be NULL) counts them. -1 and err when the engine
 * cannot list or remove a service. */
int eagle_agent_remove_objects(struct eagle_engine *eng, const char *cluster, int *removed,
                               struct eagle_err *err);

/* Converge the cluster whose agent row is `agent` (see above); the caller
 * holds the claim. *created and *removed (either may be NULL) count the
 * nodes' agents started and the objects removed. -1 and err when the engine
 * or the store fails (a node whose agent cannot start does not keep the
 * others from theirs: err is the first such failure); what was done stays
 * done and named. */
int eagle_agent_converge(struct eagle_engine *eng, struct eagle_store *st, const json_t *agent, int *created,
                         int *removed, struct eagle_err *err);

/* The reconciler's pass over one cluster (a store row of clusters) it found
 * ready: converge when an agent is installed, else remove leftovers. */
void eagle_agent_sweep(struct eagle_worker *w, const json_t *cluster);

#endif
