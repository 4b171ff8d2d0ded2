/*
 * router.c — see router.h. Matching is segment by segment; a {capture} takes
 * one non-empty segment, URL-decoded.
 */
#include "http/router.h"

#include <ctype.h>
#include <string.h>

#include "core/util.h"

const struct eagle_route eagle_routes[] = {
    {"GET", "/v1/health", api_health, ROUTE_PUBLIC | ROUTE_LOOP},
    {"GET", "/v1/openapi.json", api_openapi, ROUTE_PUBLIC | ROUTE_LOOP},
    {"POST", "/v1/auth/login", api_login, ROUTE_PUBLIC},
    {"POST", "/v1/auth/logout", api_logout, 0},
    {"GET", "/v1/me", api_me, 0},
    {"GET", "/v1/clusters", api_clusters_list, 0},
    {"POST", "/v1/clusters", api_clusters_create, 0},
    {"GET", "/v1/clusters/{name}", api_clusters_get, 0},
    {"DELETE", "/v1/clusters/{name}", api_clusters_delete, 0},
    {"GET", "/v1/clusters/{name}/nodes", api_clusters_nodes, 0},
    {"GET", "/v1/services", api_services_list, 0},
    {"POST", "/v1/services", api_services_create, 0},
    {"GET", "/v1/services/{name}", api_services_get, 0},
    {"PUT", "/v1/services/{name}", api_services_update, 0},
    {"DELETE", "/v1/services/{name}", api_services_delete, 0},
    {"POST", "/v1/services/{name}/scale", api_services_scale, 0},
    {"POST", "/v1/services/{name}/rollback", api_services_rollback, 0},
    {"GET", "/v1/services/{name}/revisions", api_services_revisions, 0},
    {"GET", "/v1/services/{name}/revisions/{revision}", api_services_revision_get, 0},
    {"GET", "/v1/services/{name}/tasks", api_services_tasks, 0},
};
const size_t eagle_n_routes = sizeof(eagle_routes) / sizeof(eagle_routes[0]);

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Does `path` match `pattern`? Captures go to scratch/params. */
static int match(const char *pattern, const char *path, char *scratch, size_t n, const char **params)
{
    const char *p = pattern, *s = path;
    size_t used = 0;
    int np = 0;

    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            size_t start = used;
            if (*s == '/' || np >= EAGLE_MAX_PARAMS)
                return 0;
            while (*s && *s != '/') {
                int c = (unsigned char)*s;
                if (c == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
                    c = hexval((unsigned char)s[1]) * 16 + hexval((unsigned char)s[2]);
                    s += 2;
                }
                if (c == 0 || used + 1 >= n)
                    return 0;
                scratch[used++] = (char)c;
                s++;
            }
            scratch[used++] = 0;
            params[np++] = scratch + start;
            p = pe + 1;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return 0;
        }
    }
    return *p == 0 && (*s == 0 || (s[0] == '/' && s[1] == 0));
}

const struct eagle_route *eagle_route_match(const char *method, const char *path, char *scratch, size_t n,
                                            const char **params, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < eagle_n_routes; i++) {
        if (!match(eagle_routes[i].pattern, path, scratch, n, params))
            continue;
        if (strcmp(eagle_routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(eagle_routes[i].method, "GET") == 0))
            return &eagle_routes[i];
        *path_known = 1;
    }
    return NULL;
}
