/*
 * server.h — the HTTP server: h2o (libh2o-evloop), one event loop per core on
 * SO_REUSEPORT listeners, and a worker pool for everything that may block.
 *
 * Request flow: a loop parses the request and matches the route. Routes marked
 * ROUTE_LOOP (memory only) are answered there. Every other request becomes a job
 * on the worker queue; a worker authenticates it and runs the handler against
 * its own store connection and engine clients; the answer goes back to the
 * request's loop through h2o's multithread queue and is sent there. If the
 * client has gone meanwhile, the answer is dropped.
 */
#ifndef EAGLE_SERVER_H
#define EAGLE_SERVER_H

#include "core/config.h"
#include "core/err.h"

struct eagle_http;

/* Bind and start the loops and workers. Returns NULL and err when the address
 * cannot be bound. */
struct eagle_http *eagle_http_start(const struct eagle_config *cfg, struct eagle_err *err);
/* Stop accepting, finish, join every thread and free. NULL is a no-op. */
void eagle_http_stop(struct eagle_http *http);

#endif
