/*
 * discovery.c — what programs (a CDN scheduler, a cache tier) ask: which
 * instances of a service exist, where, and whether they are healthy; and the
 * stream of what changes. These handlers run on the event loops and read only
 * memory (the catalog's prebuilt answers and the event ring).
 *
 * Blocking queries (Consul's): with ?index=N the call returns at once when the
 * answer's index is past N, else when it changes or ?wait= (default 5m, at most
 * 10m) runs out. X-Eagle-Index carries the index on every answer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "events/events.h"

#define WAIT_DEFAULT_MS (5 * 60 * 1000)
#define WAIT_MAX_MS (10 * 60 * 1000)

/* ?index=N&wait=D: 0, or -1 with err. */
static int blocking_args(struct eagle_call *call, uint64_t *index, int *have_index, struct eagle_err *err)
{
    char buf[32];
    const char *v;

    *have_index = 0;
    *index = 0;
    call->wait_ms = WAIT_DEFAULT_MS;
    if ((v = eagle_api_query(call, "index", buf, sizeof(buf)))) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *end || v[0] == '-' || errno == ERANGE)
            return eagle_err_invalid(err, "index", "index must be a non-negative integer (at most 2^64-1)");
        *index = n;
        *have_index = 1;
    }
    if ((v = eagle_api_query(call, "wait", buf, sizeof(buf)))) {
        int64_t ns;
        if (eagle_parse_duration(v, &ns) < 0)
            return eagle_err_invalid(err, "wait", "wait must be a duration such as \"30s\" or \"5m\"");
        call->wait_ms = ns / 1000000;
        if (call->wait_ms > WAIT_MAX_MS)
            call->wait_ms = WAIT_MAX_MS;
    }
    return 0;
}

static int flag(struct eagle_call *call, const char *name)
{
    char buf[8];
    const char *v = eagle_api_query(call, name, buf, sizeof(buf));
    return v && (strcmp(v, "") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

/* ?label=k=v or ?label=k against the service's labels blob. */
static int label_matches(const struct eagle_catalog_entry *e, const char *want)
{
    char key[256];
    const char *eq = strchr(want, '=');
    size_t n = eq ? (size_t)(eq - want) : strlen(want);
    json_t *labels, *v;
    int ok;

    if (n >= sizeof(key))
        return 0;
    memcpy(key, want, n);
    key[n] = 0;
    labels = json_loadb(e->labels->data, e->labels->len, 0, NULL);
    v = json_object_get(labels, key);
    ok = v && (!eq || (json_is_string(v) && strcmp(json_string_value(v), eq + 1) == 0));
    json_decref(labels);
    return ok;
}

int api_discovery_get(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_catalog_entry e;
    uint64_t index;
    int have_index, found;
    char fmt[16], dc[64];
    const char *format = eagle_api_query(call, "format", fmt, sizeof(fmt));
    const char *want_dc = eagle_api_query(call, "datacenter", dc, sizeof(dc));

    if (blocking_args(call, &index, &have_index, err) < 0)
        return -1;
    if (!eagle_catalog_primed() && !call->timed_out) { /* just started: wait for the first look */
        call->suspend = 1;
        return 0;
    }
    if (format && strcmp(format, "docker") != 0 && strcmp(format, "eagle") != 0)
        return eagle_err_invalid(err, "format", "format must be \"eagle\" (default) or \"docker\"");
    found = eagle_catalog_get(call->params[0], &e) == 0;
    if (found &&
        (!eagle_api_tenant_visible(call, e.tenant) || (want_dc && strcmp(e.datacenter, want_dc) != 0))) {
        eagle_catalog_entry_release(&e);
        found = 0;
    }
    if (!found) {
        uint64_t now = eagle_catalog_index();
        if (have_index && now <= index && !call->timed_out) {
            call->suspend = 1; /* wait for it to appear */
            return 0;
        }
        call->index_header = now;
        return eagle_err_notfound(err, "service '%s' is not in the catalog", call->params[0]);
    }
    if (have_index && e.modify_index <= index && !call->timed_out) {
        eagle_catalog_entry_release(&e);
        call->suspend = 1;
        return 0;
    }
    struct eagle_blob *b = format && strcmp(format, "docker") == 0 ? e.docker
                           : flag(call, "healthy")                 ? e.healthy
                                                                   : e.all;
    call->raw_blob = eagle_blob_ref(b);
    call->raw = b->data;
    call->raw_len = b->len;
    call->raw_type = "application/json";
    call->index_header = e.modify_index;
    eagle_catalog_entry_release(&e);
    return 0;
}

/*
 * The whole catalog's answers, kept per index. Building one copies every
 * service's prebuilt answer (2 MB at 1,000 services), so the readers of one
 * index share one copy. A slot is keyed by the index, the filters and what the
 * caller may see (every tenant, or its own tenants); slots of older indexes
 * go at the next build, and the bytes kept are bounded.
 */
#define LIST_SLOTS 4
#define LIST_CACHE_MAX (4u << 20)

static struct {
    pthread_mutex_t lock;
    struct {
        uint64_t index;
        char *key;
        struct eagle_blob *blob;
    } slot[LIST_SLOTS];
} list_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The filters, each as "-" when absent or "<length>:<value>", then who the
 * caller is to the catalog: "*" for admins, else their tenants. NULL when that
 * does not fit (then the answer is not kept). */
static char *list_key(struct eagle_call *call, int healthy, const char *tenant, const char *dc,
                      const char *label)
{
    const char *f[] = {tenant, dc, label};
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%d", healthy);

    for (int i = 0; i < 3 && n < sizeof(buf); i++)
        n += f[i] ? (size_t)snprintf(buf + n, sizeof(buf) - n, "|%zu:%s", strlen(f[i]), f[i])
                  : (size_t)snprintf(buf + n, sizeof(buf) - n, "|-");
    if (n < sizeof(buf) && eagle_api_is_admin(call)) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "|*");
    } else {
        json_t *t;
        size_t i;
        json_array_foreach(json_object_get(call->user, "tenants"), i, t)
        {
            if (n >= sizeof(buf))
                break;
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "|%s", json_string_value(t) ?: "");
        }
    }
    return n < sizeof(buf) ? xstrdup(buf) : NULL;
}

static struct eagle_blob *list_cache_get(uint64_t index, const char *key)
{
    struct eagle_blob *b = NULL;
    pthread_mutex_lock(&list_cache.lock);
    for (int i = 0; i < LIST_SLOTS && !b; i++)
        if (list_cache.slot[i].blob && list_cache.slot[i].index == index &&
            strcmp(list_cache.slot[i].key, key) == 0)
            b = eagle_blob_ref(list_cache.slot[i].blob);
    pthread_mutex_unlock(&list_cache.lock);
    return b;
}

static void list_cache_drop(int i)
{
    eagle_blob_unref(list_cache.slot[i].blob);
    free(list_cache.slot[i].key);
    list_cache.slot[i].blob = NULL;
    list_cache.slot[i].key = NULL;
}

/* Keep `b` for (index, key); takes over `key`. Nothing is kept for an index
 * older than one already kept, or past LIST_CACHE_MAX bytes. */
static void list_cache_put(uint64_t index, char *key, struct eagle_blob *b)
{
    size_t kept = 0;
    int free_slot = -1, newer = 0;

    pthread_mutex_lock(&list_cache.lock);
    for (int i = 0; i < LIST_SLOTS; i++) {
        if (!list_cache.slot[i].blob)
            continue;
        if (list_cache.slot[i].index > index)
            newer = 1;
        else if (list_cache.slot[i].index < index || strcmp(list_cache.slot[i].key, key) == 0)
            list_cache_drop(i);
    }
    if (!newer && b->len <= LIST_CACHE_MAX) {
        for (int i = 0; i < LIST_SLOTS; i++)
            if (list_cache.slot[i].blob)
                kept += list_cache.slot[i].blob->len;
        for (int i = 0; i < LIST_SLOTS; i++) {
            if (list_cache.slot[i].blob &&
                (kept + b->len > LIST_CACHE_MAX || (free_slot < 0 && i == LIST_SLOTS - 1))) {
                kept -= list_cache.slot[i].blob->len; /* make room */
                list_cache_drop(i);
            }
            if (!list_cache.slot[i].blob && free_slot < 0)
                free_slot = i;
        }
        list_cache.slot[free_slot].index = index;
        list_cache.slot[free_slot].key = key;
        list_cache.slot[free_slot].blob = eagle_blob_ref(b);
        key = NULL;
    }
    pthread_mutex_unlock(&list_cache.lock);
    free(key);
}

void eagle_discovery_cache_clear(void)
{
    pthread_mutex_lock(&list_cache.lock);
    for (int i = 0; i < LIST_SLOTS; i++)
        list_cache_drop(i);
    pthread_mutex_unlock(&list_cache.lock);
}

int api_discovery_list(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_catalog_entry *entries;
    struct eagle_blob *out;
    uint64_t index, now;
    int have_index, healthy = flag(call, "healthy");
    char tenant[64], dc[64], lab[512], *key;
    const char *want_tenant = eagle_api_query(call, "tenant", tenant, sizeof(tenant));
    const char *want_dc = eagle_api_query(call, "datacenter", dc, sizeof(dc));
    const char *want_label = eagle_api_query(call, "label", lab, sizeof(lab));

    if (blocking_args(call, &index, &have_index, err) < 0)
        return -1;
    if (!eagle_catalog_primed() && !call->timed_out) {
        call->suspend = 1;
        return 0;
    }
    now = eagle_catalog_index();
    if (have_index && now <= index && !call->timed_out) {
        call->suspend = 1;
        return 0;
    }
    key = list_key(call, healthy, want_tenant, want_dc, want_label);
    if (!key || !(out = list_cache_get(now, key))) {
        size_t n = eagle_catalog_list(&entries, &now), len, kept = 0;
        char head[64];
        int hlen = snprintf(head, sizeof(head), "{\"index\":%llu,\"services\":[", (unsigned long long)now);

        len = (size_t)hlen + 2; /* the head, "]}" */
        for (size_t i = 0; i < n; i++) {
            struct eagle_catalog_entry *e = &entries[i];
            int keep = eagle_api_tenant_visible(call, e->tenant) &&
                       (!want_tenant || strcmp(e->tenant, want_tenant) == 0) &&
                       (!want_dc || strcmp(e->datacenter, want_dc) == 0) &&
                       (!want_label || label_matches(e, want_label));
            if (keep) {
                entries[kept++] = *e;
                len += (healthy ? e->healthy : e->all)->len + 1;
            } else {
                eagle_catalog_entry_release(e);
            }
        }
        len -= kept ? 1 : 0; /* commas between */
        out = eagle_blob_new(NULL, len);
        char *p = out->data;
        memcpy(p, head, (size_t)hlen);
        p += hlen;
        for (size_t i = 0; i < kept; i++) {
            struct eagle_blob *b = healthy ? entries[i].healthy : entries[i].all;
            if (i)
                *p++ = ',';
            memcpy(p, b->data, b->len);
            p += b->len;
            eagle_catalog_entry_release(&entries[i]);
        }
        memcpy(p, "]}", 2);
        free(entries);
        if (key) {
            list_cache_put(now, key, out);
            key = NULL;
        }
    }
    free(key);
    call->raw_blob = out;
    call->raw = out->data;
    call->raw_len = out->len;
    call->raw_type = "application/json";
    call->index_header = now;
    return 0;
}

/* GET /v1/events?type=task,service&service=web&tenant=t, resumable with Last-Event-ID (or ?last_event_id=).
 */
int api_events(struct eagle_call *call, struct eagle_err *err)
{
    char types[128], service[64], tenant[64], last[32];
    const char *t = eagle_api_query(call, "type", types, sizeof(types));
    const char *s = eagle_api_query(call, "service", service, sizeof(service));
    const char *tn = eagle_api_query(call, "tenant", tenant, sizeof(tenant));
    const char *l = eagle_api_query(call, "last_event_id", last, sizeof(last));

    if (call->last_event_header) /* a reconnecting client's header wins over the URL it reuses */
        l = call->last_event_header;
    call->last_event_id = eagle_events_last_id(); /* default: from now on */
    if (l) {
        char *end;
        unsigned long long n = strtoull(l, &end, 10);
        if (!*l || *end || l[0] == '-')
            return eagle_err_invalid(err, "last_event_id", "Last-Event-ID must be a non-negative integer");
        call->last_event_id = n;
    }
    if (t) {
        static const char *known[] = {"service", "task", "node", "release", "build", "health", NULL};
        char copy[128], *save = NULL;
        snprintf(copy, sizeof(copy), "%s", t);
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int ok = 0;
            for (int i = 0; known[i] && !ok; i++)
                ok = strcmp(known[i], tok) == 0;
            if (!ok)
                return eagle_err_invalid(err, "type",
                                         "unknown event type '%s' (service, task, node, release, "
                                         "build, health)",
                                         tok);
        }
    }
    if (tn && !eagle_api_tenant_visible(call, tn))
        return eagle_err_notfound(err, "tenant '%s' not found", tn);
    call->stream_filter = json_pack("{s:s?, s:s?, s:s?}", "type", t, "service", s, "tenant", tn);
    call->stream = 1;
    return 0;
}

int eagle_api_event_visible(const struct eagle_call *call, const struct eagle_event *e)
{
    const char *types = json_string_value(json_object_get(call->stream_filter, "type"));
    const char *service = json_string_value(json_object_get(call->stream_filter, "service"));
    const char *tenant = json_string_value(json_object_get(call->stream_filter, "tenant"));

    if (e->type[0] == 'n' && strcmp(e->type, "node") == 0 && !eagle_api_is_admin(call))
        return 0; /* nodes are the platform's */
    if (strcmp(e->type, "node") != 0 && !eagle_api_tenant_visible(call, e->tenant))
        return 0;
    if (service && strcmp(service, e->service) != 0)
        return 0;
    if (tenant && strcmp(tenant, e->tenant) != 0)
        return 0;
    if (types) {
        size_t n = strlen(e->type);
        for (const char *p = types; p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == n && strncmp(p, e->type, n) == 0)
                return 1;
            p = comma ? comma + 1 : NULL;
        }
        return 0;
    }
    return 1;
}
