/*
 * releases.c — see releases.h.
 */
#include "store/releases.h"

#include <string.h>

#include "core/util.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define COLS                                                                                                      \
    "id, service, tenant, strategy, from_revision, to_revision, spec, plan, state, step, step_started_ms, "        \
    "healthy_since_ms, progress, message, promote_requested, abort_requested, created_at, updated_at, created_by"
#define ACTIVE "state NOT IN ('succeeded', 'rolled_back', 'aborted', 'failed')"

int eagle_store_release_create(struct eagle_store *st, const char *id, const char *service, const char *tenant,
                               const char *strategy, int64_t from_revision, const char *spec, const char *plan,
                               const char *username, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(id),   SQL_TEXT(service), SQL_TEXT(tenant), SQL_TEXT(strategy),
                               SQL_INT(from_revision), SQL_TEXT(spec), SQL_TEXT(plan), SQL_TEXT(now),
                               SQL_TEXT(now),  SQL_TEXT(username)};
    if (eagle_store_exec(st,
                         "INSERT INTO releases (id, service, tenant, strategy, from_revision, spec, plan, state, "
                         "created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                         a, NARGS(a), NULL, err) < 0) {
        if (err && err->status == 409)
            return eagle_err_conflict(err, "service '%s' already has a release in progress", service);
        return -1;
    }
    return 0;
}

int eagle_store_release_get(struct eagle_store *st, const char *id, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(id)};
    if (eagle_store_query_one(st, "release", "SELECT " COLS " FROM releases WHERE id = ?", a, 1, row, err) < 0)
        return err && err->status == 404 ? eagle_err_notfound(err, "release '%s' not found", id) : -1;
    return 0;
}

int eagle_store_release_list(struct eagle_store *st, const char *service, json_t **rows, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(service)};
    return eagle_store_query(st, "SELECT " COLS " FROM releases WHERE service = ? ORDER BY created_at DESC, id DESC",
                             a, 1, rows, err);
}

int eagle_store_release_active(struct eagle_store *st, json_t **rows, struct eagle_err *err)
{
    return eagle_store_query(st, "SELECT " COLS " FROM releases WHERE " ACTIVE " ORDER BY created_at", NULL, 0, rows,
                             err);
}

int eagle_store_release_active_for(struct eagle_store *st, const char *service, char **id, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(service)};
    json_t *rows;
    *id = NULL;
    if (eagle_store_query(st, "SELECT id FROM releases WHERE service = ? AND " ACTIVE, a, 1, &rows, err) < 0)
        return -1;
    *id = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "id")));
    json_decref(rows);
    return 0;
}

int eagle_store_release_update(struct eagle_store *st, const char *id, const char *state, int step,
                               int64_t step_started_ms, int64_t healthy_since_ms, int64_t to_revision,
                               const char *progress, const char *message, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(state),       SQL_INT(step),      SQL_INT(step_started_ms),
                               SQL_INT(healthy_since_ms), SQL_INT(to_revision), SQL_TEXT(progress),
                               SQL_TEXT(message),     SQL_TEXT(now),      SQL_TEXT(id)};
    return eagle_store_exec(st,
                            "UPDATE releases SET state = ?, step = ?, step_started_ms = ?, healthy_since_ms = ?, "
                            "to_revision = ?, progress = ?, message = ?, updated_at = ? WHERE id = ?",
                            a, NARGS(a), NULL, err);
}

int eagle_store_release_request(struct eagle_store *st, const char *id, const char *what, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(id)};
    int64_t changes = 0;
    const char *sql = strcmp(what, "promote") == 0
                          ? "UPDATE releases SET promote_requested = 1 WHERE id = ? AND " ACTIVE
                          : "UPDATE releases SET abort_requested = 1 WHERE id = ? AND " ACTIVE;
    if (eagle_store_exec(st, sql, a, 1, &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_conflict(err, "release '%s' is finished", id);
}
