/*
 * config.h — eagled's configuration, driven by one table (Redis' config.c):
 * every option is a config-file line ("listen 127.0.0.1:8420"), an environment
 * variable (EAGLE_LISTEN) and a flag (--listen), in increasing precedence, with
 * its default, validation and --help text from the same row.
 */
#ifndef EAGLE_CONFIG_H
#define EAGLE_CONFIG_H

#include <stdio.h>

#include "core/err.h"

struct eagle_config {
    char *listen;     /* host:port of the HTTP API */
    char *data;       /* directory holding the store and per-cluster files */
    char *engine;     /* endpoint registered as cluster "local" on first start; NULL = none */
    char *datacenter; /* data centre of that cluster */
    char *log_level;
    int threads;             /* HTTP event loops; 0 = one per core */
    int workers;             /* worker threads for store and engine calls */
    int check_interval;      /* seconds between cluster health checks and reconcile passes */
    int session_hours;       /* lifetime of a login session token */
    int catalog_interval_ms; /* how often the watcher reads every cluster */
    char *callback_deny;     /* CIDRs that non-admins' subscriptions may not reach */
};

/* Loopback, "this network", link-local (cloud metadata services live there) and
 * multicast: where a tenant's callback must not make eagled send requests. */
#define EAGLE_CALLBACK_DENY_DEFAULT                                                                          \
    "127.0.0.0/8,0.0.0.0/8,169.254.0.0/16,224.0.0.0/4,255.255.255.255/32,::1/128,::/128,fe80::/10,ff00::/8"

/* Fill `cfg` with defaults, then the file named by --config/EAGLE_CONFIG, then
 * EAGLE_* variables, then flags. Returns 1 when --help or --version was handled
 * (the caller exits 0), 0 to run, -1 on a bad option (err says which). */
int eagle_config_load(struct eagle_config *cfg, int argc, char **argv, struct eagle_err *err);
void eagle_config_release(struct eagle_config *cfg);
void eagle_config_usage(FILE *out);

#endif
