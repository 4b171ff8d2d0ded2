/*
 * fuzz_agent.c — libFuzzer target for what eagle-agent parses from eagled's
 * sync answer: each target's check (src/health/wire.c), then the checker's own
 * validation of the whole target set. Any JSON must parse or fail with a 400
 * naming a field, never crash or leak; what parses must survive its round trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct eagle_checker *checker;
    struct eagle_health_target t[16];
    json_t *in, *x;
    size_t i, n = 0;

    if (size > 65536)
        return 0;
    if (!checker)
        checker = eagle_checker_new(); /* never started: set_targets only validates and stores */
    in = json_loadb((const char *)data, size, 0, NULL);
    if (!in)
        return 0;
    json_array_foreach(json_object_get(in, "targets"), i, x)
    {
        struct eagle_err err = {0};
        uint16_t port, port2;
        struct eagle_health_check back;
        if (n == 16)
            break;
        memset(&t[n], 0, sizeof(t[n]));
        if (eagle_health_check_from_json(json_object_get(x, "check"), "targets[0].check", &t[n].check, &port,
                                         &err) < 0) {
            if (err.status != 400 || !err.field[0])
                abort();
            continue;
        }
        json_t *j = eagle_health_check_to_json(&t[n].check, port);
        if (eagle_health_check_from_json(j, "check", &back, &port2, &err) < 0 || port2 != port)
            abort();
        json_t *j2 = eagle_health_check_to_json(&back, port2);
        if (!json_equal(j, j2))
            abort();
        json_decref(j2);
        json_decref(j);
        t[n].id = json_string_value(json_object_get(x, "task"));
        t[n].address = "127.0.0.1";
        t[n].port = port;
        n++;
    }
    struct eagle_err err = {0};
    if (eagle_checker_set_targets(checker, t, n, &err) < 0 && (err.status != 400 || !err.field[0]))
        abort();
    json_decref(in);
    return 0;
}
