/*
 * router.h — the API's route table. It is the one list of what the server
 * answers; tests compare it with docs/openapi.json so the two cannot drift.
 */
#ifndef EAGLE_ROUTER_H
#define EAGLE_ROUTER_H

#include <stddef.h>

#include "api/api.h"

enum {
    ROUTE_PUBLIC = 1, /* no token needed */
    ROUTE_LOOP = 2,   /* answered on the event loop: reads memory only, never blocks */
};

struct eagle_route {
    const char *method;
    const char *pattern; /* "/v1/services/{name}/scale" */
    int (*fn)(struct eagle_call *call, struct eagle_err *err);
    int flags;
};

extern const struct eagle_route eagle_routes[];
extern const size_t eagle_n_routes;

/*
 * Match method and path against `table`. Captures are copied into `scratch`
 * (n bytes) and pointed to by params[]. Returns the route, or NULL; then
 * *path_known tells whether the path exists with another method (405, not 404).
 */
const struct eagle_route *eagle_route_match(const struct eagle_route *table, size_t n_routes, const char *method,
                                            const char *path, char *scratch, size_t n, const char **params,
                                            int *path_known);

/* Loop-side handlers (router.c). */
int api_health(struct eagle_call *call, struct eagle_err *err);
int api_openapi(struct eagle_call *call, struct eagle_err *err);

#endif
