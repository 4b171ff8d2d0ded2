/*
 * test_engine.c — the Engine API client's streaming of arrays: the splitter
 * that cuts a JSON array into its elements as bytes arrive (fed whole and one
 * byte at a time, so every element straddles chunk boundaries), its faults,
 * and eagle_engine_stream_array() end to end against a canned engine on a
 * unix socket (a chunked answer, an error answer). Includes engine.c to reach
 * its statics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/engine.c"

struct seen {
    char items[16][128];
    size_t n;
    int stop_at; /* the callback fails on this element (1-based), 0: never */
};

static int collect(void *ud, const char *json, size_t len, struct eagle_err *err)
{
    struct seen *s = ud;
    assert_int_equal(strlen(json), len); /* NUL-terminated */
    if (s->stop_at && (int)s->n + 1 == s->stop_at)
        return eagle_err_internal(err, "stop");
    assert_true(s->n < 16 && len < 128);
    memcpy(s->items[s->n++], json, len + 1);
    return 0;
}

/* Split text whole, then one byte at a time; both must agree. Returns the faults' count. */
static int split_both(const char *text, struct seen *whole, struct seen *bytes, enum split_state *end)
{
    struct eagle_err err;
    struct stream a = {.cb = collect, .ud = whole, .err = &err},
                  b = {.cb = collect, .ud = bytes, .err = &err};
    int rc_a = split(&a, text, strlen(text)), rc_b = 0;

    for (size_t i = 0; text[i] && rc_b == 0; i++)
        rc_b = split(&b, text + i, 1);
    assert_int_equal(rc_a, rc_b);
    assert_int_equal(a.state, b.state);
    assert_int_equal(whole->n, bytes->n);
    for (size_t i = 0; i < whole->n; i++)
        assert_string_equal(whole->items[i], bytes->items[i]);
    *end = a.state;
    free(a.elem.data);
    free(b.elem.data);
    return rc_a < 0;
}

static void test_split_elements(void **state)
{
    struct seen w = {0}, b = {0};
    enum split_state end;

    assert_int_equal(
        split_both(" [ {\"a\":\"]}\\\"x\",\"b\":[1,{}]} ,[1,[2]],\"s\\\"]\" , 12,true,null,-1.5e3 ]\n", &w,
                   &b, &end),
        0);
    assert_int_equal(end, SPLIT_DONE);
    assert_int_equal(w.n, 7);
    assert_string_equal(w.items[0], "{\"a\":\"]}\\\"x\",\"b\":[1,{}]}");
    assert_string_equal(w.items[1], "[1,[2]]");
    assert_string_equal(w.items[2], "\"s\\\"]\"");
    assert_string_equal(w.items[3], "12");
    assert_string_equal(w.items[4], "true");
    assert_string_equal(w.items[5], "null");
    assert_string_equal(w.items[6], "-1.5e3");

    memset(&w, 0, sizeof(w));
    memset(&b, 0, sizeof(b));
    assert_int_equal(split_both("[]", &w, &b, &end), 0);
    assert_int_equal(end, SPLIT_DONE);
    assert_int_equal(w.n, 0);

    /* an answer cut short is not DONE: the caller reports it */
    memset(&w, 0, sizeof(w));
    memset(&b, 0, sizeof(b));
    assert_int_equal(split_both("[{\"a\":1},{\"b\"", &w, &b, &end), 0);
    assert_int_not_equal(end, SPLIT_DONE);
    assert_int_equal(w.n, 1);
}

static void test_split_faults(void **state)
{
    const char *bad[] = {"{}", "[1 2]", "[1,]", "[,1]", "[1] x", "[{}}]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct seen w = {0}, b = {0};
        enum split_state end;
        assert_int_equal(split_both(bad[i], &w, &b, &end), 1);
    }
    /* the callback stops the split */
    struct seen w = {.stop_at = 2}, b = {.stop_at = 2};
    enum split_state end;
    assert_int_equal(split_both("[1,2,3]", &w, &b, &end), 1);
    assert_int_equal(w.n, 1);
}

/* ---- a canned engine on a unix socket ---- */

struct canned {
    char path[108];
    int fd;
    const char *answer; /* the whole HTTP answer */
};

static void *serve_once(void *arg)
{
    struct canned *c = arg;
    char buf[4096];
    int conn = accept(c->fd, NULL, NULL);
    ssize_t n, got = 0;

    if (conn < 0)
        return NULL;
    while ((n = read(conn, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
        got += n;
        buf[got] = 0;
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    if (write(conn, c->answer, strlen(c->answer)) < 0)
        fprintf(stderr, "canned engine: write failed\n");
    close(conn);
    return NULL;
}

static int call_canned(const char *answer, struct seen *s, struct eagle_err *err)
{
    struct canned c = {.answer = answer};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    pthread_t tid;
    char endpoint[128];

    snprintf(c.path, sizeof(c.path), "/tmp/eagle-test-engine-%d.sock", (int)getpid());
    unlink(c.path);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c.path);
    c.fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(c.fd >= 0);
    assert_int_equal(bind(c.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(c.fd, 1), 0);
    assert_int_equal(pthread_create(&tid, NULL, serve_once, &c), 0);
    snprintf(endpoint, sizeof(endpoint), "unix://%s", c.path);
    struct eagle_engine *e = eagle_engine_new(endpoint, NULL, 5000, err);
    assert_non_null(e);
    int rc = eagle_engine_stream_array(e, "/tasks", collect, s, err);
    eagle_engine_free(e);
    pthread_join(tid, NULL);
    close(c.fd);
    unlink(c.path);
    return rc;
}

static void test_stream_chunked(void **state)
{
    struct eagle_err err = {0};
    struct seen s = {0};
    const char *answer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\n[{\"ID\r\n"
        "c\r\n\":\"a\"},{\"ID\"\r\n"
        "7\r\n:\"b\"}]\n\r\n"
        "0\r\n\r\n";

    assert_int_equal(call_canned(answer, &s, &err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.items[0], "{\"ID\":\"a\"}");
    assert_string_equal(s.items[1], "{\"ID\":\"b\"}");
}

static void test_stream_errors(void **state)
{
    struct eagle_err err = {0};
    struct seen s = {0};

    assert_int_equal(call_canned("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 54\r\nConnection: close\r\n\r\n"
                                 "{\"message\":\"This node is not a swarm manager. Use...\"}",
                                 &s, &err),
                     -1);
    assert_int_equal(err.status, 503);
    assert_string_equal(err.code, "not_swarm_manager");
    assert_int_equal(s.n, 0);

    memset(&err, 0, sizeof(err));
    assert_int_equal(
        call_canned("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n[1,2,3", &s, &err), -1);
    assert_int_equal(err.status, 502);
    assert_string_equal(err.code, "engine_error");

    memset(&err, 0, sizeof(err));
    memset(&s, 0, sizeof(s));
    assert_int_equal(
        call_canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", &s, &err), -1);
    assert_int_equal(err.status, 502);
    assert_non_null(strstr(err.msg, "not a JSON array"));

    /* the callback's own error comes back as it was */
    memset(&err, 0, sizeof(err));
    memset(&s, 0, sizeof(s));
    s.stop_at = 1;
    assert_int_equal(
        call_canned("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n[1,2]", &s, &err), -1);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.msg, "stop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_elements),
        cmocka_unit_test(test_split_faults),
        cmocka_unit_test(test_stream_chunked),
        cmocka_unit_test(test_stream_errors),
    };
    struct eagle_err err;
    if (eagle_engine_global_init(&err) < 0)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    eagle_engine_global_cleanup();
    return rc;
}
