/*
 * test_notify.c — the event deliverer's pieces without a network: backoff,
 * URL checks, which events a subscription gets, the signature (against a
 * vector computed with Python's hmac), the store's subscription calls
 * (generation-guarded writes, the log trimmed to its newest rows), and a
 * subscription's step over events in memory (non-matching ones passed over,
 * pruned ones recorded as skipped). Includes notify.c to reach its statics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notify.c"

static char dir[64];
static struct eagle_store *st;

static int setup(void **state)
{
    struct eagle_err err = {0};

    snprintf(dir, sizeof(dir), "/tmp/eagle-test-notify-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    st = eagle_store_open(dir, 1, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    eagle_events_shutdown();
    eagle_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_backoff(void **state)
{
    assert_int_equal(eagle_notify_backoff_ms(1), 1000);
    assert_int_equal(eagle_notify_backoff_ms(2), 2000);
    assert_int_equal(eagle_notify_backoff_ms(3), 4000);
    assert_int_equal(eagle_notify_backoff_ms(9), 256000);
    assert_int_equal(eagle_notify_backoff_ms(10), 300000);
    assert_int_equal(eagle_notify_backoff_ms(1000000), 300000);
}

static void test_url_check(void **state)
{
    struct eagle_err err;
    char longurl[EAGLE_NOTIFY_URL_MAX + 16];

    assert_int_equal(eagle_notify_url_check("http://127.0.0.1:9000/hook", &err), 0);
    assert_int_equal(eagle_notify_url_check("https://hooks.example.com/a?b=c", &err), 0);
    assert_int_equal(eagle_notify_url_check("HTTP://example.com", &err), 0);
    const char *bad[] = {"",
                         "ftp://x/",
                         "http://",
                         "http:///path",
                         "example.com/hook",
                         "http://a b/",
                         "javascript:alert(1)",
                         "http://[::1/",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        eagle_err_clear(&err);
        assert_int_equal(eagle_notify_url_check(bad[i], &err), -1);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.field, "url");
    }
    assert_int_equal(eagle_notify_url_check(NULL, &err), -1);
    memcpy(longurl, "http://a/", 9);
    memset(longurl + 9, 'x', sizeof(longurl) - 10);
    longurl[sizeof(longurl) - 1] = 0;
    assert_int_equal(eagle_notify_url_check(longurl, &err), -1);
    assert_string_equal(err.field, "url");
}

static struct eagle_event ev(const char *type, const char *tenant, const char *service)
{
    struct eagle_event e = {.id = 1};
    snprintf(e.type, sizeof(e.type), "%s", type);
    snprintf(e.tenant, sizeof(e.tenant), "%s", tenant);
    snprintf(e.service, sizeof(e.service), "%s", service);
    return e;
}

static void test_matches(void **state)
{
    struct sub s = {.tenant = "t", .types = "", .service = ""};
    struct eagle_event task = ev("task", "t", "web"), other = ev("task", "u", "web"),
                       node = ev("node", "", "");

    assert_true(matches(&s, &task));
    assert_false(matches(&s, &other)); /* another tenant's */
    assert_false(matches(&s, &node));  /* not made by an admin */
    s.nodes = 1;
    assert_true(matches(&s, &node));
    s.types = "service,task";
    assert_true(matches(&s, &task));
    assert_false(matches(&s, &node));
    s.types = "service";
    assert_false(matches(&s, &task));
    s.types = "";
    s.service = "api";
    assert_false(matches(&s, &task));
    s.service = "web";
    assert_true(matches(&s, &task));
}

static void test_sign(void **state)
{
    char sig[7 + 64 + 1];
    const char *body = "{\"id\":7,\"type\":\"task\"}";

    sign("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", body, strlen(body), sig);
    assert_string_equal(sig, "sha256=c22acd04fcddedd4c70d45ee27efd0bfe144d0af201c2826fcd75f4f38e0cc1b");
}

static void test_store_calls(void **state)
{
    struct eagle_err err = {0};
    json_t *row, *rows;
    int applied = -1;

    assert_int_equal(eagle_store_subscription_create(st, "s1", "default", "http://h/", "task", "", "00", 0, 5,
                                                     "admin", &err),
                     0);
    assert_int_equal(eagle_store_subscription_advance(st, "s1", 0, 9, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(eagle_store_subscription_rewind(st, "s1", 3, &err), 0);
    /* the deliverer still thinks generation 0: its write must not land */
    assert_int_equal(eagle_store_subscription_advance(st, "s1", 0, 12, &applied, &err), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(eagle_store_subscription_failed(st, "s1", 0, 4, "x", NULL, &err), 0);
    assert_int_equal(eagle_store_subscription_get(st, "s1", &row, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "cursor")), 3);
    assert_int_equal(json_integer_value(json_object_get(row, "generation")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "failures")), 0);
    assert_string_equal(json_string_value(json_object_get(row, "state")), "active");
    json_decref(row);
    assert_int_equal(
        eagle_store_subscription_failed(st, "s1", 1, 2, "HTTP 500", "2026-01-01T00:00:00Z", &err), 0);
    assert_int_equal(eagle_store_subscription_get(st, "s1", &row, &err), 0);
    assert_string_equal(json_string_value(json_object_get(row, "state")), "retrying");
    assert_int_equal(json_integer_value(json_object_get(row, "failures")), 2);
    json_decref(row);

    /* the log keeps the newest EAGLE_DELIVERIES_KEEP rows */
    assert_int_equal(eagle_store_begin(st, &err), 0);
    for (int i = 1; i <= EAGLE_DELIVERIES_KEEP + 20; i++)
        assert_int_equal(eagle_store_delivery_add(st, "s1", i, 1, 200, "", 3, &err), 0);
    assert_int_equal(eagle_store_commit(st, &err), 0);
    assert_int_equal(eagle_store_delivery_list(st, "s1", 5000, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), EAGLE_DELIVERIES_KEEP);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "event_id")),
                     EAGLE_DELIVERIES_KEEP + 20);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(rows, EAGLE_DELIVERIES_KEEP - 1), "event_id")), 21);
    json_decref(rows);

    assert_int_equal(eagle_store_subscription_delete(st, "s1", &err), 0);
    assert_int_equal(eagle_store_delivery_list(st, "s1", 10, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    assert_int_equal(eagle_store_subscription_delete(st, "s1", &err), -1);
    assert_int_equal(err.status, 404);
}

static void append(int n, const char *type, const char *tenant)
{
    struct eagle_err err = {0};
    json_t *events = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:s}", "type", type, "action", "state",
                                                "tenant", tenant, "service", "web"));
    assert_int_equal(eagle_events_append(st, events, &err), 0);
    json_decref(events);
}

static void test_step(void **state)
{
    struct eagle_err err = {0};
    struct deliverer d = {.store = st, .multi = curl_multi_init()};
    json_t *row, *rows;

    assert_int_equal(eagle_events_init(st, &err), 0);
    assert_int_equal(eagle_store_subscription_create(st, "s2", "default", "http://127.0.0.1:9/", "task", "",
                                                     "k", 0, 0, "admin", &err),
                     0);
    assert_int_equal(eagle_store_subscription_get(st, "s2", &row, &err), 0);
    struct sub *s = sub_new(row);
    json_decref(row);

    append(3, "service", "default"); /* 1..3: not the type */
    append(2, "task", "other");      /* 4..5: not the tenant */
    append(1, "task", "default");    /* 6: the first to send */
    step(&d, s, eagle_events_last_id(), eagle_monotonic_ms());
    assert_non_null(s->flight);
    assert_int_equal(s->flight->event_id, 6);
    assert_int_equal(s->flight->attempt, 1);
    assert_int_equal(s->cursor, 5);
    assert_non_null(strstr(s->flight->body->data, "\"id\":6"));
    flight_free(&d, s->flight);
    s->flight = NULL;

    /* nothing matching left: the cursor runs to the end */
    s->cursor = 6;
    append(4, "service", "default");
    step(&d, s, eagle_events_last_id(), eagle_monotonic_ms());
    assert_null(s->flight);
    assert_int_equal(s->cursor, 10);

    /* events pruned before their turn: recorded as skipped, then on from the oldest kept */
    s->cursor = 2;
    s->saved_ms = 0;
    append(EAGLE_EVENTS_KEEP, "service", "default"); /* ids 11..10010: 1..10 are pruned */
    append(1, "task", "default");                    /* 10011 */
    step(&d, s, eagle_events_last_id(), eagle_monotonic_ms() + SKIP_SAVE_MS);
    assert_non_null(s->flight);
    assert_int_equal(s->flight->event_id, 10011);
    assert_int_equal(eagle_store_delivery_list(st, "s2", 10, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "event_id")), 3);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(rows, 0), "error")), "3 to 11"));
    json_decref(rows);
    sub_free(&d, s);
    curl_multi_cleanup(d.multi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff), cmocka_unit_test(test_url_check),   cmocka_unit_test(test_matches),
        cmocka_unit_test(test_sign),    cmocka_unit_test(test_store_calls), cmocka_unit_test(test_step),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
