/*
 * notify.c — see notify.h.
 *
 * One thread, one libcurl multi handle, one store connection. The thread
 * keeps every subscription in memory (reloaded from the store every second,
 * or at once when poked) with its cursor, its consecutive failures and the
 * time of its next attempt. Each pass:
 *   1. every subscription with nothing in flight whose time has come looks at
 *      the events after its cursor (eagle_events_since, memory only): events
 *      it does not match are passed over, the first one it matches is sent;
 *   2. libcurl moves every transfer along without blocking;
 *   3. each finished transfer is recorded in one transaction: a delivery row,
 *      and either the new cursor (2xx) or the failure and its backoff;
 *   4. wait for sockets, at most POLL_MS (new events are noticed by polling
 *      eagle_events_last_id(): the events listener belongs to the HTTP layer).
 *
 * Writes conditioned on the generation read: a rewind by the API bumps it, and
 * what was in flight before it is dropped without moving the cursor.
 * A cursor moved only past non-matching events is saved at most every
 * SKIP_SAVE_MS (it is only a shortcut: re-reading those events is harmless).
 * The thread is the only user of its curl handles (STYLE); <curl/curl.h> is
 * included here and in engine/ only.
 */
#include "controllers/notify.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/cidr.h"
#include "core/log.h"
#include "core/util.h"
#include "events/events.h"
#include "store/store.h"
#include "store/subscriptions.h"

#define POLL_MS 100       /* the longest wait: how soon a new event is noticed */
#define RELOAD_MS 1000    /* subscriptions re-read from the store */
#define SKIP_SAVE_MS 2000 /* a cursor moved past non-matching events is saved this often */
#define TIMEOUT_MS 10000  /* one request, all included */
#define CONNECT_TIMEOUT_MS 3000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define EVENT_BATCH 256
#define SNIPPET_MAX 200 /* bytes of a failed answer's body kept in the log */

/* A request in flight. */
struct flight {
    CURL *easy;
    struct curl_slist *headers;
    struct eagle_blob *body; /* the event's JSON text, a reference */
    uint64_t event_id;
    int64_t attempt;
    char errbuf[CURL_ERROR_SIZE];
    char blocked[160]; /* why the callback policy refused the address, "" when it did not */
    char snippet[SNIPPET_MAX + 1];
    size_t snippet_len;
};

struct sub {
    char *id, *tenant, *url, *types, *service, *secret;
    int nodes;             /* node events too (made by a platform admin) */
    int64_t generation;    /* as read from the store */
    uint64_t cursor;       /* done up to here (in memory) */
    uint64_t saved_cursor; /* what the store has */
    int64_t saved_ms;      /* when the cursor was last saved */
    int64_t failures;      /* consecutive failed attempts at the event after the cursor */
    int64_t next_ms;       /* monotonic time of the next attempt; 0 = now */
    struct flight *flight; /* NULL when nothing is in flight */
    int seen;              /* reload mark */
};

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    int stop, running, poked;
    CURLM *multi; /* published under the lock for eagle_notify_poke() */
    char *data_dir;
    struct eagle_cidrs deny; /* set before the thread starts, read-only afterwards */
} nt = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The deliverer's own state: touched by its thread only. */
struct deliverer {
    struct eagle_store *store;
    CURLM *multi;
    struct sub **subs;
    size_t n_subs, cap_subs;
};

/* Every connection of a non-admin's subscription: refuse the addresses the
 * policy denies (checked on the address the name resolved to, so a DNS name
 * cannot smuggle in 127.0.0.1). */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct flight *f = ud;
    if (purpose == CURLSOCKTYPE_IPCXN && eagle_cidrs_match(&nt.deny, &a->addr)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        if (a->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&a->addr)->sin_addr, ip, sizeof(ip));
        else if (a->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a->addr)->sin6_addr, ip, sizeof(ip));
        snprintf(f->blocked, sizeof(f->blocked),
                 "address %s is not allowed for callbacks by this Eagle's policy (callback-deny)", ip);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int64_t eagle_notify_backoff_ms(int64_t failures)
{
    int64_t ms = BACKOFF_FIRST_MS;

    for (int64_t i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

int eagle_notify_url_allowed(const char *url, struct eagle_err *err)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int denied = 0;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        denied = eagle_cidrs_match_text(&nt.deny, host) == 1;
    curl_url_cleanup(u);
    if (denied) {
        eagle_err_invalid(
            err, "url",
            "url's address %s is not allowed for callbacks by this Eagle's policy (callback-deny): "
            "ask a platform admin",
            host);
        curl_free(host);
        return -1;
    }
    curl_free(host);
    return 0;
}

int eagle_notify_url_check(const char *url, struct eagle_err *err)
{
    CURLU *u;
    CURLUcode rc;
    char *scheme = NULL, *host = NULL;
    int ok;

    if (!url || !*url)
        return eagle_err_invalid(err, "url",
                                 "url is required: the http:// or https:// address events are POSTed to");
    if (strlen(url) > EAGLE_NOTIFY_URL_MAX)
        return eagle_err_invalid(err, "url", "url is longer than %d characters", EAGLE_NOTIFY_URL_MAX);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return eagle_err_invalid(err, "url", "url must not contain spaces or control characters");
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return eagle_err_invalid(err, "url", "url must start with http:// or https://");
    const char *rest = strstr(url, "://") + 3;
    if (!*rest || *rest == '/' || *rest == '?' || *rest == '#') /* curl would take "http:///x" as host "x" */
        return eagle_err_invalid(err, "url", "url must name a host: http(s)://host[:port]/path");
    u = curl_url();
    if (!u)
        return eagle_err_internal(err, "out of memory");
    rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        curl_url_cleanup(u);
        return eagle_err_invalid(err, "url", "url is not a valid URL: %s", curl_url_strerror(rc));
    }
    ok = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
         curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && scheme && host && *host &&
         (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok ? 0 : eagle_err_invalid(err, "url", "url must be an http:// or https:// URL with a host");
}

/* From the deliverer itself: reload before the next pass. */
static void reload_soon(void)
{
    pthread_mutex_lock(&nt.lock);
    nt.poked = 1;
    pthread_mutex_unlock(&nt.lock);
}

void eagle_notify_poke(void)
{
    pthread_mutex_lock(&nt.lock);
    nt.poked = 1;
    if (nt.multi)
        curl_multi_wakeup(nt.multi);
    pthread_mutex_unlock(&nt.lock);
}

/* ---- matching and signing ---- */

static int in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Node events are the platform's: only for subscriptions made by an admin.
 * Every other event goes to its own tenant's subscriptions only. */
static int matches(const struct sub *s, const struct eagle_event *e)
{
    if (strcmp(e->type, "node") == 0) {
        if (!s->nodes)
            return 0;
    } else if (strcmp(e->tenant, s->tenant) != 0) {
        return 0;
    }
    if (*s->service && strcmp(s->service, e->service) != 0)
        return 0;
    if (*s->types && !in_list(s->types, e->type))
        return 0;
    return 1;
}

/* "sha256=" and the hex HMAC-SHA256 of `body`, keyed with the secret's text. */
static void sign(const char *secret, const char *body, size_t len, char out[7 + 64 + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

/* ---- subscriptions in memory ---- */

static void flight_free(struct deliverer *d, struct flight *f)
{
    if (!f)
        return;
    if (f->easy) {
        curl_multi_remove_handle(d->multi, f->easy);
        curl_easy_cleanup(f->easy);
    }
    curl_slist_free_all(f->headers);
    eagle_blob_unref(f->body);
    free(f);
}

static void sub_free(struct deliverer *d, struct sub *s)
{
    if (!s)
        return;
    flight_free(d, s->flight);
    free(s->id);
    free(s->tenant);
    free(s->url);
    free(s->types);
    free(s->service);
    free(s->secret);
    free(s);
}

static const char *sget(const json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    return v ? v : "";
}

static int64_t iget(const json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

static struct sub *sub_new(const json_t *row)
{
    struct sub *s = xcalloc(1, sizeof(*s));
    s->id = xstrdup(sget(row, "id"));
    s->tenant = xstrdup(sget(row, "tenant"));
    s->url = xstrdup(sget(row, "url"));
    s->types = xstrdup(sget(row, "types"));
    s->service = xstrdup(sget(row, "service"));
    s->secret = xstrdup(sget(row, "secret"));
    s->nodes = (int)iget(row, "nodes");
    s->generation = iget(row, "generation");
    s->cursor = s->saved_cursor = (uint64_t)iget(row, "cursor");
    s->failures = iget(row, "failures");
    s->saved_ms = eagle_monotonic_ms();
    return s;
}

/* Bring the subscriptions in memory in line with the store. */
static void reload(struct deliverer *d)
{
    struct eagle_err err;
    json_t *rows, *row;
    size_t i, j;

    if (eagle_store_subscription_list(d->store, NULL, &rows, &err) < 0) {
        log_warn("notify", "cannot read the subscriptions: %s", err.msg);
        return;
    }
    for (j = 0; j < d->n_subs; j++)
        d->subs[j]->seen = 0;
    json_array_foreach(rows, i, row)
    {
        const char *id = sget(row, "id");
        struct sub *s = NULL;
        for (j = 0; j < d->n_subs && !s; j++)
            if (strcmp(d->subs[j]->id, id) == 0)
                s = d->subs[j];
        if (!s) {
            if (d->n_subs == d->cap_subs) {
                d->cap_subs = d->cap_subs ? d->cap_subs * 2 : 16;
                d->subs = xrealloc(d->subs, d->cap_subs * sizeof(*d->subs));
            }
            s = d->subs[d->n_subs++] = sub_new(row);
            log_debug("notify", "subscription '%s' -> '%s' from event %llu", s->id, s->url,
                      (unsigned long long)s->cursor);
        } else if (iget(row, "generation") != s->generation) {
            /* rewound: start over from the store's cursor */
            flight_free(d, s->flight);
            s->flight = NULL;
            s->generation = iget(row, "generation");
            s->cursor = s->saved_cursor = (uint64_t)iget(row, "cursor");
            s->failures = iget(row, "failures");
            s->next_ms = 0;
            log_info("notify", "subscription '%s' rewound to event %llu", s->id,
                     (unsigned long long)s->cursor);
        }
        s->seen = 1;
    }
    json_decref(rows);
    for (j = 0; j < d->n_subs;) { /* deleted ones go, with what they had in flight */
        if (!d->subs[j]->seen) {
            log_debug("notify", "subscription '%s' is gone", d->subs[j]->id);
            sub_free(d, d->subs[j]);
            d->subs[j] = d->subs[--d->n_subs];
        } else {
            j++;
        }
    }
}

/* Save a cursor moved past events that did not match (or were lost). */
static void save_cursor(struct deliverer *d, struct sub *s, int64_t now)
{
    struct eagle_err err;
    int applied;

    if (s->cursor == s->saved_cursor || now - s->saved_ms < SKIP_SAVE_MS)
        return;
    s->saved_ms = now;
    if (eagle_store_subscription_advance(d->store, s->id, s->generation, (int64_t)s->cursor, &applied, &err) <
        0) {
        log_warn("notify", "subscription '%s': cannot save its cursor: %s", s->id, err.msg);
        return;
    }
    s->saved_cursor = s->cursor;
    if (!applied)
        reload_soon(); /* gone or rewound meanwhile */
}

/* Events after the cursor were pruned before this subscription got to them:
 * say so in its log and go on from the oldest still kept. */
static void record_lost(struct deliverer *d, struct sub *s, uint64_t oldest)
{
    struct eagle_err err;
    char msg[160];

    snprintf(msg, sizeof(msg), "events %llu to %llu were no longer kept when their turn came; skipped",
             (unsigned long long)s->cursor + 1, (unsigned long long)oldest - 1);
    log_warn("notify", "subscription '%s': %s", s->id, msg);
    if (eagle_store_begin(d->store, &err) < 0 ||
        eagle_store_delivery_add(d->store, s->id, (int64_t)s->cursor + 1, 0, 0, msg, 0, &err) < 0 ||
        eagle_store_subscription_advance(d->store, s->id, s->generation, (int64_t)oldest - 1, NULL, &err) <
            0 ||
        eagle_store_commit(d->store, &err) < 0) {
        eagle_store_rollback(d->store);
        log_warn("notify", "subscription '%s': cannot record the skip: %s", s->id, err.msg);
    } else {
        s->saved_cursor = oldest - 1;
    }
    s->cursor = oldest - 1;
    s->failures = 0;
}

/* ---- requests ---- */

static size_t on_answer(char *data, size_t size, size_t nmemb, void *ud)
{
    struct flight *f = ud;
    size_t n = size * nmemb, room = SNIPPET_MAX - f->snippet_len;

    if (room > 0) {
        size_t take = n < room ? n : room;
        for (size_t i = 0; i < take; i++) /* printable text only: it goes into the log */
            f->snippet[f->snippet_len++] = (data[i] >= ' ' && data[i] < 0x7f) ? data[i] : ' ';
        f->snippet[f->snippet_len] = 0;
    }
    return n; /* the rest is read and dropped */
}

static void start(struct deliverer *d, struct sub *s, const struct eagle_event *e)
{
    struct flight *f = xcalloc(1, sizeof(*f));
    char sig[7 + 64 + 1], line[128];

    f->body = eagle_blob_ref(e->json);
    f->event_id = e->id;
    f->attempt = s->failures + 1;
    f->easy = curl_easy_init();
    if (!f->easy) {
        log_error("notify", "curl_easy_init failed");
        flight_free(d, f);
        s->next_ms = eagle_monotonic_ms() + BACKOFF_FIRST_MS;
        return;
    }
    sign(s->secret, f->body->data, f->body->len, sig);
    f->headers = curl_slist_append(f->headers, "Content-Type: application/json");
    snprintf(line, sizeof(line), "X-Eagle-Signature: %s", sig);
    f->headers = curl_slist_append(f->headers, line);
    snprintf(line, sizeof(line), "X-Eagle-Event-Id: %llu", (unsigned long long)e->id);
    f->headers = curl_slist_append(f->headers, line);
    snprintf(line, sizeof(line), "X-Eagle-Subscription: %s", s->id);
    f->headers = curl_slist_append(f->headers, line);
    snprintf(line, sizeof(line), "X-Eagle-Attempt: %lld", (long long)f->attempt);
    f->headers = curl_slist_append(f->headers, line);
    f->headers = curl_slist_append(f->headers, "Expect:"); /* no 100-continue round trip */

    CURL *c = f->easy;
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* not through $http_proxy */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "eagle/" EAGLE_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->body->len);
    const char *data = f->body->data; /* not copied: the blob outlives the transfer */
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf);
    if (!s->nodes) { /* made by a non-admin: the callback policy applies, at connect time */
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, f);
    }
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    if (curl_multi_add_handle(d->multi, c) != CURLM_OK) {
        log_error("notify", "subscription '%s': cannot start a request", s->id);
        flight_free(d, f);
        s->next_ms = eagle_monotonic_ms() + BACKOFF_FIRST_MS;
        return;
    }
    s->flight = f;
    log_debug("notify", "subscription '%s': POST event %llu (attempt %lld)", s->id, (unsigned long long)e->id,
              (long long)f->attempt);
}

/* The subscription's turn: send the first matching event after its cursor,
 * passing over the others. */
static void step(struct deliverer *d, struct sub *s, uint64_t last_id, int64_t now)
{
    struct eagle_event evs[EVENT_BATCH];
    uint64_t oldest;

    while (s->cursor < last_id) {
        size_t n = eagle_events_since(s->cursor, evs, EVENT_BATCH, &oldest), i, found = n;
        if (oldest > 0 && s->cursor + 1 < oldest) {
            record_lost(d, s, oldest);
            for (i = 0; i < n; i++)
                eagle_event_release(&evs[i]);
            continue;
        }
        for (i = 0; i < n && found == n; i++) {
            if (matches(s, &evs[i]))
                found = i;
            else
                s->cursor = evs[i].id;
        }
        if (found < n)
            start(d, s, &evs[found]);
        for (i = 0; i < n; i++)
            eagle_event_release(&evs[i]);
        if (found < n)
            break;
        if (n < EVENT_BATCH) { /* read to the end: nothing up to last_id is left (ids may have gaps) */
            if (s->cursor < last_id)
                s->cursor = last_id;
            break;
        }
    }
    if (!s->flight)
        save_cursor(d, s, now);
}

/* Record a finished request and act on it. */
static void finish(struct deliverer *d, CURL *easy, CURLcode result)
{
    char *priv = NULL;
    struct sub *s;
    struct flight *f;
    struct eagle_err err;
    long status = 0;
    curl_off_t us = 0;
    char error[512] = "";
    int ok, applied = 1;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    s = (struct sub *)priv;
    f = s->flight;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us);
    ok = result == CURLE_OK && status >= 200 && status < 300;
    if (result != CURLE_OK)
        snprintf(error, sizeof(error), "%s",
                 f->blocked[0]  ? f->blocked
                 : f->errbuf[0] ? f->errbuf
                                : curl_easy_strerror(result));
    else if (!ok)
        snprintf(error, sizeof(error), "HTTP %ld%s%s", status, f->snippet_len ? ": " : "", f->snippet);
    int64_t ms = (int64_t)(us / 1000);

    int64_t failures = ok ? 0 : s->failures + 1;
    int64_t delay = ok ? 0 : eagle_notify_backoff_ms(failures);
    char next_at[32] = "";
    if (!ok) {
        time_t t = time(NULL) + (time_t)((delay + 999) / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(next_at, sizeof(next_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (eagle_store_begin(d->store, &err) < 0 ||
        eagle_store_delivery_add(d->store, s->id, (int64_t)f->event_id, f->attempt, status, error, ms, &err) <
            0 ||
        (ok ? eagle_store_subscription_advance(d->store, s->id, s->generation, (int64_t)f->event_id, &applied,
                                               &err)
            : eagle_store_subscription_failed(d->store, s->id, s->generation, failures, error, next_at,
                                              &err)) < 0 ||
        eagle_store_commit(d->store, &err) < 0) {
        eagle_store_rollback(d->store);
        log_warn("notify", "subscription '%s': cannot record the delivery of event %llu: %s", s->id,
                 (unsigned long long)f->event_id, err.msg);
        reload_soon(); /* perhaps deleted meanwhile */
    }
    if (ok) {
        if (s->failures > 0)
            log_info("notify", "subscription '%s': event %llu delivered after %lld attempts", s->id,
                     (unsigned long long)f->event_id, (long long)f->attempt);
        s->cursor = f->event_id;
        if (applied)
            s->saved_cursor = s->cursor;
        else
            reload_soon(); /* rewound meanwhile: the reload resets the cursor */
        s->saved_ms = eagle_monotonic_ms();
        s->failures = 0;
        s->next_ms = 0;
    } else {
        if (failures == 1)
            log_warn("notify", "subscription '%s': event %llu to '%s' failed: %s (retrying with backoff)",
                     s->id, (unsigned long long)f->event_id, s->url, error);
        else
            log_debug("notify", "subscription '%s': event %llu attempt %lld failed: %s", s->id,
                      (unsigned long long)f->event_id, (long long)f->attempt, error);
        s->failures = failures;
        s->next_ms = eagle_monotonic_ms() + delay;
    }
    s->flight = NULL;
    flight_free(d, f);
}

/* ---- the thread ---- */

static void pass(struct deliverer *d)
{
    uint64_t last_id = eagle_events_last_id();
    int64_t now = eagle_monotonic_ms();
    int running = 0, left;
    CURLMsg *msg;

    for (size_t i = 0; i < d->n_subs; i++) {
        struct sub *s = d->subs[i];
        if (!s->flight && now >= s->next_ms)
            step(d, s, last_id, now);
    }
    curl_multi_perform(d->multi, &running);
    while ((msg = curl_multi_info_read(d->multi, &left)))
        if (msg->msg == CURLMSG_DONE)
            finish(d, msg->easy_handle, msg->data.result);
}

/* How long to wait for sockets: POLL_MS, or less when a retry is due sooner
 * or an idle subscription has events waiting. */
static int wait_ms(const struct deliverer *d)
{
    uint64_t last_id = eagle_events_last_id();
    int64_t now = eagle_monotonic_ms(), wait = POLL_MS;

    for (size_t i = 0; i < d->n_subs; i++) {
        const struct sub *s = d->subs[i];
        if (s->flight || s->cursor >= last_id)
            continue;
        int64_t until = s->next_ms - now;
        if (until < wait)
            wait = until > 0 ? until : 0;
    }
    return (int)wait;
}

static void *notify_main(void *arg)
{
    struct deliverer d = {0};
    struct eagle_err err;
    int64_t reloaded = 0;

    d.store = eagle_store_open(nt.data_dir, 0, &err);
    d.multi = curl_multi_init();
    if (!d.store || !d.multi) {
        log_error("notify", "cannot start delivering events: %s",
                  d.store ? "curl_multi_init failed" : err.msg);
        eagle_store_close(d.store);
        if (d.multi)
            curl_multi_cleanup(d.multi);
        return NULL;
    }
    pthread_mutex_lock(&nt.lock);
    nt.multi = d.multi;
    nt.poked = 1;
    while (!nt.stop) {
        int poked = nt.poked;
        nt.poked = 0;
        pthread_mutex_unlock(&nt.lock);
        if (poked || eagle_monotonic_ms() - reloaded >= RELOAD_MS) {
            reload(&d);
            reloaded = eagle_monotonic_ms();
        }
        pass(&d);
        curl_multi_poll(d.multi, NULL, 0, wait_ms(&d), NULL);
        pthread_mutex_lock(&nt.lock);
    }
    nt.multi = NULL;
    pthread_mutex_unlock(&nt.lock);
    for (size_t i = 0; i < d.n_subs; i++) /* what is in flight is sent again after a restart */
        sub_free(&d, d.subs[i]);
    free(d.subs);
    curl_multi_cleanup(d.multi);
    eagle_store_close(d.store);
    return NULL;
}

int eagle_notify_start(const char *data_dir, const char *callback_deny, struct eagle_err *err)
{
    eagle_cidrs_release(&nt.deny);
    if (eagle_cidrs_parse(callback_deny, &nt.deny, err) < 0)
        return -1;
    nt.stop = 0;
    nt.poked = 0;
    nt.data_dir = xstrdup(data_dir);
    if (pthread_create(&nt.tid, NULL, notify_main, NULL) != 0) {
        free(nt.data_dir);
        nt.data_dir = NULL;
        return eagle_err_internal(err, "cannot start the event deliverer thread");
    }
    nt.running = 1;
    return 0;
}

void eagle_notify_stop(void)
{
    if (!nt.running)
        return;
    pthread_mutex_lock(&nt.lock);
    nt.stop = 1;
    if (nt.multi)
        curl_multi_wakeup(nt.multi);
    pthread_mutex_unlock(&nt.lock);
    pthread_join(nt.tid, NULL);
    nt.running = 0;
    free(nt.data_dir);
    nt.data_dir = NULL;
}
