/*
 * daemon.c — see daemon.h. Start order: store (migrated) → first admin →
 * local cluster → reconciler → HTTP. Stop is the reverse.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/claims.h"
#include "controllers/context.h"
#include "controllers/notify.h"
#include "controllers/reconcile.h"
#include "controllers/watcher.h"
#include "controllers/deploy.h"
#include "controllers/health.h"
#include "api/api.h"
#include "catalog/catalog.h"
#include "events/events.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "http/server.h"
#include "store/store.h"

static struct eagle_daemon {
    const struct eagle_config *cfg;
    unsigned char token_key[32];
    char instance[33];
    struct eagle_http *http;
} daemon_state;

const unsigned char *eagle_daemon_token_key(void)
{
    return daemon_state.token_key;
}

const char *eagle_daemon_instance(void)
{
    return daemon_state.instance;
}

const struct eagle_config *eagle_daemon_config(void)
{
    return daemon_state.cfg;
}

void eagle_daemon_fault_point(const char *point)
{
    const char *want = getenv("EAGLE_FAULT");
    if (want && strcmp(want, point) == 0) {
        log_warn("daemon", "EAGLE_FAULT=%s: killing myself", point);
        raise(SIGKILL);
    }
}

static int ensure_instance(struct eagle_store *st, struct eagle_err *err)
{
    char *id = NULL;

    if (eagle_store_meta_get(st, "instance_id", &id, err) < 0)
        return -1;
    if (!id) {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(daemon_state.instance, sizeof(daemon_state.instance), raw, sizeof(raw));
        return eagle_store_meta_set(st, "instance_id", daemon_state.instance, err);
    }
    snprintf(daemon_state.instance, sizeof(daemon_state.instance), "%s", id);
    free(id);
    return 0;
}

static int ensure_token_key(struct eagle_store *st, struct eagle_err *err)
{
    char *hex = NULL;
    size_t len = 0;

    if (eagle_store_meta_get(st, "token_key", &hex, err) < 0)
        return -1;
    if (!hex) {
        char buf[65];
        randombytes_buf(daemon_state.token_key, sizeof(daemon_state.token_key));
        sodium_bin2hex(buf, sizeof(buf), daemon_state.token_key, sizeof(daemon_state.token_key));
        return eagle_store_meta_set(st, "token_key", buf, err);
    }
    if (sodium_hex2bin(daemon_state.token_key, sizeof(daemon_state.token_key), hex, strlen(hex), NULL, &len,
                       NULL) != 0 ||
        len != sizeof(daemon_state.token_key)) {
        free(hex);
        return eagle_err_internal(err, "the stored token key is malformed");
    }
    free(hex);
    return 0;
}

/* First start: the admin user, with EAGLE_ADMIN_PASSWORD or a generated password
 * written (0600) to DATA/initial-admin-password and printed once. */
static int ensure_admin(struct eagle_store *st, const char *data_dir, struct eagle_err *err)
{
    const char *given = getenv("EAGLE_ADMIN_PASSWORD");
    char generated[33], hash[crypto_pwhash_STRBYTES];
    const char *password = given;
    int64_t n;

    if (eagle_store_user_count(st, &n, err) < 0)
        return -1;
    if (n > 0)
        return 0;
    if (!password || !*password) {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(generated, sizeof(generated), raw, sizeof(raw));
        password = generated;
    }
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return eagle_err_internal(err, "out of memory hashing the admin password");
    if (eagle_store_user_create(st, "admin", hash, "admin", err) < 0)
        return -1;
    if (password == generated) {
        char *path = xasprintf("%s/initial-admin-password", data_dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (write(fd, generated, strlen(generated)) < 0 || write(fd, "\n", 1) < 0)
                log_warn("daemon", "cannot write '%s': %s", path, strerror(errno));
            close(fd);
        }
        log_info("daemon", "created user 'admin' with password %s (also in %s)", generated, path);
        free(path);
    } else {
        log_info("daemon", "created user 'admin' with the password from EAGLE_ADMIN_PASSWORD");
    }
    return 0;
}

/* First start with --engine: register it as cluster "local". */
static int ensure_local_cluster(struct eagle_store *st, const struct eagle_config *cfg, struct eagle_err *err)
{
    json_t *rows = NULL, *swarm = NULL, *version = NULL;
    struct eagle_engine *eng;
    int rc = 0;

    if (!cfg->engine)
        return 0;
    if (eagle_store_cluster_list(st, &rows, err) < 0)
        return -1;
    if (json_array_size(rows) > 0) {
        json_decref(rows);
        return 0;
    }
    json_decref(rows);
    eng = eagle_engine_new(cfg->engine, NULL, 10000, err);
    if (!eng)
        return eagle_err_wrap(err, "--engine");
    if (eagle_engine_version(eng, &version, err) < 0 || eagle_engine_swarm(eng, &swarm, err) < 0) {
        log_warn("daemon", "engine %s: %s (registering cluster 'local' anyway; it shows as unreachable)",
                 cfg->engine, err->msg);
    }
    rc = eagle_store_cluster_create(st, "local", cfg->datacenter, cfg->engine, 0,
                                    json_string_value(json_object_get(swarm, "ID")),
                                    json_string_value(json_object_get(version, "Version")), err);
    if (rc == 0)
        log_info("daemon", "registered cluster 'local' (%s) in data centre '%s'", cfg->engine,
                 cfg->datacenter);
    json_decref(swarm);
    json_decref(version);
    eagle_engine_free(eng);
    return rc;
}

int eagle_daemon_start(const struct eagle_config *cfg, struct eagle_err *err)
{
    struct eagle_store *st;

    daemon_state.cfg = cfg;
    eagle_claims_set_max_waiters(cfg->workers / 2); /* the rest stay free for other calls */
    eagle_log_min = (enum eagle_log_level)eagle_log_parse_level(cfg->log_level);
    if (sodium_init() < 0)
        return eagle_err_internal(err, "libsodium failed to initialise");
    if (eagle_engine_global_init(err) < 0)
        return -1;
    if (mkdir(cfg->data, 0700) != 0 && errno != EEXIST)
        return eagle_err_invalid(err, "data", "cannot create data directory '%s': %s", cfg->data,
                                 strerror(errno));
    st = eagle_store_open(cfg->data, 1, err);
    if (!st)
        return -1;
    if (ensure_instance(st, err) < 0 || ensure_token_key(st, err) < 0 ||
        ensure_admin(st, cfg->data, err) < 0 || ensure_local_cluster(st, cfg, err) < 0) {
        eagle_store_close(st);
        return -1;
    }
    eagle_catalog_init();
    if (eagle_events_init(st, err) < 0) {
        eagle_store_close(st);
        return -1;
    }
    eagle_store_close(st);
    if (eagle_reconciler_start(cfg->data, cfg->check_interval, err) < 0)
        return -1;
    daemon_state.http = eagle_http_start(cfg, err);
    if (!daemon_state.http)
        return -1;
    if (eagle_watcher_start(cfg->data, cfg->catalog_interval_ms, err) < 0)
        return -1;
    if (eagle_notify_start(cfg->data, cfg->callback_deny, err) < 0)
        return -1;
    if (eagle_deploy_start(cfg->data, err) < 0)
        return -1;
    if (eagle_health_start(cfg->data, err) < 0)
        return -1;
    return 0;
}

void eagle_daemon_stop(void)
{
    eagle_health_stop();
    eagle_deploy_stop();
    eagle_notify_stop();
    eagle_watcher_stop();
    eagle_http_stop(daemon_state.http);
    daemon_state.http = NULL;
    eagle_reconciler_stop();
    eagle_catalog_shutdown();
    eagle_discovery_cache_clear();
    eagle_events_shutdown();
    eagle_claims_clear();
}
