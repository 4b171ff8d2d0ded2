/*
 * agent.c — eagle-agent: Eagle's helper on every node of a cluster but the one
 * eagled checks itself (DESIGN.md). Each node runs it as a Swarm service of
 * its own that eagled starts (PUT /v1/clusters/{name}/agent) and:
 *
 *   - asks eagled, once a second and at once after a health change, which
 *     tasks of its node to check and how (POST /v1/agent/sync, with the node's
 *     own token from its Swarm secret), sending back every target's result;
 *   - checks them with the same checker eagled uses, inside each task's
 *     network namespace (the container's PID from the node's own engine, its
 *     namespace under the host's /proc mounted into the agent), so no port is
 *     published;
 *   - kills the containers eagled names (a task unhealthy past its threshold),
 *     so Swarm replaces them, and reports what it did.
 *
 * The agent holds no state worth keeping: after a restart of either side the
 * next sync rebuilds everything. While eagled cannot be reached it keeps
 * checking its last targets and retries with a growing delay (up to 10 s).
 *
 * Options (flag, then environment variable, then default):
 *   --url URL          EAGLE_AGENT_URL          eagled's address (required)
 *   --cluster NAME     EAGLE_AGENT_CLUSTER      the cluster's name in Eagle (required)
 *   --token-file PATH  EAGLE_AGENT_TOKEN_FILE   [/run/secrets/eagle-agent-token]
 *   --engine ENDPOINT  EAGLE_AGENT_ENGINE       [unix:///var/run/docker.sock]
 *   --proc PATH        EAGLE_AGENT_PROC         [/proc] the host's /proc
 *   --log-level LEVEL  EAGLE_AGENT_LOG_LEVEL    [info]
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "health/checker.h"
#include "health/wire.h"

#define SYNC_TIMEOUT_MS 10000
#define MAX_BACKOFF_MS 10000
#define MIN_GAP_MS 100 /* between two syncs a change triggers */
#define MAX_ANSWER (16 * 1024 * 1024)

struct agent {
    char *url, *cluster, *token, *engine_ep, *proc;
    struct eagle_engine *engine;
    struct eagle_checker *checker;
    CURL *curl;
    char node[128], hostname[256];
    int64_t interval_ms;
    json_t *pids;   /* container id → its PID on this node */
    json_t *killed; /* reports for the next sync: [{"task", "container", "error"?}] */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int changed; /* a target's state changed since the last sync */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void on_change(const struct eagle_health_result *r, enum eagle_health_state old, void *ud)
{
    struct agent *a = ud;
    log_info("agent", "task %.12s: %s -> %s (%s)", r->id, eagle_health_state_name(old),
             eagle_health_state_name(r->state), r->reason);
    pthread_mutex_lock(&a->lock);
    a->changed = 1;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

/* A container id as the engine prints it: 12 to 64 lower-case hex digits. */
static int valid_container_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 12 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The PID of a running container on this node, cached; 0 when it does not run here. */
static int64_t container_pid(struct agent *a, const char *id)
{
    json_t *c = NULL, *cached = json_object_get(a->pids, id);
    struct eagle_err err;
    char path[128];
    int64_t pid = 0;

    if (cached)
        return json_integer_value(cached);
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    if (eagle_engine_call(a->engine, "GET", path, NULL, &c, &err) < 0) {
        if (err.status != 404)
            log_warn("agent", "cannot inspect container %.12s: %s", id, err.msg);
        return 0; /* not cached: asked again next time */
    }
    json_t *state = json_object_get(c, "State");
    if (json_is_true(json_object_get(state, "Running")))
        pid = json_integer_value(json_object_get(state, "Pid"));
    json_decref(c);
    if (pid > 0)
        json_object_set_new(a->pids, id, json_integer(pid));
    return pid;
}

/* Hand the checker the targets eagled sent. */
static void apply_targets(struct agent *a, const json_t *targets)
{
    size_t n = json_array_size(targets), k = 0, i;
    struct eagle_health_target *t = xcalloc(n ? n : 1, sizeof(*t));
    char **netns = xcalloc(n ? n : 1, sizeof(*netns));
    json_t *pids = json_object(), *x;
    struct eagle_err err;

    json_array_foreach(targets, i, x)
    {
        const char *task = json_string_value(json_object_get(x, "task"));
        const char *container = json_string_value(json_object_get(x, "container"));
        char field[64];
        uint16_t port;
        snprintf(field, sizeof(field), "targets[%zu].check", i);
        if (!task || strlen(task) >= EAGLE_HEALTH_ID_MAX || !valid_container_id(container)) {
            log_warn("agent", "eagled sent a target without a valid task or container id (targets[%zu])", i);
            continue;
        }
        if (eagle_health_check_from_json(json_object_get(x, "check"), field, &t[k].check, &port, &err) < 0) {
            log_warn("agent", "eagled sent a bad check for task %.12s: %s", task, err.msg);
            continue;
        }
        int64_t pid = container_pid(a, container);
        if (pid <= 0)
            continue; /* not (yet) running here */
        json_object_set_new(pids, container, json_integer(pid));
        netns[k] = xasprintf("%s/%lld/ns/net", a->proc, (long long)pid);
        t[k].id = task;
        t[k].netns_path = netns[k];
        t[k].address = "127.0.0.1";
        t[k].port = port;
        k++;
    }
    if (eagle_checker_set_targets(a->checker, t, k, &err) < 0)
        log_warn("agent", "cannot set %zu targets: %s (field %s)", k, err.msg, err.field);
    json_decref(a->pids); /* forget containers no target names any more */
    a->pids = pids;
    for (i = 0; i < k; i++)
        free(netns[i]);
    free(netns);
    free(t);
}

/* Kill what eagled asks to replace; remember the outcome for the next sync. */
static void apply_kills(struct agent *a, const json_t *kills)
{
    size_t i;
    json_t *x;

    json_array_foreach(kills, i, x)
    {
        const char *task = json_string_value(json_object_get(x, "task"));
        const char *container = json_string_value(json_object_get(x, "container"));
        struct eagle_err err;
        char path[128];
        if (!task || !valid_container_id(container))
            continue;
        snprintf(path, sizeof(path), "/containers/%s/kill", container);
        json_t *rep = json_pack("{s:s, s:s}", "task", task, "container", container);
        if (eagle_engine_call(a->engine, "POST", path, NULL, NULL, &err) == 0) {
            log_info("agent", "killed container %.12s of task %.12s: eagled found it unhealthy", container,
                     task);
        } else if (err.status == 404 || err.status == 409) {
            json_object_set_new(rep, "error", json_string("not running")); /* already gone: nothing to do */
        } else {
            log_warn("agent", "cannot kill container %.12s: %s", container, err.msg);
            json_object_set_new(rep, "error", json_string(err.msg));
        }
        json_array_append_new(a->killed, rep);
    }
}

/* One exchange with eagled: 0, or -1 after logging why. */
static int sync_once(struct agent *a)
{
    struct eagle_health_result *res = NULL;
    size_t n = eagle_checker_snapshot(a->checker, &res), i;
    json_t *results = json_array(), *answer = NULL;
    struct eagle_buf body = {.max = MAX_ANSWER};
    struct curl_slist *hdr = NULL;
    char *url = xasprintf("%s/v1/agent/sync", a->url),
         *auth = xasprintf("Authorization: Bearer %s", a->token);
    long status = 0;
    int rc = -1;

    for (i = 0; i < n; i++)
        json_array_append_new(results, eagle_health_result_to_json(&res[i]));
    free(res);
    json_t *req =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:O}", "cluster", a->cluster, "node", a->node, "hostname",
                  a->hostname, "version", EAGLE_VERSION, "results", results, "killed", a->killed);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);

    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, auth);
    curl_easy_reset(a->curl);
    curl_easy_setopt(a->curl, CURLOPT_URL, url);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, (long)SYNC_TIMEOUT_MS);
    curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, eagle_buf_write);
    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &body);
    CURLcode cc = curl_easy_perform(a->curl);
    curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        log_warn("agent", "cannot reach eagled at %s: %s", a->url, curl_easy_strerror(cc));
        goto out;
    }
    answer = body.data ? json_loads(body.data, 0, NULL) : NULL;
    if (status != 200) {
        const char *msg = json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
        log_warn("agent", "eagled refused the sync (HTTP %ld): %s", status, msg ? msg : "no reason given");
        goto out;
    }
    if (!json_is_object(answer)) {
        log_warn("agent", "eagled answered the sync with something that is not a JSON object");
        goto out;
    }
    json_array_clear(a->killed); /* delivered */
    int64_t iv = json_integer_value(json_object_get(answer, "interval_ms"));
    if (iv >= 100 && iv <= 60000)
        a->interval_ms = iv;
    apply_targets(a, json_object_get(answer, "targets"));
    apply_kills(a, json_object_get(answer, "kill"));
    rc = 0;
out:
    json_decref(answer);
    eagle_buf_release(&body);
    free(text);
    free(url);
    free(auth);
    curl_slist_free_all(hdr);
    return rc;
}

static char *opt_or_env(const char *opt, const char *env, const char *def)
{
    const char *v = opt ? opt : getenv(env);
    return xstrdup(v && *v ? v : def);
}

static char *read_token(const char *path)
{
    char buf[256];
    FILE *f = fopen(path, "re");
    size_t n;
    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = 0;
    return n ? xstrdup(buf) : NULL;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: eagle-agent --url URL --cluster NAME [--token-file PATH] [--engine ENDPOINT] [--proc PATH]\n"
        "                   [--log-level debug|info|warn|error]\n"
        "Eagle's node agent: checks the health of this node's tasks for eagled (see docs/operations.md).\n"
        "Each option may also come from EAGLE_AGENT_URL, _CLUSTER, _TOKEN_FILE, _ENGINE, _PROC, "
        "_LOG_LEVEL.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},    {"cluster", 1, 0, 'c'}, {"token-file", 1, 0, 't'},
        {"engine", 1, 0, 'e'}, {"proc", 1, 0, 'p'},    {"log-level", 1, 0, 'l'},
        {"help", 0, 0, 'h'},   {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
    const char *o_url = NULL, *o_cluster = NULL, *o_token = NULL, *o_engine = NULL, *o_proc = NULL,
               *o_level = NULL;
    struct agent a = {
        .interval_ms = 1000, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct eagle_err err = {0};
    json_t *info = NULL;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o_url = optarg;
            break;
        case 'c':
            o_cluster = optarg;
            break;
        case 't':
            o_token = optarg;
            break;
        case 'e':
            o_engine = optarg;
            break;
        case 'p':
            o_proc = optarg;
            break;
        case 'l':
            o_level = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("eagle-agent %s\n", EAGLE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    char *level = opt_or_env(o_level, "EAGLE_AGENT_LOG_LEVEL", "info");
    char *token_file = opt_or_env(o_token, "EAGLE_AGENT_TOKEN_FILE", "/run/secrets/eagle-agent-token");
    a.url = opt_or_env(o_url, "EAGLE_AGENT_URL", "");
    a.cluster = opt_or_env(o_cluster, "EAGLE_AGENT_CLUSTER", "");
    a.engine_ep = opt_or_env(o_engine, "EAGLE_AGENT_ENGINE", "unix:///var/run/docker.sock");
    a.proc = opt_or_env(o_proc, "EAGLE_AGENT_PROC", "/proc");
    if (eagle_log_parse_level(level) < 0) {
        fprintf(stderr, "eagle-agent: log level '%s' must be debug, info, warn or error\n", level);
        rc = 2;
        goto out;
    }
    eagle_log_min = (enum eagle_log_level)eagle_log_parse_level(level);
    if (!*a.url || (strncmp(a.url, "http://", 7) != 0 && strncmp(a.url, "https://", 8) != 0) || !*a.cluster) {
        fprintf(stderr, "eagle-agent: --url (http:// or https://) and --cluster are required\n");
        usage(stderr);
        rc = 2;
        goto out;
    }
    while (strlen(a.url) > 8 && a.url[strlen(a.url) - 1] == '/')
        a.url[strlen(a.url) - 1] = 0;
    if (!(a.token = read_token(token_file))) {
        fprintf(stderr, "eagle-agent: cannot read the token from '%s': %s\n", token_file,
                errno ? strerror(errno) : "empty file");
        rc = 2;
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (eagle_engine_global_init(&err) < 0 ||
        !(a.engine = eagle_engine_new(a.engine_ep, NULL, 10000, &err))) {
        log_error("agent", "engine %s: %s", a.engine_ep, err.msg);
        goto out;
    }
    /* The node's id: the swarm may take a moment after the engine starts. */
    while (!stopping) {
        const char *id = NULL;
        if (eagle_engine_info(a.engine, &info, &err) == 0) {
            id = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
            snprintf(a.hostname, sizeof(a.hostname), "%s",
                     json_string_value(json_object_get(info, "Name")) ?: "");
        }
        if (id && *id) {
            snprintf(a.node, sizeof(a.node), "%s", id);
            break;
        }
        log_warn("agent", "engine %s: %s", a.engine_ep, id ? "not part of a swarm yet" : err.msg);
        json_decref(info);
        info = NULL;
        sleep(2);
    }
    a.pids = json_object();
    a.killed = json_array();
    a.curl = curl_easy_init();
    a.checker = eagle_checker_new();
    eagle_checker_on_change(a.checker, on_change, &a);
    if (stopping || !a.curl || eagle_checker_start(a.checker, &err) < 0) {
        if (!stopping)
            log_error("agent", "cannot start the checker: %s", err.msg);
        goto out;
    }
    log_info("agent", "eagle-agent %s on node %s (%s) for cluster '%s' of %s", EAGLE_VERSION, a.node,
             a.hostname, a.cluster, a.url);

    int64_t backoff = 0, next = 0, last = 0;
    while (!stopping) {
        int64_t now = eagle_now_ms();
        pthread_mutex_lock(&a.lock);
        int due = now >= next || (a.changed && backoff == 0 && now - last >= MIN_GAP_MS);
        if (due)
            a.changed = 0;
        pthread_mutex_unlock(&a.lock);
        if (due) {
            last = now;
            if (sync_once(&a) == 0)
                backoff = 0;
            else
                backoff = backoff ? (backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2) : 500;
            next = eagle_now_ms() + (backoff ? backoff : a.interval_ms);
        }
        /* sleep until the next sync, a change, or a signal (checked every 100 ms) */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&a.lock);
        if (!(a.changed && backoff == 0 && eagle_now_ms() - last >= MIN_GAP_MS))
            pthread_cond_timedwait(&a.cond, &a.lock, &until);
        pthread_mutex_unlock(&a.lock);
    }
    log_info("agent", "stopping");
    rc = 0;
out:
    eagle_checker_free(a.checker);
    if (a.curl)
        curl_easy_cleanup(a.curl);
    eagle_engine_free(a.engine);
    json_decref(info);
    json_decref(a.pids);
    json_decref(a.killed);
    free(a.url);
    free(a.cluster);
    free(a.token);
    free(a.engine_ep);
    free(a.proc);
    free(level);
    free(token_file);
    return rc;
}
