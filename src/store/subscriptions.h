/*
 * subscriptions.h — the store's calls for event subscriptions (callbacks that
 * POST matching events to a URL) and their delivery log. Portable SQL over the
 * backend, as store.c.
 *
 * A subscription row: id, tenant, url, types ("" = every type, else a
 * comma-separated list), service ("" = any), secret (64 hex digits; the HMAC
 * key), nodes (1: node events too; only subscriptions made by a platform
 * admin get them), cursor (every event with id <= cursor is done: delivered,
 * or not matching), generation (bumped by a rewind so the deliverer drops what
 * it had in flight), state ("active" or "retrying"), failures (consecutive
 * failed attempts at the event after the cursor), last_error, next_attempt_at
 * (RFC 3339 or null), created_by, created_at.
 *
 * A delivery row: id, subscription, event_id, attempt, status (HTTP status, 0
 * when none came back), error ("" on success), duration_ms, at.
 *
 * Who writes what: the API creates, deletes and rewinds; the deliverer
 * (controllers/notify.c) advances the cursor, records failures and appends
 * deliveries, always conditioned on the generation it read, so a rewind made
 * meanwhile wins. Rows are new references the caller json_decref()s.
 */
#ifndef EAGLE_STORE_SUBSCRIPTIONS_H
#define EAGLE_STORE_SUBSCRIPTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define EAGLE_DELIVERIES_KEEP 1000 /* delivery rows kept per subscription */

int eagle_store_subscription_create(struct eagle_store *st, const char *id, const char *tenant,
                                    const char *url, const char *types, const char *service,
                                    const char *secret, int nodes, int64_t cursor, const char *username,
                                    struct eagle_err *err);
/* 404 "subscription '<id>' not found" when unknown. */
int eagle_store_subscription_get(struct eagle_store *st, const char *id, json_t **row, struct eagle_err *err);
/* Every subscription, or with `tenant` only that tenant's, oldest first. */
int eagle_store_subscription_list(struct eagle_store *st, const char *tenant, json_t **rows,
                                  struct eagle_err *err);
/* Remove it and its delivery log; 404 when unknown. */
int eagle_store_subscription_delete(struct eagle_store *st, const char *id, struct eagle_err *err);
/* Set the cursor (events after it are sent again, or skipped when it moves
 * ahead), bump the generation and clear the failure state; 404 when unknown. */
int eagle_store_subscription_rewind(struct eagle_store *st, const char *id, int64_t cursor,
                                    struct eagle_err *err);

/* Deliverer: the event(s) up to `cursor` are done; clears the failure state.
 * *applied (may be NULL) is 0 when the row is gone or its generation moved. */
int eagle_store_subscription_advance(struct eagle_store *st, const char *id, int64_t generation,
                                     int64_t cursor, int *applied, struct eagle_err *err);
/* Deliverer: an attempt failed; the next is at next_attempt_at. */
int eagle_store_subscription_failed(struct eagle_store *st, const char *id, int64_t generation,
                                    int64_t failures, const char *error, const char *next_attempt_at,
                                    struct eagle_err *err);

/* Append one row to the subscription's delivery log and trim it to the newest
 * EAGLE_DELIVERIES_KEEP. */
int eagle_store_delivery_add(struct eagle_store *st, const char *subscription, int64_t event_id,
                             int64_t attempt, int64_t status, const char *error, int64_t duration_ms,
                             struct eagle_err *err);
/* The newest `limit` rows of the log, newest first. */
int eagle_store_delivery_list(struct eagle_store *st, const char *subscription, int64_t limit, json_t **rows,
                              struct eagle_err *err);

#endif
