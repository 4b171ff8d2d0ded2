/*
 * fuzz_spec.c — libFuzzer target for model/spec, the parser of users' specs.
 *
 * Any input must be parsed or refused without a crash, a leak or undefined
 * behaviour. A spec that is accepted must survive both round trips:
 *   to_json → from_json gives the same normalised JSON, and
 *   to_engine → from_engine gives the same spec (the engine has no cluster).
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/spec.h"

#define INPUT_MAX (64 * 1024)

static void check(int ok, const char *what, json_t *a, json_t *b)
{
    char *sa, *sb;

    if (ok)
        return;
    sa = a ? json_dumps(a, JSON_SORT_KEYS) : NULL;
    sb = b ? json_dumps(b, JSON_SORT_KEYS) : NULL;
    fprintf(stderr, "fuzz_spec: %s\n  a: %s\n  b: %s\n", what, sa ? sa : "-", sb ? sb : "-");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eagle_spec s, back, adopted;
    struct eagle_err err;
    json_t *in, *norm, *norm2, *engine, *labels, *adopted_json;

    if (size > INPUT_MAX)
        return 0;
    in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!in)
        return 0;
    if (eagle_spec_from_json(in, &s, &err) != 0) {
        check(err.status == 400 && err.msg[0], "a refusal without a status or message", in, NULL);
        json_decref(in);
        return 0;
    }

    norm = eagle_spec_to_json(&s);
    check(eagle_spec_from_json(norm, &back, &err) == 0, err.msg, norm, NULL);
    norm2 = eagle_spec_to_json(&back);
    check(json_equal(norm, norm2), "to_json/from_json round trip differs", norm, norm2);

    labels = json_pack("{s:s, s:s}", "eagle.service", "x", "eagle.revision", "1");
    engine = eagle_spec_to_engine(&s, labels);
    check(eagle_spec_from_engine(engine, &adopted, &err) == 0, err.msg, engine, NULL);
    check(adopted.cluster == NULL, "from_engine invented a cluster", engine, NULL);
    adopted_json = eagle_spec_to_json(&adopted);
    json_object_set(adopted_json, "cluster", json_object_get(norm, "cluster"));
    check(json_equal(norm, adopted_json), "to_engine/from_engine round trip differs", norm, adopted_json);

    json_decref(adopted_json);
    json_decref(engine);
    json_decref(labels);
    json_decref(norm2);
    json_decref(norm);
    eagle_spec_release(&adopted);
    eagle_spec_release(&back);
    eagle_spec_release(&s);
    json_decref(in);
    return 0;
}
