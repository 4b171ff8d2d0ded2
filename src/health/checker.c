/*
 * checker.c — see checker.h.
 *
 * Every target has exactly one timer, its `due` time in a min-heap: when idle
 * the start of its next check, when a check is in flight that check's
 * deadline. The thread sleeps in epoll_wait until the earliest due time or a
 * socket event, then handles ready sockets and due timers under the mutex.
 *
 * Checks run at a fixed rate (each is due an interval after the previous one
 * was due, not after it ended) on a 2 ms tick: one wake-up starts every check
 * due in that tick.
 *
 * A check in flight is a non-blocking socket. Over loopback or a veth pair
 * the handshake completes inside connect(), so a TCP check usually ends at
 * once and an HTTP check sends its request straight after connect() (a send
 * on a socket still connecting fails with EAGAIN, one refused reports why),
 * with the handshake's last ACK riding on it (TCP_DEFER_ACCEPT, below).
 * A response is parsed as it streams in, without buffering it: the status
 * line's first 12 bytes, the end of the headers, then the body substring
 * with the last len-1 bytes of the previous read kept in front.
 *
 * Sockets are recycled, connections are not: a check ends with
 * connect(AF_UNSPEC), which resets the connection (a RST, as SO_LINGER 0
 * would: 10,000 checks a second leave no TIME_WAIT sockets holding ephemeral
 * ports, as kubelet does for its TCP probes) and leaves the socket
 * unconnected. It then waits in an idle pool of its network namespace,
 * address family and check type for the next check there, which makes a new
 * connection from a new ephemeral port with it. That spares, per check, socket(), close(),
 * the epoll registration (a pooled socket stays registered, edge-triggered,
 * with its descriptor as the token) and, for a target in another namespace,
 * both setns() calls. The pools hold at most IDLE_MAX sockets in all.
 *
 * The sockets open at once, idle ones included, stay within half the
 * RLIMIT_NOFILE soft limit; checks beyond that wait a few tens of
 * milliseconds. An event for a socket that no check owns any more (dropped
 * by set_targets(), or back in its pool) is ignored: a descriptor is only
 * handed to a new check by the checker thread, after the events it already
 * fetched are handled.
 */
#define _GNU_SOURCE /* setns, memmem, gettid */
#include "health/checker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define WAKE_TOKEN UINT64_MAX
#define MAX_EVENTS 256
#define MAX_STARTS 32 /* checks started per round of the loop, then ready sockets are answered */
#define READ_CHUNK 16384
#define STATUS_HEAD 12 /* "HTTP/1.1 200" */
#define DEFER_US 20000 /* retry delay when too many sockets are open */
#define TICK_US 2000   /* timer granularity: a wake-up costs more than a check's own syscalls */
#define MAX_NUMBER 100 /* thresholds */
#define DAY_MS 86400000LL
#define IDLE_MAX 1024 /* idle sockets kept for reuse, in all pools */
#define NPOOLS 4      /* per namespace: {IPv4, IPv6} x {TCP check, HTTP check} */

enum phase { IDLE, CONNECTING, SENDING, READING };

/* Unconnected sockets of one namespace, address family and check type,
 * registered with epoll, waiting for a check (a stack: the most recently used
 * on top). */
struct pool {
    int *fd;
    uint32_t n, cap;
};

/* A network namespace file, opened on first use by the checker thread. */
struct nsent {
    char *path;
    int fd;                   /* -1 until opened */
    unsigned refs;            /* targets naming it */
    struct pool idle[NPOOLS]; /* by pool_index() */
};

/* A target's configuration, normalised (defaults filled in), owned copies. */
struct spec {
    char *id;
    char *netns; /* NULL: the checker's own namespace */
    char *address;
    uint16_t port;
    enum eagle_check_type type;
    int64_t interval_us, timeout_us, start_period_us;
    unsigned healthy, unhealthy;
    char *method, *path, *host, *body; /* HTTP only; body NULL when not looked for */
    int status_min, status_max;
};

struct target {
    struct spec s;
    struct sockaddr_storage sa;
    socklen_t salen;
    char *req; /* the HTTP request, built once */
    size_t req_len, body_len;
    char *tail; /* body_len-1 bytes: the end of the body read so far */
    struct nsent *ns;

    uint32_t heap_pos;
    int64_t due_us; /* the heap key: next start when idle, deadline when in flight */
    int64_t added_us;
    bool seen_ok; /* a check has passed: the start period is over */
    bool keep;    /* scratch mark during set_targets() */

    /* the check in flight */
    enum phase phase; /* CONNECTING until the connection is known to be up */
    int fd;
    int64_t planned_us, start_us; /* when it was due; when it started */
    size_t sent, rx;
    uint16_t tail_len;
    uint8_t head_len, crlf; /* status bytes kept; progress through "\r\n\r\n" */
    bool in_body;           /* past the headers */
    int status;             /* 0 until the status line is read */
    char head[STATUS_HEAD];

    struct eagle_health_result r;
};

/* An open-addressing string → pointer map; keys point into the values. */
struct mapent {
    const char *key;
    void *val;
};
struct strmap {
    struct mapent *e;
    size_t cap, n; /* cap is a power of two, or 0 */
};

/* A heap entry: the key sits beside the pointer, so sifting reads no target. */
struct hent {
    int64_t due;
    struct target *t;
};

struct change {
    struct eagle_health_result r;
    enum eagle_health_state old;
};

struct eagle_checker {
    pthread_mutex_t lock; /* guards everything below but the checker-thread-only fields */
    pthread_cond_t turn;  /* the loop waits on it while API callers want the lock */
    atomic_int waiting;   /* API callers waiting for the lock */
    pthread_t thread;
    bool running, stop;
    int epfd, evfd;
    int tid;

    struct target **targets; /* in set_targets() order */
    size_t n;
    struct strmap ids;     /* id → target */
    struct strmap nsmap;   /* path → nsent */
    struct hent *heap;     /* n entries, one per target */
    struct target **owner; /* descriptor → the target whose check uses it, or NULL */
    size_t n_owner;
    struct pool home[NPOOLS]; /* idle sockets of the checker's own namespace */
    size_t n_idle, max_idle;

    uint64_t rng;
    size_t in_flight, max_in_flight;
    uint64_t checks, failed;
    eagle_checker_change_cb cb;
    void *cb_ud;

    /* checker thread only */
    int home_ns; /* the thread's own network namespace, to return to */
    struct change *changes;
    size_t n_changes, cap_changes;
    char *scratch; /* READ_CHUNK + EAGLE_HEALTH_BODY_MATCH_MAX */
};

/* ---- small helpers ---- */

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s; /* xorshift64* */

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

static void *map_get(const struct strmap *m, const char *key)
{
    size_t i;

    if (!m->cap)
        return NULL;
    for (i = hash_str(key) & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
        if (!strcmp(m->e[i].key, key))
            return m->e[i].val;
    return NULL;
}

/* Insert a key that is not in the map yet. */
static void map_put(struct strmap *m, const char *key, void *val)
{
    size_t i;

    if (2 * (m->n + 1) > m->cap) {
        struct strmap bigger = {.cap = m->cap ? 2 * m->cap : 16};

        bigger.e = xcalloc(bigger.cap, sizeof(*bigger.e));
        for (i = 0; i < m->cap; i++)
            if (m->e[i].key)
                map_put(&bigger, m->e[i].key, m->e[i].val);
        free(m->e);
        *m = bigger;
    }
    for (i = hash_str(key) & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
        ;
    m->e[i].key = key;
    m->e[i].val = val;
    m->n++;
}

static void map_release(struct strmap *m)
{
    free(m->e);
    memset(m, 0, sizeof(*m));
}

static bool streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void fmt_ms(char *buf, size_t n, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, n, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, n, "%lldms", (long long)ms);
}

const char *eagle_health_state_name(enum eagle_health_state s)
{
    switch (s) {
    case EAGLE_HEALTH_HEALTHY:
        return "healthy";
    case EAGLE_HEALTH_UNHEALTHY:
        return "unhealthy";
    default:
        return "unknown";
    }
}

/* ---- the timer heap (every target is in it exactly once) ---- */

static void heap_set(struct hent *h, size_t i, struct hent e)
{
    h[i] = e;
    e.t->heap_pos = (uint32_t)i;
}

static void sift_up(struct hent *h, size_t i)
{
    struct hent e = h[i];

    while (i > 0 && h[(i - 1) / 2].due > e.due) {
        heap_set(h, i, h[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(h, i, e);
}

static void sift_down(struct hent *h, size_t n, size_t i)
{
    struct hent e = h[i];

    for (;;) {
        size_t k = 2 * i + 1;

        if (k >= n)
            break;
        if (k + 1 < n && h[k + 1].due < h[k].due)
            k++;
        if (h[k].due >= e.due)
            break;
        heap_set(h, i, h[k]);
        i = k;
    }
    heap_set(h, i, e);
}

static void reschedule(struct eagle_checker *c, struct target *t, int64_t due_us)
{
    t->due_us = due_us;
    c->heap[t->heap_pos].due = due_us;
    sift_up(c->heap, t->heap_pos);
    sift_down(c->heap, c->n, t->heap_pos);
}

/* ---- targets: validation, copies, release ---- */

static void spec_release(struct spec *s)
{
    free(s->id);
    free(s->netns);
    free(s->address);
    free(s->method);
    free(s->path);
    free(s->host);
    free(s->body);
}

static bool spec_equal(const struct spec *a, const struct spec *b)
{
    return streq(a->id, b->id) && streq(a->netns, b->netns) && streq(a->address, b->address) &&
           a->port == b->port && a->type == b->type && a->interval_us == b->interval_us &&
           a->timeout_us == b->timeout_us && a->start_period_us == b->start_period_us &&
           a->healthy == b->healthy && a->unhealthy == b->unhealthy && streq(a->method, b->method) &&
           streq(a->path, b->path) && streq(a->host, b->host) && streq(a->body, b->body) &&
           a->status_min == b->status_min && a->status_max == b->status_max;
}

static void target_free(struct target *t)
{
    if (!t)
        return;
    spec_release(&t->s);
    free(t->req);
    free(t->tail);
    free(t);
}

/* A string that is NULL or has between 1 and max-1 bytes, all above ' ' (or
 * printable with spaces when `spaces`). */
static bool text_ok(const char *s, size_t max, bool spaces)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (i + 1 >= max || ch == 0x7f || ch < (spaces ? 0x20 : 0x21))
            return false;
    }
    return i > 0;
}

/* An invalid-argument error naming targets[i].field: "targets[3].port must be 1 to 65535". */
static int bad(struct eagle_err *err, size_t i, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(struct eagle_err *err, size_t i, const char *field, const char *fmt, ...)
{
    char name[96], what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(name, sizeof(name), "targets[%zu].%s", i, field);
    return eagle_err_invalid(err, name, "%s %s", name, what);
}

static int range_ms(struct eagle_err *err, size_t i, const char *field, int64_t v, int64_t def, int64_t lo,
                    int64_t hi, int64_t *out_us)
{
    if (v == 0)
        v = def;
    if (v < lo || v > hi)
        return bad(err, i, field, "must be %lld to %lld ms", (long long)lo, (long long)hi);
    *out_us = v * 1000;
    return 0;
}

static int check_spec(const struct eagle_health_check *in, size_t i, struct spec *s, struct eagle_err *err)
{
    const char *m;

    if (in->type != EAGLE_CHECK_TCP && in->type != EAGLE_CHECK_HTTP)
        return bad(err, i, "check.type", "must be tcp or http");
    s->type = in->type;
    if (range_ms(err, i, "check.interval", in->interval_ms, 10000, 100, DAY_MS, &s->interval_us) < 0 ||
        range_ms(err, i, "check.timeout", in->timeout_ms, 2000, 10, 600000, &s->timeout_us) < 0)
        return -1;
    if (in->start_period_ms < 0 || in->start_period_ms > DAY_MS)
        return bad(err, i, "check.start_period", "must be 0 to %lld ms", DAY_MS);
    s->start_period_us = in->start_period_ms * 1000;
    s->healthy = in->healthy_threshold ? in->healthy_threshold : 1;
    s->unhealthy = in->unhealthy_threshold ? in->unhealthy_threshold : 3;
    if (s->healthy > MAX_NUMBER || s->unhealthy > MAX_NUMBER)
        return bad(err, i, s->healthy > MAX_NUMBER ? "check.healthy_threshold" : "check.unhealthy_threshold",
                   "must be 1 to %d", MAX_NUMBER);
    if (s->type == EAGLE_CHECK_TCP)
        return 0;

    m = in->method ? in->method : "GET";
    for (size_t k = 0; m[k]; k++)
        if (m[k] < 'A' || m[k] > 'Z' || k >= 15)
            return bad(err, i, "check.method", "must be 1 to 15 upper-case letters");
    if (!*m)
        return bad(err, i, "check.method", "must be 1 to 15 upper-case letters");
    s->method = xstrdup(m);
    if (in->path && (in->path[0] != '/' || !text_ok(in->path, EAGLE_HEALTH_PATH_MAX, false)))
        return bad(err, i, "check.path", "must start with '/' and hold no spaces or control characters");
    s->path = xstrdup(in->path ? in->path : "/");
    if (in->host && !text_ok(in->host, EAGLE_HEALTH_HOST_MAX, false))
        return bad(err, i, "check.host", "must be 1 to 255 bytes with no spaces or control characters");
    if (in->host)
        s->host = xstrdup(in->host);
    else if (strchr(s->address, ':'))
        s->host = s->port == 80 ? xasprintf("[%s]", s->address) : xasprintf("[%s]:%u", s->address, s->port);
    else
        s->host = s->port == 80 ? xstrdup(s->address) : xasprintf("%s:%u", s->address, s->port);
    s->status_min = in->status_min;
    s->status_max = in->status_max;
    if (!s->status_min && !s->status_max) {
        s->status_min = 200;
        s->status_max = 399;
    }
    if (s->status_min < 100 || s->status_max > 599 || s->status_min > s->status_max)
        return bad(err, i, "check.status_min", "and status_max must lie within 100-599, min <= max");
    if (in->body_contains && *in->body_contains) {
        if (!text_ok(in->body_contains, EAGLE_HEALTH_BODY_MATCH_MAX, true))
            return bad(err, i, "check.body_contains", "must be 1 to 127 bytes, no control characters");
        s->body = xstrdup(in->body_contains);
    }
    return 0;
}

/* A normalised copy of in[i] (no namespace entry yet). */
static struct target *target_new(const struct eagle_health_target *in, size_t i, struct eagle_err *err)
{
    struct target *t = xcalloc(1, sizeof(*t));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&t->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&t->sa;

    t->fd = -1;
    if (!in->id || !text_ok(in->id, EAGLE_HEALTH_ID_MAX, false)) {
        bad(err, i, "id", "must be 1 to 79 bytes with no spaces or control characters");
        goto fail;
    }
    t->s.id = xstrdup(in->id);
    if (in->netns_path && *in->netns_path) {
        if (in->netns_path[0] != '/' || !text_ok(in->netns_path, EAGLE_HEALTH_NETNS_MAX, false)) {
            bad(err, i, "netns_path", "must be an absolute path under 256 bytes");
            goto fail;
        }
        t->s.netns = xstrdup(in->netns_path);
    }
    if (in->address && inet_pton(AF_INET, in->address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(in->port);
        t->salen = sizeof(*v4);
    } else if (in->address && inet_pton(AF_INET6, in->address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(in->port);
        t->salen = sizeof(*v6);
    } else {
        bad(err, i, "address", "must be a numeric IPv4 or IPv6 address");
        goto fail;
    }
    t->s.address = xstrdup(in->address);
    if (!in->port) {
        bad(err, i, "port", "must be 1 to 65535");
        goto fail;
    }
    t->s.port = in->port;
    if (check_spec(&in->check, i, &t->s, err) < 0)
        goto fail;
    if (t->s.type == EAGLE_CHECK_HTTP) {
        t->req =
            xasprintf("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: eagle-health\r\n\r\n",
                      t->s.method, t->s.path, t->s.host);
        t->req_len = strlen(t->req);
    }
    if (t->s.body) {
        t->body_len = strlen(t->s.body);
        t->tail = xmalloc(t->body_len);
    }
    snprintf(t->r.id, sizeof(t->r.id), "%s", t->s.id);
    t->r.state = EAGLE_HEALTH_UNKNOWN;
    t->r.last_ok = -1;
    return t;
fail:
    target_free(t);
    return NULL;
}

/* ---- sockets: created in a namespace, recycled through its pool ---- */

/* Sockets differ by address family and by how they end the handshake (see take_socket). */
static int pool_index(const struct target *t)
{
    return (t->sa.ss_family == AF_INET6) << 1 | (t->s.type == EAGLE_CHECK_HTTP);
}

static struct pool *pool_of(struct eagle_checker *c, const struct target *t)
{
    return t->ns ? &t->ns->idle[pool_index(t)] : &c->home[pool_index(t)];
}

static void pool_drain(struct eagle_checker *c, struct pool *p)
{
    while (p->n) {
        close(p->fd[--p->n]);
        c->n_idle--;
    }
    free(p->fd);
    memset(p, 0, sizeof(*p));
}

/* Close every idle socket (the thread is about to end, or the checker). */
static void drain_all(struct eagle_checker *c)
{
    for (size_t i = 0; i < c->nsmap.cap; i++) {
        struct nsent *e = c->nsmap.e[i].val;

        if (c->nsmap.e[i].key) {
            for (int k = 0; k < NPOOLS; k++)
                pool_drain(c, &e->idle[k]);
        }
    }
    for (int k = 0; k < NPOOLS; k++)
        pool_drain(c, &c->home[k]);
}

/* Share `sockets` descriptors between checks in flight and idle sockets. */
static void set_budget(struct eagle_checker *c, size_t sockets)
{
    c->max_idle = sockets / 4 < IDLE_MAX ? sockets / 4 : IDLE_MAX;
    c->max_in_flight = sockets - c->max_idle;
}

/* A new socket for t, created in t's network namespace. -1 with `reason` filled. */
static int new_socket(struct eagle_checker *c, struct target *t, char *reason, size_t n)
{
    int fd, saved;

    if (!t->ns) {
        fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            snprintf(reason, n, "socket: %s", strerror(errno));
        return fd;
    }
    if (c->home_ns < 0) {
        snprintf(reason, n, "netns: the checker's own namespace is unknown");
        return -1;
    }
    if (t->ns->fd < 0) {
        t->ns->fd = open(t->ns->path, O_RDONLY | O_CLOEXEC);
        if (t->ns->fd < 0) {
            snprintf(reason, n, "netns '%s': %s", t->ns->path, strerror(errno));
            return -1;
        }
    }
    if (setns(t->ns->fd, CLONE_NEWNET) < 0) {
        snprintf(reason, n, "setns '%s': %s", t->ns->path, strerror(errno));
        close(t->ns->fd); /* opened afresh next time */
        t->ns->fd = -1;
        return -1;
    }
    fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    saved = errno;
    if (setns(c->home_ns, CLONE_NEWNET) < 0) {
        /* Every later socket would be made in the wrong namespace. */
        log_error("health", "cannot return to the checker's own network namespace: %s", strerror(errno));
        abort();
    }
    if (fd < 0)
        snprintf(reason, n, "socket: %s", strerror(saved));
    return fd;
}

/* An unconnected socket for t's check, from its pool or new (and then
 * registered with epoll for good), owned by t. -1 with `reason` filled. */
static int take_socket(struct eagle_checker *c, struct target *t, char *reason, size_t n)
{
    struct pool *p = pool_of(c, t);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
    int fd;

    if (p->n) {
        fd = p->fd[--p->n];
        c->n_idle--;
    } else {
        fd = new_socket(c, t, reason, n);
        if (fd < 0)
            return -1;
        /* On a connecting socket, TCP_DEFER_ACCEPT (any value) makes the
         * kernel hold the handshake's last ACK back until data goes out (or
         * the 200 ms delayed-ACK timer fires), as HAProxy's tcp-smart-connect
         * does with TCP_QUICKACK: the request carries the ACK, one packet
         * fewer through both ends' TCP stacks, which over loopback both run on
         * this thread. It lasts across connect(AF_UNSPEC), unlike
         * TCP_QUICKACK. A TCP check's sockets do not have it, as their
         * handshake must complete with nothing to send. */
        if (t->s.type == EAGLE_CHECK_HTTP)
            setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &(int){1}, sizeof(int));
        ev.data.u64 = (uint64_t)fd;
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            snprintf(reason, n, "epoll: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if ((size_t)fd >= c->n_owner) {
            size_t grow = c->n_owner ? c->n_owner : 256;

            while (c->n_owner + grow <= (size_t)fd)
                grow *= 2;
            c->owner = xrealloc(c->owner, (c->n_owner + grow) * sizeof(*c->owner));
            memset(c->owner + c->n_owner, 0, grow * sizeof(*c->owner));
            c->n_owner += grow;
        }
    }
    c->owner[fd] = t;
    return fd;
}

/* End t's connection with a reset (nothing when it is down already) and put
 * the socket back in its pool, or close it when the pools are full. */
static void release_socket(struct eagle_checker *c, struct target *t)
{
    static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    struct pool *p = pool_of(c, t);
    int fd = t->fd;

    c->owner[fd] = NULL;
    t->fd = -1;
    if (connect(fd, &unspec, sizeof(unspec)) < 0) {
        /* Not expected; a reset on close then, and no reuse. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};

        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
        return;
    }
    if (c->n_idle >= c->max_idle) {
        close(fd);
        return;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->fd = xrealloc(p->fd, p->cap * sizeof(*p->fd));
    }
    p->fd[p->n++] = fd;
    c->n_idle++;
}

/* ---- the check in flight ---- */

static void close_check(struct eagle_checker *c, struct target *t)
{
    if (t->fd >= 0) {
        release_socket(c, t);
        c->in_flight--;
    }
    t->phase = IDLE;
}

static void record(struct eagle_checker *c, struct target *t, bool ok, const char *reason, int64_t now)
{
    struct eagle_health_result *r = &t->r;
    enum eagle_health_state old = r->state;
    size_t len = strnlen(reason, sizeof(r->reason) - 1);

    r->checks++;
    c->checks++;
    r->last_ok = ok;
    memcpy(r->reason, reason, len);
    r->reason[len] = 0;
    r->last_check_ms = eagle_now_ms();
    r->latency_us = now - t->start_us;
    if (ok) {
        t->seen_ok = true;
        r->failures = 0;
        if (r->successes < UINT32_MAX)
            r->successes++;
        if (r->successes >= t->s.healthy)
            r->state = EAGLE_HEALTH_HEALTHY;
    } else {
        c->failed++;
        r->successes = 0;
        if (t->seen_ok || now >= t->added_us + t->s.start_period_us) {
            if (r->failures < UINT32_MAX)
                r->failures++;
            if (r->failures >= t->s.unhealthy)
                r->state = EAGLE_HEALTH_UNHEALTHY;
        }
    }
    if (r->state == old)
        return;
    r->state_since_ms = r->last_check_ms;
    if (c->n_changes == c->cap_changes) {
        c->cap_changes = c->cap_changes ? 2 * c->cap_changes : 64;
        c->changes = xrealloc(c->changes, c->cap_changes * sizeof(*c->changes));
    }
    c->changes[c->n_changes].r = *r;
    c->changes[c->n_changes].old = old;
    c->n_changes++;
}

/* End the check in flight with a result and schedule the next one. */
static void end_check(struct eagle_checker *c, struct target *t, bool ok, const char *reason)
{
    int64_t now = mono_us(), next = t->planned_us + t->s.interval_us;

    close_check(c, t);
    record(c, t, ok, reason, now);
    reschedule(c, t, next > now ? next : now);
}

static void finish(struct eagle_checker *c, struct target *t, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finish(struct eagle_checker *c, struct target *t, bool ok, const char *fmt, ...)
{
    char reason[EAGLE_HEALTH_REASON_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    end_check(c, t, ok, reason);
}

/* A check passed on status 100-599: "status 200", without printf. */
static void pass_status(struct eagle_checker *c, struct target *t, int status)
{
    char reason[] = "status 000";

    reason[7] = (char)('0' + status / 100);
    reason[8] = (char)('0' + status / 10 % 10);
    reason[9] = (char)('0' + status % 10);
    end_check(c, t, true, reason);
}

/*
 * Send what is left of the request. In CONNECTING the connection is not known
 * to be up yet: EAGAIN then means it is still being made, and an error is the
 * connect's (a send on a socket still connecting reports why it failed).
 */
static void send_more(struct eagle_checker *c, struct target *t)
{
    while (t->sent < t->req_len) {
        ssize_t w = send(t->fd, t->req + t->sent, t->req_len - t->sent, MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                finish(c, t, false, "%s: %s", t->phase == CONNECTING ? "connect" : "send", strerror(errno));
            return;
        }
        t->sent += (size_t)w;
        t->phase = SENDING;
    }
    t->phase = READING;
}

static int parse_status(const char *h)
{
    if (memcmp(h, "HTTP/1.", 7) || h[7] < '0' || h[7] > '9' || h[8] != ' ')
        return -1;
    for (int k = 9; k < 12; k++)
        if (h[k] < '0' || h[k] > '9')
            return -1;
    return (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
}

/*
 * Take the `n` bytes just read, at buf + keep (the body tail sits in front of
 * them when the body is being searched). Returns true when the check ended.
 */
static bool feed(struct eagle_checker *c, struct target *t, char *buf, size_t keep, size_t n)
{
    const char *p = buf + keep, *region;
    size_t i = 0, len, tl;

    if (!t->status) {
        size_t want = (size_t)(STATUS_HEAD - t->head_len), take = want < n ? want : n;

        memcpy(t->head + t->head_len, p, take);
        t->head_len += (uint8_t)take;
        if (t->head_len < STATUS_HEAD)
            return false;
        t->status = parse_status(t->head);
        if (t->status < 0) {
            finish(c, t, false, "malformed status line");
            return true;
        }
        if (t->status < t->s.status_min || t->status > t->s.status_max) {
            finish(c, t, false, "status %d not in %d-%d", t->status, t->s.status_min, t->s.status_max);
            return true;
        }
        if (!t->s.body) {
            pass_status(c, t, t->status);
            return true;
        }
    }
    if (!t->in_body) {
        while (i < n && t->crlf < 4) {
            char ch = p[i++];

            if (ch == "\r\n\r\n"[t->crlf])
                t->crlf++;
            else
                t->crlf = ch == '\r';
        }
        if (t->crlf < 4)
            return false;
        t->in_body = true;
        region = p + i;
        len = n - i;
    } else {
        region = buf;
        len = keep + n;
    }
    if (memmem(region, len, t->s.body, t->body_len)) {
        pass_status(c, t, t->status);
        return true;
    }
    tl = t->body_len - 1 < len ? t->body_len - 1 : len;
    memcpy(t->tail, region + len - tl, tl);
    t->tail_len = (uint16_t)tl;
    return false;
}

static void read_more(struct eagle_checker *c, struct target *t)
{
    for (;;) {
        size_t keep = t->in_body ? t->tail_len : 0;
        ssize_t r;

        if (keep)
            memcpy(c->scratch, t->tail, keep);
        r = recv(t->fd, c->scratch + keep, READ_CHUNK, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                finish(c, t, false, "recv: %s", strerror(errno));
            return;
        }
        if (r == 0) {
            if (t->status)
                finish(c, t, false, "body does not contain '%s'", t->s.body);
            else
                finish(c, t, false, "connection closed before the status line");
            return;
        }
        t->rx += (size_t)r;
        if (feed(c, t, c->scratch, keep, (size_t)r))
            return;
        if (t->rx >= EAGLE_HEALTH_READ_MAX) {
            finish(c, t, false, "body does not contain '%s' (in %d bytes)", t->s.body, EAGLE_HEALTH_READ_MAX);
            return;
        }
    }
}

/* Whether a connect() in progress has completed: 1 up, 0 not yet, -1 failed
 * (errno says why). Asking again is also how a spurious event is told apart. */
static int connect_again(struct target *t)
{
    if (connect(t->fd, (struct sockaddr *)&t->sa, t->salen) == 0 || errno == EISCONN)
        return 1;
    return errno == EALREADY || errno == EINPROGRESS ? 0 : -1;
}

/* A TCP check: passes once connected. Over loopback or a veth pair the
 * handshake has usually completed inside the first connect() already. */
static void tcp_progress(struct eagle_checker *c, struct target *t)
{
    int rc = connect_again(t);

    if (rc < 0)
        finish(c, t, false, "connect: %s", strerror(errno));
    else if (rc > 0)
        end_check(c, t, true, "connected");
}

/*
 * An event on t's socket. Events come edge-triggered and the socket may have
 * served other checks before, so one can be spurious: each step asks the
 * socket again rather than trusting the event.
 */
static void on_event(struct eagle_checker *c, struct target *t, uint32_t ev)
{
    if (t->phase == CONNECTING || t->phase == SENDING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && t->phase == CONNECTING)
            return;
        if (t->s.type == EAGLE_CHECK_TCP) {
            tcp_progress(c, t);
            return;
        }
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            send_more(c, t);
        if (t->phase == IDLE || t->phase == CONNECTING)
            return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        read_more(c, t);
}

static void start_check(struct eagle_checker *c, struct target *t, int64_t now)
{
    char reason[EAGLE_HEALTH_REASON_MAX];

    if (c->in_flight >= c->max_in_flight) {
        reschedule(c, t, now + DEFER_US + (int64_t)(rng_next(&c->rng) % DEFER_US));
        return;
    }
    /* Fixed rate: the next check is due an interval after this one was due,
     * so a late start (a busy loop) does not push every later check back. */
    t->planned_us = t->due_us;
    t->start_us = mono_us();
    t->sent = t->rx = 0;
    t->tail_len = 0;
    t->head_len = t->crlf = 0;
    t->in_body = false;
    t->status = 0;
    t->phase = CONNECTING;
    t->fd = take_socket(c, t, reason, sizeof(reason));
    if (t->fd < 0) {
        end_check(c, t, false, reason);
        return;
    }
    c->in_flight++;
    if (connect(t->fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS) {
        finish(c, t, false, "connect: %s", strerror(errno));
        return;
    }
    if (t->s.type == EAGLE_CHECK_TCP)
        tcp_progress(c, t);
    else
        send_more(c, t); /* usual on loopback: connected, and the request fits the fresh buffer */
    if (t->phase != IDLE)
        reschedule(c, t, t->start_us + t->s.timeout_us);
}

static void run_timers(struct eagle_checker *c, int64_t now)
{
    char took[24];
    int starts = 0;

    while (c->n && c->heap[0].due <= now) {
        struct target *t = c->heap[0].t;

        if (t->phase == IDLE) {
            /* When behind, answer the sockets in between: a burst of new
             * checks must not make those already in flight time out, nor
             * add its whole length to their latency. */
            if (starts++ == MAX_STARTS)
                break;
            start_check(c, t, now);
        } else {
            fmt_ms(took, sizeof(took), t->s.timeout_us / 1000);
            finish(c, t, false, "timeout after %s", took);
        }
    }
}

static int next_timeout_ms(struct eagle_checker *c)
{
    int64_t d;

    if (!c->n)
        return -1;
    d = c->heap[0].due - mono_us();
    if (d <= 0)
        return 0;
    if (d > 60000000)
        return 60000;
    /* Round the sleep up to a whole tick: a check starts up to a tick late,
     * but one wake-up starts every check due in that tick. */
    return (int)((d + TICK_US - 1) / TICK_US * (TICK_US / 1000));
}

/*
 * The checker thread takes the lock again the moment epoll_wait returns, which
 * on a busy checker is at once: a plain mutex would let it starve a thread
 * waiting in snapshot() for seconds. So callers announce themselves in
 * `waiting`, and the loop lets them go first.
 */
static void loop_lock(struct eagle_checker *c)
{
    pthread_mutex_lock(&c->lock);
    while (atomic_load(&c->waiting))
        pthread_cond_wait(&c->turn, &c->lock);
}

static void api_lock(struct eagle_checker *c)
{
    atomic_fetch_add(&c->waiting, 1);
    pthread_mutex_lock(&c->lock);
    atomic_fetch_sub(&c->waiting, 1);
}

static void api_unlock(struct eagle_checker *c)
{
    if (!atomic_load(&c->waiting))
        pthread_cond_signal(&c->turn);
    pthread_mutex_unlock(&c->lock);
}

/* Call the change callback for what the last round changed, without the lock. */
static void flush_changes(struct eagle_checker *c, eagle_checker_change_cb cb, void *ud)
{
    for (size_t i = 0; cb && i < c->n_changes; i++)
        cb(&c->changes[i].r, c->changes[i].old, ud);
    c->n_changes = 0;
}

static void handle_events(struct eagle_checker *c, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t tok = evs[i].data.u64;
        struct target *t;

        if (tok == WAKE_TOKEN) {
            uint64_t v;

            if (read(c->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_warn("health", "eventfd read: %s", strerror(errno));
            continue;
        }
        t = tok < c->n_owner ? c->owner[tok] : NULL;
        if (t && t->phase != IDLE)
            on_event(c, t, evs[i].events);
    }
}

static void *run(void *arg)
{
    struct eagle_checker *c = arg;
    struct epoll_event evs[MAX_EVENTS];
    eagle_checker_change_cb cb;
    void *ud;
    int n = 0;

    c->home_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (c->home_ns < 0)
        log_warn("health",
                 "cannot open '/proc/thread-self/ns/net' (%s): checks in other namespaces will fail",
                 strerror(errno));
    loop_lock(c);
    c->tid = gettid();
    while (!c->stop) {
        int64_t now = mono_us();

        /* Every event ready by `now` is handled before a deadline up to `now`
         * is: when the thread itself ran late (a busy machine), an answer
         * already waiting in a socket counts, not as a timeout. */
        handle_events(c, evs, n);
        while (n == MAX_EVENTS) {
            n = epoll_wait(c->epfd, evs, MAX_EVENTS, 0);
            handle_events(c, evs, n);
        }
        run_timers(c, now);
        if (c->n_changes) {
            cb = c->cb;
            ud = c->cb_ud;
            pthread_mutex_unlock(&c->lock);
            flush_changes(c, cb, ud);
            loop_lock(c);
            if (c->stop)
                break;
        }
        int timeout = next_timeout_ms(c);
        pthread_mutex_unlock(&c->lock);
        n = epoll_wait(c->epfd, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno != EINTR)
                log_warn("health", "epoll_wait: %s", strerror(errno));
            n = 0;
        }
        loop_lock(c);
    }
    /* Checks cut short are not recorded; they start again on the next start. */
    for (size_t i = 0; i < c->n; i++)
        if (c->targets[i]->phase != IDLE) {
            close_check(c, c->targets[i]);
            reschedule(c, c->targets[i], mono_us());
        }
    /* The home pool belongs to this thread's namespace; a later thread may have another. */
    drain_all(c);
    c->tid = 0;
    pthread_mutex_unlock(&c->lock);
    if (c->home_ns >= 0)
        close(c->home_ns);
    c->home_ns = -1;
    return NULL;
}

static void wake(struct eagle_checker *c)
{
    uint64_t one = 1;

    if (write(c->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_warn("health", "eventfd write: %s", strerror(errno));
}

/* ---- the API ---- */

struct eagle_checker *eagle_checker_new(void)
{
    struct eagle_checker *c = xcalloc(1, sizeof(*c));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};

    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->turn, NULL);
    c->home_ns = -1;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->epfd < 0 || c->evfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) < 0) {
        /* Only when out of file descriptors or kernel memory at start-up. */
        log_error("health", "cannot create the checker's epoll and eventfd: %s", strerror(errno));
        abort();
    }
    if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng))
        c->rng = (uint64_t)mono_us();
    c->rng |= 1;
    c->scratch = xmalloc(READ_CHUNK + EAGLE_HEALTH_BODY_MATCH_MAX);
    set_budget(c, 64);
    return c;
}

static void ns_unref(struct target *t)
{
    if (t->ns)
        t->ns->refs--;
    t->ns = NULL;
}

static struct nsent *ns_ref(struct eagle_checker *c, const char *path)
{
    struct nsent *e = map_get(&c->nsmap, path);

    if (!e) {
        e = xcalloc(1, sizeof(*e));
        e->path = xstrdup(path);
        e->fd = -1;
        map_put(&c->nsmap, e->path, e);
    }
    e->refs++;
    return e;
}

/* Close and forget namespace files (and their idle sockets) no target names any more. */
static void ns_prune(struct eagle_checker *c, bool all)
{
    struct strmap kept = {0};

    for (size_t i = 0; i < c->nsmap.cap; i++) {
        struct nsent *e = c->nsmap.e[i].val;

        if (!c->nsmap.e[i].key)
            continue;
        if (e->refs && !all) {
            map_put(&kept, e->path, e);
            continue;
        }
        for (int k = 0; k < NPOOLS; k++)
            pool_drain(c, &e->idle[k]);
        if (e->fd >= 0)
            close(e->fd);
        free(e->path);
        free(e);
    }
    map_release(&c->nsmap);
    c->nsmap = kept;
}

static void drop_target(struct eagle_checker *c, struct target *t)
{
    close_check(c, t);
    ns_unref(t);
    target_free(t);
}

void eagle_checker_free(struct eagle_checker *c)
{
    if (!c)
        return;
    eagle_checker_stop(c);
    for (size_t i = 0; i < c->n; i++)
        drop_target(c, c->targets[i]);
    drain_all(c);
    ns_prune(c, true);
    map_release(&c->ids);
    free(c->targets);
    free(c->heap);
    free(c->owner);
    free(c->changes);
    free(c->scratch);
    close(c->epfd);
    close(c->evfd);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->turn);
    free(c);
}

int eagle_checker_set_targets(struct eagle_checker *c, const struct eagle_health_target *targets, size_t n,
                              struct eagle_err *err)
{
    struct target **fresh;
    struct strmap seen = {0};
    int64_t now;
    size_t i;

    if (n > EAGLE_CHECKER_MAX_TARGETS)
        return eagle_err_invalid(err, "targets", "too many health check targets (%zu, at most %d)", n,
                                 EAGLE_CHECKER_MAX_TARGETS);
    /* Copy and validate without the lock. */
    fresh = xcalloc(n ? n : 1, sizeof(*fresh));
    for (i = 0; i < n; i++) {
        fresh[i] = target_new(&targets[i], i, err);
        if (!fresh[i])
            goto fail;
        if (map_get(&seen, fresh[i]->s.id)) {
            char field[48];

            snprintf(field, sizeof(field), "targets[%zu].id", i);
            eagle_err_invalid(err, field, "duplicate health check target id '%s'", fresh[i]->s.id);
            target_free(fresh[i]);
            goto fail;
        }
        map_put(&seen, fresh[i]->s.id, fresh[i]);
    }
    map_release(&seen);

    api_lock(c);
    now = mono_us();
    for (i = 0; i < n; i++) {
        struct target *old = map_get(&c->ids, fresh[i]->s.id), *t = fresh[i];

        if (old && spec_equal(&old->s, &t->s)) {
            target_free(t);
            old->keep = true;
            fresh[i] = old;
            continue;
        }
        if (t->s.netns)
            t->ns = ns_ref(c, t->s.netns);
        t->added_us = now;
        t->due_us = now + (int64_t)(rng_next(&c->rng) % (uint64_t)t->s.interval_us);
        t->r.state_since_ms = eagle_now_ms();
    }
    for (i = 0; i < c->n; i++) {
        if (c->targets[i]->keep)
            c->targets[i]->keep = false;
        else
            drop_target(c, c->targets[i]);
    }
    ns_prune(c, false);
    free(c->targets);
    c->targets = fresh;
    c->n = n;
    map_release(&c->ids);
    c->heap = xrealloc(c->heap, (n ? n : 1) * sizeof(*c->heap));
    for (i = 0; i < n; i++) {
        map_put(&c->ids, fresh[i]->s.id, fresh[i]);
        heap_set(c->heap, i, (struct hent){.due = fresh[i]->due_us, .t = fresh[i]});
    }
    for (i = n / 2; i-- > 0;)
        sift_down(c->heap, n, i);
    api_unlock(c);
    wake(c);
    return 0;
fail:
    while (i-- > 0)
        target_free(fresh[i]);
    free(fresh);
    map_release(&seen);
    return -1;
}

int eagle_checker_start(struct eagle_checker *c, struct eagle_err *err)
{
    struct rlimit rl;
    int rc;

    api_lock(c);
    if (c->running) {
        api_unlock(c);
        return eagle_err_conflict(err, "the health checker is already running");
    }
    /* Leave half the descriptors to the rest of the process; checks beyond wait. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 > 64)
        set_budget(c, rl.rlim_cur / 2);
    else
        set_budget(c, 64);
    /* Spread the first checks of targets added while stopped. */
    for (size_t i = 0; i < c->n; i++)
        if (!c->targets[i]->r.checks)
            reschedule(c, c->targets[i],
                       mono_us() + (int64_t)(rng_next(&c->rng) % (uint64_t)c->targets[i]->s.interval_us));
    c->stop = false;
    rc = pthread_create(&c->thread, NULL, run, c);
    if (rc) {
        api_unlock(c);
        return eagle_err_internal(err, "start the health checker thread: %s", strerror(rc));
    }
    pthread_setname_np(c->thread, "eagle-health");
    c->running = true;
    api_unlock(c);
    return 0;
}

void eagle_checker_stop(struct eagle_checker *c)
{
    api_lock(c);
    if (!c->running) {
        api_unlock(c);
        return;
    }
    c->stop = true;
    api_unlock(c);
    wake(c);
    pthread_join(c->thread, NULL);
    api_lock(c);
    c->running = false;
    api_unlock(c);
}

void eagle_checker_on_change(struct eagle_checker *c, eagle_checker_change_cb cb, void *ud)
{
    api_lock(c);
    c->cb = cb;
    c->cb_ud = ud;
    api_unlock(c);
}

size_t eagle_checker_snapshot(struct eagle_checker *c, struct eagle_health_result **out)
{
    size_t n;

    api_lock(c);
    n = c->n;
    *out = xmalloc((n ? n : 1) * sizeof(**out));
    for (size_t i = 0; i < n; i++)
        (*out)[i] = c->targets[i]->r;
    api_unlock(c);
    return n;
}

int eagle_checker_get(struct eagle_checker *c, const char *id, struct eagle_health_result *out)
{
    struct target *t;

    api_lock(c);
    t = id ? map_get(&c->ids, id) : NULL;
    if (t)
        *out = t->r;
    api_unlock(c);
    return t ? 0 : -1;
}

void eagle_checker_stats(struct eagle_checker *c, struct eagle_checker_stats *out)
{
    clockid_t cid;
    struct timespec ts;

    memset(out, 0, sizeof(*out));
    api_lock(c);
    out->targets = c->n;
    out->in_flight = c->in_flight;
    out->checks = c->checks;
    out->failed = c->failed;
    out->thread_tid = c->tid;
    if (c->running && pthread_getcpuclockid(c->thread, &cid) == 0 && clock_gettime(cid, &ts) == 0)
        out->thread_cpu_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    api_unlock(c);
}
