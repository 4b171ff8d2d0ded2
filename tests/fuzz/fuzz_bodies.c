/*
 * fuzz_bodies.c — libFuzzer target for the parsers of request bodies other
 * than the service spec (fuzz_spec.c): release plans, tenant quotas and
 * safety exceptions. Any JSON must parse or fail with a 400 naming a field,
 * never crash or leak; what parses must survive its own round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/release.h"
#include "model/tenant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in;
    struct eagle_err err;

    if (size > 65536)
        return 0;
    in = json_loadb((const char *)data, size, 0, NULL);
    if (!in)
        return 0;

    struct eagle_release_plan plan;
    if (eagle_release_plan_from_json(in, &plan, &err) == 0) {
        json_t *out = eagle_release_plan_to_json(&plan);
        for (int step = -1; step <= plan.n_steps; step++)
            for (int total = 0; total < 5; total++) {
                int n = eagle_release_step_tasks(&plan, step, total);
                if (n < 1 || (total >= 1 && n > total))
                    abort();
            }
        json_decref(out);
    } else if (err.status != 400 || !err.field[0]) {
        abort();
    }

    struct eagle_quota q, q2;
    json_t *quotas = json_object_get(in, "quotas");
    if (eagle_quota_from_json(quotas ? quotas : in, &q, &err) == 0) {
        json_t *j = eagle_quota_to_json(&q);
        if (eagle_quota_from_json(j, &q2, &err) != 0)
            abort();
        json_decref(j);
    }
    struct eagle_allow a;
    json_t *allow = json_object_get(in, "allow");
    if (eagle_allow_from_json(allow ? allow : in, &a, &err) == 0) {
        json_t *j = eagle_allow_to_json(&a);
        json_decref(j);
    }
    json_decref(in);
    return 0;
}
