/*
 * api.h — the API's handlers, one file per resource (auth.c, clusters.c,
 * services.c), and what they are given.
 *
 * A handler runs on a worker thread (never on an event loop): it may block on
 * the store and the engine. It reads the request from `call`, sets call->status
 * and call->out (a JSON body the HTTP layer sends and frees; NULL = no body), and
 * returns 0; or fills `err` and returns -1, and the HTTP layer answers with the
 * error (http/server.c is the one place errors become responses).
 */
#ifndef EAGLE_API_H
#define EAGLE_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/context.h"
#include "core/err.h"

struct eagle_store;
struct eagle_engine;

#define EAGLE_MAX_PARAMS 4
#define EAGLE_MAX_BODY (1024 * 1024)

struct eagle_call {
    const char *method;
    const char *path;                     /* without the query string */
    const char *query;                    /* after '?', "" when none */
    const char *params[EAGLE_MAX_PARAMS]; /* the route's {captures}, in order */
    const char *body;
    size_t body_len;
    const char *authorization; /* the Authorization header, NULL when absent */
    const char *source;        /* the peer's address */
    struct eagle_worker *worker;
    json_t *user; /* {"username", "role" ("admin"/"user"), "read_only", "token_id"} after authentication */
    char token_hash[129]; /* the hex keyed hash of the bearer token */
    int status;           /* answer */
    json_t *out;
    const char *raw; /* loop routes only: a body sent as is, instead of out */
    size_t raw_len;
    const char *raw_type;        /* its content type */
    struct eagle_blob *raw_blob; /* released after sending (raw may point into it) */
    uint64_t index_header;       /* when set, sent as X-Eagle-Index */
    /* Long-poll (loop routes): a handler that sets `suspend` is run again when
     * the catalog changes, or with `timed_out` set once `wait_ms` has passed. */
    int suspend, timed_out;
    int64_t wait_ms;
    /* Event stream (loop routes): a handler that sets `stream` turns the answer
     * into text/event-stream of the events after `last_event_id` that
     * eagle_api_event_visible() lets through. */
    int stream;
    uint64_t last_event_id;
    const char *last_event_header; /* the Last-Event-ID header, NULL when absent */
    json_t *stream_filter;         /* owned by the call: what the stream lets through */
};

/* Parse the body as a JSON object (400 invalid_json otherwise). Caller decrefs. */
int eagle_api_body(struct eagle_call *call, json_t **obj, struct eagle_err *err);
/* 400 naming the first key of `body` not in `keys` (NULL-terminated). */
int eagle_api_check_keys(const json_t *body, const char *const *keys, struct eagle_err *err);
/* A query parameter's value (URL-decoded into buf), or NULL when absent. */
const char *eagle_api_query(const struct eagle_call *call, const char *name, char *buf, size_t n);
/* Authenticate the call's bearer token: 0, or -1 with 401 (403 for a read-only
 * token writing). Without a worker (on an event loop) only the token cache is
 * asked, and 1 means "not cached: ask again from a worker". */
int eagle_api_authenticate(struct eagle_call *call, struct eagle_err *err);
/* Roles, weakest first. Platform admins are EAGLE_ROLE_ADMIN in every tenant. */
enum eagle_role {
    EAGLE_ROLE_NONE,
    EAGLE_ROLE_VIEWER,
    EAGLE_ROLE_DEVELOPER,
    EAGLE_ROLE_OWNER,
    EAGLE_ROLE_ADMIN
};
const char *eagle_role_name(enum eagle_role r);
/* "viewer", "developer", "owner" → the role; -1 otherwise. */
int eagle_role_parse(const char *s);
int eagle_api_is_admin(const struct eagle_call *call);
/* 403 unless the caller is a platform admin. */
int eagle_api_require_admin(const struct eagle_call *call, struct eagle_err *err);
/* The caller's role in `tenant`. */
int eagle_api_role(struct eagle_call *call, const char *tenant, enum eagle_role *role, struct eagle_err *err);
/* At least `need` in `tenant`: 404 "<what> not found" when the caller has no role
 * there (another tenant's things do not exist for them), 403 when too weak. */
int eagle_api_require(struct eagle_call *call, const char *tenant, enum eagle_role need, const char *what,
                      struct eagle_err *err);
/* Record a failed write (non-GET) in the audit log, with the error. */
void eagle_api_audit_failure(struct eagle_call *call, const char *route, const struct eagle_err *failure);
/* A one-line summary of what differs between two JSON objects (caller frees). */
char *eagle_api_diff_summary(const json_t *before, const json_t *after);
/* The keyed BLAKE2b hash of a token, as 64 hex digits. */
void eagle_api_token_hash(const char *token, char hex[129]);
/* The authenticated user's name. */
const char *eagle_api_username(const struct eagle_call *call);

/* auth.c */
int api_login(struct eagle_call *call, struct eagle_err *err);
int api_logout(struct eagle_call *call, struct eagle_err *err);
int api_me(struct eagle_call *call, struct eagle_err *err);
int api_tokens_list(struct eagle_call *call, struct eagle_err *err);
int api_tokens_create(struct eagle_call *call, struct eagle_err *err);
int api_tokens_delete(struct eagle_call *call, struct eagle_err *err);

/* users.c */
int api_users_list(struct eagle_call *call, struct eagle_err *err);
int api_users_create(struct eagle_call *call, struct eagle_err *err);
int api_users_get(struct eagle_call *call, struct eagle_err *err);
int api_users_delete(struct eagle_call *call, struct eagle_err *err);
int api_users_password(struct eagle_call *call, struct eagle_err *err);

/* tenants.c */
int api_tenants_list(struct eagle_call *call, struct eagle_err *err);
int api_tenants_create(struct eagle_call *call, struct eagle_err *err);
int api_tenants_get(struct eagle_call *call, struct eagle_err *err);
int api_tenants_update(struct eagle_call *call, struct eagle_err *err);
int api_tenants_delete(struct eagle_call *call, struct eagle_err *err);
int api_tenants_usage(struct eagle_call *call, struct eagle_err *err);
int api_members_list(struct eagle_call *call, struct eagle_err *err);
int api_members_set(struct eagle_call *call, struct eagle_err *err);
int api_members_delete(struct eagle_call *call, struct eagle_err *err);
int api_audit_list(struct eagle_call *call, struct eagle_err *err);
struct eagle_usage;
struct eagle_spec;
/* What the tenant's services use, leaving out service `exclude` (may be NULL). */
int eagle_api_tenant_usage(struct eagle_call *call, const char *tenant, const char *exclude,
                           struct eagle_usage *usage, struct eagle_err *err);
/* Safety rules (for non-admins) and quotas for `spec` replacing `exclude` (NULL
 * for a new service) in `tenant`: 403 or 422 when it does not fit. */
int eagle_api_tenant_check(struct eagle_call *call, const char *tenant, const struct eagle_spec *spec,
                           const char *exclude, struct eagle_err *err);

/* services.c: the networks a non-admin's spec may name (its tenant's own, "host" if allowed): 403 otherwise.
 */
int eagle_api_check_networks(struct eagle_call *call, const struct eagle_spec *spec, struct eagle_err *err);
/* services.c: claim service `name` for one change (eagle_claim), waiting
 * out a controller's brief hold: 409 naming the release when one is in
 * progress, 409 "try again" when the claim stays taken. */
int eagle_api_service_claim(struct eagle_store *st, const char *name, struct eagle_err *err);

/* agents.c */
int api_cluster_agent_get(struct eagle_call *call, struct eagle_err *err);
int api_cluster_agent_put(struct eagle_call *call, struct eagle_err *err);
int api_cluster_agent_delete(struct eagle_call *call, struct eagle_err *err);
int api_agent_sync(struct eagle_call *call, struct eagle_err *err);

/* releases.c */
int api_releases_create(struct eagle_call *call, struct eagle_err *err);
int api_releases_list(struct eagle_call *call, struct eagle_err *err);
int api_releases_get(struct eagle_call *call, struct eagle_err *err);
int api_releases_promote(struct eagle_call *call, struct eagle_err *err);
int api_releases_abort(struct eagle_call *call, struct eagle_err *err);

/* discovery.c (loop routes: memory only) */
struct eagle_event;
int api_discovery_list(struct eagle_call *call, struct eagle_err *err);
/* Let go of the whole-catalog answers kept per index (at shutdown). */
void eagle_discovery_cache_clear(void);
int api_discovery_get(struct eagle_call *call, struct eagle_err *err);
int api_events(struct eagle_call *call, struct eagle_err *err);
/* Does the stream of `call` let `e` through (its filters and the caller's tenants)? */
int eagle_api_event_visible(const struct eagle_call *call, const struct eagle_event *e);
/* May the caller see things of `tenant` ("" = not managed by Eagle: admins only)? */
int eagle_api_tenant_visible(const struct eagle_call *call, const char *tenant);

/* clusters.c */
int api_clusters_list(struct eagle_call *call, struct eagle_err *err);
int api_clusters_create(struct eagle_call *call, struct eagle_err *err);
int api_clusters_get(struct eagle_call *call, struct eagle_err *err);
int api_clusters_delete(struct eagle_call *call, struct eagle_err *err);
int api_clusters_nodes(struct eagle_call *call, struct eagle_err *err);

/* services.c */
int api_services_list(struct eagle_call *call, struct eagle_err *err);
int api_services_create(struct eagle_call *call, struct eagle_err *err);
int api_services_get(struct eagle_call *call, struct eagle_err *err);
int api_services_update(struct eagle_call *call, struct eagle_err *err);
int api_services_delete(struct eagle_call *call, struct eagle_err *err);
int api_services_scale(struct eagle_call *call, struct eagle_err *err);
int api_services_rollback(struct eagle_call *call, struct eagle_err *err);
int api_services_revisions(struct eagle_call *call, struct eagle_err *err);
int api_services_revision_get(struct eagle_call *call, struct eagle_err *err);
int api_services_tasks(struct eagle_call *call, struct eagle_err *err);

#endif
