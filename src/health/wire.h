/*
 * wire.h — a health check and its result as JSON, the form eagled and
 * eagle-agent exchange (POST /v1/agent/sync, see docs/api.md), and the check
 * of a service's health_check spec in the checker's terms.
 *
 * A check: {"type": "tcp"|"http", "port", "interval_ms", "timeout_ms",
 * "start_period_ms", "healthy_threshold", "unhealthy_threshold"} and, for
 * http, "method", "path", "host" (optional), "status_min", "status_max",
 * "body_contains" (optional).
 *
 * A result: {"task", "health" ("unknown"|"healthy"|"unhealthy"), "reason",
 * "last_ok" (true/false/null), "checks", "last_check_ms", "latency_us"}.
 */
#ifndef EAGLE_HEALTH_WIRE_H
#define EAGLE_HEALTH_WIRE_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "health/checker.h"
#include "model/spec.h"

/* The check of a spec's health_check; its strings point into `h`. */
void eagle_health_check_of_spec(const struct eagle_spec_health *h, struct eagle_health_check *c,
                                uint16_t *port);

json_t *eagle_health_check_to_json(const struct eagle_health_check *c, uint16_t port);

/* Parse a check; its strings point into `j`, which must outlive `c`. On bad
 * input -1 with err naming the field under `field` ("targets[2].check.port"). */
int eagle_health_check_from_json(const json_t *j, const char *field, struct eagle_health_check *c,
                                 uint16_t *port, struct eagle_err *err);

json_t *eagle_health_result_to_json(const struct eagle_health_result *r);

/* "unknown" / "healthy" / "unhealthy" → the state; -1 otherwise. */
int eagle_health_state_parse(const char *s);

#endif
