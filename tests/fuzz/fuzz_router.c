/*
 * fuzz_router.c — libFuzzer target for the route matcher, which reads request
 * paths straight from the network: any bytes as method + path must match or
 * not without reading or writing out of bounds, and captures must fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static int handler(struct eagle_call *call, struct eagle_err *err)
{
    return 0;
}

/* The shapes the real table has: fixed paths, one and two captures, nested. */
static const struct eagle_route table[] = {
    {"GET", "/v1/health", handler, 0},
    {"GET", "/v1/services", handler, 0},
    {"GET", "/v1/services/{name}", handler, 0},
    {"POST", "/v1/services/{name}/scale", handler, 0},
    {"GET", "/v1/services/{name}/revisions/{revision}", handler, 0},
    {"PUT", "/v1/tenants/{name}/members/{user}", handler, 0},
};

#include "../../src/http/router.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
    char *path, scratch[64];
    const char *params[EAGLE_MAX_PARAMS] = {0};
    int known;

    if (size < 1 || size > 4096)
        return 0;
    path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = 0;
    const struct eagle_route *r =
        eagle_route_match(table, sizeof(table) / sizeof(table[0]), methods[data[0] % 6], path, scratch, sizeof(scratch), params, &known);
    if (r)
        for (int i = 0; i < EAGLE_MAX_PARAMS && params[i]; i++)
            if (params[i] < scratch || params[i] + strlen(params[i]) >= scratch + sizeof(scratch))
                abort();
    free(path);
    return 0;
}
