/*
 * store.h — Eagle's persistent state behind one interface.
 *
 * A backend is a struct of function pointers (Fluent Bit's plugin shape): SQLite
 * (store_sqlite.c, the default) today; a PostgreSQL backend implements the same
 * five calls. The domain calls below (users, tokens, clusters, services,
 * revisions, audit) are written once, in portable SQL, on top of them.
 *
 * Rows come back as jansson objects keyed by column name (integers as JSON
 * integers, text as strings, NULL as null): the API layer serialises them as they
 * are, and the one structured value (a service spec) is validated by model/spec.
 *
 * Threads: a struct eagle_store is one connection, used by one thread at a time.
 * Every worker and controller thread opens its own. Ownership: every json_t*
 * returned is a new reference the caller json_decref()s.
 */
#ifndef EAGLE_STORE_H
#define EAGLE_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"

enum eagle_sql_type { EAGLE_SQL_NULL, EAGLE_SQL_TEXT, EAGLE_SQL_INT };

struct eagle_sqlarg {
    enum eagle_sql_type type;
    const char *s;
    int64_t i;
};
static inline struct eagle_sqlarg eagle_sql_text(const char *s)
{
    return (struct eagle_sqlarg){.type = s ? EAGLE_SQL_TEXT : EAGLE_SQL_NULL, .s = s};
}
#define SQL_TEXT(v) eagle_sql_text(v) /* NULL binds SQL NULL */
#define SQL_INT(v) ((struct eagle_sqlarg){.type = EAGLE_SQL_INT, .i = (v)})

/* A backend. SQL uses '?' placeholders; a backend that needs $1 rewrites them.
 * A unique-constraint violation fails with status 409 code "conflict". */
struct eagle_store_driver {
    const char *name;
    int (*open)(const char *location, void **conn, struct eagle_err *err);
    void (*close)(void *conn);
    /* Run one statement; *changes (may be NULL) gets the rows changed. */
    int (*exec)(void *conn, const char *sql, const struct eagle_sqlarg *args, int nargs, int64_t *changes,
                struct eagle_err *err);
    /* Run a query; *rows gets a JSON array of row objects. */
    int (*query)(void *conn, const char *sql, const struct eagle_sqlarg *args, int nargs, json_t **rows,
                 struct eagle_err *err);
    /* Begin a write transaction (SQLite: BEGIN IMMEDIATE). */
    int (*begin)(void *conn, struct eagle_err *err);
};

extern const struct eagle_store_driver eagle_store_sqlite;

struct eagle_store;

/* Open a connection to the store in directory `data_dir` (SQLite file eagle.db)
 * and, with `migrate`, create or upgrade the schema. Free with eagle_store_close(). */
struct eagle_store *eagle_store_open(const char *data_dir, int migrate, struct eagle_err *err);
void eagle_store_close(struct eagle_store *st);

/* Transactions: begin, then commit or rollback (rollback after a failed begin is a no-op). */
int eagle_store_begin(struct eagle_store *st, struct eagle_err *err);
int eagle_store_commit(struct eagle_store *st, struct eagle_err *err);
void eagle_store_rollback(struct eagle_store *st);

/* Raw access for the domain calls and tests. */
int eagle_store_exec(struct eagle_store *st, const char *sql, const struct eagle_sqlarg *args, int nargs,
                     int64_t *changes, struct eagle_err *err);
int eagle_store_query(struct eagle_store *st, const char *sql, const struct eagle_sqlarg *args, int nargs,
                      json_t **rows, struct eagle_err *err);
/* The first row of a query, or 404 not_found with `what` in the message. */
int eagle_store_query_one(struct eagle_store *st, const char *what, const char *sql, const struct eagle_sqlarg *args,
                          int nargs, json_t **row, struct eagle_err *err);

/* Key/value settings (e.g. the token-hash key). *value is NULL when unset; caller frees. */
int eagle_store_meta_get(struct eagle_store *st, const char *key, char **value, struct eagle_err *err);
int eagle_store_meta_set(struct eagle_store *st, const char *key, const char *value, struct eagle_err *err);

/* Users. */
int eagle_store_user_count(struct eagle_store *st, int64_t *n, struct eagle_err *err);
int eagle_store_user_create(struct eagle_store *st, const char *username, const char *password_hash,
                            const char *role, struct eagle_err *err);
int eagle_store_user_get(struct eagle_store *st, const char *username, json_t **row, struct eagle_err *err);

/* Tokens, by the hex of their keyed hash; expires_ms is Unix time in ms. */
/* kind: "session" (login) or "api" (named, for programs; `id` is its public id). */
int eagle_store_token_create(struct eagle_store *st, const char *hash, const char *id, const char *name,
                             const char *username, const char *kind, int read_only, int64_t expires_ms,
                             struct eagle_err *err);
/* The token's row joined with its user (username, role, expires_ms, kind, read_only, id); 401 when unknown,
 * revoked or expired. */
int eagle_store_token_check(struct eagle_store *st, const char *hash, json_t **row, struct eagle_err *err);
int eagle_store_token_revoke(struct eagle_store *st, const char *hash, struct eagle_err *err);

/* Audit: one row per write; call inside the write's transaction. */
int eagle_store_audit(struct eagle_store *st, const char *username, const char *tenant, const char *action,
                      const char *target, const char *result, const char *detail, const char *source,
                      struct eagle_err *err);

/* Clusters (rows: name, datacenter, endpoint, tls, status, reason, swarm_id,
 * engine_version, checked_at, created_at). */
int eagle_store_cluster_create(struct eagle_store *st, const char *name, const char *datacenter, const char *endpoint,
                               int tls, const char *swarm_id, const char *engine_version, struct eagle_err *err);
int eagle_store_cluster_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err);
int eagle_store_cluster_list(struct eagle_store *st, json_t **rows, struct eagle_err *err);
/* 404 when unknown, 409 while services are on it. */
int eagle_store_cluster_delete(struct eagle_store *st, const char *name, struct eagle_err *err);
int eagle_store_cluster_set_status(struct eagle_store *st, const char *name, const char *status, const char *reason,
                                   const char *swarm_id, const char *engine_version, struct eagle_err *err);

/* Services (rows: name, tenant, cluster, revision, applied_revision, status, status_message,
 * engine_id, spec (JSON text), created_at, updated_at, created_by).
 * status: "pending" (revision not yet applied), "running", "failed", "deleting". */
int eagle_store_service_create(struct eagle_store *st, const char *name, const char *tenant, const char *cluster,
                               const char *spec_json, const char *username, struct eagle_err *err);
int eagle_store_service_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err);
/* cluster, tenant: NULL = any. */
int eagle_store_service_list(struct eagle_store *st, const char *cluster, const char *tenant, json_t **rows,
                             struct eagle_err *err);
/* Record revision expected+1 with `spec_json`; 409 when the service moved past `expected`. */
int eagle_store_service_new_revision(struct eagle_store *st, const char *name, int64_t expected,
                                     const char *spec_json, const char *reason, const char *username,
                                     struct eagle_err *err);
/* Undo a recorded revision the engine refused: the service returns to revision-1. */
int eagle_store_service_revert(struct eagle_store *st, const char *name, int64_t revision, struct eagle_err *err);
/* The engine now runs `revision` as service `engine_id`. */
int eagle_store_service_applied(struct eagle_store *st, const char *name, int64_t revision, const char *engine_id,
                                struct eagle_err *err);
int eagle_store_service_set_status(struct eagle_store *st, const char *name, const char *status,
                                   const char *message, struct eagle_err *err);
/* Remove the service and its revisions. */
int eagle_store_service_delete(struct eagle_store *st, const char *name, struct eagle_err *err);
/* Services whose desired state the engine does not have yet (pending, failed, deleting). */
int eagle_store_service_unsettled(struct eagle_store *st, json_t **rows, struct eagle_err *err);

/* Revisions (rows: service, revision, reason, spec (JSON text), created_at, created_by), newest first. */
int eagle_store_revision_list(struct eagle_store *st, const char *service, json_t **rows, struct eagle_err *err);
int eagle_store_revision_get(struct eagle_store *st, const char *service, int64_t revision, json_t **row,
                             struct eagle_err *err);

/* ---- tenancy (tenancy.c) ---- */

/* Tenants (rows: name, quotas (JSON text), pool, allow (JSON text), created_at). */
int eagle_store_tenant_create(struct eagle_store *st, const char *name, const char *quotas, const char *pool,
                              const char *allow, struct eagle_err *err);
int eagle_store_tenant_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err);
/* Every tenant, or with `username` only those the user is a member of. */
int eagle_store_tenant_list(struct eagle_store *st, const char *username, json_t **rows, struct eagle_err *err);
int eagle_store_tenant_update(struct eagle_store *st, const char *name, const char *quotas, const char *pool,
                              const char *allow, struct eagle_err *err);
/* 404 when unknown, 409 while it has services. */
int eagle_store_tenant_delete(struct eagle_store *st, const char *name, struct eagle_err *err);

/* Members (rows: tenant, username, role) with role owner, developer or viewer. */
int eagle_store_member_set(struct eagle_store *st, const char *tenant, const char *username, const char *role,
                           struct eagle_err *err);
int eagle_store_member_remove(struct eagle_store *st, const char *tenant, const char *username,
                              struct eagle_err *err);
int eagle_store_member_list(struct eagle_store *st, const char *tenant, json_t **rows, struct eagle_err *err);
/* The user's role in the tenant into *role (caller frees), NULL when none. */
int eagle_store_member_role(struct eagle_store *st, const char *tenant, const char *username, char **role,
                            struct eagle_err *err);

/* Users (rows: username, role, created_at). */
int eagle_store_user_list(struct eagle_store *st, json_t **rows, struct eagle_err *err);
int eagle_store_user_delete(struct eagle_store *st, const char *username, struct eagle_err *err);
int eagle_store_user_set_password(struct eagle_store *st, const char *username, const char *password_hash,
                                  struct eagle_err *err);

/* API tokens of a user (rows: id, name, read_only, expires_ms, created_at; never the hash). */
int eagle_store_token_list(struct eagle_store *st, const char *username, json_t **rows, struct eagle_err *err);
/* Revoke the user's API token `id`; 404 when it is not theirs. */
int eagle_store_token_revoke_id(struct eagle_store *st, const char *username, const char *id, struct eagle_err *err);
/* Revoke every token of a user (password change, deletion). */
int eagle_store_token_revoke_user(struct eagle_store *st, const char *username, struct eagle_err *err);

/* Audit rows, newest first, filtered by any of tenant, username, target, since, until (NULL = any). */
int eagle_store_audit_query(struct eagle_store *st, const char *tenant, const char *username, const char *target,
                            const char *since, const char *until, int64_t limit, json_t **rows,
                            struct eagle_err *err);

#endif
