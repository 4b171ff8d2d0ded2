/*
 * agents.h — the store's record of eagle-agent on a cluster: one row per
 * cluster where an admin installed it (see api/agents.c).
 *
 * A row: cluster, token_hash (the keyed hash of the token the agents present;
 * the token itself is only in the cluster's Swarm secret), image, url (the
 * address agents reach eagled at), engine_socket and proc (host paths mounted
 * into the agent), service_id (the global Swarm service), created_at,
 * created_by. Rows are new references the caller json_decref()s.
 */
#ifndef EAGLE_STORE_AGENTS_H
#define EAGLE_STORE_AGENTS_H

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

/* Insert or replace the cluster's row. */
int eagle_store_agent_put(struct eagle_store *st, const char *cluster, const char *token_hash,
                          const char *image, const char *url, const char *engine_socket, const char *proc,
                          const char *service_id, const char *username, struct eagle_err *err);
/* 404 "cluster 'x' has no agent installed" when none. */
int eagle_store_agent_get(struct eagle_store *st, const char *cluster, json_t **row, struct eagle_err *err);
int eagle_store_agent_list(struct eagle_store *st, json_t **rows, struct eagle_err *err);
/* 404 when none. */
int eagle_store_agent_delete(struct eagle_store *st, const char *cluster, struct eagle_err *err);

#endif
