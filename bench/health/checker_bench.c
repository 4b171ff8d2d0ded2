/*
 * checker_bench.c — load for the health checker: N targets checked every
 * interval against a tiny epoll server in a child process that listens on P
 * ports of 127.0.0.1 chosen by the kernel (target i uses the (i % P)-th),
 * optionally inside its own network namespace (the checker then makes its
 * sockets there with setns, as it does for tasks). Prints one Markdown row:
 *
 *   | type | netns | N | checks/s | failed | CPU % | /proc CPU % | µs CPU/check | p50 | p99 | max |
 *   runq wait % | server CPU % | TIME_WAIT |
 *
 * "runq wait" is the share of the time the checker thread was runnable but
 * waiting for a CPU (schedstat): on a shared machine, the latency columns
 * mean little when it is high.
 *
 * CPU is the checker thread's alone (pthread_getcpuclockid via
 * eagle_checker_stats, cross-checked against /proc/self/task/<tid>/stat),
 * as a percentage of one core over the measured window. Latency is each
 * check's own (socket creation to verdict), sampled from snapshots taken once
 * a second: every target whose check count moved contributes its last one.
 *
 *   checker_bench [--type tcp|http] [--targets N] [--ports P] [--seconds S]
 *                 [--interval-ms I] [--netns] [--body TEXT] [--floor]
 *
 * --floor measures the same checks done one by one with blocking sockets
 * (see floor_us) instead of running the checker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health/checker.h"

static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

static void die(const char *what)
{
    fprintf(stderr, "checker_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void raise_nofile(void)
{
    struct rlimit rl = {.rlim_cur = 1 << 20, .rlim_max = 1 << 20};

    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void lo_up(void)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die("SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die("SIOCSIFFLAGS lo");
    close(s);
}

/* Read the request and answer it, closing the connection: 1, or 0 when nothing has arrived yet. */
static int answer(int fd)
{
    char buf[2048];
    ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (r < 0 && errno == EAGAIN)
        return 0;
    if (r > 0 && send(fd, response, sizeof(response) - 1, MSG_NOSIGNAL) < 0) {
        /* the checker gave up first */
    }
    close(fd);
    return 1;
}

/* The server: accept on every port; TCP closes at once, HTTP answers 200 and closes. */
static void serve(int nports, int http, int netns, int ready)
{
    struct epoll_event ev, evs[512];
    int ep;

    if (netns) {
        if (unshare(CLONE_NEWNET) < 0)
            die("unshare");
        lo_up();
    }
    ep = epoll_create1(0);
    for (int i = 0; i < nports; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        uint16_t port;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
            die("listen");
        port = ntohs(a.sin_port);
        if (write(ready, &port, sizeof(port)) != sizeof(port))
            die("ready");
        ev.events = EPOLLIN;
        ev.data.u64 = (uint64_t)1 << 32 | (uint32_t)fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    close(ready);
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);

        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)evs[i].data.u64;

            if (evs[i].data.u64 >> 32) {
                int cfd;

                while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (!http) {
                        close(cfd);
                        continue;
                    }
                    /* The request is usually there already: answer without epoll. */
                    if (answer(cfd))
                        continue;
                    ev.events = EPOLLIN | EPOLLRDHUP;
                    ev.data.u64 = (uint32_t)cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
                }
                continue;
            }
            answer(fd);
        }
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of a task (/proc/<pid>/task/<tid>/stat), in seconds. */
static double proc_cpu(int pid, int tid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = 0;
    fclose(f);
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Nanoseconds a task has spent waiting for a CPU while runnable
 * (/proc/<pid>/task/<tid>/schedstat, second field). */
static double runq_wait_s(int pid, int tid)
{
    char path[64];
    unsigned long long run = 0, wait = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &run, &wait) != 2)
        wait = 0;
    fclose(f);
    return (double)wait / 1e9;
}

/* Sockets in TIME_WAIT (state 06) to or from the server's ports, in the
 * namespace of process `pid` (other programs on the machine are not counted). */
static long time_wait(int pid, const unsigned char *ours)
{
    char path[64], line[512];
    long n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/net/tcp", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned lport, rport;
        char st[8];

        if (sscanf(line, "%*s %*x:%x %*x:%x %7s", &lport, &rport, st) == 3 && !strcmp(st, "06") &&
            lport < 65536 && rport < 65536 && (ours[lport] || ours[rport]))
            n++;
    }
    fclose(f);
    return n;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The floor: the same checks done the plainest way, one at a time with
 * blocking sockets on this thread, at the same rate, without the checker.
 * Returns this thread's CPU µs per check — what the kernel's TCP (both ends
 * of the handshake run in the connecting thread over loopback) costs anyway.
 */
static double floor_us(const uint16_t *ports, int nports, int n, int http, int seconds)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    int64_t cpu0 = thread_cpu_ns();
    double start = now_s();
    long done = 0;

    for (int sec = 0; sec < seconds; sec++) {
        for (int i = 0; i < n; i++) {
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ports[i % nports])};
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            char buf[256];

            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && http &&
                send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
                fprintf(stderr, "checker_bench: floor: no answer\n");
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            close(fd);
            done++;
            /* pace to n a second */
            double ahead = start + (double)done / n - now_s();
            if (ahead > 0.002)
                usleep((useconds_t)(ahead * 1e6));
        }
    }
    return (double)(thread_cpu_ns() - cpu0) / 1e3 / (double)done;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void fmt_us(char *buf, size_t n, int64_t us)
{
    if (us < 1000)
        snprintf(buf, n, "%lld µs", (long long)us);
    else
        snprintf(buf, n, "%.1f ms", us / 1000.0);
}

int main(int argc, char **argv)
{
    const char *type = "tcp", *body = NULL;
    int n = 1000, nports = 1000, seconds = 20, interval = 1000, netns = 0, floor_only = 0;
    static unsigned char ours[65536];
    uint16_t *ports;
    int ready[2], tid;
    struct eagle_health_target *t;
    struct eagle_health_result *all;
    struct eagle_checker_stats s0, s1;
    struct eagle_err err = {0};
    char nspath[64], (*ids)[16], p50[32], p99[32], pmax[32];
    uint64_t *prev;
    int64_t *lat;
    size_t nlat = 0, cap;
    double t0, t1, c0, c1, srv0, srv1, w0, w1;
    pid_t pid;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--type") && i + 1 < argc)
            type = argv[++i];
        else if (!strcmp(argv[i], "--targets") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ports") && i + 1 < argc)
            nports = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
            interval = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--body") && i + 1 < argc)
            body = argv[++i];
        else if (!strcmp(argv[i], "--netns"))
            netns = 1;
        else if (!strcmp(argv[i], "--floor"))
            floor_only = 1;
        else {
            fprintf(stderr,
                    "usage: %s [--type tcp|http] [--targets N] [--ports P] [--seconds S] "
                    "[--interval-ms I] [--netns] [--body TEXT] [--floor]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < 1 || n > EAGLE_CHECKER_MAX_TARGETS || nports < 1 || seconds < 1 || interval < 100) {
        fprintf(stderr, "checker_bench: bad arguments\n");
        return 2;
    }
    if (nports > n)
        nports = n;
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    if (pipe(ready) < 0)
        die("pipe");
    pid = fork();
    if (pid == 0) {
        close(ready[0]);
        serve(nports, !strcmp(type, "http"), netns, ready[1]);
        _exit(0);
    }
    close(ready[1]);
    ports = calloc((size_t)nports, sizeof(*ports));
    for (int i = 0; i < nports; i++) {
        if (read(ready[0], &ports[i], sizeof(ports[i])) != sizeof(ports[i])) {
            fprintf(stderr, "checker_bench: the server did not start\n");
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 1;
        }
        ours[ports[i]] = 1;
    }
    close(ready[0]);
    snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)pid);
    if (floor_only) {
        double us;

        if (netns && setns(open(nspath, O_RDONLY | O_CLOEXEC), CLONE_NEWNET) < 0)
            die("setns");
        us = floor_us(ports, nports, n, !strcmp(type, "http"), seconds);
        printf("floor %s%s N=%d: %.0f µs CPU per check\n", type, netns ? " (in the netns)" : "", n, us);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 0;
    }

    t = calloc((size_t)n, sizeof(*t));
    ids = calloc((size_t)n, sizeof(*ids));
    prev = calloc((size_t)n, sizeof(*prev));
    cap = (size_t)n * (size_t)(seconds + 2) * 2;
    lat = malloc(cap * sizeof(*lat));
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "task%d", i);
        t[i].id = ids[i];
        t[i].address = "127.0.0.1";
        t[i].port = ports[i % nports];
        t[i].netns_path = netns ? nspath : NULL;
        t[i].check.type = strcmp(type, "http") ? EAGLE_CHECK_TCP : EAGLE_CHECK_HTTP;
        t[i].check.interval_ms = interval;
        t[i].check.timeout_ms = 2000;
        t[i].check.path = "/health";
        t[i].check.body_contains = body;
    }

    struct eagle_checker *c = eagle_checker_new();
    if (eagle_checker_set_targets(c, t, (size_t)n, &err) < 0 || eagle_checker_start(c, &err) < 0) {
        fprintf(stderr, "checker_bench: %s\n", err.msg);
        return 1;
    }
    /* The first checks are spread over the first interval; measure after it. */
    usleep((useconds_t)(interval + 1000) * 1000);
    size_t m = eagle_checker_snapshot(c, &all);
    for (size_t i = 0; i < m; i++)
        prev[i] = all[i].checks;
    free(all);
    eagle_checker_stats(c, &s0);
    tid = s0.thread_tid;
    t0 = now_s();
    c0 = proc_cpu(getpid(), tid);
    srv0 = proc_cpu(pid, pid);
    w0 = runq_wait_s(getpid(), tid);
    for (int sec = 0; sec < seconds; sec++) {
        usleep(1000000);
        m = eagle_checker_snapshot(c, &all);
        for (size_t i = 0; i < m; i++) {
            if (all[i].checks != prev[i] && nlat < cap)
                lat[nlat++] = all[i].latency_us;
            prev[i] = all[i].checks;
        }
        free(all);
        if (getenv("BENCH_DEBUG")) {
            struct eagle_checker_stats sx;
            eagle_checker_stats(c, &sx);
            fprintf(stderr, "  t=%d in_flight=%zu checks=%llu failed=%llu\n", sec, sx.in_flight,
                    (unsigned long long)sx.checks, (unsigned long long)sx.failed);
        }
    }
    eagle_checker_stats(c, &s1);
    t1 = now_s();
    c1 = proc_cpu(getpid(), tid);
    srv1 = proc_cpu(pid, pid);
    w1 = runq_wait_s(getpid(), tid);
    long tw_checker = time_wait(getpid(), ours), tw_server = time_wait(pid, ours);

    eagle_checker_free(c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    qsort(lat, nlat, sizeof(*lat), cmp_i64);
    fmt_us(p50, sizeof(p50), nlat ? lat[nlat / 2] : 0);
    fmt_us(p99, sizeof(p99), nlat ? lat[nlat * 99 / 100] : 0);
    fmt_us(pmax, sizeof(pmax), nlat ? lat[nlat - 1] : 0);
    double dt = t1 - t0;
    char tw[48];

    if (netns)
        snprintf(tw, sizeof(tw), "%ld here, %ld in the netns", tw_checker, tw_server);
    else
        snprintf(tw, sizeof(tw), "%ld", tw_checker);
    double cpu_ns = (double)(s1.thread_cpu_ns - s0.thread_cpu_ns);
    uint64_t checks = s1.checks - s0.checks;

    printf("| %s%s | %s | %d | %.0f | %llu | %.1f | %.1f | %.0f | %s | %s | %s | %.0f | %.0f | %s |\n", type,
           body ? "+body" : "", netns ? "yes" : "no", n, (double)checks / dt,
           (unsigned long long)(s1.failed - s0.failed), cpu_ns / 1e9 / dt * 100, (c1 - c0) / dt * 100,
           checks ? cpu_ns / 1e3 / (double)checks : 0.0, p50, p99, pmax, (w1 - w0) / dt * 100,
           (srv1 - srv0) / dt * 100, tw);
    fprintf(stderr, "  (%zu latency samples over %.1f s, %d server ports)\n", nlat, dt, nports);
    free(t);
    free(ports);
    free(ids);
    free(prev);
    free(lat);
    return 0;
}
