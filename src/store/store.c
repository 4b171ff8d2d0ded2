/*
 * store.c — the domain calls of the store, in portable SQL over a backend
 * (see store.h). Schema changes are appended to `migrations`, never edited:
 * the store records how many it has applied.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct eagle_store {
    const struct eagle_store_driver *drv;
    void *conn;
    int in_tx;
};

static const char *migrations[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE tokens (hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),"
    "  kind TEXT NOT NULL, expires_ms BIGINT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE clusters (name TEXT PRIMARY KEY, datacenter TEXT NOT NULL, endpoint TEXT NOT NULL,"
    "  tls INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
    "  swarm_id TEXT NOT NULL DEFAULT '', engine_version TEXT NOT NULL DEFAULT '', checked_at TEXT,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE services (name TEXT PRIMARY KEY, cluster TEXT NOT NULL REFERENCES clusters(name),"
    "  revision BIGINT NOT NULL, applied_revision BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL,"
    "  status_message TEXT NOT NULL DEFAULT '', engine_id TEXT, spec TEXT NOT NULL,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_by TEXT NOT NULL);"
    "CREATE TABLE revisions (service TEXT NOT NULL, revision BIGINT NOT NULL, reason TEXT NOT NULL,"
    "  spec TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  PRIMARY KEY (service, revision));"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,"
    "  target TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_at ON audit(at);",
    /* 2: tenancy */
    "CREATE TABLE tenants (name TEXT PRIMARY KEY, quotas TEXT NOT NULL DEFAULT '{}', pool TEXT NOT NULL DEFAULT '',"
    "  allow TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);"
    "CREATE TABLE members (tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,"
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE, role TEXT NOT NULL,"
    "  PRIMARY KEY (tenant, username));"
    "INSERT INTO tenants (name, created_at) VALUES ('default', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));"
    "ALTER TABLE services ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';"
    "ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE audit ADD COLUMN tenant TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX audit_tenant ON audit(tenant, at);"
    "CREATE INDEX tokens_user ON tokens(username);",
    /* 3: the event history (bounded; ids never reused) */
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, type TEXT NOT NULL,"
    "  data TEXT NOT NULL);",
    /* 4: event subscriptions (signed callbacks) and their delivery log */
    "CREATE TABLE subscriptions (id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE, url TEXT NOT NULL,"
    "  types TEXT NOT NULL DEFAULT '', service TEXT NOT NULL DEFAULT '', secret TEXT NOT NULL,"
    "  nodes INTEGER NOT NULL DEFAULT 0, cursor BIGINT NOT NULL, generation BIGINT NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL DEFAULT 'active', failures INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '', next_attempt_at TEXT, created_by TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX subscriptions_tenant ON subscriptions(tenant);"
    "CREATE TABLE deliveries (id INTEGER PRIMARY KEY,"
    "  subscription TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE, event_id BIGINT NOT NULL,"
    "  attempt INTEGER NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL DEFAULT '',"
    "  duration_ms BIGINT NOT NULL, at TEXT NOT NULL);"
    "CREATE INDEX deliveries_subscription ON deliveries(subscription, id);",
    /* 5: releases (rolling and canary), one active per service */
    "CREATE TABLE releases (id TEXT PRIMARY KEY, service TEXT NOT NULL, tenant TEXT NOT NULL,"
    "  strategy TEXT NOT NULL, from_revision BIGINT NOT NULL, to_revision BIGINT NOT NULL DEFAULT 0,"
    "  spec TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL, step INTEGER NOT NULL DEFAULT 0,"
    "  step_started_ms BIGINT NOT NULL DEFAULT 0, healthy_since_ms BIGINT NOT NULL DEFAULT 0,"
    "  progress TEXT NOT NULL DEFAULT '{}', message TEXT NOT NULL DEFAULT '',"
    "  promote_requested INTEGER NOT NULL DEFAULT 0, abort_requested INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_by TEXT NOT NULL);"
    "CREATE INDEX releases_service ON releases(service, created_at);"
    "CREATE UNIQUE INDEX releases_active ON releases(service)"
    "  WHERE state NOT IN ('succeeded', 'rolled_back', 'aborted', 'failed');",
    /* 6: eagle-agent installations, one per cluster */
    "CREATE TABLE agents (cluster TEXT PRIMARY KEY REFERENCES clusters(name), token_hash TEXT NOT NULL,"
    "  image TEXT NOT NULL, url TEXT NOT NULL, engine_socket TEXT NOT NULL, proc TEXT NOT NULL,"
    "  service_id TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, created_by TEXT NOT NULL);",
    /* 7: stores made before 2026-11-26 dated the default tenant 1970: date it by the first user */
    "UPDATE tenants SET created_at = COALESCE((SELECT MIN(created_at) FROM users),"
    "  strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) WHERE name = 'default' AND created_at = '1970-01-01T00:00:00Z';",
    /* 8: eagle-agent per node: a service, a secret and a token each (agents.token_hash and
     *    agents.service_id are no longer used) */
    "ALTER TABLE agents ADD COLUMN exclude_node TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE agent_nodes (cluster TEXT NOT NULL REFERENCES agents(cluster) ON DELETE CASCADE,"
    "  node TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, service_id TEXT NOT NULL,"
    "  secret_name TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (cluster, node));",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int migrate(struct eagle_store *st, struct eagle_err *err)
{
    json_t *rows = NULL;
    int64_t have = 0;

    if (eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", NULL, 0,
                         NULL, err) < 0 ||
        eagle_store_query(st, "SELECT version FROM schema_version", NULL, 0, &rows, err) < 0)
        goto fail;
    if (json_array_size(rows) > 0)
        have = json_integer_value(json_object_get(json_array_get(rows, 0), "version"));
    else if (eagle_store_exec(st, "INSERT INTO schema_version (version) VALUES (0)", NULL, 0, NULL, err) < 0)
        goto fail;
    json_decref(rows);
    rows = NULL;
    if (have > N_MIGRATIONS) {
        eagle_err_set(err, 500, "store_error", NULL,
                      "the store has schema version %lld, newer than this eagled knows (%d)", (long long)have,
                      N_MIGRATIONS);
        goto fail;
    }
    for (int64_t v = have; v < N_MIGRATIONS; v++) {
        struct eagle_sqlarg a[] = {SQL_INT(v + 1)};
        if (eagle_store_exec(st, migrations[v], NULL, 0, NULL, err) < 0 ||
            eagle_store_exec(st, "UPDATE schema_version SET version = ?", a, 1, NULL, err) < 0)
            goto fail;
    }
    return eagle_store_commit(st, err);
fail:
    json_decref(rows);
    eagle_store_rollback(st);
    return eagle_err_wrap(err, "migrate the store");
}

struct eagle_store *eagle_store_open(const char *data_dir, int migrate_now, struct eagle_err *err)
{
    struct eagle_store *st = xcalloc(1, sizeof(*st));
    char *path = xasprintf("%s/eagle.db", data_dir);

    st->drv = &eagle_store_sqlite;
    if (st->drv->open(path, &st->conn, err) < 0 || (migrate_now && migrate(st, err) < 0)) {
        free(path);
        eagle_store_close(st);
        return NULL;
    }
    free(path);
    return st;
}

void eagle_store_close(struct eagle_store *st)
{
    if (!st)
        return;
    if (st->conn)
        st->drv->close(st->conn);
    free(st);
}

int eagle_store_begin(struct eagle_store *st, struct eagle_err *err)
{
    if (st->drv->begin(st->conn, err) < 0)
        return -1;
    st->in_tx = 1;
    return 0;
}

int eagle_store_commit(struct eagle_store *st, struct eagle_err *err)
{
    if (st->drv->exec(st->conn, "COMMIT", NULL, 0, NULL, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    st->in_tx = 0;
    return 0;
}

void eagle_store_rollback(struct eagle_store *st)
{
    if (st->in_tx)
        st->drv->exec(st->conn, "ROLLBACK", NULL, 0, NULL, NULL);
    st->in_tx = 0;
}

int eagle_store_exec(struct eagle_store *st, const char *sql, const struct eagle_sqlarg *args, int nargs,
                     int64_t *changes, struct eagle_err *err)
{
    return st->drv->exec(st->conn, sql, args, nargs, changes, err);
}

int eagle_store_query(struct eagle_store *st, const char *sql, const struct eagle_sqlarg *args, int nargs,
                      json_t **rows, struct eagle_err *err)
{
    return st->drv->query(st->conn, sql, args, nargs, rows, err);
}

int eagle_store_query_one(struct eagle_store *st, const char *what, const char *sql, const struct eagle_sqlarg *args,
                          int nargs, json_t **row, struct eagle_err *err)
{
    json_t *rows;

    if (eagle_store_query(st, sql, args, nargs, &rows, err) < 0)
        return -1;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return eagle_err_notfound(err, "%s not found", what);
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

int eagle_store_meta_get(struct eagle_store *st, const char *key, char **value, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(key)};
    json_t *rows;

    if (eagle_store_query(st, "SELECT value FROM meta WHERE key = ?", a, NARGS(a), &rows, err) < 0)
        return -1;
    *value = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "value")));
    json_decref(rows);
    return 0;
}

int eagle_store_meta_set(struct eagle_store *st, const char *key, const char *value, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(key), SQL_TEXT(value)};
    return eagle_store_exec(st,
                            "INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            a, NARGS(a), NULL, err);
}

int eagle_store_user_count(struct eagle_store *st, int64_t *n, struct eagle_err *err)
{
    json_t *row;

    if (eagle_store_query_one(st, "users", "SELECT COUNT(*) AS n FROM users", NULL, 0, &row, err) < 0)
        return -1;
    *n = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return 0;
}

int eagle_store_user_create(struct eagle_store *st, const char *username, const char *password_hash,
                            const char *role, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(username), SQL_TEXT(password_hash), SQL_TEXT(role), SQL_TEXT(now)};
    return eagle_store_exec(st, "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                            a, NARGS(a), NULL, err);
}

int eagle_store_user_get(struct eagle_store *st, const char *username, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username)};
    return eagle_store_query_one(st, "user", "SELECT username, password_hash, role FROM users WHERE username = ?",
                                 a, NARGS(a), row, err);
}

int eagle_store_token_create(struct eagle_store *st, const char *hash, const char *id, const char *name,
                             const char *username, const char *kind, int read_only, int64_t expires_ms,
                             struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(hash),       SQL_TEXT(id),      SQL_TEXT(name), SQL_TEXT(username),
                               SQL_TEXT(kind),       SQL_INT(read_only), SQL_INT(expires_ms), SQL_TEXT(now)};
    return eagle_store_exec(st,
                            "INSERT INTO tokens (hash, id, name, username, kind, read_only, expires_ms, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            a, NARGS(a), NULL, err);
}

int eagle_store_token_check(struct eagle_store *st, const char *hash, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(hash), SQL_INT(eagle_now_ms())};
    json_t *rows;

    if (eagle_store_query(st,
                          "SELECT t.username AS username, u.role AS role, t.expires_ms AS expires_ms, t.kind AS kind, "
                          "t.read_only AS read_only, t.id AS id "
                          "FROM tokens t JOIN users u ON u.username = t.username "
                          "WHERE t.hash = ? AND t.revoked = 0 AND t.expires_ms > ?",
                          a, NARGS(a), &rows, err) < 0)
        return -1;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return eagle_err_set(err, 401, "unauthorized", NULL, "the token is unknown, revoked or expired");
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

int eagle_store_token_revoke(struct eagle_store *st, const char *hash, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(hash)};
    return eagle_store_exec(st, "UPDATE tokens SET revoked = 1 WHERE hash = ?", a, NARGS(a), NULL, err);
}

int eagle_store_audit(struct eagle_store *st, const char *username, const char *tenant, const char *action,
                      const char *target, const char *result, const char *detail, const char *source,
                      struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(now),    SQL_TEXT(username),           SQL_TEXT(tenant ? tenant : ""),
                               SQL_TEXT(action), SQL_TEXT(target),             SQL_TEXT(result),
                               SQL_TEXT(detail ? detail : ""), SQL_TEXT(source ? source : "")};
    return eagle_store_exec(st,
                            "INSERT INTO audit (at, username, tenant, action, target, result, detail, source) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            a, NARGS(a), NULL, err);
}

/* ---- clusters ---- */

#define CLUSTER_COLS "name, datacenter, endpoint, tls, status, reason, swarm_id, engine_version, checked_at, created_at"

int eagle_store_cluster_create(struct eagle_store *st, const char *name, const char *datacenter, const char *endpoint,
                               int tls, const char *swarm_id, const char *engine_version, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(name),     SQL_TEXT(datacenter),     SQL_TEXT(endpoint),
                               SQL_INT(tls),       SQL_TEXT(swarm_id ? swarm_id : ""),
                               SQL_TEXT(engine_version ? engine_version : ""),
                               SQL_TEXT(now),      SQL_TEXT(now)};
    if (eagle_store_exec(st,
                         "INSERT INTO clusters (name, datacenter, endpoint, tls, status, swarm_id, engine_version, "
                         "checked_at, created_at) VALUES (?, ?, ?, ?, 'ready', ?, ?, ?, ?)",
                         a, NARGS(a), NULL, err) < 0) {
        if (err && err->status == 409)
            return eagle_err_set(err, 409, "conflict", "name", "cluster '%s' already exists", name);
        return -1;
    }
    return 0;
}

int eagle_store_cluster_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    if (eagle_store_query_one(st, "cluster", "SELECT " CLUSTER_COLS " FROM clusters WHERE name = ?", a, NARGS(a), row,
                              err) < 0)
        return err && err->status == 404 ? eagle_err_notfound(err, "cluster '%s' not found", name) : -1;
    return 0;
}

int eagle_store_cluster_list(struct eagle_store *st, json_t **rows, struct eagle_err *err)
{
    return eagle_store_query(st, "SELECT " CLUSTER_COLS " FROM clusters ORDER BY name", NULL, 0, rows, err);
}

int eagle_store_cluster_delete(struct eagle_store *st, const char *name, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    json_t *row;
    int64_t changes = 0, n;

    if (eagle_store_query_one(st, "count", "SELECT COUNT(*) AS n FROM services WHERE cluster = ?", a, NARGS(a), &row,
                              err) < 0)
        return -1;
    n = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    if (n > 0)
        return eagle_err_conflict(err, "cluster '%s' still has %lld service(s); delete them first", name,
                                  (long long)n);
    if (eagle_store_exec(st, "DELETE FROM clusters WHERE name = ?", a, NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "cluster '%s' not found", name);
}

int eagle_store_cluster_set_status(struct eagle_store *st, const char *name, const char *status, const char *reason,
                                   const char *swarm_id, const char *engine_version, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(status),         SQL_TEXT(reason ? reason : ""), SQL_TEXT(swarm_id),
                               SQL_TEXT(engine_version), SQL_TEXT(now),                  SQL_TEXT(name)};
    return eagle_store_exec(st,
                            "UPDATE clusters SET status = ?, reason = ?, swarm_id = COALESCE(?, swarm_id), "
                            "engine_version = COALESCE(?, engine_version), checked_at = ? WHERE name = ?",
                            a, NARGS(a), NULL, err);
}

/* ---- services and revisions ---- */

#define SERVICE_COLS                                                                                             \
    "name, tenant, cluster, revision, applied_revision, status, status_message, engine_id, spec, created_at, updated_at, " \
    "created_by"

static int revision_insert(struct eagle_store *st, const char *service, int64_t revision, const char *reason,
                           const char *spec_json, const char *username, const char *now, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(service), SQL_INT(revision), SQL_TEXT(reason),
                               SQL_TEXT(spec_json), SQL_TEXT(now),   SQL_TEXT(username)};
    return eagle_store_exec(st,
                            "INSERT INTO revisions (service, revision, reason, spec, created_at, created_by) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            a, NARGS(a), NULL, err);
}

int eagle_store_service_create(struct eagle_store *st, const char *name, const char *tenant, const char *cluster,
                               const char *spec_json, const char *username, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(name), SQL_TEXT(tenant), SQL_TEXT(cluster), SQL_TEXT(spec_json),
                               SQL_TEXT(now),  SQL_TEXT(now),    SQL_TEXT(username)};
    if (eagle_store_exec(st,
                         "INSERT INTO services (name, tenant, cluster, revision, status, spec, created_at, updated_at, "
                         "created_by) VALUES (?, ?, ?, 1, 'pending', ?, ?, ?, ?)",
                         a, NARGS(a), NULL, err) < 0) {
        if (err && err->status == 409)
            return eagle_err_set(err, 409, "conflict", "name", "service '%s' already exists", name);
        return -1;
    }
    /* A service re-created under an old name starts a new history. */
    struct eagle_sqlarg d[] = {SQL_TEXT(name)};
    if (eagle_store_exec(st, "DELETE FROM revisions WHERE service = ?", d, 1, NULL, err) < 0)
        return -1;
    return revision_insert(st, name, 1, "create", spec_json, username, now, err);
}

int eagle_store_service_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    if (eagle_store_query_one(st, "service", "SELECT " SERVICE_COLS " FROM services WHERE name = ?", a, NARGS(a),
                              row, err) < 0)
        return err && err->status == 404 ? eagle_err_notfound(err, "service '%s' not found", name) : -1;
    return 0;
}

int eagle_store_service_list(struct eagle_store *st, const char *cluster, const char *tenant, json_t **rows,
                             struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster), SQL_TEXT(cluster), SQL_TEXT(tenant), SQL_TEXT(tenant)};
    return eagle_store_query(st,
                             "SELECT " SERVICE_COLS " FROM services WHERE (? IS NULL OR cluster = ?) "
                             "AND (? IS NULL OR tenant = ?) ORDER BY name",
                             a, NARGS(a), rows, err);
}

int eagle_store_service_new_revision(struct eagle_store *st, const char *name, int64_t expected,
                                     const char *spec_json, const char *reason, const char *username,
                                     struct eagle_err *err)
{
    char now[32];
    int64_t changes = 0;
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(spec_json), SQL_TEXT(now), SQL_TEXT(name), SQL_INT(expected)};

    if (eagle_store_exec(st,
                         "UPDATE services SET revision = revision + 1, spec = ?, status = 'pending', "
                         "status_message = '', updated_at = ? WHERE name = ? AND revision = ? AND status != 'deleting'",
                         a, NARGS(a), &changes, err) < 0)
        return -1;
    if (changes == 0)
        return eagle_err_conflict(err, "service '%s' changed meanwhile (expected revision %lld); try again", name,
                                  (long long)expected);
    return revision_insert(st, name, expected + 1, reason, spec_json, username, now, err);
}

int eagle_store_service_revert(struct eagle_store *st, const char *name, int64_t revision, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name), SQL_INT(revision - 1), SQL_TEXT(name), SQL_INT(revision)};
    struct eagle_sqlarg d[] = {SQL_TEXT(name), SQL_INT(revision)};

    if (eagle_store_exec(st,
                         "UPDATE services SET revision = revision - 1, "
                         "spec = (SELECT spec FROM revisions WHERE service = ? AND revision = ?), "
                         "status = CASE WHEN applied_revision = revision - 1 THEN 'running' ELSE 'pending' END, "
                         "status_message = '' WHERE name = ? AND revision = ?",
                         a, NARGS(a), NULL, err) < 0)
        return -1;
    return eagle_store_exec(st, "DELETE FROM revisions WHERE service = ? AND revision = ?", d, NARGS(d), NULL, err);
}

int eagle_store_service_applied(struct eagle_store *st, const char *name, int64_t revision, const char *engine_id,
                                struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_INT(revision), SQL_TEXT(engine_id), SQL_INT(revision), SQL_TEXT(now),
                               SQL_TEXT(name)};
    return eagle_store_exec(st,
                            "UPDATE services SET applied_revision = ?, engine_id = ?, "
                            "status = CASE WHEN revision = ? THEN 'running' ELSE status END, "
                            "status_message = '', updated_at = ? WHERE name = ? AND status != 'deleting'",
                            a, NARGS(a), NULL, err);
}

int eagle_store_service_set_status(struct eagle_store *st, const char *name, const char *status,
                                   const char *message, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(status), SQL_TEXT(message ? message : ""), SQL_TEXT(name)};
    return eagle_store_exec(st, "UPDATE services SET status = ?, status_message = ? WHERE name = ?", a, NARGS(a),
                            NULL, err);
}

int eagle_store_service_delete(struct eagle_store *st, const char *name, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    if (eagle_store_exec(st, "DELETE FROM revisions WHERE service = ?", a, 1, NULL, err) < 0)
        return -1;
    return eagle_store_exec(st, "DELETE FROM services WHERE name = ?", a, 1, NULL, err);
}

int eagle_store_service_unsettled(struct eagle_store *st, json_t **rows, struct eagle_err *err)
{
    return eagle_store_query(st,
                             "SELECT " SERVICE_COLS " FROM services "
                             "WHERE applied_revision != revision OR status IN ('pending', 'failed', 'deleting') "
                             "ORDER BY name",
                             NULL, 0, rows, err);
}

int eagle_store_revision_list(struct eagle_store *st, const char *service, json_t **rows, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(service)};
    return eagle_store_query(st,
                             "SELECT service, revision, reason, spec, created_at, created_by FROM revisions "
                             "WHERE service = ? ORDER BY revision DESC",
                             a, NARGS(a), rows, err);
}

int eagle_store_revision_get(struct eagle_store *st, const char *service, int64_t revision, json_t **row,
                             struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(service), SQL_INT(revision)};
    if (eagle_store_query_one(st, "revision",
                              "SELECT service, revision, reason, spec, created_at, created_by FROM revisions "
                              "WHERE service = ? AND revision = ?",
                              a, NARGS(a), row, err) < 0)
        return err && err->status == 404
                   ? eagle_err_set(err, 404, "not_found", "revision", "service '%s' has no revision %lld", service,
                                   (long long)revision)
                   : -1;
    return 0;
}
