/*
 * checker.h — the health checker: TCP and HTTP checks of many targets from one
 * thread, with non-blocking sockets, epoll and a min-heap of timers (no thread
 * and no HTTP client handle per check). eagled runs one for the tasks on its
 * own node; eagle-agent runs one per node for the others.
 *
 * A target is reached inside the task's network namespace without publishing
 * a port: given a netns_path ("/proc/<pid>/ns/net"), the checker thread enters
 * that namespace with setns(), creates the socket there and returns to its own
 * namespace (a socket stays in the namespace it was created in). Every check
 * makes a new TCP connection, but not always with a new socket: a socket is
 * disconnected after its check and kept for the next check in the same
 * namespace, so setns() is needed only when none is idle there. The opened
 * namespace file and those idle sockets are kept per path while some target
 * names it; holding them keeps that namespace alive, so the owner removes the
 * targets of tasks that are gone (a dead task's namespace just refuses
 * connections meanwhile).
 *
 * State per target: unknown until a threshold is crossed, then healthy after
 * healthy_threshold consecutive successes or unhealthy after unhealthy_threshold
 * consecutive failures. During the start period (counted from when the target
 * was added) failures are recorded but not counted, until a check succeeds.
 *
 * Checks run at a fixed rate on a 2 ms tick. At most half the RLIMIT_NOFILE
 * soft limit (read at start) of sockets are open at once, idle ones included;
 * checks beyond that wait a few tens of milliseconds.
 *
 * Threads: eagle_checker_new/start/stop/free from one owning thread;
 * set_targets, on_change, snapshot, get and stats from any thread (one mutex,
 * held by the checker thread only while it handles ready sockets and due
 * timers, never across a blocking call, and handed to a waiting caller first).
 * The change callback runs on the checker thread with the mutex released, so
 * it may call any of those but stop/free, and it should return quickly: no
 * check runs while it does.
 */
#ifndef EAGLE_HEALTH_CHECKER_H
#define EAGLE_HEALTH_CHECKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define EAGLE_CHECKER_MAX_TARGETS 100000
#define EAGLE_HEALTH_ID_MAX 80          /* bytes of a target id, with the NUL */
#define EAGLE_HEALTH_REASON_MAX 128     /* bytes of a reason, with the NUL */
#define EAGLE_HEALTH_PATH_MAX 1024      /* an HTTP path (with query) */
#define EAGLE_HEALTH_HOST_MAX 256       /* a Host header value */
#define EAGLE_HEALTH_BODY_MATCH_MAX 128 /* the body substring looked for */
#define EAGLE_HEALTH_NETNS_MAX 256      /* a namespace file path */
#define EAGLE_HEALTH_READ_MAX 65536     /* bytes of a response read before giving up */

struct eagle_checker; /* opaque */

enum eagle_check_type { EAGLE_CHECK_TCP, EAGLE_CHECK_HTTP };

enum eagle_health_state { EAGLE_HEALTH_UNKNOWN, EAGLE_HEALTH_HEALTHY, EAGLE_HEALTH_UNHEALTHY };

/* What to check and how often. Zero numbers take the defaults in brackets;
 * strings are copied by eagle_checker_set_targets(), NULL takes the default. */
struct eagle_health_check {
    enum eagle_check_type type;
    int64_t interval_ms;          /* [10000] 100 ms .. 1 day, between the starts of two checks */
    int64_t timeout_ms;           /* [2000] 10 ms .. 10 min, for connect + request + response */
    int64_t start_period_ms;      /* [0] .. 1 day */
    unsigned healthy_threshold;   /* [1] .. 100 consecutive successes */
    unsigned unhealthy_threshold; /* [3] .. 100 consecutive failures */
    /* HTTP only */
    const char *method;        /* ["GET"] upper-case letters, at most 15 */
    const char *path;          /* ["/"] starts with '/', no spaces or control characters */
    const char *host;          /* [address, with ":port" unless 80] the Host header */
    int status_min;            /* [200] 100 .. 599 */
    int status_max;            /* [399] status_min .. 599 */
    const char *body_contains; /* [none] looked for in the first EAGLE_HEALTH_READ_MAX bytes; the
                                  raw bytes are searched, so with a chunked body a match that
                                  straddles a chunk boundary is missed */
};

struct eagle_health_target {
    const char *id;         /* the task id; unique in a set, 1 .. EAGLE_HEALTH_ID_MAX-1 bytes */
    const char *netns_path; /* NULL or "": the checker's own network namespace */
    const char *address;    /* a numeric IPv4 or IPv6 address, usually "127.0.0.1" */
    uint16_t port;          /* 1 .. 65535 */
    struct eagle_health_check check;
};

/* A target's current result, copied out. */
struct eagle_health_result {
    char id[EAGLE_HEALTH_ID_MAX];
    enum eagle_health_state state;
    int last_ok;                          /* 1 passed, 0 failed, -1 not checked yet */
    char reason[EAGLE_HEALTH_REASON_MAX]; /* of the last check: "status 200", "connect: Connection
                                             refused", "timeout after 2s", ... */
    uint32_t successes;                   /* consecutive */
    uint32_t failures;                    /* consecutive, not counting those in the start period */
    uint64_t checks;                      /* checks completed since the target was added */
    int64_t last_check_ms;                /* Unix time in ms when the last check ended; 0 = never */
    int64_t latency_us;                   /* of the last check */
    int64_t state_since_ms;               /* Unix time in ms of the last state change (or the add) */
};

struct eagle_checker_stats {
    size_t targets;
    size_t in_flight;      /* checks with a socket open now */
    uint64_t checks;       /* completed since eagle_checker_new() */
    uint64_t failed;       /* of which failed */
    int64_t thread_cpu_ns; /* CPU time the checker thread has used; 0 when not running */
    int thread_tid;        /* its kernel thread id; 0 when not running */
};

/* Called on the checker thread when a target's state changes (unknown → healthy
 * or unhealthy, healthy ↔ unhealthy); `r` is valid only during the call. A
 * target that set_targets() replaces starts unknown again without a call. */
typedef void (*eagle_checker_change_cb)(const struct eagle_health_result *r, enum eagle_health_state old,
                                        void *ud);

/* A checker with no targets and no thread yet; free with eagle_checker_free(). */
struct eagle_checker *eagle_checker_new(void);

/* Stop the thread if it runs, close every socket and namespace file. NULL is a no-op. */
void eagle_checker_free(struct eagle_checker *c);

/* Start the checker thread / stop it and wait for it (stop is a no-op when not
 * running; a stopped checker may be started again and keeps its targets). */
int eagle_checker_start(struct eagle_checker *c, struct eagle_err *err);
void eagle_checker_stop(struct eagle_checker *c);

/* Replace the whole target set atomically: a target whose id, address, port,
 * netns_path and check are all unchanged keeps its state and schedule; any
 * other is new (state unknown, first check at a random point within its
 * interval, so a large set does not fire in the same millisecond); the ones not
 * named any more are dropped, an in-flight check with them. The caller keeps
 * ownership of `targets`. On invalid input nothing changes and -1 is returned
 * with err->field naming the entry ("targets[3].check.path"). */
int eagle_checker_set_targets(struct eagle_checker *c, const struct eagle_health_target *targets, size_t n,
                              struct eagle_err *err);

/* Set (or clear, with NULL) the change callback. */
void eagle_checker_on_change(struct eagle_checker *c, eagle_checker_change_cb cb, void *ud);

/* Every target's result, in the order of the last set_targets(), into a new
 * array *out that the caller frees with free(); returns the count. */
size_t eagle_checker_snapshot(struct eagle_checker *c, struct eagle_health_result **out);

/* One target's result into *out: 0, or -1 when no target has that id. */
int eagle_checker_get(struct eagle_checker *c, const char *id, struct eagle_health_result *out);

void eagle_checker_stats(struct eagle_checker *c, struct eagle_checker_stats *out);

/* "unknown", "healthy", "unhealthy" (the names the catalog and the API use). */
const char *eagle_health_state_name(enum eagle_health_state s);

#endif
