/*
 * server.c — see server.h. The only file that includes <h2o.h>, and the one
 * place an eagle_err becomes an HTTP answer.
 */
#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "api/api.h"
#include "core/log.h"
#include "core/util.h"
#include "http/router.h"
#include "store/store.h"
#include "catalog/catalog.h"
#include "events/events.h"

#define MAX_QUEUE 4096 /* jobs waiting for a worker before we answer 503 */

struct loop_ctx {
    pthread_t tid;
    int fd; /* the bound listener, handed to the loop's thread */
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t receiver; /* answers from the workers */
    h2o_multithread_receiver_t notify;   /* "the catalog or the events moved" */
    h2o_linklist_t parked;               /* long-poll jobs waiting for a change */
    h2o_linklist_t streams;              /* event-stream jobs */
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    struct eagle_http *http;
};

struct guard {
    struct job *job;
};

struct job {
    h2o_multithread_message_t msg; /* must stay first: the queue hands us this */
    struct loop_ctx *loop;
    h2o_req_t *req;      /* loop side only; NULL once the request is gone */
    struct guard *guard; /* loop side only */
    const struct eagle_route *route;
    struct eagle_call call;
    struct eagle_err err;
    int failed;
    int auth_only;       /* a loop route sent to a worker only to authenticate */
    char *method, *path, *query, *body, *authorization, *last_event_id;
    char source[64];
    char scratch[1024];
    struct job *next;
    /* loop side: long-poll and event streams */
    h2o_linklist_t link; /* in loop->parked or loop->streams */
    int64_t deadline_ms;
    h2o_generator_t generator; /* streams */
    char *chunk;               /* the chunk h2o is sending; freed at proceed */
    int sending;
    int64_t last_write_ms;
};

struct notify_msg {
    h2o_multithread_message_t msg;
};

struct eagle_http {
    const struct eagle_config *cfg;
    h2o_globalconf_t config;
    int nloops, nworkers;
    struct loop_ctx *loops;
    pthread_t *workers;
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct job *qhead, *qtail;
    size_t qlen;
    int stopping; /* under qlock */
    volatile int stop_loops;
    volatile int closing; /* loops end their streams and long-polls, and close idle connections */
    pthread_mutex_t ready_lock;
    pthread_cond_t ready_cond;
    int ready; /* loops that have set themselves up */
};

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static json_t *error_body(const struct eagle_err *err)
{
    json_t *e = json_pack("{s:s, s:s}", "code", err->code[0] ? err->code : "internal", "message", err->msg);
    if (err->field[0])
        json_object_set_new(e, "field", json_string(err->field));
    return json_pack("{s:o}", "error", e);
}

/* Send `body` (consumed; NULL = no body) with `status` on the loop. */
static void respond(h2o_req_t *req, int status, json_t *body, const char *ctype, const char *raw, size_t raw_len,
                    uint64_t index_header)
{
    char *text = NULL;
    size_t len = 0;

    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(12));
        len = text ? strlen(text) : 0;
        json_decref(body);
        ctype = "application/json";
    } else if (raw) {
        text = (char *)raw;
        len = raw_len;
    }
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (index_header) {
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)index_header);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-eagle-index"), 0, NULL,
                              h2o_strdup(&req->pool, buf, (size_t)n).base, (size_t)n);
    }
    if (ctype)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    req->res.content_length = len;
    h2o_send_inline(req, text ? text : "", len);
    if (body)
        free(text);
}

static void respond_error(h2o_req_t *req, const struct eagle_err *err, uint64_t index_header)
{
    respond(req, err->status ? err->status : 500, error_body(err), NULL, NULL, 0, index_header);
}

/* Send the call's answer (JSON or raw) and release what it holds. */
static void respond_call(h2o_req_t *req, struct eagle_call *call)
{
    if (call->raw)
        respond(req, call->status ? call->status : 200, NULL, call->raw_type, call->raw, call->raw_len,
                call->index_header);
    else
        respond(req, call->status ? call->status : 200, call->out, NULL, NULL, 0, call->index_header);
    call->out = NULL;
    eagle_blob_unref(call->raw_blob);
    call->raw_blob = NULL;
    call->raw = NULL;
}

static void job_free(struct job *job)
{
    if (!job)
        return;
    json_decref(job->call.out);
    json_decref(job->call.user);
    json_decref(job->call.stream_filter);
    eagle_blob_unref(job->call.raw_blob);
    free(job->chunk);
    free(job->last_event_id);
    free(job->method);
    free(job->path);
    free(job->query);
    free(job->body);
    free(job->authorization);
    free(job);
}

/* The request's memory is going away: the job must not touch it any more. A
 * parked or streaming job is ours alone (no worker has it): it goes too. */
static void on_guard_dispose(void *p)
{
    struct guard *g = p;
    struct job *job = g->job;
    if (!job)
        return;
    job->req = NULL;
    job->guard = NULL;
    if (h2o_linklist_is_linked(&job->link)) {
        h2o_linklist_unlink(&job->link);
        job_free(job);
    }
}

static void run_loop_route(struct job *job);

/* Loop side: answers from the workers. */
static void on_results(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        struct job *job = (struct job *)msg;
        h2o_linklist_unlink(&msg->link);
        if (job->req && job->auth_only && !job->failed) {
            job->auth_only = 0;
            run_loop_route(job); /* authenticated: the handler runs here, on the loop */
            continue;
        }
        if (job->req) {
            job->guard->job = NULL;
            if (job->failed)
                respond_error(job->req, &job->err, job->call.index_header);
            else
                respond_call(job->req, &job->call);
        }
        job_free(job);
    }
}

static void run_call(const struct eagle_route *route, struct eagle_call *call, struct eagle_err *err, int *failed)
{
    *failed = 0;
    if (!(route->flags & ROUTE_PUBLIC) && !call->user && eagle_api_authenticate(call, err) < 0) {
        *failed = 1;
        return;
    }
    if (route->fn(call, err) < 0) {
        *failed = 1;
        if (err->status >= 500)
            log_warn("http", "%s %s: %s", call->method, call->path, err->msg);
        if (!(route->flags & ROUTE_LOOP))
            eagle_api_audit_failure(call, route->pattern, err);
    }
}

static void *worker_main(void *arg)
{
    struct eagle_http *http = arg;
    struct eagle_worker w = {0};
    struct eagle_err err;

    w.data_dir = http->cfg->data;
    w.store = eagle_store_open(http->cfg->data, 0, &err);
    if (!w.store)
        log_error("http", "worker cannot open the store: %s", err.msg);
    for (;;) {
        struct job *job;
        pthread_mutex_lock(&http->qlock);
        while (!http->qhead && !http->stopping)
            pthread_cond_wait(&http->qcond, &http->qlock);
        if (!http->qhead) {
            pthread_mutex_unlock(&http->qlock);
            break;
        }
        job = http->qhead;
        http->qhead = job->next;
        if (!http->qhead)
            http->qtail = NULL;
        http->qlen--;
        pthread_mutex_unlock(&http->qlock);

        eagle_err_clear(&job->err);
        job->call.worker = &w;
        if (!w.store) {
            job->failed = 1;
            eagle_err_set(&job->err, 503, "store_unavailable", NULL, "the store cannot be opened");
        } else if (job->auth_only) {
            job->failed = eagle_api_authenticate(&job->call, &job->err) < 0;
        } else {
            run_call(job->route, &job->call, &job->err, &job->failed);
        }
        job->call.worker = NULL;
        h2o_multithread_send_message(&job->loop->receiver, &job->msg);
    }
    eagle_worker_release(&w);
    return NULL;
}

static char *dup_iovec(h2o_iovec_t v)
{
    char *s = xmalloc(v.len + 1);
    memcpy(s, v.base, v.len);
    s[v.len] = 0;
    return s;
}

static void peer_name(h2o_req_t *req, char *buf, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    char host[NI_MAXHOST];

    if (len == 0 || getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, n, "unknown");
    else
        snprintf(buf, n, "%s", host);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct loop_ctx *lc = H2O_STRUCT_FROM_MEMBER(struct loop_ctx, ctx, req->conn->ctx);
    struct eagle_http *http = lc->http;
    struct job *job = xcalloc(1, sizeof(*job));
    struct eagle_err err;
    int path_known;
    size_t qlen;

    job->method = dup_iovec(req->method);
    if (req->query_at != SIZE_MAX) {
        job->path = dup_iovec(h2o_iovec_init(req->path.base, req->query_at));
        job->query = dup_iovec(h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1));
    } else {
        job->path = dup_iovec(req->path);
        job->query = xstrdup("");
    }
    job->route = eagle_route_match(eagle_routes, eagle_n_routes, job->method, job->path, job->scratch,
                                   sizeof(job->scratch), job->call.params, &path_known);
    if (!job->route) {
        if (path_known)
            eagle_err_set(&err, 405, "method_not_allowed", NULL, "%s is not allowed on %s", job->method, job->path);
        else
            eagle_err_set(&err, 404, "not_found", NULL, "no such API path: %s", job->path);
        job_free(job);
        respond_error(req, &err, 0);
        return 0;
    }
    job->call.method = job->method;
    job->call.path = job->path;
    job->call.query = job->query;
    if (req->entity.base) {
        job->body = dup_iovec(req->entity);
        job->call.body = job->body;
        job->call.body_len = req->entity.len;
    }
    ssize_t hi = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (hi >= 0) {
        job->authorization = dup_iovec(req->headers.entries[hi].value);
        job->call.authorization = job->authorization;
    }
    /* the peer's address is for the audit log, which loop routes do not write: not worth
     * a getnameinfo() on every discovery request */
    if (!(job->route->flags & ROUTE_LOOP))
        peer_name(req, job->source, sizeof(job->source));
    else
        snprintf(job->source, sizeof(job->source), "-");
    job->call.source = job->source;

    ssize_t li = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (li >= 0) {
        job->last_event_id = dup_iovec(req->headers.entries[li].value);
        job->call.last_event_header = job->last_event_id;
    }
    job->loop = lc;
    job->req = req;
    job->guard = h2o_mem_alloc_shared(&req->pool, sizeof(*job->guard), on_guard_dispose);
    job->guard->job = job;

    if (job->route->flags & ROUTE_LOOP) {
        int a = 0;
        if (!(job->route->flags & ROUTE_PUBLIC)) {
            a = eagle_api_authenticate(&job->call, &err);
            if (a < 0) {
                job->guard->job = NULL;
                job_free(job);
                respond_error(req, &err, 0);
                return 0;
            }
        }
        if (a == 0) {
            run_loop_route(job);
            return 0;
        }
        job->auth_only = 1; /* not in the token cache: a worker checks the store */
    }
    pthread_mutex_lock(&http->qlock);
    qlen = http->qlen;
    if (qlen < MAX_QUEUE && !http->stopping) {
        if (http->qtail)
            http->qtail->next = job;
        else
            http->qhead = job;
        http->qtail = job;
        http->qlen++;
        pthread_cond_signal(&http->qcond);
    }
    pthread_mutex_unlock(&http->qlock);
    if (qlen >= MAX_QUEUE || http->stopping) {
        job->guard->job = NULL;
        job_free(job);
        eagle_err_set(&err, 503, "overloaded", NULL, "the server is busy; retry shortly");
        respond_error(req, &err, 0);
    }
    return 0;
}

/* ---- loop routes: answer, park (long-poll) or stream ---- */

static void stream_start(struct job *job);

/* Run a loop route's handler for `job` (whose request is alive) and act on it. */
static void run_loop_route(struct job *job)
{
    struct eagle_call *call = &job->call;
    struct eagle_err err;
    int failed;

    eagle_err_clear(&err);
    call->suspend = 0;
    call->status = 0;
    json_decref(call->out);
    call->out = NULL;
    run_call(job->route, call, &err, &failed);
    if (!failed && call->suspend) {
        if (!h2o_linklist_is_linked(&job->link)) {
            job->deadline_ms = eagle_now_ms() + call->wait_ms;
            h2o_linklist_insert(&job->loop->parked, &job->link);
        }
        return;
    }
    if (h2o_linklist_is_linked(&job->link))
        h2o_linklist_unlink(&job->link);
    if (!failed && call->stream) {
        stream_start(job);
        return;
    }
    job->guard->job = NULL;
    if (failed)
        respond_error(job->req, &err, call->index_header);
    else
        respond_call(job->req, call);
    job_free(job);
}

/* Run every parked job again (or only the expired ones, with timed_out set). */
static void rerun_parked(struct loop_ctx *lc, int only_expired)
{
    h2o_linklist_t ready;
    int64_t now = eagle_now_ms();

    h2o_linklist_init_anchor(&ready);
    while (!h2o_linklist_is_empty(&lc->parked)) { /* move them out first: running may re-park */
        h2o_linklist_t *l = lc->parked.next;
        h2o_linklist_unlink(l);
        h2o_linklist_insert(&ready, l);
    }
    while (!h2o_linklist_is_empty(&ready)) {
        struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, link, ready.next);
        h2o_linklist_unlink(&job->link);
        if (only_expired && job->deadline_ms > now) {
            h2o_linklist_insert(&lc->parked, &job->link);
            continue;
        }
        if (job->deadline_ms <= now)
            job->call.timed_out = 1;
        run_loop_route(job);
    }
}

/* ---- event streams (text/event-stream) ---- */

#define STREAM_BATCH 256
#define KEEPALIVE_MS 15000

static void stream_pump(struct job *job)
{
    struct eagle_event evs[STREAM_BATCH];
    uint64_t oldest;
    size_t cap = 4096, len = 0;
    char *buf;

    if (job->sending || !job->req)
        return;
    size_t n = eagle_events_since(job->call.last_event_id, evs, STREAM_BATCH, &oldest);
    buf = xmalloc(cap);
    if (oldest && job->call.last_event_id + 1 < oldest) {
        len = (size_t)snprintf(buf, cap,
                               "event: reset\ndata: {\"error\":\"events after %llu are no longer kept; the oldest "
                               "kept is %llu: re-read the state, then resume\",\"oldest\":%llu}\n\n",
                               (unsigned long long)job->call.last_event_id, (unsigned long long)oldest,
                               (unsigned long long)oldest);
        job->call.last_event_id = oldest - 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (eagle_api_event_visible(&job->call, &evs[i])) {
            size_t need = len + evs[i].json->len + 96;
            if (need > cap) {
                cap = need * 2;
                buf = xrealloc(buf, cap);
            }
            len += (size_t)snprintf(buf + len, cap - len, "id: %llu\nevent: %s\ndata: %s\n\n",
                                    (unsigned long long)evs[i].id, evs[i].type, evs[i].json->data);
        }
        job->call.last_event_id = evs[i].id;
        eagle_event_release(&evs[i]);
    }
    if (len == 0 && eagle_now_ms() - job->last_write_ms >= KEEPALIVE_MS)
        len = (size_t)snprintf(buf, cap, ": keep-alive\n\n");
    if (len == 0) {
        free(buf);
        return;
    }
    free(job->chunk);
    job->chunk = buf;
    job->sending = 1;
    job->last_write_ms = eagle_now_ms();
    h2o_iovec_t vec = h2o_iovec_init(buf, len);
    h2o_send(job->req, &vec, 1, H2O_SEND_STATE_IN_PROGRESS);
}

/* End a stream's response (shutdown) and free the job. */
static void stream_end(struct job *job)
{
    h2o_req_t *req = job->req;
    h2o_linklist_unlink(&job->link);
    job->guard->job = NULL;
    job_free(job);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

static void stream_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, generator, gen);
    job->sending = 0;
    free(job->chunk);
    job->chunk = NULL;
    if (job->loop->http->closing) {
        stream_end(job);
        return;
    }
    stream_pump(job);
}

static void stream_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, generator, gen);
    job->sending = 1; /* never write again; the guard frees the job with the request */
}

static void stream_start(struct job *job)
{
    h2o_req_t *req = job->req;

    job->generator.proceed = stream_proceed;
    job->generator.stop = stream_stop;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_linklist_insert(&job->loop->streams, &job->link);
    h2o_start_response(req, &job->generator);
    /* an initial comment so clients see the stream open at once */
    job->chunk = xstrdup(": eagle event stream\n\n");
    job->sending = 1;
    job->last_write_ms = eagle_now_ms();
    h2o_iovec_t vec = h2o_iovec_init(job->chunk, strlen(job->chunk));
    h2o_send(req, &vec, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void pump_streams(struct loop_ctx *lc)
{
    for (h2o_linklist_t *l = lc->streams.next, *next; l != &lc->streams; l = next) {
        next = l->next;
        stream_pump(H2O_STRUCT_FROM_MEMBER(struct job, link, l));
    }
}

/* Loop side: the catalog or the event history moved. */
/* Shutting down: answer parked long-polls and end event streams. */
static void close_all(struct loop_ctx *lc)
{
    struct eagle_err err;

    eagle_err_set(&err, 503, "shutting_down", NULL, "the server is shutting down");
    while (!h2o_linklist_is_empty(&lc->parked)) {
        struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, link, lc->parked.next);
        h2o_linklist_unlink(&job->link);
        job->guard->job = NULL;
        respond_error(job->req, &err, 0);
        job_free(job);
    }
    for (h2o_linklist_t *l = lc->streams.next, *next; l != &lc->streams; l = next) {
        struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, link, l);
        next = l->next;
        if (job->req && !job->sending) /* a write in flight ends in stream_proceed */
            stream_end(job);
    }
}

static void on_notify(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct loop_ctx *lc = H2O_STRUCT_FROM_MEMBER(struct loop_ctx, notify, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        free(msg);
    }
    if (lc->http->closing) {
        close_all(lc);
        return;
    }
    rerun_parked(lc, 0);
    pump_streams(lc);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    struct loop_ctx *lc = H2O_STRUCT_FROM_MEMBER(struct loop_ctx, tick_entry, entry);
    rerun_parked(lc, 1);
    pump_streams(lc); /* keep-alives */
    h2o_timeout_link(lc->ctx.loop, &lc->tick, &lc->tick_entry);
}

/* Any thread: wake every loop (a message each). */
static void wake_loops(struct eagle_http *http)
{
    for (int i = 0; i < http->nloops; i++) {
        struct notify_msg *m = xcalloc(1, sizeof(*m));
        h2o_multithread_send_message(&http->loops[i].notify, &m->msg);
    }
}

static void on_catalog_change(uint64_t index, void *ud)
{
    wake_loops(ud);
}

static void on_events(uint64_t last_id, void *ud)
{
    wake_loops(ud);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct loop_ctx *lc = listener->data;
    h2o_socket_t *sock;

    if (err)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(&lc->accept_ctx, sock);
}

static int bind_listener(const char *listen_addr, struct eagle_err *err)
{
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST},
                    *res = NULL;
    int fd = -1, on = 1, rc;

    if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof(host))
        return eagle_err_invalid(err, "listen", "listen address '%s' is not host:port", listen_addr);
    memcpy(host, listen_addr, (size_t)(colon - listen_addr));
    host[colon - listen_addr] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
        return eagle_err_invalid(err, "listen", "listen address '%s': %s", listen_addr, gai_strerror(rc));
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        eagle_err_set(err, 500, "listen_failed", "listen", "cannot listen on %s: %s", listen_addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/*
 * Each loop sets itself up and tears itself down on its own thread: h2o 2.2.5
 * ties a socket's buffers to the recycling pool of the thread that creates it
 * (a per-thread pool without a lock), so a loop, its context (whose wake-up
 * socket every message from a worker reads) and its listener must be created
 * where they run. Created on the main thread, two loops shared the main
 * thread's pool and corrupted the heap under load.
 */
static void loop_setup(struct loop_ctx *lc)
{
    struct eagle_http *http = lc->http;

    h2o_context_init(&lc->ctx, h2o_evloop_create(), &http->config);
    lc->accept_ctx.ctx = &lc->ctx;
    lc->accept_ctx.hosts = http->config.hosts;
    lc->listener = h2o_evloop_socket_create(lc->ctx.loop, lc->fd, H2O_SOCKET_FLAG_DONT_READ);
    lc->fd = -1;
    lc->listener->data = lc;
    h2o_socket_read_start(lc->listener, on_accept);
    h2o_multithread_register_receiver(lc->ctx.queue, &lc->receiver, on_results);
    h2o_multithread_register_receiver(lc->ctx.queue, &lc->notify, on_notify);
    h2o_linklist_init_anchor(&lc->parked);
    h2o_linklist_init_anchor(&lc->streams);
    h2o_timeout_init(lc->ctx.loop, &lc->tick, 200);
    lc->tick_entry.cb = on_tick;
    h2o_timeout_link(lc->ctx.loop, &lc->tick, &lc->tick_entry);
}

static void loop_teardown(struct loop_ctx *lc)
{
    h2o_evloop_run(lc->ctx.loop, 0); /* deliver anything that arrived after the loop stopped */
    /* parked long-polls and open event streams end with the process: free what is ours */
    h2o_linklist_t *lists[] = {&lc->parked, &lc->streams};
    for (int k = 0; k < 2; k++) {
        while (!h2o_linklist_is_empty(lists[k])) {
            struct job *job = H2O_STRUCT_FROM_MEMBER(struct job, link, lists[k]->next);
            h2o_linklist_unlink(&job->link);
            if (job->guard)
                job->guard->job = NULL;
            job_free(job);
        }
    }
    h2o_multithread_unregister_receiver(lc->ctx.queue, &lc->receiver);
    h2o_multithread_unregister_receiver(lc->ctx.queue, &lc->notify);
    if (h2o_timeout_is_linked(&lc->tick_entry))
        h2o_timeout_unlink(&lc->tick_entry);
    h2o_timeout_dispose(lc->ctx.loop, &lc->tick);
    h2o_socket_read_stop(lc->listener);
    h2o_socket_close(lc->listener);
    h2o_evloop_run(lc->ctx.loop, 0); /* closes are deferred to the loop */
    h2o_loop_t *loop = lc->ctx.loop;
    h2o_context_dispose(&lc->ctx); /* (h2o 2.2.5 cannot destroy the context's queue here: lsan.supp) */
    h2o_evloop_destroy(loop);
}

static void *loop_main(void *arg)
{
    struct loop_ctx *lc = arg;
    struct eagle_http *http = lc->http;

    loop_setup(lc);
    pthread_mutex_lock(&http->ready_lock);
    http->ready++;
    pthread_cond_broadcast(&http->ready_cond);
    pthread_mutex_unlock(&http->ready_lock);
    while (!http->stop_loops)
        h2o_evloop_run(lc->ctx.loop, 100);
    loop_teardown(lc);
    return NULL;
}

struct eagle_http *eagle_http_start(const struct eagle_config *cfg, struct eagle_err *err)
{
    struct eagle_http *http = xcalloc(1, sizeof(*http));
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    h2o_handler_t *handler;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    http->cfg = cfg;
    http->nloops = cfg->threads > 0 ? cfg->threads : (ncpu > 0 ? (int)ncpu : 1);
    http->nworkers = cfg->workers;
    pthread_mutex_init(&http->qlock, NULL);
    pthread_cond_init(&http->qcond, NULL);
    pthread_mutex_init(&http->ready_lock, NULL);
    pthread_cond_init(&http->ready_cond, NULL);

    h2o_config_init(&http->config);
    /* h2o refuses bodies past this with a plain 413 before they are read; up to it the API
     * answers a JSON 400 for anything over EAGLE_MAX_BODY. */
    http->config.max_request_entity_size = 4 * EAGLE_MAX_BODY;
    http->config.server_name = h2o_iovec_init(H2O_STRLIT("eagle"));
    host = h2o_config_register_host(&http->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;

    /* bind every listener first, so a taken address fails before any thread starts */
    http->loops = xcalloc((size_t)http->nloops, sizeof(*http->loops));
    for (int i = 0; i < http->nloops; i++) {
        http->loops[i].http = http;
        http->loops[i].fd = bind_listener(cfg->listen, err);
        if (http->loops[i].fd < 0) {
            for (int k = 0; k < i; k++)
                close(http->loops[k].fd);
            h2o_config_dispose(&http->config);
            free(http->loops);
            free(http);
            return NULL;
        }
    }
    for (int i = 0; i < http->nloops; i++)
        pthread_create(&http->loops[i].tid, NULL, loop_main, &http->loops[i]);
    pthread_mutex_lock(&http->ready_lock);
    while (http->ready < http->nloops)
        pthread_cond_wait(&http->ready_cond, &http->ready_lock);
    pthread_mutex_unlock(&http->ready_lock);
    eagle_catalog_set_listener(on_catalog_change, http);
    eagle_events_set_listener(on_events, http);
    http->workers = xcalloc((size_t)http->nworkers, sizeof(pthread_t));
    for (int i = 0; i < http->nworkers; i++)
        pthread_create(&http->workers[i], NULL, worker_main, http);
    log_info("http", "listening on %s (%d event loops, %d workers)", cfg->listen, http->nloops, http->nworkers);
    return http;
}

void eagle_http_stop(struct eagle_http *http)
{
    if (!http)
        return;
    eagle_catalog_set_listener(NULL, NULL);
    eagle_events_set_listener(NULL, NULL);
    /* Workers finish the job in hand; queued jobs are answered 503 by their loop. */
    pthread_mutex_lock(&http->qlock);
    http->stopping = 1;
    struct job *pending = http->qhead;
    http->qhead = http->qtail = NULL;
    pthread_cond_broadcast(&http->qcond);
    pthread_mutex_unlock(&http->qlock);
    for (struct job *j = pending, *next; j; j = next) {
        next = j->next;
        j->failed = 1;
        eagle_err_set(&j->err, 503, "shutting_down", NULL, "the server is shutting down");
        h2o_multithread_send_message(&j->loop->receiver, &j->msg);
    }
    if (http->workers)
        for (int i = 0; i < http->nworkers; i++)
            pthread_join(http->workers[i], NULL);
    /* Loops deliver the last answers, end streams and long-polls, then stop. */
    http->closing = 1;
    wake_loops(http);
    usleep(300 * 1000);
    http->stop_loops = 1;
    for (int i = 0; i < http->nloops; i++)
        if (http->loops[i].tid)
            pthread_join(http->loops[i].tid, NULL); /* each loop tears itself down */
    h2o_config_dispose(&http->config);
    free(http->loops);
    free(http->workers);
    pthread_mutex_destroy(&http->qlock);
    pthread_cond_destroy(&http->qcond);
    pthread_mutex_destroy(&http->ready_lock);
    pthread_cond_destroy(&http->ready_cond);
    free(http);
}
