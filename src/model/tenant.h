/*
 * tenant.h — a tenant's resource pool as rules: quotas, usage and the safety
 * exceptions an admin may grant. Pure functions over specs; no store, no engine.
 */
#ifndef EAGLE_TENANT_H
#define EAGLE_TENANT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "model/spec.h"

/* What a tenant may use; 0 means unlimited. CPU in nano-CPUs, memory in bytes. */
struct eagle_quota {
    int64_t cpus, memory;                   /* sum over tasks of the limits */
    int64_t reserved_cpus, reserved_memory; /* sum over tasks of the reservations */
    int64_t replicas, services, volumes;
};

/* What a tenant uses (same units). */
struct eagle_usage {
    int64_t cpus, memory, reserved_cpus, reserved_memory, replicas, services, volumes;
};

/* Exceptions to the safety rules, granted per tenant by an admin. */
struct eagle_allow {
    bool bind_mounts;  /* host paths (never the Docker socket) */
    bool host_network; /* the "host" network */
    bool cap_add;      /* added Linux capabilities */
};

/* {"cpus": 4, "memory": "8G", "reserved_cpus": 2, "reserved_memory": "4G", "replicas": 20,
 *  "services": 10, "volumes": 5}; absent or 0 = unlimited. Field errors name "quotas.<key>". */
int eagle_quota_from_json(const json_t *in, struct eagle_quota *q, struct eagle_err *err);
json_t *eagle_quota_to_json(const struct eagle_quota *q);
/* {"bind_mounts": false, "host_network": false, "cap_add": false} */
int eagle_allow_from_json(const json_t *in, struct eagle_allow *a, struct eagle_err *err);
json_t *eagle_allow_to_json(const struct eagle_allow *a);

/* Add what `spec` uses; a global service counts `global_nodes` tasks. Named
 * volumes are counted once each per call; pass the same `seen` object (a JSON
 * object used as a set, owned by the caller) across calls to count distinct names. */
void eagle_usage_add(struct eagle_usage *u, const struct eagle_spec *spec, int64_t global_nodes, json_t *seen);
json_t *eagle_usage_to_json(const struct eagle_usage *u);

/* 0 when `others` + `wanted` fit in `q`; else 422 "quota_exceeded" naming the
 * quota, the tenant, what others use and what this change asks for. */
int eagle_quota_check(const char *tenant, const struct eagle_quota *q, const struct eagle_usage *others,
                      const struct eagle_usage *wanted, struct eagle_err *err);

/* The safety rules for a non-admin's spec: no bind mount of a host path (and
 * never of the Docker socket, whatever is allowed), no host network, no added
 * capabilities — unless `allow` grants it. 403 "forbidden" naming the field. */
int eagle_spec_check_safety(const struct eagle_spec *spec, const struct eagle_allow *allow, struct eagle_err *err);

#endif
