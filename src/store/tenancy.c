/*
 * tenancy.c — the store's calls for tenants, members, users, API tokens and
 * the audit log (see store.h). Portable SQL, as in store.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/store.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

int eagle_store_tenant_create(struct eagle_store *st, const char *name, const char *quotas, const char *pool,
                              const char *allow, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(name), SQL_TEXT(quotas), SQL_TEXT(pool), SQL_TEXT(allow), SQL_TEXT(now)};
    if (eagle_store_exec(st, "INSERT INTO tenants (name, quotas, pool, allow, created_at) VALUES (?, ?, ?, ?, ?)", a,
                         NARGS(a), NULL, err) < 0) {
        if (err && err->status == 409)
            return eagle_err_set(err, 409, "conflict", "name", "tenant '%s' already exists", name);
        return -1;
    }
    return 0;
}

int eagle_store_tenant_get(struct eagle_store *st, const char *name, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    if (eagle_store_query_one(st, "tenant", "SELECT name, quotas, pool, allow, created_at FROM tenants WHERE name = ?",
                              a, NARGS(a), row, err) < 0)
        return err && err->status == 404 ? eagle_err_notfound(err, "tenant '%s' not found", name) : -1;
    return 0;
}

int eagle_store_tenant_list(struct eagle_store *st, const char *username, json_t **rows, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username), SQL_TEXT(username)};
    return eagle_store_query(st,
                             "SELECT name, quotas, pool, allow, created_at FROM tenants WHERE ? IS NULL OR name IN "
                             "(SELECT tenant FROM members WHERE username = ?) ORDER BY name",
                             a, NARGS(a), rows, err);
}

int eagle_store_tenant_update(struct eagle_store *st, const char *name, const char *quotas, const char *pool,
                              const char *allow, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(quotas), SQL_TEXT(pool), SQL_TEXT(allow), SQL_TEXT(name)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "UPDATE tenants SET quotas = ?, pool = ?, allow = ? WHERE name = ?", a, NARGS(a),
                         &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "tenant '%s' not found", name);
}

int eagle_store_tenant_delete(struct eagle_store *st, const char *name, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(name)};
    json_t *row;
    int64_t n, changes = 0;

    if (eagle_store_query_one(st, "count", "SELECT COUNT(*) AS n FROM services WHERE tenant = ?", a, 1, &row, err) <
        0)
        return -1;
    n = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    if (n > 0)
        return eagle_err_conflict(err, "tenant '%s' still has %lld service(s); delete them first", name,
                                  (long long)n);
    if (eagle_store_exec(st, "DELETE FROM members WHERE tenant = ?", a, 1, NULL, err) < 0 ||
        eagle_store_exec(st, "DELETE FROM tenants WHERE name = ?", a, 1, &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "tenant '%s' not found", name);
}

int eagle_store_member_set(struct eagle_store *st, const char *tenant, const char *username, const char *role,
                           struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant), SQL_TEXT(username), SQL_TEXT(role)};
    return eagle_store_exec(st,
                            "INSERT INTO members (tenant, username, role) VALUES (?, ?, ?) "
                            "ON CONFLICT (tenant, username) DO UPDATE SET role = excluded.role",
                            a, NARGS(a), NULL, err);
}

int eagle_store_member_remove(struct eagle_store *st, const char *tenant, const char *username,
                              struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant), SQL_TEXT(username)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "DELETE FROM members WHERE tenant = ? AND username = ?", a, NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "'%s' is not a member of tenant '%s'", username, tenant);
}

int eagle_store_member_list(struct eagle_store *st, const char *tenant, json_t **rows, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant)};
    return eagle_store_query(st, "SELECT tenant, username, role FROM members WHERE tenant = ? ORDER BY username", a,
                             NARGS(a), rows, err);
}

int eagle_store_member_role(struct eagle_store *st, const char *tenant, const char *username, char **role,
                            struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant), SQL_TEXT(username)};
    json_t *rows;

    *role = NULL;
    if (eagle_store_query(st, "SELECT role FROM members WHERE tenant = ? AND username = ?", a, NARGS(a), &rows, err) <
        0)
        return -1;
    *role = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "role")));
    json_decref(rows);
    return 0;
}

int eagle_store_user_list(struct eagle_store *st, json_t **rows, struct eagle_err *err)
{
    return eagle_store_query(st, "SELECT username, role, created_at FROM users ORDER BY username", NULL, 0, rows, err);
}

int eagle_store_user_delete(struct eagle_store *st, const char *username, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "DELETE FROM members WHERE username = ?", a, 1, NULL, err) < 0 ||
        eagle_store_exec(st, "DELETE FROM tokens WHERE username = ?", a, 1, NULL, err) < 0 ||
        eagle_store_exec(st, "DELETE FROM users WHERE username = ?", a, 1, &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "user '%s' not found", username);
}

int eagle_store_user_set_password(struct eagle_store *st, const char *username, const char *password_hash,
                                  struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(password_hash), SQL_TEXT(username)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "UPDATE users SET password_hash = ? WHERE username = ?", a, NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "user '%s' not found", username);
}

int eagle_store_token_list(struct eagle_store *st, const char *username, json_t **rows, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username)};
    return eagle_store_query(st,
                             "SELECT id, name, read_only, expires_ms, created_at FROM tokens "
                             "WHERE username = ? AND kind = 'api' AND revoked = 0 ORDER BY created_at, id",
                             a, NARGS(a), rows, err);
}

int eagle_store_token_revoke_id(struct eagle_store *st, const char *username, const char *id, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username), SQL_TEXT(id)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "UPDATE tokens SET revoked = 1 WHERE username = ? AND id = ? AND kind = 'api'", a,
                         NARGS(a), &changes, err) < 0)
        return -1;
    return changes ? 0 : eagle_err_notfound(err, "token '%s' not found", id);
}

int eagle_store_token_revoke_user(struct eagle_store *st, const char *username, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(username)};
    return eagle_store_exec(st, "UPDATE tokens SET revoked = 1 WHERE username = ?", a, 1, NULL, err);
}

int eagle_store_audit_query(struct eagle_store *st, const char *tenant, const char *username, const char *target,
                            const char *since, const char *until, int64_t limit, json_t **rows,
                            struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(tenant), SQL_TEXT(tenant), SQL_TEXT(username), SQL_TEXT(username),
                               SQL_TEXT(target), SQL_TEXT(target), SQL_TEXT(since),    SQL_TEXT(since),
                               SQL_TEXT(until),  SQL_TEXT(until),  SQL_INT(limit)};
    return eagle_store_query(st,
                             "SELECT id, at, username, tenant, action, target, result, detail, source FROM audit "
                             "WHERE (? IS NULL OR tenant = ?) AND (? IS NULL OR username = ?) "
                             "AND (? IS NULL OR target = ?) AND (? IS NULL OR at >= ?) AND (? IS NULL OR at <= ?) "
                             "ORDER BY id DESC LIMIT ?",
                             a, NARGS(a), rows, err);
}
