/*
 * test_checker.c — the health checker against real servers the test starts on
 * 127.0.0.1: a TCP listener, an HTTP server thread (200, 500, bodies, a
 * response split over many writes), a port with nothing listening, a listener
 * that never answers (the kernel completes the handshake; nobody reads), a
 * listener whose accept queue is full (SYNs go unanswered), a listener that
 * records every connection it accepts, and a listener inside a network
 * namespace a child process creates for itself.
 */
#define _GNU_SOURCE /* unshare */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health/checker.h"

/* ---- servers ---- */

static int listen_on(uint16_t port, uint16_t *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t len = sizeof(a);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0) {
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&a, &len);
    if (bound)
        *bound = ntohs(a.sin_port);
    return fd;
}

/* A port on 127.0.0.1 that nothing listens on. */
static uint16_t closed_port(void)
{
    uint16_t port;
    int fd = listen_on(0, &port);

    close(fd);
    return port;
}

struct http_server {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    int toggle_status; /* what /toggle answers */
    char last_request[1024];
    unsigned accepted; /* connections */
};

static void put(int fd, const char *s)
{
    size_t n = strlen(s);

    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *body)
{
    char head[256];

    snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
             strlen(body));
    put(fd, head);
    put(fd, body);
}

static void serve_one(struct http_server *s, int fd)
{
    char req[1024], path[256] = "";
    size_t got = 0;

    /* Read the request head (the checker sends it whole). */
    while (got < sizeof(req) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 2000) <= 0)
            return;
        r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    sscanf(req, "%*s %255s", path);
    pthread_mutex_lock(&s->lock);
    if (!strncmp(path, "/ok?probe", 9))
        snprintf(s->last_request, sizeof(s->last_request), "%s", req);
    int toggle = s->toggle_status;
    pthread_mutex_unlock(&s->lock);

    if (!strcmp(path, "/ok")) {
        respond(fd, 200, "all ok\n");
    } else if (!strcmp(path, "/fail")) {
        respond(fd, 500, "broken\n");
    } else if (!strcmp(path, "/toggle")) {
        respond(fd, toggle, "toggle\n");
    } else if (!strcmp(path, "/split")) {
        /* The status line, the end of the headers and the needle each cross a read. */
        const char *parts[] = {"HTTP/1.1 2", "04 No\r\nContent-Length: 12\r\n\r", "\nxxxnee", "dlexxx"};

        for (size_t i = 0; i < 4; i++) {
            put(fd, parts[i]);
            usleep(20000);
        }
    } else if (!strcmp(path, "/big")) {
        /* 100 KiB of 'a' and then the needle: past the read cap. */
        static char body[100 * 1024 + 8];

        memset(body, 'a', 100 * 1024);
        memcpy(body + 100 * 1024, "needle", 7);
        respond(fd, 200, body);
    } else if (!strcmp(path, "/garbage")) {
        put(fd, "SSH-2.0-OpenSSH_9.2\r\n");
    } else if (!strcmp(path, "/close")) {
        /* nothing */
    } else {
        respond(fd, 404, "no\n");
    }
}

static void *http_main(void *arg)
{
    struct http_server *s = arg;

    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down */
        }
        pthread_mutex_lock(&s->lock);
        s->accepted++;
        pthread_mutex_unlock(&s->lock);
        serve_one(s, fd);
        close(fd);
    }
}

static void http_start(struct http_server *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->toggle_status = 200;
    s->fd = listen_on(0, &s->port);
    assert_true(s->fd >= 0);
    assert_int_equal(pthread_create(&s->thread, NULL, http_main, s), 0);
}

static void http_stop(struct http_server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
}

static void http_toggle(struct http_server *s, int status)
{
    pthread_mutex_lock(&s->lock);
    s->toggle_status = status;
    pthread_mutex_unlock(&s->lock);
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct eagle_health_target tcp_target(const char *id, uint16_t port)
{
    return (struct eagle_health_target){
        .id = id,
        .address = "127.0.0.1",
        .port = port,
        .check = {.type = EAGLE_CHECK_TCP, .interval_ms = 100, .timeout_ms = 1000},
    };
}

static struct eagle_health_target http_target(const char *id, uint16_t port, const char *path,
                                              const char *body)
{
    return (struct eagle_health_target){
        .id = id,
        .address = "127.0.0.1",
        .port = port,
        .check = {.type = EAGLE_CHECK_HTTP,
                  .interval_ms = 100,
                  .timeout_ms = 1000,
                  .path = path,
                  .body_contains = body},
    };
}

/* Wait (up to 5 s) until target `id` has completed at least `checks` checks. */
static struct eagle_health_result wait_checks(struct eagle_checker *c, const char *id, uint64_t checks)
{
    struct eagle_health_result r;
    int64_t end = now_ms() + 5000;

    for (;;) {
        assert_int_equal(eagle_checker_get(c, id, &r), 0);
        if (r.checks >= checks)
            return r;
        if (now_ms() > end)
            fail_msg("target '%s': %llu checks after 5 s, wanted %llu", id, (unsigned long long)r.checks,
                     (unsigned long long)checks);
        usleep(5000);
    }
}

/* Wait (up to 5 s) until target `id` is in `state`. */
static struct eagle_health_result wait_state(struct eagle_checker *c, const char *id,
                                             enum eagle_health_state st)
{
    struct eagle_health_result r;
    int64_t end = now_ms() + 5000;

    for (;;) {
        assert_int_equal(eagle_checker_get(c, id, &r), 0);
        if (r.state == st)
            return r;
        if (now_ms() > end)
            fail_msg("target '%s' is %s after 5 s (%s), wanted %s", id, eagle_health_state_name(r.state),
                     r.reason, eagle_health_state_name(st));
        usleep(5000);
    }
}

/* The change callback's record. */
struct changes {
    pthread_mutex_t lock;
    size_t n;
    struct {
        char id[EAGLE_HEALTH_ID_MAX];
        enum eagle_health_state old, now;
        uint32_t successes, failures;
    } e[64];
};

static void on_change(const struct eagle_health_result *r, enum eagle_health_state old, void *ud)
{
    struct changes *ch = ud;

    pthread_mutex_lock(&ch->lock);
    if (ch->n < 64) {
        snprintf(ch->e[ch->n].id, sizeof(ch->e[ch->n].id), "%s", r->id);
        ch->e[ch->n].old = old;
        ch->e[ch->n].now = r->state;
        ch->e[ch->n].successes = r->successes;
        ch->e[ch->n].failures = r->failures;
        ch->n++;
    }
    pthread_mutex_unlock(&ch->lock);
}

static struct eagle_checker *start(const struct eagle_health_target *t, size_t n)
{
    struct eagle_checker *c = eagle_checker_new();
    struct eagle_err err = {0};

    assert_int_equal(eagle_checker_set_targets(c, t, n, &err), 0);
    assert_int_equal(eagle_checker_start(c, &err), 0);
    return c;
}

/* ---- tests ---- */

static void test_tcp(void **state)
{
    uint16_t port, down = closed_port();
    int lfd = listen_on(0, &port);
    struct eagle_health_target t[2] = {tcp_target("up", port), tcp_target("down", down)};
    struct changes ch = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct eagle_health_result r;
    struct eagle_checker *c;

    t[1].check.unhealthy_threshold = 2;
    c = eagle_checker_new();
    eagle_checker_on_change(c, on_change, &ch);
    assert_int_equal(eagle_checker_set_targets(c, t, 2, NULL), 0);
    assert_int_equal(eagle_checker_get(c, "up", &r), 0);
    assert_int_equal(r.state, EAGLE_HEALTH_UNKNOWN);
    assert_int_equal(r.last_ok, -1);
    assert_int_equal(eagle_checker_start(c, NULL), 0);

    r = wait_checks(c, "up", 1);
    assert_int_equal(r.state, EAGLE_HEALTH_HEALTHY);
    assert_int_equal(r.last_ok, 1);
    assert_string_equal(r.reason, "connected");
    assert_true(r.latency_us >= 0 && r.latency_us < 1000000);
    assert_true(r.last_check_ms > 0);

    r = wait_checks(c, "down", 1);
    if (r.checks == 1) { /* one failure is below the threshold of 2 */
        assert_int_equal(r.state, EAGLE_HEALTH_UNKNOWN);
        assert_int_equal(r.failures, 1);
    }
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "connect: Connection refused");
    r = wait_state(c, "down", EAGLE_HEALTH_UNHEALTHY);
    assert_true(r.failures >= 2);
    eagle_checker_stop(c);

    pthread_mutex_lock(&ch.lock);
    assert_int_equal(ch.n, 2);
    for (size_t i = 0; i < ch.n; i++) {
        assert_int_equal(ch.e[i].old, EAGLE_HEALTH_UNKNOWN);
        if (!strcmp(ch.e[i].id, "up"))
            assert_int_equal(ch.e[i].now, EAGLE_HEALTH_HEALTHY);
        else
            assert_int_equal(ch.e[i].failures, 2);
    }
    pthread_mutex_unlock(&ch.lock);
    eagle_checker_free(c);
    close(lfd);
}

static void test_http(void **state)
{
    struct http_server s;
    struct eagle_health_result r;
    struct eagle_checker *c;

    http_start(&s);
    struct eagle_health_target t[] = {
        http_target("ok", s.port, "/ok", NULL),           http_target("fail", s.port, "/fail", NULL),
        http_target("body", s.port, "/ok", "all ok"),     http_target("nobody", s.port, "/ok", "ready"),
        http_target("split", s.port, "/split", "needle"), http_target("big", s.port, "/big", "needle"),
        http_target("garbage", s.port, "/garbage", NULL), http_target("close", s.port, "/close", NULL),
        http_target("range", s.port, "/fail", NULL),      http_target("refused", closed_port(), "/", NULL),
    };
    t[8].check.status_min = 500;
    t[8].check.status_max = 599;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        t[i].check.interval_ms = 1000;
    c = start(t, sizeof(t) / sizeof(t[0]));

    r = wait_checks(c, "ok", 1);
    assert_int_equal(r.last_ok, 1);
    assert_string_equal(r.reason, "status 200");
    assert_int_equal(r.state, EAGLE_HEALTH_HEALTHY);
    r = wait_checks(c, "fail", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "status 500 not in 200-399");
    r = wait_checks(c, "body", 1);
    assert_int_equal(r.last_ok, 1);
    r = wait_checks(c, "nobody", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "body does not contain 'ready'");
    r = wait_checks(c, "split", 1);
    assert_int_equal(r.last_ok, 1);
    assert_string_equal(r.reason, "status 204");
    r = wait_checks(c, "big", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "body does not contain 'needle' (in 65536 bytes)");
    r = wait_checks(c, "garbage", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "malformed status line");
    r = wait_checks(c, "close", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "connection closed before the status line");
    r = wait_checks(c, "range", 1);
    assert_int_equal(r.last_ok, 1);
    /* The request goes out straight after connect(): a refusal is still the connect's. */
    r = wait_checks(c, "refused", 2);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "connect: Connection refused");
    r = wait_checks(c, "ok", 3); /* on sockets that served the failures before */
    assert_int_equal(r.last_ok, 1);
    eagle_checker_free(c);

    /* The request: method, path, Host, and nothing a server could misread. */
    struct eagle_health_target h = http_target("host", s.port, "/ok?probe=1", NULL);
    char want[512];

    h.check.method = "HEAD";
    h.check.host = "web.example";
    c = start(&h, 1);
    wait_checks(c, "host", 1);
    eagle_checker_free(c);
    snprintf(want, sizeof(want),
             "HEAD /ok?probe=1 HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\nUser-Agent: "
             "eagle-health\r\n\r\n");
    assert_string_equal(s.last_request, want);
    h.check.method = NULL;
    h.check.host = NULL;
    c = start(&h, 1);
    wait_checks(c, "host", 1);
    eagle_checker_free(c);
    snprintf(want, sizeof(want), "Host: 127.0.0.1:%u\r\n", s.port);
    assert_non_null(strstr(s.last_request, want));
    assert_memory_equal(s.last_request, "GET ", 4);
    http_stop(&s);
}

static void test_timeout(void **state)
{
    uint16_t port;
    int lfd = listen_on(0, &port); /* never accepts, never answers */
    struct eagle_health_target t[2] = {http_target("http", port, "/", NULL), tcp_target("tcp", port)};
    struct eagle_health_result r;
    struct eagle_checker *c;

    t[0].check.timeout_ms = 200;
    t[0].check.interval_ms = 1000;
    t[0].check.unhealthy_threshold = 1;
    c = start(t, 2);
    r = wait_checks(c, "http", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "timeout after 200ms");
    assert_int_equal(r.state, EAGLE_HEALTH_UNHEALTHY);
    assert_true(r.latency_us >= 200000 && r.latency_us < 400000);
    /* The handshake completes, so a TCP check passes. */
    r = wait_checks(c, "tcp", 1);
    assert_int_equal(r.last_ok, 1);
    eagle_checker_free(c);
    close(lfd);

    /* Whole seconds read as such. */
    lfd = listen_on(0, &port);
    t[0].port = port;
    t[0].check.timeout_ms = 1000;
    c = start(t, 1);
    r = wait_checks(c, "http", 1);
    assert_string_equal(r.reason, "timeout after 1s");
    eagle_checker_free(c);
    close(lfd);
}

static void test_thresholds(void **state)
{
    struct http_server s;
    struct changes ch = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct eagle_health_result r;
    struct eagle_checker *c = eagle_checker_new();

    http_start(&s);
    struct eagle_health_target t = http_target("t", s.port, "/toggle", NULL);
    t.check.healthy_threshold = 3;
    t.check.unhealthy_threshold = 2;
    eagle_checker_on_change(c, on_change, &ch);
    assert_int_equal(eagle_checker_set_targets(c, &t, 1, NULL), 0);
    assert_int_equal(eagle_checker_start(c, NULL), 0);

    r = wait_checks(c, "t", 2);
    if (r.checks == 2)
        assert_int_equal(r.state, EAGLE_HEALTH_UNKNOWN);
    r = wait_state(c, "t", EAGLE_HEALTH_HEALTHY);
    http_toggle(&s, 503);
    r = wait_state(c, "t", EAGLE_HEALTH_UNHEALTHY);
    assert_string_equal(r.reason, "status 503 not in 200-399");
    http_toggle(&s, 302);
    r = wait_state(c, "t", EAGLE_HEALTH_HEALTHY);
    eagle_checker_free(c);
    http_stop(&s);

    pthread_mutex_lock(&ch.lock);
    assert_int_equal(ch.n, 3);
    assert_int_equal(ch.e[0].old, EAGLE_HEALTH_UNKNOWN);
    assert_int_equal(ch.e[0].now, EAGLE_HEALTH_HEALTHY);
    assert_int_equal(ch.e[0].successes, 3);
    assert_int_equal(ch.e[1].old, EAGLE_HEALTH_HEALTHY);
    assert_int_equal(ch.e[1].now, EAGLE_HEALTH_UNHEALTHY);
    assert_int_equal(ch.e[1].failures, 2);
    assert_int_equal(ch.e[2].old, EAGLE_HEALTH_UNHEALTHY);
    assert_int_equal(ch.e[2].successes, 3);
    pthread_mutex_unlock(&ch.lock);
}

static void test_start_period(void **state)
{
    uint16_t port;
    int lfd = listen_on(0, &port);
    struct eagle_health_target t[2] = {tcp_target("booting", closed_port()), tcp_target("flap", port)};
    struct eagle_health_result r;
    struct eagle_checker *c;
    int64_t t0 = now_ms();

    t[0].check.start_period_ms = 800;
    t[0].check.unhealthy_threshold = 1;
    t[1].check.start_period_ms = 60000;
    t[1].check.unhealthy_threshold = 1;
    c = start(t, 2);

    /* Failures in the start period are recorded but not counted. */
    r = wait_checks(c, "booting", 3);
    if (now_ms() - t0 < 700) {
        assert_int_equal(r.state, EAGLE_HEALTH_UNKNOWN);
        assert_int_equal(r.failures, 0);
        assert_int_equal(r.last_ok, 0);
        assert_string_equal(r.reason, "connect: Connection refused");
    }
    r = wait_state(c, "booting", EAGLE_HEALTH_UNHEALTHY);
    assert_true(now_ms() - t0 >= 800);
    assert_int_equal(r.failures, 1);

    /* A success ends the start period: the next failure counts at once. */
    r = wait_state(c, "flap", EAGLE_HEALTH_HEALTHY);
    close(lfd);
    r = wait_state(c, "flap", EAGLE_HEALTH_UNHEALTHY);
    assert_true(now_ms() - t0 < 60000);
    eagle_checker_free(c);
}

static void test_set_targets(void **state)
{
    uint16_t port;
    int lfd = listen_on(0, &port);
    struct eagle_health_target t[2] = {tcp_target("a", port), tcp_target("b", port)};
    struct eagle_health_result r, *all;
    struct eagle_checker *c = start(t, 1);
    uint64_t k;
    size_t n;

    r = wait_state(c, "a", EAGLE_HEALTH_HEALTHY);
    k = r.checks;
    assert_int_equal(eagle_checker_get(c, "b", &r), -1);

    /* Same id and config: state and counters stay; b is new. */
    assert_int_equal(eagle_checker_set_targets(c, t, 2, NULL), 0);
    assert_int_equal(eagle_checker_get(c, "a", &r), 0);
    assert_int_equal(r.state, EAGLE_HEALTH_HEALTHY);
    assert_true(r.checks >= k);
    assert_int_equal(eagle_checker_get(c, "b", &r), 0);
    assert_int_equal(r.state, EAGLE_HEALTH_UNKNOWN);
    wait_state(c, "b", EAGLE_HEALTH_HEALTHY);

    /* The order of the last set; b keeps its state through a reorder. */
    struct eagle_health_target rev[2] = {t[1], t[0]};
    rev[1].check.interval_ms = 200; /* a's check changed: a starts over */
    assert_int_equal(eagle_checker_set_targets(c, rev, 2, NULL), 0);
    n = eagle_checker_snapshot(c, &all);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].id, "b");
    assert_int_equal(all[0].state, EAGLE_HEALTH_HEALTHY);
    assert_string_equal(all[1].id, "a");
    assert_int_equal(all[1].state, EAGLE_HEALTH_UNKNOWN);
    assert_int_equal(all[1].checks, 0);
    free(all);
    wait_state(c, "a", EAGLE_HEALTH_HEALTHY);

    /* Invalid input changes nothing. */
    struct eagle_health_target dup[2] = {t[0], t[0]};
    struct eagle_err err = {0};
    assert_int_equal(eagle_checker_set_targets(c, dup, 2, &err), -1);
    assert_string_equal(err.field, "targets[1].id");
    assert_int_equal(eagle_checker_snapshot(c, &all), 2);
    free(all);

    /* An empty set drops everything, in-flight checks included. */
    assert_int_equal(eagle_checker_set_targets(c, NULL, 0, NULL), 0);
    assert_int_equal(eagle_checker_snapshot(c, &all), 0);
    free(all);
    assert_int_equal(eagle_checker_get(c, "a", &r), -1);

    struct eagle_checker_stats st;
    eagle_checker_stats(c, &st);
    assert_int_equal(st.targets, 0);
    assert_int_equal(st.in_flight, 0);
    assert_true(st.checks >= 3);
    assert_true(st.thread_cpu_ns > 0);
    assert_true(st.thread_tid > 0);

    /* Stop, add while stopped, start again. */
    eagle_checker_stop(c);
    eagle_checker_stop(c);
    assert_int_equal(eagle_checker_set_targets(c, t, 1, NULL), 0);
    assert_int_equal(eagle_checker_start(c, NULL), 0);
    assert_int_equal(eagle_checker_start(c, &err), -1);
    wait_state(c, "a", EAGLE_HEALTH_HEALTHY);
    eagle_checker_free(c);
    eagle_checker_free(NULL);
    close(lfd);
}

static void test_validation(void **state)
{
    struct eagle_checker *c = eagle_checker_new();
    struct eagle_health_target t;
    struct eagle_err err;
    char longid[EAGLE_HEALTH_ID_MAX + 1];

#define EXPECT_BAD(field_)                                                                                   \
    do {                                                                                                     \
        memset(&err, 0, sizeof(err));                                                                        \
        assert_int_equal(eagle_checker_set_targets(c, &t, 1, &err), -1);                                     \
        assert_string_equal(err.field, field_);                                                              \
        assert_int_equal(err.status, 400);                                                                   \
    } while (0)

    t = tcp_target("x", 80);
    t.address = "localhost";
    EXPECT_BAD("targets[0].address");
    t.address = NULL;
    EXPECT_BAD("targets[0].address");
    t = tcp_target("x", 0);
    EXPECT_BAD("targets[0].port");
    t = tcp_target("", 80);
    EXPECT_BAD("targets[0].id");
    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    t = tcp_target(longid, 80);
    EXPECT_BAD("targets[0].id");
    t = tcp_target("x", 80);
    t.netns_path = "proc/1/ns/net";
    EXPECT_BAD("targets[0].netns_path");
    t = tcp_target("x", 80);
    t.check.interval_ms = 10;
    EXPECT_BAD("targets[0].check.interval");
    t = tcp_target("x", 80);
    t.check.timeout_ms = -5;
    EXPECT_BAD("targets[0].check.timeout");
    t = tcp_target("x", 80);
    t.check.unhealthy_threshold = 1000;
    EXPECT_BAD("targets[0].check.unhealthy_threshold");
    t = tcp_target("x", 80);
    t.check.type = (enum eagle_check_type)7;
    EXPECT_BAD("targets[0].check.type");
    t = http_target("x", 80, "health", NULL);
    EXPECT_BAD("targets[0].check.path");
    t = http_target("x", 80, "/a b", NULL);
    EXPECT_BAD("targets[0].check.path");
    t = http_target("x", 80, "/", NULL);
    t.check.method = "get";
    EXPECT_BAD("targets[0].check.method");
    t = http_target("x", 80, "/", NULL);
    t.check.host = "a\r\nX-Injected: 1";
    EXPECT_BAD("targets[0].check.host");
    t = http_target("x", 80, "/", NULL);
    t.check.status_min = 400;
    t.check.status_max = 300;
    EXPECT_BAD("targets[0].check.status_min");
    t = http_target("x", 80, "/", "line\nbreak");
    EXPECT_BAD("targets[0].check.body_contains");
#undef EXPECT_BAD

    /* IPv6 is fine; too many targets is not. */
    t = tcp_target("v6", 80);
    t.address = "::1";
    assert_int_equal(eagle_checker_set_targets(c, &t, 1, NULL), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(eagle_checker_set_targets(c, &t, EAGLE_CHECKER_MAX_TARGETS + 1, &err), -1);
    assert_string_equal(err.field, "targets");
    assert_string_equal(eagle_health_state_name(EAGLE_HEALTH_UNHEALTHY), "unhealthy");
    eagle_checker_free(c);
}

/* The first checks of many targets spread over the interval, not one burst. */
static void test_jitter(void **state)
{
    enum { N = 400 };
    uint16_t port;
    int lfd = listen_on(0, &port);
    static struct eagle_health_target t[N];
    static char ids[N][16];
    struct eagle_health_result *all;
    struct eagle_checker *c;
    size_t checked = 0, n;

    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "t%d", i);
        t[i] = tcp_target(ids[i], port);
        t[i].check.interval_ms = 2000;
    }
    c = start(t, N);
    usleep(500000);
    n = eagle_checker_snapshot(c, &all);
    for (size_t i = 0; i < n; i++)
        checked += all[i].checks > 0;
    free(all);
    eagle_checker_free(c);
    close(lfd);
    /* about a quarter, 100 of 400 */
    assert_true(checked > 30 && checked < 200);
}

/* Sets replaced while checks are in flight: slots, sockets and namespace
 * files are reused and released correctly (run under ASan/TSan too). */
static void test_churn(void **state)
{
    enum { N = 300 };
    struct http_server s;
    uint16_t port, down = closed_port();
    int lfd = listen_on(0, &port);
    static struct eagle_health_target t[N];
    static char ids[N][16];
    struct eagle_checker *c = eagle_checker_new();
    struct eagle_health_result *all;
    char nspath[64];
    unsigned seed = 42;

    http_start(&s);
    snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)getpid());
    assert_int_equal(eagle_checker_start(c, NULL), 0);
    for (int round = 0; round < 60; round++) {
        size_t n = 0;

        for (int i = 0; i < N; i++) {
            int r = rand_r(&seed);

            if (r % 3 == 0)
                continue;
            snprintf(ids[n], sizeof(ids[n]), "t%d", i);
            switch (i % 4) {
            case 0:
                t[n] = tcp_target(ids[n], port);
                break;
            case 1:
                t[n] = tcp_target(ids[n], down);
                break;
            case 2:
                t[n] = http_target(ids[n], s.port, "/ok", r % 2 ? "ok" : NULL);
                break;
            default:
                t[n] = tcp_target(ids[n], port);
                t[n].netns_path = nspath; /* our own namespace, entered by path */
            }
            t[n].check.interval_ms = 100 + 100 * (r % 2);
            n++;
        }
        assert_int_equal(eagle_checker_set_targets(c, t, n, NULL), 0);
        assert_int_equal(eagle_checker_snapshot(c, &all), n);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(all[i].id, t[i].id);
        free(all);
        usleep((useconds_t)(rand_r(&seed) % 30000));
    }
    wait_checks(c, ids[0], 1);
    eagle_checker_free(c);
    http_stop(&s);
    close(lfd);
}

/* A listener that accepts and closes every connection, noting its peer port. */
struct acceptor {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    unsigned n;
    uint16_t peer[1024];
};

static void *acceptor_main(void *arg)
{
    struct acceptor *a = arg;

    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(a->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down */
        }
        pthread_mutex_lock(&a->lock);
        if (a->n < 1024)
            a->peer[a->n++] = ntohs(peer.sin_port);
        pthread_mutex_unlock(&a->lock);
        close(fd);
    }
}

static void acceptor_start(struct acceptor *a)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    a->fd = listen_on(0, &a->port);
    assert_true(a->fd >= 0);
    assert_int_equal(pthread_create(&a->thread, NULL, acceptor_main, a), 0);
}

static void acceptor_stop(struct acceptor *a)
{
    shutdown(a->fd, SHUT_RDWR);
    pthread_join(a->thread, NULL);
    close(a->fd);
    pthread_mutex_destroy(&a->lock);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Sockets are recycled, connections are not: every check is a new connection
 * the server accepts, from a new port; the sockets kept idle are few and are
 * closed when the checker stops. */
static void test_reuse(void **state)
{
    enum { N = 40 };
    struct acceptor a;
    struct http_server s;
    static struct eagle_health_target t[N];
    static char ids[N][16];
    struct eagle_health_result *all;
    struct eagle_checker *c = eagle_checker_new();
    uint64_t tcp_checks = 0, http_checks = 0, t1_checks;
    unsigned accepted, distinct = 0;
    int base;

    acceptor_start(&a);
    http_start(&s);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "t%d", i);
        t[i] = i % 2 ? http_target(ids[i], s.port, "/ok", "all ok") : tcp_target(ids[i], a.port);
    }
    base = open_fds();
    assert_int_equal(eagle_checker_set_targets(c, t, N, NULL), 0);
    assert_int_equal(eagle_checker_start(c, NULL), 0);
    usleep(600000);
    /* A few sockets in flight or idle, not one per check or per target. */
    assert_true(open_fds() - base < N / 2);
    eagle_checker_stop(c);
    assert_int_equal(open_fds(), base);

    assert_int_equal(eagle_checker_snapshot(c, &all), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(all[i].last_ok, 1);
        *(i % 2 ? &http_checks : &tcp_checks) += all[i].checks;
    }
    t1_checks = all[1].checks;
    free(all);
    assert_true(tcp_checks >= 60 && http_checks >= 60);
    /* The handshake completes before the reset, so every TCP check is
     * accepted; allow for a connection still in the accept queue. */
    usleep(50000);
    pthread_mutex_lock(&a.lock);
    accepted = a.n;
    for (unsigned i = 0; i < a.n; i++) {
        bool seen = false;

        for (unsigned k = 0; k < i && !seen; k++)
            seen = a.peer[k] == a.peer[i];
        distinct += !seen;
    }
    pthread_mutex_unlock(&a.lock);
    assert_true(accepted + 2 >= tcp_checks);
    assert_true(distinct * 10 >= accepted * 9);
    pthread_mutex_lock(&s.lock);
    assert_true(s.accepted >= http_checks);
    pthread_mutex_unlock(&s.lock);

    /* Started again, it opens new sockets and checks on. */
    assert_int_equal(eagle_checker_start(c, NULL), 0);
    wait_checks(c, "t1", t1_checks + 2);
    eagle_checker_free(c);
    assert_int_equal(open_fds(), base - 2); /* the epoll and eventfd descriptors are gone too */
    acceptor_stop(&a);
    http_stop(&s);
}

/* A SYN nobody answers (a listener with a full accept queue): the check times
 * out, and the socket it leaves behind serves the next checks well. */
static void test_syn_timeout(void **state)
{
    uint16_t full_port, port;
    int full = listen_on(0, &full_port), lfd = listen_on(0, &port), fill[4];
    struct eagle_health_target t[3] = {tcp_target("stuck", full_port), tcp_target("up", port),
                                       http_target("stuck-http", full_port, "/", NULL)};
    struct eagle_health_result r;
    struct eagle_checker *c;
    uint64_t k;

    /* Backlog 0, then connections nobody accepts: the queue is full and
     * further SYNs are dropped. */
    assert_int_equal(listen(full, 0), 0);
    for (int i = 0; i < 4; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(full_port)};

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    usleep(100000);
    for (int i = 0; i < 3; i++) {
        t[i].check.interval_ms = 150;
        t[i].check.timeout_ms = 100;
    }
    c = start(t, 3);
    r = wait_checks(c, "stuck", 3);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "timeout after 100ms");
    r = wait_checks(c, "stuck-http", 3);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "timeout after 100ms");
    assert_int_equal(eagle_checker_get(c, "up", &r), 0);
    k = r.checks;
    r = wait_checks(c, "up", k + 3);
    assert_int_equal(r.last_ok, 1);
    assert_int_equal(r.state, EAGLE_HEALTH_HEALTHY);
    assert_int_equal(r.failures, 0);
    eagle_checker_free(c);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(full);
    close(lfd);
}

/* IPv6 targets next to IPv4 ones (their sockets are kept apart). */
static void test_ipv6(void **state)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof(a);
    int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint16_t port4;
    int fd4 = listen_on(0, &port4);
    struct eagle_health_result r;
    struct eagle_checker *c;

    if (fd6 < 0 || bind(fd6, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd6, 64) < 0) {
        if (fd6 >= 0)
            close(fd6);
        close(fd4);
        skip(); /* no IPv6 on this machine */
    }
    getsockname(fd6, (struct sockaddr *)&a, &len);
    struct eagle_health_target t[3] = {tcp_target("v6", ntohs(a.sin6_port)), tcp_target("v4", port4),
                                       tcp_target("v6-down", closed_port())};
    t[0].address = "::1";
    t[2].address = "::1";
    c = start(t, 3);
    r = wait_checks(c, "v6", 3);
    assert_int_equal(r.last_ok, 1);
    r = wait_checks(c, "v4", 3);
    assert_int_equal(r.last_ok, 1);
    r = wait_checks(c, "v6-down", 2);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "connect: Connection refused");
    r = wait_checks(c, "v6", r.checks + 2);
    assert_int_equal(r.last_ok, 1);
    eagle_checker_free(c);
    close(fd6);
    close(fd4);
}

/* A child in its own network namespace listens on 127.0.0.1:port; the host's
 * 127.0.0.1:port has nothing. The checker reaches it through /proc/<pid>/ns/net. */
static void test_netns(void **state)
{
    int ready[2], hold[2];
    uint16_t port = closed_port();
    pid_t pid;
    char nspath[64], buf[8];

    if (geteuid() != 0)
        skip();
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct ifreq ifr = {0};
        int s, lfd;

        close(ready[0]);
        close(hold[1]);
        if (unshare(CLONE_NEWNET) < 0)
            _exit(1);
        s = socket(AF_INET, SOCK_DGRAM, 0);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            _exit(2);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            _exit(3);
        lfd = listen_on(port, NULL);
        if (lfd < 0)
            _exit(4);
        if (write(ready[1], "r", 1) != 1)
            _exit(5);
        for (;;) {
            struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = hold[0], .events = POLLIN}};
            int fd;

            poll(p, 2, -1);
            if (p[1].revents)
                _exit(0); /* the parent is done */
            fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                continue;
            usleep(1000); /* let the request arrive; it is not read */
            put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ninside");
            close(fd);
        }
    }
    close(ready[1]);
    close(hold[0]);
    assert_int_equal(read(ready[0], buf, 1), 1);
    snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)pid);

    struct eagle_health_target t[4] = {tcp_target("inside", port), tcp_target("outside", port),
                                       http_target("http-inside", port, "/", "inside"),
                                       tcp_target("gone", port)};
    t[0].netns_path = nspath;
    t[2].netns_path = nspath;
    t[3].netns_path = "/proc/999999999/ns/net";
    struct eagle_checker *c = start(t, 4);
    struct eagle_health_result r;

    r = wait_checks(c, "inside", 2);
    assert_int_equal(r.last_ok, 1);
    assert_string_equal(r.reason, "connected");
    r = wait_checks(c, "outside", 2);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "connect: Connection refused");
    r = wait_checks(c, "http-inside", 2);
    assert_int_equal(r.last_ok, 1);
    r = wait_checks(c, "gone", 1);
    assert_int_equal(r.last_ok, 0);
    assert_string_equal(r.reason, "netns '/proc/999999999/ns/net': No such file or directory");

    /* The task goes away: its namespace (held open by the checker) refuses. */
    close(hold[1]);
    waitpid(pid, NULL, 0);
    r = wait_state(c, "inside", EAGLE_HEALTH_UNHEALTHY);
    assert_string_equal(r.reason, "connect: Connection refused");
    eagle_checker_free(c);
    close(ready[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),          cmocka_unit_test(test_http),
        cmocka_unit_test(test_timeout),      cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_start_period), cmocka_unit_test(test_set_targets),
        cmocka_unit_test(test_validation),   cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_churn),        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_syn_timeout),  cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_netns),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
