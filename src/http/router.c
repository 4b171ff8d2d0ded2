/*
 * router.c — see router.h. Matching is segment by segment; a {capture} takes
 * one non-empty segment, URL-decoded. The table itself is in routes.c.
 */
#include "http/router.h"

#include <ctype.h>
#include <string.h>

#include "core/util.h"



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

const struct eagle_route *eagle_route_match(const struct eagle_route *table, size_t n_routes, const char *method,
                                            const char *path, char *scratch, size_t n, const char **params,
                                            int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < n_routes; i++) {
        if (!match(table[i].pattern, path, scratch, n, params))
            continue;
        if (strcmp(table[i].method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(table[i].method, "GET") == 0))
            return &table[i];
        *path_known = 1;
    }
    return NULL;
}
