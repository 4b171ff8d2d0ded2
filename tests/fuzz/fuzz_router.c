/*
 * fuzz_router.c — libFuzzer target for the route matcher, which reads request
 * paths straight from the network: any bytes as method + path must match or
 * not without reading or writing out of bounds, and captures must fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

#define STUB(fn)                                                                                            \
    int fn(struct eagle_call *call, struct eagle_err *err)                                                  \
    {                                                                                                       \
        return 0;                                                                                           \
    }
STUB(api_health)
STUB(api_openapi)
STUB(api_login)
STUB(api_logout)
STUB(api_me)
STUB(api_clusters_list)
STUB(api_clusters_create)
STUB(api_clusters_get)
STUB(api_clusters_delete)
STUB(api_clusters_nodes)
STUB(api_services_list)
STUB(api_services_create)
STUB(api_services_get)
STUB(api_services_update)
STUB(api_services_delete)
STUB(api_services_scale)
STUB(api_services_rollback)
STUB(api_services_revisions)
STUB(api_services_revision_get)
STUB(api_services_tasks)

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
        eagle_route_match(methods[data[0] % 6], path, scratch, sizeof(scratch), params, &known);
    if (r)
        for (int i = 0; i < EAGLE_MAX_PARAMS && params[i]; i++)
            if (params[i] < scratch || params[i] + strlen(params[i]) >= scratch + sizeof(scratch))
                abort();
    free(path);
    return 0;
}
