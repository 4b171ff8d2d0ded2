/*
 * releases.h — the store's calls for releases (part of the store module; see
 * store.h for the conventions). Rows: id, service, tenant, strategy,
 * from_revision, to_revision, spec (JSON text), plan (JSON text), state, step,
 * step_started_ms, healthy_since_ms, progress (JSON text), message,
 * promote_requested, abort_requested, created_at, updated_at, created_by.
 */
#ifndef EAGLE_STORE_RELEASES_H
#define EAGLE_STORE_RELEASES_H

#include "store/store.h"

/* 409 when the service already has an active release. */
int eagle_store_release_create(struct eagle_store *st, const char *id, const char *service, const char *tenant,
                               const char *strategy, int64_t from_revision, const char *spec, const char *plan,
                               const char *username, struct eagle_err *err);
int eagle_store_release_get(struct eagle_store *st, const char *id, json_t **row, struct eagle_err *err);
/* Newest first. */
int eagle_store_release_list(struct eagle_store *st, const char *service, json_t **rows, struct eagle_err *err);
/* Every release not yet finished, oldest first. */
int eagle_store_release_active(struct eagle_store *st, json_t **rows, struct eagle_err *err);
/* The service's active release id into *id (caller frees), NULL when none. */
int eagle_store_release_active_for(struct eagle_store *st, const char *service, char **id, struct eagle_err *err);
int eagle_store_release_update(struct eagle_store *st, const char *id, const char *state, int step,
                               int64_t step_started_ms, int64_t healthy_since_ms, int64_t to_revision,
                               const char *progress, const char *message, struct eagle_err *err);
/* what: "promote" or "abort"; 409 when the release is no longer active. */
int eagle_store_release_request(struct eagle_store *st, const char *id, const char *what, struct eagle_err *err);

#endif
