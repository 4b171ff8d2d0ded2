/*
 * test_release.c — the release state machine (model/release.c): plans parse
 * with clear errors, steps resolve to task counts, and every transition —
 * start, step gates held for min_healthy_time, deadline and failure roll
 * backs, promotion (automatic and on request), abort — decides what the
 * controller must do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "model/release.h"

static struct eagle_release_plan plan_of(const char *json)
{
    struct eagle_release_plan p;
    struct eagle_err err = {0};
    json_t *j = json_loads(json, 0, NULL);
    if (!j || eagle_release_plan_from_json(j, &p, &err) < 0)
        fail_msg("plan %s: %s", json, err.msg);
    json_decref(j);
    return p;
}

static void test_plan_errors(void **state)
{
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{}", "strategy"},
        {"{\"strategy\": \"blue-green\"}", "strategy"},
        {"{\"strategy\": \"canary\", \"canary\": {\"steps\": []}}", "canary.steps"},
        {"{\"strategy\": \"canary\", \"canary\": {\"steps\": [\"150%\"]}}", "canary.steps[0]"},
        {"{\"strategy\": \"canary\", \"canary\": {\"steps\": [1, \"x\"]}}", "canary.steps[1]"},
        {"{\"strategy\": \"canary\", \"canary\": {\"stepz\": [1]}}", "canary.stepz"},
        {"{\"strategy\": \"canary\", \"canary\": {\"min_healthy_time\": \"5 s\"}}", "canary.min_healthy_time"},
        {"{\"strategy\": \"canary\", \"canary\": {\"min_healthy_time\": \"10m\", \"healthy_deadline\": \"1m\"}}",
         "healthy_deadline"},
        {"{\"strategy\": \"rolling\", \"canary\": {}}", "canary"},
        {"{\"strategy\": \"rolling\", \"rolling\": {\"order\": \"random\"}}", "rolling.order"},
        {"{\"strategy\": \"rolling\", \"rolling\": {\"parallelism\": -1}}", "rolling.parallelism"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct eagle_release_plan p;
        struct eagle_err err = {0};
        json_t *j = json_loads(bad[i].json, 0, NULL);
        assert_non_null(j);
        if (eagle_release_plan_from_json(j, &p, &err) == 0)
            fail_msg("accepted %s", bad[i].json);
        assert_int_equal(err.status, 400);
        if (strcmp(err.field, bad[i].field) != 0)
            fail_msg("%s: field '%s', want '%s'", bad[i].json, err.field, bad[i].field);
        json_decref(j);
    }
}

static void test_steps(void **state)
{
    struct eagle_release_plan p = plan_of("{\"strategy\": \"canary\", \"canary\": {\"steps\": [1, \"25%\", \"50%\", "
                                          "\"100%\"]}}");
    assert_int_equal(p.n_steps, 4);
    assert_int_equal(eagle_release_step_tasks(&p, 0, 8), 1);
    assert_int_equal(eagle_release_step_tasks(&p, 1, 8), 2);
    assert_int_equal(eagle_release_step_tasks(&p, 1, 3), 1); /* rounds up, at least one */
    assert_int_equal(eagle_release_step_tasks(&p, 2, 3), 2);
    assert_int_equal(eagle_release_step_tasks(&p, 3, 3), 3);
    assert_int_equal(eagle_release_step_tasks(&p, 0, 0), 1);
    struct eagle_release_plan big = plan_of("{\"strategy\": \"canary\", \"canary\": {\"steps\": [5]}}");
    assert_int_equal(eagle_release_step_tasks(&big, 0, 2), 2); /* never more than the service has */
}

static const char *CANARY = "{\"strategy\": \"canary\", \"canary\": {\"steps\": [1, \"50%\"], \"min_healthy_time\": "
                            "\"10s\", \"healthy_deadline\": \"60s\", \"auto_promote\": true}}";

static void test_canary_happy_path(void **state)
{
    struct eagle_release_plan p = plan_of(CANARY);
    struct eagle_release_view v = {.state = REL_PENDING, .now_ms = 1000, .total = 4};
    struct eagle_release_decision d;

    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    assert_true(d.actions & REL_ACT_SCALE);
    assert_int_equal(d.canary_tasks, 1);
    assert_int_equal(d.main_tasks, 3);

    /* running, the canary not ready yet: stay, keep the engine at this step */
    v = (struct eagle_release_view){.state = REL_RUNNING, .step = 0, .now_ms = 2000, .step_started_ms = 1000,
                                    .total = 4, .new_ready = 0};
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    assert_int_equal(d.healthy_since_ms, 0);
    assert_int_equal(d.canary_tasks, 1);

    /* ready: the clock for min_healthy_time starts */
    v.new_ready = 1;
    v.now_ms = 3000;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    assert_int_equal(d.healthy_since_ms, 3000);
    assert_int_equal(d.step, 0);

    /* held 10 s: next step, 50% of 4 = 2 */
    v.healthy_since_ms = 3000;
    v.now_ms = 13000;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    assert_int_equal(d.step, 1);
    assert_int_equal(d.canary_tasks, 2);
    assert_int_equal(d.main_tasks, 2);
    assert_int_equal(d.step_started_ms, 13000);
    assert_int_equal(d.healthy_since_ms, 0);

    /* last step held: auto_promote */
    v = (struct eagle_release_view){.state = REL_RUNNING, .step = 1, .now_ms = 30000, .step_started_ms = 13000,
                                    .healthy_since_ms = 15000, .total = 4, .new_ready = 2};
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_PROMOTING);

    v.state = REL_PROMOTING;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_SUCCEEDED);
    assert_int_equal(d.actions, REL_ACT_RECORD_NEW | REL_ACT_APPLY_MAIN | REL_ACT_DELETE_CANARY);
}

static void test_canary_manual_promotion(void **state)
{
    struct eagle_release_plan p = plan_of("{\"strategy\": \"canary\", \"canary\": {\"steps\": [1], "
                                          "\"min_healthy_time\": \"0s\"}}");
    struct eagle_release_view v = {.state = REL_RUNNING, .now_ms = 5000, .step_started_ms = 1000, .total = 2,
                                   .new_ready = 1};
    struct eagle_release_decision d;

    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_WAITING_PROMOTION);
    v.state = REL_WAITING_PROMOTION;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_WAITING_PROMOTION); /* waits */
    v.promote_requested = true;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_PROMOTING);
    /* a canary failing while it waits rolls back */
    v.promote_requested = false;
    v.new_failed = 1;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_ROLLING_BACK);
}

static void test_rollbacks(void **state)
{
    struct eagle_release_plan p = plan_of(CANARY);
    struct eagle_release_view v = {.state = REL_RUNNING, .now_ms = 5000, .step_started_ms = 1000, .total = 4,
                                   .new_failed = 1};
    struct eagle_release_decision d;

    eagle_release_decide(&p, &v, &d); /* a failed or unhealthy canary task */
    assert_int_equal(d.state, REL_ROLLING_BACK);
    v.new_failed = 0;
    v.now_ms = 1000 + 60001; /* not healthy by the deadline */
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_ROLLING_BACK);
    assert_non_null(strstr(d.message, "not healthy within 60 s"));
    v.state = REL_ROLLING_BACK;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_ROLLED_BACK);
    assert_int_equal(d.actions, REL_ACT_DELETE_CANARY | REL_ACT_APPLY_MAIN);

    struct eagle_release_plan r = plan_of("{\"strategy\": \"rolling\"}");
    v = (struct eagle_release_view){.state = REL_ROLLING_BACK, .total = 2};
    eagle_release_decide(&r, &v, &d);
    assert_int_equal(d.state, REL_ROLLED_BACK);
    assert_int_equal(d.actions, REL_ACT_RECORD_REVERT | REL_ACT_APPLY_MAIN);
}

static void test_abort(void **state)
{
    struct eagle_release_plan p = plan_of(CANARY);
    struct eagle_release_view v = {.state = REL_RUNNING, .now_ms = 5000, .total = 4, .abort_requested = true};
    struct eagle_release_decision d;

    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_ABORTING);
    v.state = REL_ABORTING;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_ABORTED);
    assert_true(d.actions & REL_ACT_DELETE_CANARY);
    /* a finished release ignores a late abort */
    v.state = REL_SUCCEEDED;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_SUCCEEDED);
    assert_int_equal(d.actions, 0);
}

static void test_rolling(void **state)
{
    struct eagle_release_plan p = plan_of("{\"strategy\": \"rolling\", \"rolling\": {\"min_healthy_time\": \"0s\"}}");
    struct eagle_release_view v = {.state = REL_PENDING, .now_ms = 1000, .total = 3};
    struct eagle_release_decision d;

    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    assert_int_equal(d.actions, REL_ACT_RECORD_NEW | REL_ACT_APPLY_MAIN);
    /* all new tasks ready, but an old one still runs: not yet */
    v = (struct eagle_release_view){.state = REL_RUNNING, .now_ms = 2000, .step_started_ms = 1000, .total = 3,
                                    .new_ready = 3, .old_running = 1, .applied = true};
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_RUNNING);
    v.old_running = 0;
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.state, REL_SUCCEEDED);
    /* not applied yet (a crash before applying): apply again */
    v = (struct eagle_release_view){.state = REL_RUNNING, .now_ms = 2000, .step_started_ms = 1000, .total = 3};
    eagle_release_decide(&p, &v, &d);
    assert_int_equal(d.actions, REL_ACT_APPLY_MAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_errors),       cmocka_unit_test(test_steps),
        cmocka_unit_test(test_canary_happy_path), cmocka_unit_test(test_canary_manual_promotion),
        cmocka_unit_test(test_rollbacks),         cmocka_unit_test(test_abort),
        cmocka_unit_test(test_rolling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
