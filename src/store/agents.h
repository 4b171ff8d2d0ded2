/*
 * agents.h — the store's record of eagle-agent on a cluster (see
 * api/agents.c and controllers/agents.c).
 *
 * An agent row, one per cluster where an admin installed it: cluster, image,
 * url (the address agents reach eagled at), engine_socket and proc (host
 * paths mounted into the agent), exclude_node (the node eagled checks itself,
 * which gets no agent; "" for none), created_at, created_by.
 *
 * A node row, one per node running an agent: cluster, node, service_id (the
 * node's own Swarm service), secret_name (the Swarm secret with its token),
 * created_at; and token_hash, the keyed hash of that node's token, which only
 * eagle_store_agent_node_by_token() returns. Removing the agent row removes
 * its node rows. Rows are new references the caller json_decref()s.
 */
#ifndef EAGLE_STORE_AGENTS_H
#define EAGLE_STORE_AGENTS_H

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

/* Insert or replace the cluster's row (replacing drops its node rows). */
int eagle_store_agent_put(struct eagle_store *st, const char *cluster, const char *image, const char *url,
                          const char *engine_socket, const char *proc, const char *exclude_node,
                          const char *username, struct eagle_err *err);
/* 404 "cluster 'x' has no agent installed" when none. */
int eagle_store_agent_get(struct eagle_store *st, const char *cluster, json_t **row, struct eagle_err *err);
int eagle_store_agent_list(struct eagle_store *st, json_t **rows, struct eagle_err *err);
/* 404 when none. */
int eagle_store_agent_delete(struct eagle_store *st, const char *cluster, struct eagle_err *err);

int eagle_store_agent_node_put(struct eagle_store *st, const char *cluster, const char *node,
                               const char *token_hash, const char *service_id, const char *secret_name,
                               struct eagle_err *err);
/* The cluster's node rows, by node (without token_hash). */
int eagle_store_agent_node_list(struct eagle_store *st, const char *cluster, json_t **rows,
                                struct eagle_err *err);
int eagle_store_agent_node_delete(struct eagle_store *st, const char *cluster, const char *node,
                                  struct eagle_err *err);
/* The node row whose token has this hash; 404 when none. */
int eagle_store_agent_node_by_token(struct eagle_store *st, const char *token_hash, json_t **row,
                                    struct eagle_err *err);

#endif
