/*
 * health.c — see health.h.
 *
 * Once a second: read the running tasks of every cluster (one filtered /tasks
 * call each), keep those whose service (or canary group) has a health_check,
 * hand the checker those on eagled's own node (it keeps the state of
 * unchanged targets) and set aside the others per node for that node's agent.
 * The checker's change callback and the agents' syncs only queue changes;
 * this thread applies them (catalog, events, replacing) and does the I/O.
 */
#include "controllers/health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "controllers/context.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "events/events.h"
#include "health/checker.h"
#include "health/wire.h"
#include "model/spec.h"
#include "store/releases.h"
#include "store/store.h"

#define PASS_MS 1000

static struct {
    pthread_t tid;
    pthread_mutex_t lock; /* guards everything below but tasks */
    pthread_cond_t cond;
    int stop, running;
    char *data_dir;
    struct eagle_checker *checker;
    json_t *changes; /* queued for this thread: [{"task", "health", "reason"}] or [{"task", "replaced": true,
                        ...}] */
    json_t *tasks; /* task id → {"service", "tenant", "cluster", "container", "node", "remote"}; this thread
                      only */
    json_t *local_nodes;    /* cluster → eagled's node there (unix-socket clusters) */
    json_t *remote_targets; /* "cluster/node" → [{"task", "container", "check"}], made by each pass */
    json_t *remote_ids;     /* "cluster/node" → {task id: true}, the same tasks */
    json_t *agents; /* "cluster/node" → {"cluster", "node", "hostname", "version", "seen_ms", "health": {task:
                       state}, "kill": {task: {"container", "reason"}}} */
} hc = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* Queue a change for this thread; hc.lock held. */
static void queue_change(const char *task, const char *health, const char *reason)
{
    json_array_append_new(hc.changes,
                          json_pack("{s:s, s:s, s:s}", "task", task, "health", health, "reason", reason));
    pthread_cond_broadcast(&hc.cond);
}

static void on_change(const struct eagle_health_result *r, enum eagle_health_state old, void *ud)
{
    pthread_mutex_lock(&hc.lock);
    queue_change(r->id, eagle_health_state_name(r->state), r->reason);
    pthread_mutex_unlock(&hc.lock);
}

/* name → parsed spec for every service (and canary group) with a health_check. */
static json_t *checked_specs(struct eagle_store *st)
{
    json_t *out = json_object(), *rows = NULL, *r;
    struct eagle_err err;
    size_t i;

    if (eagle_store_service_list(st, NULL, NULL, &rows, &err) == 0) {
        json_array_foreach(rows, i, r)
        {
            const char *spec = json_string_value(json_object_get(r, "spec"));
            if (spec && strstr(spec, "\"health_check\":{"))
                json_object_set_new(out, json_string_value(json_object_get(r, "name")), json_string(spec));
        }
        json_decref(rows);
    }
    if (eagle_store_release_active(st, &rows, &err) == 0) { /* canary groups run the release's spec */
        json_array_foreach(rows, i, r)
        {
            const char *spec = json_string_value(json_object_get(r, "spec"));
            if (spec && strstr(spec, "\"health_check\":{")) {
                char key[128];
                snprintf(key, sizeof(key), "%s/canary", json_string_value(json_object_get(r, "service")));
                json_object_set_new(out, key, json_string(spec));
            }
        }
        json_decref(rows);
    }
    return out;
}

struct target_list {
    struct eagle_health_target *t;
    char **netns;
    size_t n, cap;
};

static void add_local(struct target_list *l, const char *tid, const struct eagle_spec *spec, int64_t pid)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->t = xrealloc(l->t, l->cap * sizeof(*l->t));
        l->netns = xrealloc(l->netns, l->cap * sizeof(*l->netns));
    }
    struct eagle_health_target *t = &l->t[l->n];
    uint16_t port;
    memset(t, 0, sizeof(*t));
    eagle_health_check_of_spec(&spec->health_check, &t->check, &port);
    /* the strings must outlive set_targets: copy what points into `spec` */
    t->check.path = xstrdup(t->check.path);
    t->check.host = xstrdup(t->check.host);
    t->check.body_contains = xstrdup(t->check.body_contains);
    t->check.method = xstrdup(t->check.method);
    t->id = xstrdup(tid);
    t->address = "127.0.0.1";
    t->port = port;
    l->netns[l->n] = xasprintf("/proc/%lld/ns/net", (long long)pid);
    t->netns_path = l->netns[l->n];
    l->n++;
}

static void free_targets(struct target_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->t[i].id);
        free((char *)l->t[i].check.path);
        free((char *)l->t[i].check.host);
        free((char *)l->t[i].check.body_contains);
        free((char *)l->t[i].check.method);
        free(l->netns[i]);
    }
    free(l->t);
    free(l->netns);
}

static void add_remote(json_t *targets, json_t *ids, const char *key, const char *tid, const char *container,
                       const struct eagle_spec *spec)
{
    struct eagle_health_check check;
    uint16_t port;
    json_t *list = json_object_get(targets, key), *set = json_object_get(ids, key);
    if (!list) {
        json_object_set_new(targets, key, list = json_array());
        json_object_set_new(ids, key, set = json_object());
    }
    eagle_health_check_of_spec(&spec->health_check, &check, &port);
    json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "task", tid, "container", container, "check",
                                          eagle_health_check_to_json(&check, port)));
    json_object_set_new(set, tid, json_true());
}

/* Agents silent for too long: their tasks' health is not known any more. hc.lock held. */
static void expire_agents(int64_t now)
{
    const char *key;
    json_t *a;
    json_object_foreach(hc.agents, key, a)
    {
        int64_t seen = json_integer_value(json_object_get(a, "seen_ms"));
        json_t *health = json_object_get(a, "health"), *v;
        const char *task;
        if (now - seen <= EAGLE_AGENT_STALE_MS || json_object_size(health) == 0)
            continue;
        char reason[EAGLE_HEALTH_REASON_MAX];
        snprintf(reason, sizeof(reason), "eagle-agent on node %.40s silent for %llds",
                 json_string_value(json_object_get(a, "hostname")) ?: "?", (long long)((now - seen) / 1000));
        json_object_foreach(health, task, v) if (strcmp(json_string_value(v), "unknown") != 0)
            queue_change(task, "unknown", reason);
        json_object_clear(health);
        log_warn("health", "%s", reason);
    }
}

static void pass(struct eagle_worker *w)
{
    struct eagle_err err;
    json_t *clusters = NULL, *c, *specs = checked_specs(w->store), *tasks_seen = json_object();
    json_t *local_nodes = json_object(), *targets = json_object(), *ids = json_object();
    struct target_list local = {0};
    size_t i;

    if (json_object_size(specs) == 0)
        goto apply;
    if (eagle_store_cluster_list(w->store, &clusters, &err) < 0)
        goto apply;
    json_array_foreach(clusters, i, c)
    {
        const char *endpoint = json_string_value(json_object_get(c, "endpoint"));
        const char *cname = json_string_value(json_object_get(c, "name"));
        json_t *info = NULL, *tasks = NULL, *t;
        size_t j;
        int unix_socket = endpoint && strncmp(endpoint, "unix://", 7) == 0;
        struct eagle_engine *eng = eagle_worker_engine(w, c, &err);
        if (!eng || eagle_engine_info(eng, &info, &err) < 0)
            continue;
        const char *node = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
        if (!node ||
            eagle_engine_call(eng, "GET", "/tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D",
                              NULL, &tasks, &err) < 0) {
            json_decref(info);
            continue;
        }
        if (unix_socket)
            json_object_set_new(local_nodes, cname, json_string(node));
        json_array_foreach(tasks, j, t)
        {
            json_t *status = json_object_get(t, "Status"), *cs = json_object_get(status, "ContainerStatus");
            json_t *labels =
                json_object_get(json_object_get(json_object_get(t, "Spec"), "ContainerSpec"), "Labels");
            const char *state = json_string_value(json_object_get(status, "State"));
            const char *svc = json_string_value(json_object_get(labels, "eagle.service"));
            const char *canary_of = json_string_value(json_object_get(labels, "eagle.canary-of"));
            const char *tid = json_string_value(json_object_get(t, "ID"));
            const char *tnode = json_string_value(json_object_get(t, "NodeID"));
            const char *container = json_string_value(json_object_get(cs, "ContainerID"));
            int64_t pid = json_integer_value(json_object_get(cs, "PID"));
            int here = unix_socket && tnode && strcmp(tnode, node) == 0;
            char key[128];
            if (!tid || !tnode || !state || strcmp(state, "running") != 0 || !container || (here && pid <= 0))
                continue;
            if (canary_of) /* a canary task runs its release's spec */
                snprintf(key, sizeof(key), "%s/canary", canary_of);
            else if (svc)
                snprintf(key, sizeof(key), "%s", svc);
            else
                continue;
            if (!svc)
                svc = canary_of;
            const char *spec_text = json_string_value(json_object_get(specs, key));
            if (!spec_text)
                continue;
            json_t *specj = json_loads(spec_text, 0, NULL);
            struct eagle_spec spec;
            struct eagle_err e2;
            if (specj && eagle_spec_from_json(specj, &spec, &e2) == 0) {
                if (here) {
                    add_local(&local, tid, &spec, pid);
                } else {
                    snprintf(key, sizeof(key), "%s/%s", cname, tnode);
                    add_remote(targets, ids, key, tid, container, &spec);
                }
                json_object_set_new(tasks_seen, tid,
                                    json_pack("{s:s, s:O?, s:s, s:s, s:s, s:b}", "service", svc, "tenant",
                                              json_object_get(labels, "eagle.tenant"), "cluster", cname,
                                              "container", container, "node", tnode, "remote", !here));
                eagle_spec_release(&spec);
            }
            json_decref(specj);
        }
        json_decref(tasks);
        json_decref(info);
    }
apply:
    if (eagle_checker_set_targets(hc.checker, local.t, local.n, &err) < 0)
        log_warn("health", "cannot set %zu targets: %s", local.n, err.msg);
    free_targets(&local);
    json_decref(hc.tasks);
    hc.tasks = tasks_seen;
    pthread_mutex_lock(&hc.lock);
    json_decref(hc.local_nodes);
    json_decref(hc.remote_targets);
    json_decref(hc.remote_ids);
    hc.local_nodes = local_nodes;
    hc.remote_targets = targets;
    hc.remote_ids = ids;
    expire_agents(eagle_now_ms());
    pthread_mutex_unlock(&hc.lock);
    json_decref(specs);
    json_decref(clusters);
}

/* The agent entry of cluster/node, made when missing; hc.lock held. */
static json_t *agent_entry(const char *cluster, const char *node)
{
    char key[256];
    snprintf(key, sizeof(key), "%s/%s", cluster, node);
    json_t *a = json_object_get(hc.agents, key);
    if (!a) {
        a = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "cluster", cluster, "node", node, "hostname", "",
                      "version", "", "seen_ms", (json_int_t)0, "health", json_object(), "kill",
                      json_object());
        json_object_set_new(hc.agents, key, a);
    }
    return a;
}

/* Replace an unhealthy task: kill its container (Swarm starts another task),
 * here or through the agent of its node. */
static void replace(struct eagle_worker *w, const char *task, json_t *info, const char *reason,
                    json_t *events)
{
    const char *container = json_string_value(json_object_get(info, "container"));
    const char *cname = json_string_value(json_object_get(info, "cluster"));
    struct eagle_err err;

    if (!container || !cname)
        return;
    if (json_is_true(json_object_get(info, "remote"))) {
        pthread_mutex_lock(&hc.lock);
        json_t *a = agent_entry(cname, json_string_value(json_object_get(info, "node")));
        json_object_set_new(json_object_get(a, "kill"), task,
                            json_pack("{s:s, s:s, s:O?, s:O?}", "container", container, "reason", reason,
                                      "service", json_object_get(info, "service"), "tenant",
                                      json_object_get(info, "tenant")));
        pthread_mutex_unlock(&hc.lock);
        log_info("health", "task %.12s of '%s' is unhealthy (%s): asking the agent of its node to replace it",
                 task, json_string_value(json_object_get(info, "service")), reason);
        return; /* the "replaced" event comes with the agent's report */
    }
    json_t *cluster = NULL;
    if (eagle_store_cluster_get(w->store, cname, &cluster, &err) == 0) {
        struct eagle_engine *eng = eagle_worker_engine(w, cluster, &err);
        char path[128];
        snprintf(path, sizeof(path), "/containers/%.64s/kill", container);
        if (eng && eagle_engine_call(eng, "POST", path, NULL, NULL, &err) == 0)
            log_info("health", "task %.12s of '%s' is unhealthy (%s): replacing it", task,
                     json_string_value(json_object_get(info, "service")), reason);
        else
            log_warn("health", "cannot replace task %.12s: %s", task, err.msg);
        json_array_append_new(events,
                              json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:s}", "type", "health", "action",
                                        "replaced", "task", task, "service", json_object_get(info, "service"),
                                        "tenant", json_object_get(info, "tenant"), "reason", reason));
    }
    json_decref(cluster);
}

/* Apply queued changes: catalog, events, and replace the unhealthy. */
static void drain(struct eagle_worker *w)
{
    json_t *changes, *ch, *events = json_array();
    struct eagle_err err;
    size_t i;

    pthread_mutex_lock(&hc.lock);
    changes = hc.changes;
    hc.changes = json_array();
    pthread_mutex_unlock(&hc.lock);
    json_array_foreach(changes, i, ch)
    {
        const char *task = json_string_value(json_object_get(ch, "task"));
        const char *health = json_string_value(json_object_get(ch, "health"));
        const char *reason = json_string_value(json_object_get(ch, "reason"));
        json_t *info = json_object_get(hc.tasks, task);
        if (json_is_true(json_object_get(ch, "replaced"))) { /* an agent did it (the task may be gone) */
            log_info("health", "task %.12s of '%s' is unhealthy (%s): its agent replaced it", task,
                     json_string_value(json_object_get(ch, "service")) ?: "?", reason);
            json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:s}", "type", "health",
                                                    "action", "replaced", "task", task, "service",
                                                    json_object_get(ch, "service"), "tenant",
                                                    json_object_get(ch, "tenant"), "reason", reason));
            continue;
        }
        eagle_catalog_set_health(task, health, reason);
        json_array_append_new(events,
                              json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?, s:s}", "type", "health", "action",
                                        health, "task", task, "service", json_object_get(info, "service"),
                                        "tenant", json_object_get(info, "tenant"), "cluster",
                                        json_object_get(info, "cluster"), "reason", reason));
        if (strcmp(health, "unhealthy") == 0 && info)
            replace(w, task, info, reason, events);
    }
    if (json_array_size(events) && eagle_events_append(w->store, events, &err) < 0)
        log_warn("health", "cannot record health events: %s", err.msg);
    json_decref(events);
    json_decref(changes);
}

static int bad_field(struct eagle_err *err, const char *field, const char *what)
{
    return eagle_err_invalid(err, field, "'%s' %s", field, what);
}

int eagle_health_agent_sync(const char *cluster, const json_t *req, json_t **answer, struct eagle_err *err)
{
    const char *node = json_string_value(json_object_get(req, "node"));
    const char *hostname = json_string_value(json_object_get(req, "hostname"));
    const char *version = json_string_value(json_object_get(req, "version"));
    json_t *results = json_object_get(req, "results"), *killed = json_object_get(req, "killed"), *x;
    size_t i;

    if (!node || !*node || strlen(node) > 64 || strchr(node, '/'))
        return bad_field(err, "node", "must be the node's Swarm id");
    if (json_object_get(req, "hostname") && (!hostname || strlen(hostname) > 255))
        return bad_field(err, "hostname", "must be a string of at most 255 bytes");
    if (json_object_get(req, "version") && (!version || strlen(version) > 64))
        return bad_field(err, "version", "must be a string of at most 64 bytes");
    if (results && !json_is_array(results))
        return bad_field(err, "results", "must be an array");
    if (killed && !json_is_array(killed))
        return bad_field(err, "killed", "must be an array");
    json_array_foreach(results, i, x)
    {
        char field[48];
        snprintf(field, sizeof(field), "results[%zu]", i);
        const char *task = json_string_value(json_object_get(x, "task"));
        if (!task || eagle_health_state_parse(json_string_value(json_object_get(x, "health"))) < 0 ||
            (json_object_get(x, "reason") && !json_is_string(json_object_get(x, "reason"))))
            return bad_field(err, field,
                             "must be {\"task\", \"health\": unknown|healthy|unhealthy, \"reason\"}");
    }
    json_array_foreach(killed, i, x)
    {
        char field[48];
        snprintf(field, sizeof(field), "killed[%zu]", i);
        if (!json_string_value(json_object_get(x, "task")) ||
            (json_object_get(x, "error") && !json_is_string(json_object_get(x, "error"))))
            return bad_field(err, field, "must be {\"task\", \"container\", \"error\"?}");
    }

    char key[256];
    snprintf(key, sizeof(key), "%s/%s", cluster, node);
    pthread_mutex_lock(&hc.lock);
    if (!hc.agents) {
        pthread_mutex_unlock(&hc.lock);
        return eagle_err_set(err, 503, "unavailable", NULL, "the health controller is not running");
    }
    json_t *a = agent_entry(cluster, node), *ids = json_object_get(hc.remote_ids, key);
    json_t *health = json_object_get(a, "health"), *kill = json_object_get(a, "kill");
    json_object_set_new(a, "seen_ms", json_integer(eagle_now_ms()));
    json_object_set_new(a, "hostname", json_string(hostname ? hostname : ""));
    json_object_set_new(a, "version", json_string(version ? version : ""));
    json_array_foreach(results, i, x)
    {
        const char *task = json_string_value(json_object_get(x, "task"));
        const char *now = json_string_value(json_object_get(x, "health"));
        const char *was = json_string_value(json_object_get(health, task));
        if (!json_object_get(ids, task))
            continue; /* not a target of that node (any more) */
        if (strcmp(was ? was : "unknown", now) != 0)
            queue_change(task, now, json_string_value(json_object_get(x, "reason")) ?: "");
        json_object_set_new(health, task, json_string(now));
    }
    json_array_foreach(killed, i, x)
    {
        const char *task = json_string_value(json_object_get(x, "task"));
        json_t *k = json_object_get(kill, task);
        if (!k)
            continue;
        if (!json_object_get(x, "error"))
            json_array_append_new(hc.changes, json_pack("{s:s, s:b, s:O, s:O?, s:O?}", "task", task,
                                                        "replaced", 1, "reason", json_object_get(k, "reason"),
                                                        "service", json_object_get(k, "service"), "tenant",
                                                        json_object_get(k, "tenant")));
        json_object_del(kill, task); /* done, or nothing left to kill */
    }
    /* forget what no longer is a target there */
    const char *task;
    void *tmp;
    json_object_foreach_safe(health, tmp, task, x) if (!json_object_get(ids, task))
        json_object_del(health, task);
    json_object_foreach_safe(kill, tmp, task, x) if (!json_object_get(ids, task)) json_object_del(kill, task);
    json_t *targets = json_object_get(hc.remote_targets, key);
    json_t *kills = json_array();
    json_object_foreach(kill, task, x) json_array_append_new(
        kills, json_pack("{s:s, s:O}", "task", task, "container", json_object_get(x, "container")));
    *answer = json_pack("{s:i, s:o, s:o}", "interval_ms", EAGLE_AGENT_INTERVAL_MS, "targets",
                        targets ? json_incref(targets) : json_array(), "kill", kills);
    pthread_cond_broadcast(&hc.cond);
    pthread_mutex_unlock(&hc.lock);
    return 0;
}

json_t *eagle_health_agents(const char *cluster)
{
    json_t *out = json_array(), *a;
    const char *key;
    int64_t now = eagle_now_ms();

    pthread_mutex_lock(&hc.lock);
    json_object_foreach(hc.agents, key, a)
    {
        int64_t seen = json_integer_value(json_object_get(a, "seen_ms"));
        json_t *health = json_object_get(a, "health"), *v;
        const char *task;
        int counts[3] = {0, 0, 0};
        if (strcmp(json_string_value(json_object_get(a, "cluster")), cluster) != 0 || seen == 0)
            continue;
        json_object_foreach(health, task, v)
        {
            int s = eagle_health_state_parse(json_string_value(v));
            if (s >= 0)
                counts[s]++;
        }
        time_t t = (time_t)(seen / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        size_t ntargets = json_array_size(json_object_get(hc.remote_targets, key));
        json_array_append_new(
            out,
            json_pack("{s:O, s:O, s:O, s:s, s:b, s:I, s:i, s:i, s:i}", "node", json_object_get(a, "node"),
                      "hostname", json_object_get(a, "hostname"), "version", json_object_get(a, "version"),
                      "last_seen", when, "stale", now - seen > EAGLE_AGENT_STALE_MS, "targets",
                      (json_int_t)ntargets, "healthy", counts[EAGLE_HEALTH_HEALTHY], "unhealthy",
                      counts[EAGLE_HEALTH_UNHEALTHY], "unknown",
                      (int)ntargets - counts[EAGLE_HEALTH_HEALTHY] - counts[EAGLE_HEALTH_UNHEALTHY]));
    }
    pthread_mutex_unlock(&hc.lock);
    return out;
}

int eagle_health_node_checked(const char *cluster, const char *node)
{
    char key[256];
    int yes;

    if (!cluster || !node)
        return 0;
    snprintf(key, sizeof(key), "%s/%s", cluster, node);
    pthread_mutex_lock(&hc.lock);
    const char *local = json_string_value(json_object_get(hc.local_nodes, cluster));
    json_t *a = json_object_get(hc.agents, key);
    yes = (local && strcmp(local, node) == 0) ||
          (a && eagle_now_ms() - json_integer_value(json_object_get(a, "seen_ms")) <= EAGLE_AGENT_STALE_MS);
    pthread_mutex_unlock(&hc.lock);
    return yes;
}

void eagle_health_forget_agents(const char *cluster)
{
    const char *key, *task;
    json_t *a, *v;
    void *tmp;

    pthread_mutex_lock(&hc.lock);
    json_object_foreach_safe(hc.agents, tmp, key, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "cluster")), cluster) != 0)
            continue;
        json_object_foreach(json_object_get(a, "health"), task,
                            v) if (strcmp(json_string_value(v), "unknown") != 0)
            queue_change(task, "unknown", "eagle-agent removed from the cluster");
        json_object_del(hc.agents, key);
    }
    pthread_mutex_unlock(&hc.lock);
}

static void *health_main(void *arg)
{
    struct eagle_worker w = {.data_dir = hc.data_dir};
    struct eagle_err err;
    int64_t next_pass = 0;

    w.store = eagle_store_open(hc.data_dir, 0, &err);
    if (!w.store) {
        log_error("health", "cannot open the store: %s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&hc.lock);
    while (!hc.stop) {
        pthread_mutex_unlock(&hc.lock);
        if (eagle_now_ms() >= next_pass) {
            pass(&w);
            next_pass = eagle_now_ms() + PASS_MS;
        }
        drain(&w);
        pthread_mutex_lock(&hc.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!hc.stop && json_array_size(hc.changes) == 0)
            pthread_cond_timedwait(&hc.cond, &hc.lock, &until);
    }
    pthread_mutex_unlock(&hc.lock);
    eagle_worker_release(&w);
    return NULL;
}

int eagle_health_start(const char *data_dir, struct eagle_err *err)
{
    hc.stop = 0;
    hc.data_dir = xstrdup(data_dir);
    hc.changes = json_array();
    hc.tasks = json_object();
    hc.local_nodes = json_object();
    hc.remote_targets = json_object();
    hc.remote_ids = json_object();
    hc.agents = json_object();
    hc.checker = eagle_checker_new();
    eagle_checker_on_change(hc.checker, on_change, NULL);
    if (eagle_checker_start(hc.checker, err) < 0 || pthread_create(&hc.tid, NULL, health_main, NULL) != 0) {
        eagle_checker_free(hc.checker);
        hc.checker = NULL;
        return eagle_err_internal(err, "cannot start the health controller");
    }
    hc.running = 1;
    return 0;
}

void eagle_health_stop(void)
{
    if (!hc.running)
        return;
    pthread_mutex_lock(&hc.lock);
    hc.stop = 1;
    pthread_cond_broadcast(&hc.cond);
    pthread_mutex_unlock(&hc.lock);
    pthread_join(hc.tid, NULL);
    eagle_checker_free(hc.checker);
    hc.checker = NULL;
    hc.running = 0;
    free(hc.data_dir);
    hc.data_dir = NULL;
    pthread_mutex_lock(&hc.lock);
    json_decref(hc.changes);
    json_decref(hc.tasks);
    json_decref(hc.local_nodes);
    json_decref(hc.remote_targets);
    json_decref(hc.remote_ids);
    json_decref(hc.agents);
    hc.changes = hc.tasks = hc.local_nodes = hc.remote_targets = hc.remote_ids = hc.agents = NULL;
    pthread_mutex_unlock(&hc.lock);
}
