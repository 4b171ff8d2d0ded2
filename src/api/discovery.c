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
    if (found && (!eagle_api_tenant_visible(call, e.tenant) || (want_dc && strcmp(e.datacenter, want_dc) != 0))) {
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
    struct eagle_blob *b = format && strcmp(format, "docker") == 0 ? e.docker : flag(call, "healthy") ? e.healthy : e.all;
    call->raw_blob = eagle_blob_ref(b);
    call->raw = b->data;
    call->raw_len = b->len;
    call->raw_type = "application/json";
    call->index_header = e.modify_index;
    eagle_catalog_entry_release(&e);
    return 0;
}

int api_discovery_list(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_catalog_entry *entries;
    uint64_t index, now;
    int have_index, healthy = flag(call, "healthy");
    char tenant[64], dc[64], lab[512];
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
    size_t n = eagle_catalog_list(&entries), cap = 256, len = 0;
    char *out = xmalloc(cap);
    int first = 1;
    len = (size_t)snprintf(out, cap, "{\"index\":%llu,\"services\":[", (unsigned long long)now);
    for (size_t i = 0; i < n; i++) {
        struct eagle_catalog_entry *e = &entries[i];
        int keep = eagle_api_tenant_visible(call, e->tenant) && (!want_tenant || strcmp(e->tenant, want_tenant) == 0) &&
                   (!want_dc || strcmp(e->datacenter, want_dc) == 0) && (!want_label || label_matches(e, want_label));
        if (keep) {
            struct eagle_blob *b = healthy ? e->healthy : e->all;
            if (len + b->len + 8 > cap) {
                cap = (len + b->len + 8) * 2;
                out = xrealloc(out, cap);
            }
            if (!first)
                out[len++] = ',';
            memcpy(out + len, b->data, b->len);
            len += b->len;
            first = 0;
        }
        eagle_catalog_entry_release(e);
    }
    free(entries);
    memcpy(out + len, "]}", 3);
    len += 2;
    call->raw_blob = eagle_blob_new(out, len);
    free(out);
    call->raw = call->raw_blob->data;
    call->raw_len = len;
    call->raw_type = "application/json";
    call->index_header = now;
    return 0;
}

/* GET /v1/events?type=task,service&service=web&tenant=t, resumable with Last-Event-ID (or ?last_event_id=). */
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
                return eagle_err_invalid(err, "type", "unknown event type '%s' (service, task, node, release, "
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
