/*
 * test_wire.c — checks and results as eagled and eagle-agent exchange them
 * (src/health/wire.c): a spec's check survives the trip through JSON, bad
 * checks are refused with the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health/wire.h"

static void test_spec_round_trip(void **state)
{
    (void)state;
    struct eagle_spec_health h = {.set = true,
                                  .type = "http",
                                  .port = 8080,
                                  .method = "HEAD",
                                  .path = "/ping",
                                  .host = "web.internal",
                                  .status_min = 200,
                                  .status_max = 204,
                                  .body = "ok",
                                  .interval_ns = 500000000LL,
                                  .timeout_ns = 300000000LL,
                                  .start_period_ns = 2000000000LL,
                                  .healthy_threshold = 2,
                                  .unhealthy_threshold = 3};
    struct eagle_health_check c, back;
    struct eagle_err err;
    uint16_t port, port2;

    eagle_health_check_of_spec(&h, &c, &port);
    assert_int_equal(port, 8080);
    assert_int_equal(c.type, EAGLE_CHECK_HTTP);
    assert_int_equal(c.interval_ms, 500);
    assert_int_equal(c.timeout_ms, 300);
    assert_int_equal(c.start_period_ms, 2000);
    json_t *j = eagle_health_check_to_json(&c, port);
    assert_int_equal(eagle_health_check_from_json(j, "check", &back, &port2, &err), 0);
    assert_int_equal(port2, 8080);
    assert_int_equal(back.interval_ms, 500);
    assert_int_equal(back.healthy_threshold, 2);
    assert_int_equal(back.unhealthy_threshold, 3);
    assert_int_equal(back.status_min, 200);
    assert_int_equal(back.status_max, 204);
    assert_string_equal(back.method, "HEAD");
    assert_string_equal(back.path, "/ping");
    assert_string_equal(back.host, "web.internal");
    assert_string_equal(back.body_contains, "ok");
    json_t *again = eagle_health_check_to_json(&back, port2);
    assert_true(json_equal(j, again));
    json_decref(again);
    json_decref(j);

    /* tcp: no HTTP fields on the wire */
    struct eagle_spec_health t = {.set = true, .type = "tcp", .port = 6379, .path = "/"};
    eagle_health_check_of_spec(&t, &c, &port);
    j = eagle_health_check_to_json(&c, port);
    assert_null(json_object_get(j, "path"));
    assert_string_equal(json_string_value(json_object_get(j, "type")), "tcp");
    json_decref(j);
}

static void test_bad_checks(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"[]", "must be an object"},
        {"{\"port\": 80}", "type"},
        {"{\"type\": \"udp\", \"port\": 80}", "type"},
        {"{\"type\": \"tcp\"}", "port"},
        {"{\"type\": \"tcp\", \"port\": 0}", "port"},
        {"{\"type\": \"tcp\", \"port\": 65536}", "port"},
        {"{\"type\": \"tcp\", \"port\": 80, \"interval_ms\": -1}", "interval_ms"},
        {"{\"type\": \"tcp\", \"port\": 80, \"timeout_ms\": \"2s\"}", "timeout_ms"},
        {"{\"type\": \"http\", \"port\": 80, \"path\": 7}", "path"},
        {"{\"type\": \"http\", \"port\": 80, \"status_max\": 600}", "status_max"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct eagle_health_check c;
        struct eagle_err err = {0};
        uint16_t port;
        json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_int_equal(eagle_health_check_from_json(j, "targets[3].check", &c, &port, &err), -1);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.field, "targets[3].check");
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, cases[i].needle);
        json_decref(j);
    }
}

static void test_result(void **state)
{
    (void)state;
    struct eagle_health_result r = {.id = "task1",
                                    .state = EAGLE_HEALTH_UNHEALTHY,
                                    .last_ok = 0,
                                    .reason = "status 503 not in 200-399",
                                    .checks = 4,
                                    .latency_us = 120};
    json_t *j = eagle_health_result_to_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "task")), "task1");
    assert_string_equal(json_string_value(json_object_get(j, "health")), "unhealthy");
    assert_true(json_is_false(json_object_get(j, "last_ok")));
    assert_int_equal(eagle_health_state_parse(json_string_value(json_object_get(j, "health"))),
                     EAGLE_HEALTH_UNHEALTHY);
    json_decref(j);
    r.last_ok = -1;
    j = eagle_health_result_to_json(&r);
    assert_true(json_is_null(json_object_get(j, "last_ok")));
    json_decref(j);
    assert_int_equal(eagle_health_state_parse("sick"), -1);
    assert_int_equal(eagle_health_state_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_round_trip),
        cmocka_unit_test(test_bad_checks),
        cmocka_unit_test(test_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
