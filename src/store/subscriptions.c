/*
 * subscriptions.c — the store's calls for event subscriptions and their
 * delivery log (see subscriptions.h). Portable SQL, as in store.c.
 */
#include "store/subscriptions.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define SUB_COLS                                                                                             \
    "id, tenant, url, types, service, secret, nodes, cursor, generation, state, failures, last_error, "      \
    "next_attempt_at, created_by, created_at"

int eagle_store_subscription_create(struct eagle_store *st, const char *id, const char *tenant,
                                    const char *url, const char *types, const char *service,
                                    const char *secret, int nodes, int64_t cursor, const char *username,
                                    struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(id),       SQL_TEXT(tenant), SQL_TEXT(url),  SQL_TEXT(types),
                               SQL_TEXT(service),  SQL_TEXT(secret), SQL_INT(nodes), SQL_INT(cursor),
                               SQL_TEXT(username), SQL_TEXT(now)};
    return eagle_store_exec(
        st,
        "INSERT INTO subscriptions (id, tenant, url, types, service, secret, nodes, cursor, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        a, NARGS(a), NULL, err);
}

int eagle_store_subscription_get(struct eagle_store *st, const char *id, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(id)};
    if (eagle_store_query_one(st, "subscription", "SELECT " SUB_COLS " FROM subscriptions WHERE id = ?", a,
                              NARGS(a), row, err) < 0)
        return err && err->status == 404 ? eagle_err_notfound(err, "subscription '%s' not found", id) : -1;
    return 0;
}

int eagle_store_subscription_list(struct eagle_store *st, const char *tenant, json_t **rows,
                                  struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant), SQL_TEXT(tenant)};
    return eagle_store_query(st,
                             "SELECT " SUB_COLS " FROM subscriptions WHERE ? IS NULL OR tenant = ? "
                             "ORDER BY created_at, id",
                             a, NARGS(a), rows, err);
}

int eagle_store_subscription_delete(struct eagle_store *st, const char *id, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(id)};
    int64_t changes = 0;

    /* the log goes first: portable even where the cascade is not enforced */
    if (eagle_store_exec(st, "DELETE FROM deliveries WHERE subscription = ?", a, NARGS(a), NULL, err) < 0 ||
        eagle_store_exec(st, "DELETE FROM subscriptions WHERE id = ?", a, NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "subscription '%s' not found", id);
}

int eagle_store_subscription_rewind(struct eagle_store *st, const char *id, int64_t cursor,
                                    struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_INT(cursor), SQL_TEXT(id)};
    int64_t changes = 0;

    if (eagle_store_exec(
            st,
            "UPDATE subscriptions SET cursor = ?, generation = generation + 1, state = 'active', "
            "failures = 0, last_error = '', next_attempt_at = NULL WHERE id = ?",
            a, NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "subscription '%s' not found", id);
}

int eagle_store_subscription_advance(struct eagle_store *st, const char *id, int64_t generation,
                                     int64_t cursor, int *applied, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_INT(cursor), SQL_TEXT(id), SQL_INT(generation)};
    int64_t changes = 0;

    if (eagle_store_exec(
            st,
            "UPDATE subscriptions SET cursor = ?, state = 'active', failures = 0, last_error = '', "
            "next_attempt_at = NULL WHERE id = ? AND generation = ?",
            a, NARGS(a), &changes, err) < 0)
        return -1;
    if (applied)
        *applied = changes > 0;
    return 0;
}

int eagle_store_subscription_failed(struct eagle_store *st, const char *id, int64_t generation,
                                    int64_t failures, const char *error, const char *next_attempt_at,
                                    struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_INT(failures), SQL_TEXT(error ? error : ""), SQL_TEXT(next_attempt_at),
                               SQL_TEXT(id), SQL_INT(generation)};
    return eagle_store_exec(st,
                            "UPDATE subscriptions SET state = 'retrying', failures = ?, last_error = ?, "
                            "next_attempt_at = ? WHERE id = ? AND generation = ?",
                            a, NARGS(a), NULL, err);
}

int eagle_store_delivery_add(struct eagle_store *st, const char *subscription, int64_t event_id,
                             int64_t attempt, int64_t status, const char *error, int64_t duration_ms,
                             struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {
        SQL_TEXT(subscription),       SQL_INT(event_id),    SQL_INT(attempt), SQL_INT(status),
        SQL_TEXT(error ? error : ""), SQL_INT(duration_ms), SQL_TEXT(now)};
    struct eagle_sqlarg t[] = {SQL_TEXT(subscription), SQL_TEXT(subscription),
                               SQL_INT(EAGLE_DELIVERIES_KEEP - 1)};

    if (eagle_store_exec(
            st,
            "INSERT INTO deliveries (subscription, event_id, attempt, status, error, duration_ms, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            a, NARGS(a), NULL, err) < 0)
        return -1;
    /* everything older than the KEEP-th newest row */
    return eagle_store_exec(
        st,
        "DELETE FROM deliveries WHERE subscription = ? AND id < "
        "(SELECT id FROM deliveries WHERE subscription = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        t, NARGS(t), NULL, err);
}

int eagle_store_delivery_list(struct eagle_store *st, const char *subscription, int64_t limit, json_t **rows,
                              struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(subscription), SQL_INT(limit)};
    return eagle_store_query(st,
                             "SELECT event_id, attempt, status, error, duration_ms, at FROM deliveries "
                             "WHERE subscription = ? ORDER BY id DESC LIMIT ?",
                             a, NARGS(a), rows, err);
}
