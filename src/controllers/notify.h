/*
 * notify.h — the deliverer of event subscriptions: one thread that POSTs each
 * subscription's matching events to its URL, in event order, signed, retried
 * with exponential backoff, and recorded in the delivery log.
 *
 * Guarantees (see notify.c for how):
 * - In order per subscription: event N+1 is not sent before N was answered
 *   2xx. At most one request per subscription is in flight.
 * - Durable: the cursor (the last event done) advances in the store only after
 *   a 2xx answer, so after a restart delivery resumes where it stood. A crash
 *   between the answer and that write re-sends one event (at-least-once):
 *   receivers de-duplicate with X-Eagle-Event-Id.
 * - Fenced: a subscription made by a non-admin may not reach the address
 *   ranges of the callback-deny option (loopback, link-local, ... by default),
 *   checked on the resolved address of every connection; a refused attempt is
 *   a failed delivery whose error says so. Redirects are not followed.
 * - Isolated: requests run concurrently on one libcurl multi handle (10 s
 *   timeout, 3 s to connect), so a dead or slow endpoint delays only its own
 *   subscription, never the others or the API.
 *
 * The request: POST <url> with the event's JSON text, exactly as the event
 * stream carries it, and the headers Content-Type: application/json,
 * X-Eagle-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the
 * subscription's secret string>, X-Eagle-Event-Id, X-Eagle-Subscription,
 * X-Eagle-Attempt.
 *
 * Threads: start/stop from the daemon's thread; eagle_notify_poke() and
 * eagle_notify_url_check() from any thread.
 */
#ifndef EAGLE_NOTIFY_H
#define EAGLE_NOTIFY_H

#include <stdint.h>

#include "core/err.h"

#define EAGLE_NOTIFY_URL_MAX 2048

/* callback_deny: the address ranges (CIDR list) that subscriptions made by
 * non-admins may not reach; checked on every connection's resolved address. */
int eagle_notify_start(const char *data_dir, const char *callback_deny, struct eagle_err *err);
void eagle_notify_stop(void);

/* Subscriptions changed in the store (created, deleted, rewound): look now
 * rather than at the next periodic reload. A no-op when not running. */
void eagle_notify_poke(void);

/* 0 when `url` is an http:// or https:// URL with a host, at most
 * EAGLE_NOTIFY_URL_MAX characters; else 400 invalid_argument, field "url". */
int eagle_notify_url_check(const char *url, struct eagle_err *err);

/* For a subscription by a non-admin: 400 (field "url") when the URL's host is
 * a numeric address the callback policy denies. Names are checked when
 * delivering (they may resolve anywhere). */
int eagle_notify_url_allowed(const char *url, struct eagle_err *err);

/* The wait before attempt `failures`+1, after `failures` (>= 1) failed ones:
 * 1 s, 2 s, 4 s, ... capped at 5 minutes. */
int64_t eagle_notify_backoff_ms(int64_t failures);

#endif
