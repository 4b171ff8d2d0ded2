/*
 * engine.h — a client of the Docker Engine HTTP API (version 1.41), over a unix
 * socket or TCP (optionally TLS with client certificates), through libcurl.
 *
 * Rules: an eagle_engine is used by one thread at a time (each worker or
 * controller thread opens its own; opening is cheap, the CURL handle keeps its
 * connection alive between calls). Every call has a timeout. Answers are jansson
 * values the caller owns (json_decref). Errors map the engine's answer to Eagle's:
 *   - the engine does not answer (connect refused, timeout): status 503,
 *     code "engine_unavailable";
 *   - the engine answers 404: status 404, code "not_found";
 *   - 409 (name conflict): 409 "conflict";
 *   - 400 (the engine rejected the spec): 400 "invalid_argument" with the engine's message;
 *   - "update out of sequence" (any status): 409, code "out_of_sequence" (callers retry);
 *   - 503 "This node is not a swarm manager": 503 "not_swarm_manager";
 *   - any other engine error: 502 "engine_error" with the engine's message
 *     (also an answer larger than 64 MiB, or a 2xx answer that is not JSON).
 * Every error message carries the engine's own message text (or curl's, with
 * the endpoint, for "engine_unavailable").
 *
 * Threads: call eagle_engine_global_init() once, before any thread starts and
 * before the first eagle_engine_new() (curl_global_init is not thread-safe).
 */
#ifndef EAGLE_ENGINE_H
#define EAGLE_ENGINE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct eagle_engine;

/*
 * Initialise libcurl (curl_global_init(CURL_GLOBAL_DEFAULT)). Call once from
 * main() before threads start; returns -1 (500 "internal") if curl cannot start.
 * eagle_engine_global_cleanup() undoes it at exit, after every engine is freed.
 */
int eagle_engine_global_init(struct eagle_err *err);
void eagle_engine_global_cleanup(void);

struct eagle_engine_tls {
    const char *ca_file; /* PEM file paths; all NULL (or "") for no TLS */
    const char *cert_file;
    const char *key_file;
};

/*
 * Open a client for `endpoint`: "unix:///path/to/docker.sock" or "tcp://host:port"
 * ("[::1]:port" for IPv6); https is used when any tls file is set (tcp:// only;
 * the files must be readable). Does not connect yet. `timeout_ms` bounds each
 * call (0 = 30 s; connecting is bounded by min(timeout, 3 s)). Returns NULL and
 * fills err (400 "invalid_argument", field "endpoint", "tls.*" or "timeout_ms")
 * on a malformed endpoint.
 * Free with eagle_engine_free() (NULL is a no-op).
 */
struct eagle_engine *eagle_engine_new(const char *endpoint, const struct eagle_engine_tls *tls,
                                      long timeout_ms, struct eagle_err *err);
void eagle_engine_free(struct eagle_engine *e);

/*
 * The generic call: METHOD path (e.g. "/services/create"; the "/v1.41" prefix is
 * added), with an optional JSON body. On 2xx returns 0 and, when `out` is not
 * NULL, the parsed JSON answer (json_null() for an empty body). Otherwise -1.
 */
int eagle_engine_call(struct eagle_engine *e, const char *method, const char *path, const json_t *body,
                      json_t **out, struct eagle_err *err);

/* GET /_ping; 0 when the engine answers. */
int eagle_engine_ping(struct eagle_engine *e, struct eagle_err *err);
/* GET /info and GET /version. */
int eagle_engine_info(struct eagle_engine *e, json_t **out, struct eagle_err *err);
int eagle_engine_version(struct eagle_engine *e, json_t **out, struct eagle_err *err);
/* GET /swarm (fails with 503 "not_swarm_manager" when the engine is not a manager). */
int eagle_engine_swarm(struct eagle_engine *e, json_t **out, struct eagle_err *err);
/* GET /nodes (array). */
int eagle_engine_nodes(struct eagle_engine *e, json_t **out, struct eagle_err *err);

/* POST /services/create; returns the new service id in *id (caller frees). */
int eagle_engine_service_create(struct eagle_engine *e, const json_t *spec, char **id, struct eagle_err *err);
/*
 * The service calls below take an id or name, checked against Docker's alphabet
 * [A-Za-z0-9][A-Za-z0-9_.-]* (else 400 "invalid_argument", field "id").
 */
/* GET /services/{id-or-name}. */
int eagle_engine_service_inspect(struct eagle_engine *e, const char *id, json_t **out, struct eagle_err *err);
/* POST /services/{id}/update?version=N with a full spec. */
int eagle_engine_service_update(struct eagle_engine *e, const char *id, uint64_t version, const json_t *spec,
                                struct eagle_err *err);
/* DELETE /services/{id}; a service already gone is success. */
int eagle_engine_service_delete(struct eagle_engine *e, const char *id, struct eagle_err *err);
/* GET /services?filters={"label":[label]} (label as "key=value" or "key"); array. */
int eagle_engine_services_by_label(struct eagle_engine *e, const char *label, json_t **out,
                                   struct eagle_err *err);
/* GET /tasks?filters={"service":[service_id]} (service_id NULL: every task); array.
 * The engine answers 404 "not_found" for a service that does not exist. */
int eagle_engine_tasks(struct eagle_engine *e, const char *service_id, json_t **out, struct eagle_err *err);

/*
 * Streaming: GET `path` (an endpoint answering a JSON array, such as "/tasks")
 * and hand each element of the array to `cb` as soon as it has arrived, as its
 * raw JSON text (NUL-terminated, `len` bytes, valid only during the call). The
 * whole answer is never held: only the element being received (each at most
 * 64 MiB). `cb` returns 0 to go on, or -1 with `err` filled to stop the transfer
 * (that error is returned). The elements are split, not parsed: `cb` parses
 * what it needs. Errors otherwise as eagle_engine_call(); an answer that is not
 * a well-formed JSON array is a 502 "engine_error" (the elements `cb` saw before
 * the fault stay seen: a caller that must be all-or-nothing keeps its own state
 * until the call returns 0).
 */
typedef int (*eagle_engine_element_cb)(void *ud, const char *json, size_t len, struct eagle_err *err);
int eagle_engine_stream_array(struct eagle_engine *e, const char *path, eagle_engine_element_cb cb, void *ud,
                              struct eagle_err *err);

/*
 * Following: GET `path`, an endpoint that answers for as long as it likes (such
 * as "/events"), handing each piece of a 2xx answer to `cb` as it arrives (not
 * split into lines or values: `cb` sees raw bytes). `cb` is first called once
 * with `data` NULL and `len` 0 as soon as the engine's 2xx headers arrive (the
 * answer is open, before its first byte). The call has no overall
 * timeout; TCP keepalive probes an idle connection after 15 s, so a peer
 * that vanished is noticed within about 30 s. It returns 0 when the engine ends the answer, or soon after
 * `*stop` becomes non-zero (within about a second; `stop` may be NULL); -1 with `err` filled on an error (as
 * eagle_engine_call()), or with the error `cb` filled when it returned -1.
 */
typedef int (*eagle_engine_data_cb)(void *ud, const char *data, size_t len, struct eagle_err *err);
int eagle_engine_follow(struct eagle_engine *e, const char *path, eagle_engine_data_cb cb, void *ud,
                        const atomic_int *stop, struct eagle_err *err);

#endif
