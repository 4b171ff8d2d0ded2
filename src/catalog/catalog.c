/*
 * catalog.c — see catalog.h.
 *
 * Readers see an immutable snapshot: a sorted array of entries, swapped under
 * a rwlock. The writer keeps, per cluster, what it needs to diff the next poll
 * (compact maps of services, tasks and nodes, and each service's last answer),
 * never the engine's raw arrays, so memory stays small.
 */
#include "catalog/catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct snapshot {
    size_t n;
    struct eagle_catalog_entry *entries; /* sorted by name */
};

struct cluster_state {
    char *name;
    json_t *services; /* id → {"name", "version", "tenant"} */
    json_t *tasks;    /* id → {"service", "state", "desired", "node"} */
    json_t *nodes;    /* id → {"hostname", "state", "availability"} */
    json_t *answers;  /* service name → last answer text without modify_index */
    struct eagle_catalog_entry *entries; /* this cluster's, sorted; references held */
    size_t n;
    struct cluster_state *next;
};

static struct {
    pthread_rwlock_t lock; /* guards snap and index */
    struct snapshot snap;
    uint64_t index;
    pthread_mutex_t writer; /* one writer at a time; guards clusters */
    struct cluster_state *clusters;
    pthread_mutex_t health_lock;
    json_t *health; /* task id → {"health", "reason"} */
    void (*listener)(uint64_t, void *);
    void *listener_ud;
    int primed; /* the watcher has read every cluster once */
} cat = {.lock = PTHREAD_RWLOCK_INITIALIZER,
         .writer = PTHREAD_MUTEX_INITIALIZER,
         .health_lock = PTHREAD_MUTEX_INITIALIZER};

struct eagle_blob *eagle_blob_new(const char *data, size_t len)
{
    struct eagle_blob *b = xmalloc(sizeof(*b) + len + 1);
    b->refs = 1;
    b->len = len;
    memcpy(b->data, data, len);
    b->data[len] = 0;
    return b;
}

struct eagle_blob *eagle_blob_ref(struct eagle_blob *b)
{
    if (b)
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void eagle_blob_unref(struct eagle_blob *b)
{
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(b);
}

static void entry_ref(struct eagle_catalog_entry *dst, const struct eagle_catalog_entry *src)
{
    *dst = *src;
    eagle_blob_ref(dst->all);
    eagle_blob_ref(dst->healthy);
    eagle_blob_ref(dst->docker);
    eagle_blob_ref(dst->labels);
}

void eagle_catalog_entry_release(struct eagle_catalog_entry *e)
{
    if (!e)
        return;
    eagle_blob_unref(e->all);
    eagle_blob_unref(e->healthy);
    eagle_blob_unref(e->docker);
    eagle_blob_unref(e->labels);
    e->all = e->healthy = e->docker = e->labels = NULL;
}

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        eagle_catalog_entry_release(&s->entries[i]);
    free(s->entries);
    s->entries = NULL;
    s->n = 0;
}

void eagle_catalog_init(void)
{
    pthread_rwlock_wrlock(&cat.lock);
    cat.index = (uint64_t)eagle_now_ms();
    pthread_rwlock_unlock(&cat.lock);
    pthread_mutex_lock(&cat.health_lock);
    if (!cat.health)
        cat.health = json_object();
    pthread_mutex_unlock(&cat.health_lock);
}

void eagle_catalog_shutdown(void)
{
    pthread_mutex_lock(&cat.writer);
    for (struct cluster_state *c = cat.clusters, *next; c; c = next) {
        next = c->next;
        for (size_t i = 0; i < c->n; i++)
            eagle_catalog_entry_release(&c->entries[i]);
        free(c->entries);
        json_decref(c->services);
        json_decref(c->tasks);
        json_decref(c->nodes);
        json_decref(c->answers);
        free(c->name);
        free(c);
    }
    cat.clusters = NULL;
    pthread_mutex_unlock(&cat.writer);
    pthread_rwlock_wrlock(&cat.lock);
    snapshot_free(&cat.snap);
    pthread_rwlock_unlock(&cat.lock);
    pthread_mutex_lock(&cat.health_lock);
    json_decref(cat.health);
    cat.health = NULL;
    pthread_mutex_unlock(&cat.health_lock);
}

uint64_t eagle_catalog_index(void)
{
    uint64_t i;
    pthread_rwlock_rdlock(&cat.lock);
    i = cat.index;
    pthread_rwlock_unlock(&cat.lock);
    return i;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct eagle_catalog_entry *)a)->name, ((const struct eagle_catalog_entry *)b)->name);
}

int eagle_catalog_get(const char *name, struct eagle_catalog_entry *e)
{
    struct eagle_catalog_entry key;
    struct eagle_catalog_entry *found;

    snprintf(key.name, sizeof(key.name), "%s", name);
    pthread_rwlock_rdlock(&cat.lock);
    found = cat.snap.n ? bsearch(&key, cat.snap.entries, cat.snap.n, sizeof(key), entry_cmp) : NULL;
    if (found)
        entry_ref(e, found);
    pthread_rwlock_unlock(&cat.lock);
    return found ? 0 : -1;
}

size_t eagle_catalog_list(struct eagle_catalog_entry **out)
{
    size_t n;
    pthread_rwlock_rdlock(&cat.lock);
    n = cat.snap.n;
    *out = xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++)
        entry_ref(&(*out)[i], &cat.snap.entries[i]);
    pthread_rwlock_unlock(&cat.lock);
    return n;
}

void eagle_catalog_set_listener(void (*cb)(uint64_t index, void *ud), void *ud)
{
    cat.listener = cb;
    cat.listener_ud = ud;
}

void eagle_catalog_set_health(const char *task_id, const char *health, const char *reason)
{
    pthread_mutex_lock(&cat.health_lock);
    if (cat.health)
        json_object_set_new(cat.health, task_id, json_pack("{s:s, s:s}", "health", health, "reason", reason ? reason : ""));
    pthread_mutex_unlock(&cat.health_lock);
}

/* ---- the writer ---- */

static const char *sget(const json_t *o, const char *path)
{
    /* "A.B.C": nested object lookup */
    char key[64];
    const char *p = path;
    const json_t *v = o;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        v = json_object_get(v, key);
        p = dot ? dot + 1 : p + n;
    }
    return json_string_value(v);
}

static json_t *jget(const json_t *o, const char *path)
{
    char key[64];
    const char *p = path;
    const json_t *v = o;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        v = json_object_get(v, key);
        p = dot ? dot + 1 : p + n;
    }
    return (json_t *)v;
}

/* A label's value: label keys contain dots, so they are looked up whole. */
static const char *label(const json_t *o, const char *labels_path, const char *key)
{
    return json_string_value(json_object_get(jget(o, labels_path), key));
}

static void add_event(json_t *events, const char *type, const char *action, const char *cluster, const char *service,
                      const char *tenant, const char *task, const char *node, const char *from, const char *to)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "type", type, "action", action, "cluster", cluster);
    if (service)
        json_object_set_new(e, "service", json_string(service));
    if (tenant && *tenant)
        json_object_set_new(e, "tenant", json_string(tenant));
    if (task)
        json_object_set_new(e, "task", json_string(task));
    if (node)
        json_object_set_new(e, "node", json_string(node));
    if (from)
        json_object_set_new(e, "from", json_string(from));
    if (to)
        json_object_set_new(e, "to", json_string(to));
    json_array_append_new(events, e);
}

static json_t *instance_of(const json_t *t, const json_t *nodes_by_id, const char *datacenter, json_t *health)
{
    const char *node_id = sget(t, "NodeID"), *state = sget(t, "Status.State");
    const json_t *node = node_id ? json_object_get(nodes_by_id, node_id) : NULL;
    const char *rev = label(t, "Spec.ContainerSpec.Labels", "eagle.revision");
    const char *canary = label(t, "Spec.ContainerSpec.Labels", "eagle.canary");
    json_t *h = health ? json_object_get(health, sget(t, "ID")) : NULL;
    const char *hs = h ? json_string_value(json_object_get(h, "health")) : "unknown";
    json_t *addresses = json_array(), *ports = json_array(), *na, *a, *p;
    size_t i, j;

    json_array_foreach(jget(t, "NetworksAttachments"), i, na)
    {
        const char *net = sget(na, "Network.Spec.Name");
        json_array_foreach(json_object_get(na, "Addresses"), j, a) json_array_append_new(
            addresses, json_pack("{s:s?, s:O}", "network", net, "address", a));
    }
    json_array_foreach(jget(t, "Status.PortStatus.Ports"), i, p)
    {
        /* Swarm lists a host-mode port once per address family: once is enough */
        json_t *port = json_pack("{s:O?, s:O?, s:O?, s:O?}", "target", json_object_get(p, "TargetPort"), "published",
                                 json_object_get(p, "PublishedPort"), "protocol", json_object_get(p, "Protocol"),
                                 "mode", json_object_get(p, "PublishMode"));
        int dup = 0;
        json_t *q;
        json_array_foreach(ports, j, q) dup |= json_equal(q, port);
        if (dup)
            json_decref(port);
        else
            json_array_append_new(ports, port);
    }
    int running = state && strcmp(state, "running") == 0;
    const char *desired = sget(t, "DesiredState");
    int desired_running = desired && strcmp(desired, "running") == 0;
    return json_pack("{s:s?, s:O?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:o, s:b, s:s?, s:o, s:o, s:s?, "
                     "s:s, s:s?}",
                     "task_id", sget(t, "ID"), "slot", json_object_get(t, "Slot"), "node_id", node_id, "node",
                     node ? sget(node, "Description.Hostname") : NULL, "host_addr",
                     node ? sget(node, "Status.Addr") : NULL, "state", state, "desired_state", sget(t, "DesiredState"),
                     "health", hs, "health_reason", h ? json_string_value(json_object_get(h, "reason")) : NULL,
                     "healthy", running && desired_running && strcmp(hs, "unhealthy") != 0, "revision",
                     rev ? json_integer(atoll(rev)) : json_null(), "canary", canary && strcmp(canary, "true") == 0,
                     "container_id", sget(t, "Status.ContainerStatus.ContainerID"), "addresses", addresses, "ports",
                     ports, "started_at", running ? sget(t, "Status.Timestamp") : NULL, "datacenter", datacenter,
                     "error", sget(t, "Status.Err"));
}

static struct eagle_blob *blob_of(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    struct eagle_blob *b = eagle_blob_new(s, strlen(s));
    free(s);
    return b;
}

static struct cluster_state *cluster_state(const char *name, int create)
{
    for (struct cluster_state *c = cat.clusters; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    if (!create)
        return NULL;
    struct cluster_state *c = xcalloc(1, sizeof(*c));
    c->name = xstrdup(name);
    c->services = json_object();
    c->tasks = json_object();
    c->nodes = json_object();
    c->answers = json_object();
    c->next = cat.clusters;
    cat.clusters = c;
    return c;
}

/* Rebuild the readers' snapshot from every cluster's entries and publish it. */
static void publish(uint64_t *index_out, size_t changed)
{
    struct snapshot next = {0}, old;
    size_t total = 0, k = 0;

    for (struct cluster_state *c = cat.clusters; c; c = c->next)
        total += c->n;
    next.entries = xcalloc(total ? total : 1, sizeof(*next.entries));
    for (struct cluster_state *c = cat.clusters; c; c = c->next)
        for (size_t i = 0; i < c->n; i++)
            entry_ref(&next.entries[k++], &c->entries[i]);
    qsort(next.entries, k, sizeof(*next.entries), entry_cmp);
    /* a name in two clusters: the first (alphabetical cluster order is arbitrary) wins */
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w > 0 && strcmp(next.entries[w - 1].name, next.entries[i].name) == 0) {
            eagle_catalog_entry_release(&next.entries[i]);
            continue;
        }
        next.entries[w++] = next.entries[i];
    }
    next.n = w;
    pthread_rwlock_wrlock(&cat.lock);
    old = cat.snap;
    cat.snap = next;
    if (changed)
        cat.index++;
    *index_out = cat.index;
    pthread_rwlock_unlock(&cat.lock);
    snapshot_free(&old);
}

static void diff_maps(const char *cluster, json_t *old_services, json_t *new_services, json_t *old_tasks,
                      json_t *new_tasks, json_t *old_nodes, json_t *new_nodes, json_t *events)
{
    const char *id;
    json_t *v, *o;

    json_object_foreach(new_services, id, v)
    {
        o = json_object_get(old_services, id);
        const char *name = sget(v, "name"), *tenant = sget(v, "tenant");
        if (!o)
            add_event(events, "service", "create", cluster, name, tenant, NULL, NULL, NULL, NULL);
        else if (json_integer_value(json_object_get(o, "version")) != json_integer_value(json_object_get(v, "version")))
            add_event(events, "service", "update", cluster, name, tenant, NULL, NULL, NULL, NULL);
    }
    json_object_foreach(old_services, id, o)
    {
        if (!json_object_get(new_services, id))
            add_event(events, "service", "remove", cluster, sget(o, "name"), sget(o, "tenant"), NULL, NULL, NULL,
                      NULL);
    }
    json_object_foreach(new_tasks, id, v)
    {
        o = json_object_get(old_tasks, id);
        const char *svc = sget(v, "service_name"), *tenant = sget(v, "tenant"), *node = sget(v, "node");
        const char *to = sget(v, "state"), *from = o ? sget(o, "state") : NULL;
        if (!o)
            add_event(events, "task", "create", cluster, svc, tenant, id, node, NULL, to);
        else if (from && to && strcmp(from, to) != 0)
            add_event(events, "task", "state", cluster, svc, tenant, id, node, from, to);
    }
    json_object_foreach(old_tasks, id, o)
    {
        if (!json_object_get(new_tasks, id))
            add_event(events, "task", "remove", cluster, sget(o, "service_name"), sget(o, "tenant"), id,
                      sget(o, "node"), sget(o, "state"), NULL);
    }
    json_object_foreach(new_nodes, id, v)
    {
        o = json_object_get(old_nodes, id);
        char was[64], now[64];
        snprintf(now, sizeof(now), "%s/%s", sget(v, "state") ?: "", sget(v, "availability") ?: "");
        if (!o) {
            add_event(events, "node", "create", cluster, NULL, NULL, NULL, id, NULL, now);
            continue;
        }
        snprintf(was, sizeof(was), "%s/%s", sget(o, "state") ?: "", sget(o, "availability") ?: "");
        if (strcmp(was, now) != 0)
            add_event(events, "node", "update", cluster, NULL, NULL, NULL, id, was, now);
    }
    json_object_foreach(old_nodes, id, o)
    {
        if (!json_object_get(new_nodes, id))
            add_event(events, "node", "remove", cluster, NULL, NULL, NULL, id, NULL, NULL);
    }
}

size_t eagle_catalog_replace_cluster(const char *cluster, const char *datacenter, const json_t *services,
                                     const json_t *tasks, const json_t *nodes, json_t *events)
{
    json_t *svc_map = json_object(), *task_map = json_object(), *node_map = json_object(), *nodes_by_id = json_object();
    json_t *by_service = json_object(), *answers = json_object(), *health = NULL;
    struct cluster_state *c;
    size_t i, changed = 0, n = 0;
    json_t *s, *t, *nd;
    uint64_t index;

    pthread_mutex_lock(&cat.writer);
    int first = cluster_state(cluster, 0) == NULL;
    c = cluster_state(cluster, 1);
    pthread_mutex_lock(&cat.health_lock);
    health = cat.health ? json_deep_copy(cat.health) : json_object();
    pthread_mutex_unlock(&cat.health_lock);

    json_array_foreach(nodes, i, nd)
    {
        const char *id = sget(nd, "ID");
        if (!id)
            continue;
        json_object_set(nodes_by_id, id, nd);
        json_object_set_new(node_map, id,
                            json_pack("{s:s?, s:s?, s:s?}", "hostname", sget(nd, "Description.Hostname"), "state",
                                      sget(nd, "Status.State"), "availability", sget(nd, "Spec.Availability")));
    }
    json_t *svc_by_id = json_object(), *raw_by_name = json_object();
    json_array_foreach(services, i, s)
    {
        const char *id = sget(s, "ID"), *name = sget(s, "Spec.Name");
        if (!id || !name)
            continue;
        /* a canary group is its own engine service, discovered under its service's name */
        const char *canary_of = label(s, "Spec.Labels", "eagle.canary-of");
        json_object_set(svc_by_id, id, s);
        json_object_set_new(svc_map, id,
                            json_pack("{s:s, s:I, s:s?, s:b}", "name", canary_of ? canary_of : name, "version",
                                      (json_int_t)json_integer_value(jget(s, "Version.Index")), "tenant",
                                      label(s, "Spec.Labels", "eagle.tenant"), "canary", canary_of != NULL));
        if (!json_object_get(by_service, canary_of ? canary_of : name))
            json_object_set_new(by_service, canary_of ? canary_of : name, json_array());
        if (!canary_of || !json_object_get(raw_by_name, canary_of))
            json_object_set(raw_by_name, canary_of ? canary_of : name, s);
        if (!canary_of)
            json_object_set(raw_by_name, name, s);
    }
    json_array_foreach(tasks, i, t)
    {
        const char *id = sget(t, "ID"), *sid = sget(t, "ServiceID"), *desired = sget(t, "DesiredState");
        json_t *svc = sid ? json_object_get(svc_map, sid) : NULL;
        if (!id || !svc)
            continue;
        json_object_set_new(task_map, id,
                            json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "service", sid, "service_name",
                                      sget(svc, "name"), "tenant", sget(svc, "tenant"), "state",
                                      sget(t, "Status.State"), "desired", desired, "node", sget(t, "NodeID")));
        /* instances: what is meant to run, or still runs while being replaced */
        const char *state = sget(t, "Status.State");
        if ((desired && (strcmp(desired, "running") == 0 || strcmp(desired, "ready") == 0)) ||
            (state && strcmp(state, "running") == 0))
            json_array_append_new(json_object_get(by_service, sget(svc, "name")),
                                  instance_of(t, nodes_by_id, datacenter, health));
    }

    /* The first view of a cluster (at start) is the baseline, not a burst of "create" events. */
    if (!first)
        diff_maps(cluster, c->services, svc_map, c->tasks, task_map, c->nodes, node_map, events);

    /* this cluster's entries: one per discovery name */
    struct eagle_catalog_entry *entries = xcalloc(json_object_size(raw_by_name) + 1, sizeof(*entries));
    const char *name;
    json_t *raw;
    json_object_foreach(raw_by_name, name, raw)
    {
        json_t *instances = json_object_get(by_service, name);
        const char *tenant_label = label(raw, "Spec.Labels", "eagle.tenant");
        json_t *labels = jget(raw, "Spec.Labels");
        json_t *replicas = jget(raw, "Spec.Mode.Replicated.Replicas");
        const char *rev = label(raw, "Spec.Labels", "eagle.revision");
        json_t *answer = json_pack("{s:s, s:s?, s:s, s:s, s:O, s:s, s:O?, s:o, s:O}", "name", name, "tenant",
                                   tenant_label, "cluster", cluster, "datacenter", datacenter, "labels",
                                   labels ? labels : json_object(), "mode", replicas ? "replicated" : "global",
                                   "replicas", replicas, "revision", rev ? json_integer(atoll(rev)) : json_null(),
                                   "instances", instances);
        char *answer_text = json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
        /* Swarm's own object (format=docker) changes without Eagle's answer changing (UpdateStatus,
         * Version): its version is part of what "changed" means */
        char *text = xasprintf("%s|%lld", answer_text, (long long)json_integer_value(jget(raw, "Version.Index")));
        free(answer_text);
        const char *prev = json_string_value(json_object_get(c->answers, name));
        struct eagle_catalog_entry *e = &entries[n++];
        struct eagle_catalog_entry *old = NULL;
        for (size_t k = 0; k < c->n && !old; k++)
            if (strcmp(c->entries[k].name, name) == 0)
                old = &c->entries[k];
        snprintf(e->name, sizeof(e->name), "%s", name);
        snprintf(e->tenant, sizeof(e->tenant), "%s", tenant_label ?: "");
        snprintf(e->cluster, sizeof(e->cluster), "%s", cluster);
        snprintf(e->datacenter, sizeof(e->datacenter), "%s", datacenter);
        if (old && prev && strcmp(prev, text) == 0) { /* unchanged: share the old blobs */
            e->modify_index = old->modify_index;
            e->all = eagle_blob_ref(old->all);
            e->healthy = eagle_blob_ref(old->healthy);
            e->docker = eagle_blob_ref(old->docker);
            e->labels = eagle_blob_ref(old->labels);
        } else {
            changed++;
            pthread_rwlock_rdlock(&cat.lock);
            e->modify_index = cat.index + 1;
            pthread_rwlock_unlock(&cat.lock);
            json_object_set_new(answer, "modify_index", json_integer((json_int_t)e->modify_index));
            e->all = blob_of(answer);
            json_t *healthy = json_array(), *inst;
            size_t k;
            json_array_foreach(instances, k, inst) if (json_is_true(json_object_get(inst, "healthy")))
                json_array_append(healthy, inst);
            json_object_set_new(answer, "instances", healthy);
            e->healthy = blob_of(answer);
            e->docker = blob_of(raw);
            json_t *l = labels ? json_incref(labels) : json_object();
            e->labels = blob_of(l);
            json_decref(l);
        }
        json_object_set_new(answers, name, json_string(text));
        free(text);
        json_decref(answer);
    }
    /* removed services count as changes */
    for (size_t k = 0; k < c->n; k++)
        if (!json_object_get(answers, c->entries[k].name))
            changed++;

    for (size_t k = 0; k < c->n; k++)
        eagle_catalog_entry_release(&c->entries[k]);
    free(c->entries);
    c->entries = entries;
    c->n = n;
    json_decref(c->services);
    json_decref(c->tasks);
    json_decref(c->nodes);
    json_decref(c->answers);
    c->services = svc_map;
    c->tasks = task_map;
    c->nodes = node_map;
    c->answers = answers;
    if (json_array_size(events) > 0 && !changed)
        changed = 1; /* node changes move the index too */
    publish(&index, changed);
    pthread_mutex_unlock(&cat.writer);

    json_decref(nodes_by_id);
    json_decref(by_service);
    json_decref(svc_by_id);
    json_decref(raw_by_name);
    json_decref(health);
    if (changed && cat.listener)
        cat.listener(index, cat.listener_ud);
    return changed;
}

void eagle_catalog_remove_cluster(const char *cluster, json_t *events)
{
    json_t *empty = json_array();
    eagle_catalog_replace_cluster(cluster, "", empty, empty, empty, events);
    json_decref(empty);
    pthread_mutex_lock(&cat.writer);
    struct cluster_state **pp = &cat.clusters;
    while (*pp && strcmp((*pp)->name, cluster) != 0)
        pp = &(*pp)->next;
    if (*pp) {
        struct cluster_state *c = *pp;
        *pp = c->next;
        for (size_t i = 0; i < c->n; i++)
            eagle_catalog_entry_release(&c->entries[i]);
        free(c->entries);
        json_decref(c->services);
        json_decref(c->tasks);
        json_decref(c->nodes);
        json_decref(c->answers);
        free(c->name);
        free(c);
    }
    pthread_mutex_unlock(&cat.writer);
}

void eagle_catalog_get_health(const char *task_id, char *buf, size_t n)
{
    pthread_mutex_lock(&cat.health_lock);
    const char *h = json_string_value(json_object_get(json_object_get(cat.health, task_id), "health"));
    snprintf(buf, n, "%s", h ? h : "unknown");
    pthread_mutex_unlock(&cat.health_lock);
}

int eagle_catalog_primed(void)
{
    return __atomic_load_n(&cat.primed, __ATOMIC_ACQUIRE);
}

void eagle_catalog_set_primed(void)
{
    if (__atomic_exchange_n(&cat.primed, 1, __ATOMIC_ACQ_REL) == 0 && cat.listener)
        cat.listener(eagle_catalog_index(), cat.listener_ud);
}
