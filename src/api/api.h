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

#include "controllers/context.h"
#include "core/err.h"

struct eagle_store;
struct eagle_engine;

#define EAGLE_MAX_PARAMS 4
#define EAGLE_MAX_BODY (1024 * 1024)


struct eagle_call {
    const char *method;
    const char *path;   /* without the query string */
    const char *query;  /* after '?', "" when none */
    const char *params[EAGLE_MAX_PARAMS]; /* the route's {captures}, in order */
    const char *body;
    size_t body_len;
    const char *authorization; /* the Authorization header, NULL when absent */
    const char *source;        /* the peer's address */
    struct eagle_worker *worker;
    json_t *user;              /* {"username", "role"} after authentication */
    char token_hash[129];      /* the hex keyed hash of the bearer token */
    int status;                /* answer */
    json_t *out;
    const char *raw;      /* loop routes only: a static body sent as is, instead of out */
    size_t raw_len;
    const char *raw_type; /* its content type */
};

/* Parse the body as a JSON object (400 invalid_json otherwise). Caller decrefs. */
int eagle_api_body(struct eagle_call *call, json_t **obj, struct eagle_err *err);
/* A query parameter's value (URL-decoded into buf), or NULL when absent. */
const char *eagle_api_query(const struct eagle_call *call, const char *name, char *buf, size_t n);
/* Authenticate the call's bearer token (401 otherwise). */
int eagle_api_authenticate(struct eagle_call *call, struct eagle_err *err);
/* The keyed BLAKE2b hash of a token, as 64 hex digits. */
void eagle_api_token_hash(const char *token, char hex[129]);
/* The authenticated user's name. */
const char *eagle_api_username(const struct eagle_call *call);

/* auth.c */
int api_login(struct eagle_call *call, struct eagle_err *err);
int api_logout(struct eagle_call *call, struct eagle_err *err);
int api_me(struct eagle_call *call, struct eagle_err *err);

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
