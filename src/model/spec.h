/*
 * spec.h — a service spec: Eagle's description of what should run.
 *
 * This module is the one place that validates a spec. It reads the JSON a user
 * sends (rejecting unknown fields and wrong types, naming the field), writes the
 * normalised JSON Eagle stores and returns, and maps a spec to the Docker Engine
 * API's ServiceSpec (API 1.41) and back. It knows nothing of HTTP, the store or
 * the engine connection; it is pure and thread-safe.
 *
 * Ownership: eagle_spec_from_json() fills a caller-provided struct; release it
 * with eagle_spec_release(). Functions returning json_t* return a new reference
 * the caller must json_decref().
 */
#ifndef EAGLE_SPEC_H
#define EAGLE_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define EAGLE_NAME_MAX 63     /* service, cluster and tenant names: [a-z0-9]([a-z0-9-]*[a-z0-9])?, <= 63 */
#define EAGLE_SPEC_LIST_MAX 256 /* any array or map in a spec holds at most this many items */

struct eagle_kv {
    char *key;
    char *value;
};

struct eagle_port {
    int target;       /* container port, 1..65535 */
    int published;    /* 0 = let Swarm choose (ingress only) */
    char protocol[8]; /* "tcp" (default), "udp", "sctp" */
    char mode[8];     /* "ingress" (default) or "host" */
};

struct eagle_mount {
    char type[8]; /* "volume" (default), "bind", "tmpfs" */
    char *source; /* volume name or host path; NULL for tmpfs */
    char *target; /* absolute path in the container */
    bool read_only;
};

struct eagle_update_policy {
    bool set;                  /* false: the field was absent, Swarm's default applies */
    int64_t parallelism;       /* 0 = all at once */
    int64_t delay_ns;
    char failure_action[12];   /* "pause", "continue", "rollback" (update only) */
    int64_t monitor_ns;
    double max_failure_ratio;  /* 0..1 */
    char order[12];            /* "stop-first", "start-first" */
};

struct eagle_spec {
    char *name;    /* required; see EAGLE_NAME_MAX */
    char *tenant;  /* NULL: the API picks the caller's only tenant, or "default" for an admin */
    char *cluster; /* NULL: the API picks the only cluster, or fails */
    char **cap_add; /* Linux capabilities added ("CAP_NET_ADMIN"); refused for tenants not allowed them */
    char *image;   /* required; a valid Docker image reference */
    char **command; /* NULL-terminated, NULL when absent */
    char **args;
    struct eagle_kv *env; /* "env": {"K": "V"} */
    size_t n_env;
    bool global;         /* "mode": "global"; default "replicated" */
    int64_t replicas;    /* replicated only; default 1; 0..1000 */
    int64_t limit_nano_cpus, limit_memory; /* "resources": {"limits": {"cpus": 0.5, "memory": "256M"}} */
    int64_t reserve_nano_cpus, reserve_memory; /* ... "reservations": {...}; 0 = unset */
    struct eagle_port *ports;
    size_t n_ports;
    struct eagle_kv *labels; /* user labels; keys starting with "eagle." are reserved */
    size_t n_labels;
    char **constraints; /* "placement": {"constraints": ["node.role==worker"], */
    char **preferences; /*   "preferences": ["node.labels.zone"] (spread), "max_replicas_per_node": N} */
    int64_t max_replicas_per_node;
    struct {
        bool set;
        char condition[12]; /* "none", "on-failure", "any" */
        int64_t delay_ns;
        int64_t max_attempts;
        int64_t window_ns;
    } restart_policy;
    struct eagle_update_policy update_config, rollback_config;
    char **networks; /* network names or ids */
    struct eagle_mount *mounts;
    size_t n_mounts;
    struct eagle_spec_health {
        bool set;         /* "health_check": Eagle's own TCP/HTTP check of every task */
        char type[8];     /* "tcp" or "http" */
        int64_t port;     /* the task's port, reached inside its network namespace */
        char method[8];   /* http: GET (default), HEAD */
        char *path;       /* http: "/" by default */
        char *host;       /* http: Host header; NULL = "127.0.0.1:<port>" */
        int64_t status_min, status_max; /* http: accepted statuses, default 200-399 */
        char *body;       /* http: a substring the body must contain; NULL = any */
        int64_t interval_ns, timeout_ns, start_period_ns;
        int64_t healthy_threshold, unhealthy_threshold;
    } health_check;
    struct {
        bool set;
        char **test; /* ["CMD", "..."], ["CMD-SHELL", "..."] or ["NONE"] */
        int64_t interval_ns, timeout_ns, start_period_ns;
        int64_t retries;
    } healthcheck;
};

/*
 * Parse and validate `in` (a JSON object) into `spec`. On failure fills `err`
 * with status 400, code "invalid_argument" and the field path (e.g. "replicas",
 * "ports[1].target", "env.FOO", "update_config.order") and leaves `spec` released.
 * Unknown fields, wrong types, negative numbers, bad names, a malformed image
 * reference, a relative mount target, duplicate published ports are all errors.
 */
int eagle_spec_from_json(const json_t *in, struct eagle_spec *spec, struct eagle_err *err);

/* Release everything `spec` holds and zero it. Safe on a zeroed struct. */
void eagle_spec_release(struct eagle_spec *spec);

/* A deep copy of `src` into `dst`. */
void eagle_spec_copy(struct eagle_spec *dst, const struct eagle_spec *src);

/* The normalised JSON form: every field present with its default, durations as
 * strings ("5s"), memory as a byte count. eagle_spec_from_json() of this returns
 * an equal spec (round trip). */
json_t *eagle_spec_to_json(const struct eagle_spec *spec);

/*
 * The Engine API ServiceSpec (POST /services/create body) for this spec.
 * `eagle_labels` (may be NULL) is an object of extra labels Eagle adds to the
 * service's Labels (e.g. {"eagle.service": "web", "eagle.revision": "3"}); they
 * also go on ContainerSpec.Labels so containers can be traced back.
 */
json_t *eagle_spec_to_engine(const struct eagle_spec *spec, const json_t *eagle_labels);

/*
 * Read an Engine API ServiceSpec (the "Spec" of GET /services/{id}) back into a
 * spec (used to adopt services and to show what runs). Labels starting with
 * "eagle." are dropped. Fields Eagle does not model are ignored.
 */
int eagle_spec_from_engine(const json_t *engine_spec, struct eagle_spec *spec, struct eagle_err *err);

/* True when `s` is a valid service/cluster name. */
bool eagle_name_valid(const char *s);

/* True when `s` is a valid image reference ([registry[:port]/]path[:tag][@sha256:hex]). */
bool eagle_image_ref_valid(const char *s);

#endif
