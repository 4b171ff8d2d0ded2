/*
 * catalog.c — see catalog.h.
 *
 * Readers see an immutable snapshot: a sorted array of entries, swapped under
 * a rwlock. The writer keeps, per cluster, only what it needs to render and
 * diff the next pass, as compact C records, never a jansson tree between
 * passes: per engine service its ids, version and Swarm's object as text (the
 * format=docker blob); per task its ids and states and, for an instance, the
 * few fields its answer takes from the task (a short JSON array); per node the
 * fields answers and events use.
 *
 * A pass takes the engine's arrays one element at a time. Each element's text
 * is hashed first: an element byte for byte the same as last time keeps its
 * record and is not parsed, which is nearly every element of nearly every
 * pass. At commit each discovery name gets a fingerprint of everything its
 * answer is made of (its service's record, its instances' records and health,
 * the nodes, the datacenter); only a name whose fingerprint moved is rendered
 * again, and the new answer is compared with the old one byte for byte. The
 * fingerprint only saves work: it never decides on its own that an answer
 * changed.
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

/* One engine service, as the last pass saw it. */
struct svc {
    uint64_t hash;          /* of the element's text */
    unsigned stamp;         /* the last pass that kept it */
    int canary;             /* an eagle.canary-of group, discovered under its service's name */
    json_int_t version;     /* Version.Index */
    const char *id, *name;  /* name: the discovery name */
    const char *tenant;     /* the eagle.tenant label, NULL when none */
    struct eagle_blob *raw; /* Swarm's object, compact: the format=docker answer */
    char data[];            /* the strings */
};

/* One task of a known service. */
struct task {
    uint64_t hash;
    unsigned stamp;
    const char *id, *service_id, *node_id, *state, *desired; /* NULL when absent */
    /* an instance (meant to run, or running): JSON [slot, revision, canary,
     * container_id, addresses, ports, started_at, error]; NULL otherwise */
    const char *inst;
    char data[];
};

struct node {
    char *id, *hostname, *addr, *state, *availability; /* NULL when absent */
};

/* A discovery name's entry, with the fingerprint of what its answer was made of. */
struct centry {
    struct eagle_catalog_entry e;
    uint64_t fp;
};

struct cluster_state {
    char *name;
    struct svc **svcs; /* as the engine listed them */
    size_t n_svcs;
    struct task **tasks;
    size_t n_tasks;
    struct node *nodes;
    size_t n_nodes;
    uint64_t nodes_hash;    /* of what answers take from the nodes */
    struct centry *entries; /* this cluster's, sorted by name; references held */
    size_t n;
    struct cluster_state *next;
};

static struct {
    pthread_rwlock_t lock; /* guards snap and index */
    struct snapshot snap;
    uint64_t index;
    pthread_mutex_t writer; /* one pass at a time; guards clusters and passes */
    struct cluster_state *clusters;
    unsigned passes;
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
    if (data)
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

static void cluster_state_free(struct cluster_state *c);

void eagle_catalog_shutdown(void)
{
    pthread_mutex_lock(&cat.writer);
    for (struct cluster_state *c = cat.clusters, *next; c; c = next) {
        next = c->next;
        cluster_state_free(c);
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
    return strcmp(((const struct eagle_catalog_entry *)a)->name,
                  ((const struct eagle_catalog_entry *)b)->name);
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

size_t eagle_catalog_list(struct eagle_catalog_entry **out, uint64_t *index)
{
    size_t n;
    pthread_rwlock_rdlock(&cat.lock);
    if (index)
        *index = cat.index;
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
        json_object_set_new(cat.health, task_id,
                            json_pack("{s:s, s:s}", "health", health, "reason", reason ? reason : ""));
    pthread_mutex_unlock(&cat.health_lock);
}

/* ---- the writer: helpers ---- */

static json_t *jget(const json_t *o, const char *path)
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
    return (json_t *)v;
}

static const char *sget(const json_t *o, const char *path)
{
    return json_string_value(jget(o, path));
}

/* A label's value: label keys contain dots, so they are looked up whole. */
static const char *label(const json_t *o, const char *labels_path, const char *key)
{
    return json_string_value(json_object_get(jget(o, labels_path), key));
}

static void add_event(json_t *events, const char *type, const char *action, const char *cluster,
                      const char *service, const char *tenant, const char *task, const char *node,
                      const char *from, const char *to)
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

static struct eagle_blob *blob_of(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    struct eagle_blob *b = eagle_blob_new(s, strlen(s));
    free(s);
    return b;
}

static int blob_equal(const struct eagle_blob *a, const struct eagle_blob *b)
{
    return a == b || (a && b && a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

/* 64-bit hashing, to tell an element seen before from a changed one (not for security). */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ mix(n), w;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ mix(w)) * 0x9e3779b97f4a7c15ULL;
        h = (h << 29) | (h >> 35);
    }
    w = 0;
    memcpy(&w, p, n);
    return mix(h ^ mix(w ^ 0x5bd1e995ULL));
}

static uint64_t hash_str(const char *s)
{
    return s ? hash_bytes(s, strlen(s)) : 0x2545f4914f6cdd1dULL;
}

static uint64_t fold(uint64_t h, uint64_t v)
{
    return mix(h ^ v) + 0x9e3779b97f4a7c15ULL;
}

/*
 * An open-addressing table from a 64-bit key (an element's hash, or an id's)
 * to records; several records may share a key, so finding one walks the
 * matches (index_next) and the caller checks the record. No removal.
 */
struct index {
    size_t cap, n; /* cap: 0 or a power of two */
    struct slot {
        uint64_t key;
        void *val;
    } * slots;
};

static void index_put(struct index *ix, uint64_t key, void *val)
{
    if ((ix->n + 1) * 2 > ix->cap) {
        struct index bigger = {.cap = ix->cap ? ix->cap * 2 : 64};
        bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i].val)
                index_put(&bigger, ix->slots[i].key, ix->slots[i].val);
        free(ix->slots);
        *ix = bigger;
    }
    size_t i = key & (ix->cap - 1);
    while (ix->slots[i].val)
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i].key = key;
    ix->slots[i].val = val;
    ix->n++;
}

/* The first (*pos == SIZE_MAX) or next record under key, NULL after the last. */
static void *index_next(const struct index *ix, uint64_t key, size_t *pos)
{
    if (!ix->cap)
        return NULL;
    size_t i = *pos == SIZE_MAX ? key & (ix->cap - 1) : (*pos + 1) & (ix->cap - 1);
    for (; ix->slots[i].val; i = (i + 1) & (ix->cap - 1))
        if (ix->slots[i].key == key) {
            *pos = i;
            return ix->slots[i].val;
        }
    return NULL;
}

static void index_release(struct index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}

static struct svc *svc_by_id(const struct index *ix, const char *id)
{
    size_t pos = SIZE_MAX;
    struct svc *v, *found = NULL;
    while ((v = index_next(ix, hash_str(id), &pos)))
        if (strcmp(v->id, id) == 0)
            found = v; /* the engine's last word on an id wins */
    return found;
}

static struct task *task_by_id(const struct index *ix, const char *id)
{
    size_t pos = SIZE_MAX;
    struct task *t;
    while ((t = index_next(ix, hash_str(id), &pos)))
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

static const struct node *node_by_id(const struct index *ix, const char *id)
{
    size_t pos = SIZE_MAX;
    const struct node *nd, *found = NULL;
    while (id && (nd = index_next(ix, hash_str(id), &pos)))
        if (strcmp(nd->id, id) == 0)
            found = nd;
    return found;
}

/* Copy s (NULL stays NULL) to *cur and move it on. */
static const char *put(char **cur, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *r = memcpy(*cur, s, n);
    *cur += n;
    return r;
}

static size_t size_of(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* ---- records ---- */

static struct svc *svc_new(const json_t *s, uint64_t hash)
{
    const char *id = sget(s, "ID"), *name = sget(s, "Spec.Name");
    if (!id || !name)
        return NULL;
    const char *canary_of = label(s, "Spec.Labels", "eagle.canary-of");
    const char *tenant = label(s, "Spec.Labels", "eagle.tenant");
    const char *dname = canary_of ? canary_of : name;
    struct svc *v = xcalloc(1, sizeof(*v) + size_of(id) + size_of(dname) + size_of(tenant));
    char *cur = v->data;

    v->hash = hash;
    v->canary = canary_of != NULL;
    v->version = json_integer_value(jget(s, "Version.Index"));
    v->id = put(&cur, id);
    v->name = put(&cur, dname);
    v->tenant = put(&cur, tenant);
    v->raw = blob_of(s);
    return v;
}

static void svc_free(struct svc *v)
{
    if (v) {
        eagle_blob_unref(v->raw);
        free(v);
    }
}

/* What an instance takes from its task alone (see struct task). */
static char *instance_fields(const json_t *t, const char *state)
{
    const char *rev = label(t, "Spec.ContainerSpec.Labels", "eagle.revision");
    const char *canary = label(t, "Spec.ContainerSpec.Labels", "eagle.canary");
    json_t *addresses = json_array(), *ports = json_array(), *na, *a, *p;
    size_t i, j;

    json_array_foreach(jget(t, "NetworksAttachments"), i, na)
    {
        const char *net = sget(na, "Network.Spec.Name");
        json_array_foreach(json_object_get(na, "Addresses"), j, a)
            json_array_append_new(addresses, json_pack("{s:s?, s:O}", "network", net, "address", a));
    }
    json_array_foreach(jget(t, "Status.PortStatus.Ports"), i, p)
    {
        /* Swarm lists a host-mode port once per address family: once is enough */
        json_t *port = json_pack("{s:O?, s:O?, s:O?, s:O?}", "target", json_object_get(p, "TargetPort"),
                                 "published", json_object_get(p, "PublishedPort"), "protocol",
                                 json_object_get(p, "Protocol"), "mode", json_object_get(p, "PublishMode"));
        int dup = 0;
        json_t *q;
        json_array_foreach(ports, j, q) dup |= json_equal(q, port);
        if (dup)
            json_decref(port);
        else
            json_array_append_new(ports, port);
    }
    int running = state && strcmp(state, "running") == 0;
    json_t *f = json_pack("[O?, o, b, s?, o, o, s?, s?]", json_object_get(t, "Slot"),
                          rev ? json_integer(atoll(rev)) : json_null(), canary && strcmp(canary, "true") == 0,
                          sget(t, "Status.ContainerStatus.ContainerID"), addresses, ports,
                          running ? sget(t, "Status.Timestamp") : NULL, sget(t, "Status.Err"));
    char *text = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(f);
    return text;
}

static struct task *task_new(const json_t *t, uint64_t hash)
{
    const char *id = sget(t, "ID"), *sid = sget(t, "ServiceID"), *node = sget(t, "NodeID");
    const char *state = sget(t, "Status.State"), *desired = sget(t, "DesiredState");
    char *inst = NULL;

    if (!id || !sid)
        return NULL;
    /* instances: what is meant to run, or still runs while being replaced */
    if ((desired && (strcmp(desired, "running") == 0 || strcmp(desired, "ready") == 0)) ||
        (state && strcmp(state, "running") == 0))
        inst = instance_fields(t, state);
    struct task *k = xcalloc(1, sizeof(*k) + size_of(id) + size_of(sid) + size_of(node) + size_of(state) +
                                    size_of(desired) + size_of(inst));
    char *cur = k->data;
    k->hash = hash;
    k->id = put(&cur, id);
    k->service_id = put(&cur, sid);
    k->node_id = put(&cur, node);
    k->state = put(&cur, state);
    k->desired = put(&cur, desired);
    k->inst = put(&cur, inst);
    free(inst);
    return k;
}

static void nodes_free(struct node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(nodes[i].id);
        free(nodes[i].hostname);
        free(nodes[i].addr);
        free(nodes[i].state);
        free(nodes[i].availability);
    }
    free(nodes);
}

static void entries_free(struct centry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eagle_catalog_entry_release(&entries[i].e);
    free(entries);
}

static void cluster_state_free(struct cluster_state *c)
{
    for (size_t i = 0; i < c->n_svcs; i++)
        svc_free(c->svcs[i]);
    for (size_t i = 0; i < c->n_tasks; i++)
        free(c->tasks[i]);
    free(c->svcs);
    free(c->tasks);
    nodes_free(c->nodes, c->n_nodes);
    entries_free(c->entries, c->n);
    free(c->name);
    free(c);
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
    c->next = cat.clusters;
    cat.clusters = c;
    return c;
}

/* Rebuild the readers' snapshot from every cluster's entries and publish it. */
static uint64_t publish(void)
{
    struct snapshot next = {0}, old;
    size_t total = 0, k = 0;
    uint64_t index;

    for (struct cluster_state *c = cat.clusters; c; c = c->next)
        total += c->n;
    next.entries = xcalloc(total ? total : 1, sizeof(*next.entries));
    for (struct cluster_state *c = cat.clusters; c; c = c->next)
        for (size_t i = 0; i < c->n; i++)
            entry_ref(&next.entries[k++], &c->entries[i].e);
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
    index = ++cat.index;
    pthread_rwlock_unlock(&cat.lock);
    snapshot_free(&old);
    return index;
}

/* ---- a pass ---- */

struct eagle_catalog_pass {
    char *cluster, *datacenter;
    struct cluster_state *c; /* NULL: the first look at this cluster */
    unsigned stamp;
    struct index old_svcs, old_tasks; /* the last pass's records, by element hash */
    struct svc **svcs;                /* this pass's, in the engine's order */
    size_t n_svcs, cap_svcs;
    struct index svc_ids; /* svcs by id */
    struct task **tasks;
    size_t n_tasks, cap_tasks;
    struct node *nodes;
    size_t n_nodes;
    uint64_t nodes_hash;
    size_t parsed_svcs, parsed_tasks; /* elements that were not the same as last time */
};

struct eagle_catalog_pass *eagle_catalog_pass_begin(const char *cluster, const char *datacenter)
{
    struct eagle_catalog_pass *p = xcalloc(1, sizeof(*p));

    pthread_mutex_lock(&cat.writer);
    p->cluster = xstrdup(cluster);
    p->datacenter = xstrdup(datacenter ? datacenter : "");
    p->c = cluster_state(cluster, 0);
    p->stamp = ++cat.passes;
    if (p->c) {
        for (size_t i = 0; i < p->c->n_svcs; i++)
            index_put(&p->old_svcs, p->c->svcs[i]->hash, p->c->svcs[i]);
        for (size_t i = 0; i < p->c->n_tasks; i++)
            index_put(&p->old_tasks, p->c->tasks[i]->hash, p->c->tasks[i]);
    }
    return p;
}

static json_t *parse_element(const char *json, size_t len, struct eagle_err *err)
{
    json_error_t jerr;
    json_t *v = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!v)
        eagle_err_set(err, 502, "engine_error", NULL, "invalid JSON from the engine: %s", jerr.text);
    return v;
}

/* A record of the last pass with this exact text, not yet taken by this pass. */
static void *unchanged(const struct index *old, uint64_t hash, unsigned stamp, int is_task)
{
    size_t pos = SIZE_MAX;
    void *r;
    while ((r = index_next(old, hash, &pos))) {
        unsigned *s = is_task ? &((struct task *)r)->stamp : &((struct svc *)r)->stamp;
        if (*s != stamp)
            return r;
    }
    return NULL;
}

int eagle_catalog_pass_service(struct eagle_catalog_pass *p, const char *json, size_t len,
                               struct eagle_err *err)
{
    uint64_t hash = hash_bytes(json, len);
    struct svc *v = unchanged(&p->old_svcs, hash, p->stamp, 0);

    if (!v) {
        json_t *s = parse_element(json, len, err);
        if (!s)
            return -1;
        v = svc_new(s, hash);
        json_decref(s);
        p->parsed_svcs++;
        if (!v)
            return 0; /* no id or name: not a service */
    }
    v->stamp = p->stamp;
    if (p->n_svcs == p->cap_svcs) {
        p->cap_svcs = p->cap_svcs ? p->cap_svcs * 2 : 64;
        p->svcs = xrealloc(p->svcs, p->cap_svcs * sizeof(*p->svcs));
    }
    p->svcs[p->n_svcs++] = v;
    index_put(&p->svc_ids, hash_str(v->id), v);
    return 0;
}

int eagle_catalog_pass_task(struct eagle_catalog_pass *p, const char *json, size_t len, struct eagle_err *err)
{
    uint64_t hash = hash_bytes(json, len);
    struct task *t = unchanged(&p->old_tasks, hash, p->stamp, 1);

    if (!t) {
        json_t *o = parse_element(json, len, err);
        if (!o)
            return -1;
        t = task_new(o, hash);
        json_decref(o);
        p->parsed_tasks++;
        if (!t)
            return 0; /* no id or service: not a task */
        if (!svc_by_id(&p->svc_ids, t->service_id)) {
            free(t); /* a service this pass did not see (just removed, say) */
            return 0;
        }
    } else if (!svc_by_id(&p->svc_ids, t->service_id)) {
        return 0;
    }
    t->stamp = p->stamp;
    if (p->n_tasks == p->cap_tasks) {
        p->cap_tasks = p->cap_tasks ? p->cap_tasks * 2 : 256;
        p->tasks = xrealloc(p->tasks, p->cap_tasks * sizeof(*p->tasks));
    }
    p->tasks[p->n_tasks++] = t;
    return 0;
}

void eagle_catalog_pass_nodes(struct eagle_catalog_pass *p, const json_t *nodes)
{
    size_t i, n = 0;
    json_t *nd;
    uint64_t h = 0x6a09e667f3bcc908ULL;

    nodes_free(p->nodes, p->n_nodes);
    p->nodes = xcalloc(json_array_size(nodes) + 1, sizeof(*p->nodes));
    json_array_foreach(nodes, i, nd)
    {
        const char *id = sget(nd, "ID");
        if (!id)
            continue;
        struct node *x = &p->nodes[n++];
        x->id = xstrdup(id);
        x->hostname = xstrdup(sget(nd, "Description.Hostname"));
        x->addr = xstrdup(sget(nd, "Status.Addr"));
        x->state = xstrdup(sget(nd, "Status.State"));
        x->availability = xstrdup(sget(nd, "Spec.Availability"));
        h = fold(fold(fold(h, hash_str(x->id)), hash_str(x->hostname)), hash_str(x->addr));
    }
    p->n_nodes = n;
    p->nodes_hash = h;
}

/* Free the pass; with drop_new, also the records it made (not those it kept from the last pass). */
static void pass_free(struct eagle_catalog_pass *p, int drop_new)
{
    size_t pos;
    if (drop_new) {
        for (size_t i = 0; i < p->n_svcs; i++) {
            pos = SIZE_MAX;
            void *r;
            while ((r = index_next(&p->old_svcs, p->svcs[i]->hash, &pos)) && r != p->svcs[i])
                ;
            if (!r)
                svc_free(p->svcs[i]);
        }
        for (size_t i = 0; i < p->n_tasks; i++) {
            pos = SIZE_MAX;
            void *r;
            while ((r = index_next(&p->old_tasks, p->tasks[i]->hash, &pos)) && r != p->tasks[i])
                ;
            if (!r)
                free(p->tasks[i]);
        }
        free(p->svcs);
        free(p->tasks);
        nodes_free(p->nodes, p->n_nodes);
    }
    index_release(&p->old_svcs);
    index_release(&p->old_tasks);
    index_release(&p->svc_ids);
    free(p->cluster);
    free(p->datacenter);
    free(p);
}

void eagle_catalog_pass_abort(struct eagle_catalog_pass *p)
{
    if (!p)
        return;
    pass_free(p, 1);
    pthread_mutex_unlock(&cat.writer);
}

/* ---- commit: answers ---- */

/* A discovery name and what its answer is made of. */
struct group {
    const char *name;
    const struct svc *raw; /* whose object, labels and replicas the answer shows */
    struct task **inst;    /* its instances, in the engine's order */
    size_t n_inst, cap_inst;
    uint64_t fp;
};

static struct group *group_of(struct index *ix, struct group **groups, size_t *n, size_t *cap,
                              const char *name)
{
    size_t pos = SIZE_MAX;
    void *r;
    uint64_t h = hash_str(name);
    while ((r = index_next(ix, h, &pos))) {
        struct group *g = &(*groups)[(size_t)r - 1];
        if (strcmp(g->name, name) == 0)
            return g;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *groups = xrealloc(*groups, *cap * sizeof(**groups));
    }
    struct group *g = &(*groups)[(*n)++];
    memset(g, 0, sizeof(*g));
    g->name = name;
    index_put(ix, h, (void *)*n); /* position + 1: never NULL */
    return g;
}

/* The health checker's word on a task (call with cat.health_lock held). */
static const char *health_of(const char *task_id, const char **reason)
{
    json_t *h = cat.health && task_id ? json_object_get(cat.health, task_id) : NULL;
    const char *hs = h ? json_string_value(json_object_get(h, "health")) : NULL;
    *reason = h ? json_string_value(json_object_get(h, "reason")) : NULL;
    return hs ? hs : "unknown";
}

static json_t *instance_json(const struct task *t, const struct index *nodes, const char *datacenter)
{
    json_t *f = json_loads(t->inst, 0, NULL);
    const struct node *node = node_by_id(nodes, t->node_id);
    const char *reason, *hs = health_of(t->id, &reason);
    int running = t->state && strcmp(t->state, "running") == 0;
    int desired_running = t->desired && strcmp(t->desired, "running") == 0;
    json_t *inst = json_pack(
        "{s:s?, s:O?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:O?, s:b, s:O?, s:O?, "
        "s:O?, s:O?, s:s, s:O?}",
        "task_id", t->id, "slot", json_array_get(f, 0), "node_id", t->node_id, "node",
        node ? node->hostname : NULL, "host_addr", node ? node->addr : NULL, "state", t->state,
        "desired_state", t->desired, "health", hs, "health_reason", reason, "healthy",
        running && desired_running && strcmp(hs, "unhealthy") != 0, "revision", json_array_get(f, 1),
        "canary", json_is_true(json_array_get(f, 2)), "container_id", json_array_get(f, 3), "addresses",
        json_array_get(f, 4), "ports", json_array_get(f, 5), "started_at", json_array_get(f, 6), "datacenter",
        datacenter, "error", json_array_get(f, 7));
    json_decref(f);
    return inst;
}

/*
 * Render g's answer into e (with cat.health_lock held). When old is given and the answer is the same byte
 * for byte, e shares old's blobs and index and 0 is returned; otherwise e gets
 * new blobs at the next index and 1 is returned.
 */
static int render(const struct group *g, const struct centry *old, const char *cluster,
                  const char *datacenter, const struct index *nodes, struct eagle_catalog_entry *e)
{
    json_t *raw = json_loadb(g->raw->raw->data, g->raw->raw->len, 0, NULL);
    json_t *instances = json_array();
    const char *tenant_label = label(raw, "Spec.Labels", "eagle.tenant");
    json_t *labels = jget(raw, "Spec.Labels");
    json_t *replicas = jget(raw, "Spec.Mode.Replicated.Replicas");
    const char *rev = label(raw, "Spec.Labels", "eagle.revision");
    int changed = 1;

    for (size_t i = 0; i < g->n_inst; i++)
        json_array_append_new(instances, instance_json(g->inst[i], nodes, datacenter));
    json_t *l = labels ? json_incref(labels) : json_object();
    json_t *answer = json_pack("{s:s, s:s?, s:s, s:s, s:O, s:s, s:O?, s:o, s:O}", "name", g->name, "tenant",
                               tenant_label, "cluster", cluster, "datacenter", datacenter, "labels", l,
                               "mode", replicas ? "replicated" : "global", "replicas", replicas, "revision",
                               rev ? json_integer(atoll(rev)) : json_null(), "instances", instances);
    snprintf(e->name, sizeof(e->name), "%s", g->name);
    snprintf(e->tenant, sizeof(e->tenant), "%s", tenant_label ? tenant_label : "");
    snprintf(e->cluster, sizeof(e->cluster), "%s", cluster);
    snprintf(e->datacenter, sizeof(e->datacenter), "%s", datacenter);
    if (old) {
        /* the same answer at the old index? Swarm's own object (format=docker) changes without
         * Eagle's answer changing (UpdateStatus, Version): it is part of what "changed" means */
        json_object_set_new(answer, "modify_index", json_integer((json_int_t)old->e.modify_index));
        struct eagle_blob *all = blob_of(answer);
        if (blob_equal(all, old->e.all) && blob_equal(g->raw->raw, old->e.docker)) {
            entry_ref(e, &old->e);
            changed = 0;
        }
        eagle_blob_unref(all);
    }
    if (changed) {
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
        e->docker = eagle_blob_ref(g->raw->raw);
        e->labels = blob_of(l);
    }
    json_decref(l);
    json_decref(answer);
    json_decref(instances);
    json_decref(raw);
    return changed;
}

static int centry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct centry *)a)->e.name, ((const struct centry *)b)->e.name);
}

static const struct centry *old_entry(const struct cluster_state *c, const char *name)
{
    struct centry key;
    if (!c || !c->n)
        return NULL;
    snprintf(key.e.name, sizeof(key.e.name), "%s", name);
    return bsearch(&key, c->entries, c->n, sizeof(key), centry_cmp);
}

/* ---- commit: events ---- */

static void diff(const struct eagle_catalog_pass *p, json_t *events)
{
    const struct cluster_state *c = p->c;
    struct index old_svc_ids = {0}, old_task_ids = {0}, task_ids = {0}, old_node_ids = {0}, node_ids = {0};
    const char *cl = p->cluster;
    /* nothing parsed and as many as before: the same records, so no events (most passes) */
    int svcs_same = p->parsed_svcs == 0 && p->n_svcs == c->n_svcs;
    int tasks_same = p->parsed_tasks == 0 && p->n_tasks == c->n_tasks;

    for (size_t i = 0; i < c->n_svcs && !(svcs_same && tasks_same); i++)
        index_put(&old_svc_ids, hash_str(c->svcs[i]->id), c->svcs[i]);
    for (size_t i = 0; i < c->n_tasks && !tasks_same; i++)
        index_put(&old_task_ids, hash_str(c->tasks[i]->id), c->tasks[i]);
    for (size_t i = 0; i < p->n_tasks && !tasks_same; i++)
        index_put(&task_ids, hash_str(p->tasks[i]->id), p->tasks[i]);
    for (size_t i = 0; i < c->n_nodes; i++)
        index_put(&old_node_ids, hash_str(c->nodes[i].id), &c->nodes[i]);
    for (size_t i = 0; i < p->n_nodes; i++)
        index_put(&node_ids, hash_str(p->nodes[i].id), &p->nodes[i]);

    for (size_t i = 0; i < p->n_svcs && !svcs_same; i++) {
        const struct svc *v = p->svcs[i], *o = svc_by_id(&old_svc_ids, v->id);
        if (svc_by_id(&p->svc_ids, v->id) != v)
            continue; /* listed twice: the last one counts */
        if (!o)
            add_event(events, "service", "create", cl, v->name, v->tenant, NULL, NULL, NULL, NULL);
        else if (o->version != v->version)
            add_event(events, "service", "update", cl, v->name, v->tenant, NULL, NULL, NULL, NULL);
    }
    for (size_t i = 0; i < c->n_svcs && !svcs_same; i++) {
        const struct svc *o = c->svcs[i];
        if (svc_by_id(&old_svc_ids, o->id) == o && !svc_by_id(&p->svc_ids, o->id))
            add_event(events, "service", "remove", cl, o->name, o->tenant, NULL, NULL, NULL, NULL);
    }
    for (size_t i = 0; i < p->n_tasks && !tasks_same; i++) {
        const struct task *t = p->tasks[i], *o = task_by_id(&old_task_ids, t->id);
        const struct svc *v = svc_by_id(&p->svc_ids, t->service_id);
        if (task_by_id(&task_ids, t->id) != t)
            continue;
        if (!o)
            add_event(events, "task", "create", cl, v->name, v->tenant, t->id, t->node_id, NULL, t->state);
        else if (o->state && t->state && strcmp(o->state, t->state) != 0)
            add_event(events, "task", "state", cl, v->name, v->tenant, t->id, t->node_id, o->state, t->state);
    }
    for (size_t i = 0; i < c->n_tasks && !tasks_same; i++) {
        const struct task *o = c->tasks[i];
        const struct svc *v = svc_by_id(&old_svc_ids, o->service_id);
        if (task_by_id(&old_task_ids, o->id) == o && !task_by_id(&task_ids, o->id)) {
            add_event(events, "task", "remove", cl, v ? v->name : NULL, v ? v->tenant : NULL, o->id,
                      o->node_id, o->state, NULL);
            pthread_mutex_lock(&cat.health_lock); /* the engine forgot it: so does the health map */
            if (cat.health)
                json_object_del(cat.health, o->id);
            pthread_mutex_unlock(&cat.health_lock);
        }
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        const struct node *x = &p->nodes[i], *o = node_by_id(&old_node_ids, x->id);
        char was[64], now[64];
        if (node_by_id(&node_ids, x->id) != x)
            continue;
        snprintf(now, sizeof(now), "%s/%s", x->state ?: "", x->availability ?: "");
        if (!o) {
            add_event(events, "node", "create", cl, NULL, NULL, NULL, x->id, NULL, now);
            continue;
        }
        snprintf(was, sizeof(was), "%s/%s", o->state ?: "", o->availability ?: "");
        if (strcmp(was, now) != 0)
            add_event(events, "node", "update", cl, NULL, NULL, NULL, x->id, was, now);
    }
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct node *o = &c->nodes[i];
        if (node_by_id(&old_node_ids, o->id) == o && !node_by_id(&node_ids, o->id))
            add_event(events, "node", "remove", cl, NULL, NULL, NULL, o->id, NULL, NULL);
    }
    index_release(&old_svc_ids);
    index_release(&old_task_ids);
    index_release(&task_ids);
    index_release(&old_node_ids);
    index_release(&node_ids);
}

size_t eagle_catalog_pass_commit(struct eagle_catalog_pass *p, json_t *events)
{
    struct group *groups = NULL;
    size_t n_groups = 0, cap_groups = 0, changed = 0;
    struct index group_ix = {0}, node_ix = {0};
    uint64_t index = 0;

    /* discovery names: one per engine service, or per group of canaries */
    for (size_t i = 0; i < p->n_svcs; i++) {
        const struct svc *v = p->svcs[i];
        struct group *g = group_of(&group_ix, &groups, &n_groups, &cap_groups, v->name);
        /* a canary group shows its service's object; its own only while the service has none */
        if (!v->canary || !g->raw)
            g->raw = v;
    }
    for (size_t i = 0; i < p->n_tasks; i++) {
        struct task *t = p->tasks[i];
        if (!t->inst)
            continue;
        const struct svc *v = svc_by_id(&p->svc_ids, t->service_id);
        struct group *g = group_of(&group_ix, &groups, &n_groups, &cap_groups, v->name);
        if (g->n_inst == g->cap_inst) {
            g->cap_inst = g->cap_inst ? g->cap_inst * 2 : 8;
            g->inst = xrealloc(g->inst, g->cap_inst * sizeof(*g->inst));
        }
        g->inst[g->n_inst++] = t;
    }
    for (size_t i = 0; i < p->n_nodes; i++)
        index_put(&node_ix, hash_str(p->nodes[i].id), &p->nodes[i]);

    /* fingerprints; health is read under one lock for them and the answers, so an answer
     * always shows the health its fingerprint was taken with */
    uint64_t base = fold(hash_str(p->datacenter), p->nodes_hash);
    pthread_mutex_lock(&cat.health_lock);
    for (size_t i = 0; i < n_groups; i++) {
        struct group *g = &groups[i];
        g->fp = fold(base, g->raw->hash);
        for (size_t k = 0; k < g->n_inst; k++) {
            const char *reason, *hs = health_of(g->inst[k]->id, &reason);
            g->fp = fold(fold(fold(g->fp, g->inst[k]->hash), hash_str(hs)), hash_str(reason));
        }
        g->fp = fold(g->fp, g->n_inst);
    }

    /* this cluster's entries: the unchanged share their blobs, the rest are rendered */
    struct centry *entries = xcalloc(n_groups + 1, sizeof(*entries));
    for (size_t i = 0; i < n_groups; i++) {
        const struct group *g = &groups[i];
        const struct centry *old = old_entry(p->c, g->name);
        entries[i].fp = g->fp;
        if (old && old->fp == g->fp)
            entry_ref(&entries[i].e, &old->e);
        else
            changed += render(g, old, p->cluster, p->datacenter, &node_ix, &entries[i].e);
    }
    pthread_mutex_unlock(&cat.health_lock);
    qsort(entries, n_groups, sizeof(*entries), centry_cmp);
    /* removed names count as changes */
    if (p->c)
        for (size_t k = 0; k < p->c->n; k++)
            if (!bsearch(&p->c->entries[k], entries, n_groups, sizeof(*entries), centry_cmp))
                changed++;

    /* The first view of a cluster (at start) is the baseline, not a burst of "create" events. */
    if (p->c)
        diff(p, events);

    /* install: the last pass's records that this one did not keep go */
    struct cluster_state *c = p->c ? p->c : cluster_state(p->cluster, 1);
    for (size_t i = 0; i < c->n_svcs; i++)
        if (c->svcs[i]->stamp != p->stamp)
            svc_free(c->svcs[i]);
    for (size_t i = 0; i < c->n_tasks; i++)
        if (c->tasks[i]->stamp != p->stamp)
            free(c->tasks[i]);
    free(c->svcs);
    free(c->tasks);
    nodes_free(c->nodes, c->n_nodes);
    entries_free(c->entries, c->n);
    c->svcs = p->svcs;
    c->n_svcs = p->n_svcs;
    c->tasks = p->tasks;
    c->n_tasks = p->n_tasks;
    c->nodes = p->nodes;
    c->n_nodes = p->n_nodes;
    c->nodes_hash = p->nodes_hash;
    c->entries = entries;
    c->n = n_groups;
    if (json_array_size(events) > 0 && !changed)
        changed = 1; /* node changes move the index too */
    if (changed)
        index = publish(); /* unchanged: the readers' snapshot already holds these entries */
    pass_free(p, 0);
    pthread_mutex_unlock(&cat.writer);

    for (size_t i = 0; i < n_groups; i++)
        free(groups[i].inst);
    free(groups);
    index_release(&group_ix);
    index_release(&node_ix);
    if (changed && cat.listener)
        cat.listener(index, cat.listener_ud);
    return changed;
}

/* ---- whole arrays ---- */

static int feed_array(struct eagle_catalog_pass *p, const json_t *arr,
                      int (*fn)(struct eagle_catalog_pass *, const char *, size_t, struct eagle_err *))
{
    struct eagle_err err;
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        int rc = text ? fn(p, text, strlen(text), &err) : -1;
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

size_t eagle_catalog_replace_cluster(const char *cluster, const char *datacenter, const json_t *services,
                                     const json_t *tasks, const json_t *nodes, json_t *events)
{
    struct eagle_catalog_pass *p = eagle_catalog_pass_begin(cluster, datacenter);

    if (feed_array(p, services, eagle_catalog_pass_service) < 0 ||
        feed_array(p, tasks, eagle_catalog_pass_task) < 0) {
        eagle_catalog_pass_abort(p);
        return 0;
    }
    eagle_catalog_pass_nodes(p, nodes);
    return eagle_catalog_pass_commit(p, events);
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
        cluster_state_free(c);
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
