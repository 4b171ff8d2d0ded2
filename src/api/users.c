/*
 * users.c — /v1/users: platform admins create and delete users; a user may
 * change their own password (which revokes their other tokens).
 */
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "api/tokencache.h"
#include "model/spec.h"
#include "store/store.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

static int hash_password(const json_t *v, char hash[crypto_pwhash_STRBYTES], struct eagle_err *err)
{
    if (!json_is_string(v) || json_string_length(v) < PASSWORD_MIN || json_string_length(v) > PASSWORD_MAX)
        return eagle_err_invalid(err, "password", "password must be a string of %d to %d characters", PASSWORD_MIN,
                                 PASSWORD_MAX);
    if (crypto_pwhash_str(hash, json_string_value(v), json_string_length(v), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return eagle_err_internal(err, "out of memory hashing the password");
    return 0;
}

static json_t *user_out(const json_t *row)
{
    return json_pack("{s:O, s:O, s:O?}", "username", json_object_get(row, "username"), "role",
                     json_object_get(row, "role"), "created_at", json_object_get(row, "created_at"));
}

int api_users_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *rows, *items, *r;
    size_t i;

    if (eagle_api_require_admin(call, err) < 0 || eagle_store_user_list(call->worker->store, &rows, err) < 0)
        return -1;
    items = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(items, user_out(r));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_users_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    if (!eagle_api_is_admin(call) && strcmp(call->params[0], eagle_api_username(call)) != 0)
        return eagle_err_notfound(err, "user '%s' not found", call->params[0]);
    if (eagle_store_user_get(call->worker->store, call->params[0], &row, err) < 0)
        return err->status == 404 ? eagle_err_notfound(err, "user '%s' not found", call->params[0]) : -1;
    call->out = user_out(row);
    json_decref(row);
    return 0;
}

/* POST /v1/users {"username", "password", "role": "user"|"admin"} */
int api_users_create(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    json_t *body = NULL, *v;
    const char *key, *username, *role = "user";
    char hash[crypto_pwhash_STRBYTES];
    int rc = -1;

    if (eagle_api_require_admin(call, err) < 0 || eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "username") && strcmp(key, "password") && strcmp(key, "role")) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    username = json_string_value(json_object_get(body, "username"));
    if (!username || !eagle_name_valid(username)) {
        eagle_err_invalid(err, "username", "username must be lowercase letters, digits and '-' (at most %d)",
                          EAGLE_NAME_MAX);
        goto out;
    }
    if ((v = json_object_get(body, "role"))) {
        role = json_string_value(v);
        if (!role || (strcmp(role, "user") && strcmp(role, "admin"))) {
            eagle_err_invalid(err, "role", "role must be \"user\" or \"admin\"");
            goto out;
        }
    }
    if (hash_password(json_object_get(body, "password"), hash, err) < 0)
        goto out;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_user_create(st, username, hash, role, err) < 0) {
        eagle_store_rollback(st);
        if (err->status == 409)
            eagle_err_set(err, 409, "conflict", "username", "user '%s' already exists", username);
        goto out;
    }
    if (eagle_store_audit(st, eagle_api_username(call), "", "user.create", username, "ok", role, call->source, err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    call->status = 201;
    call->out = json_pack("{s:s, s:s}", "username", username, "role", role);
    rc = 0;
out:
    json_decref(body);
    return rc;
}

int api_users_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0];

    if (eagle_api_require_admin(call, err) < 0)
        return -1;
    if (strcmp(name, eagle_api_username(call)) == 0)
        return eagle_err_conflict(err, "you cannot delete yourself");
    if (eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_user_delete(st, name, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "user.delete", name, "ok", "", call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    eagle_tokencache_drop_user(name);
    call->status = 204;
    return 0;
}

/* PUT /v1/users/{name}/password {"password": "...", "current_password": "..."}:
 * yourself (with your current password) or, as an admin, anyone. Every token of
 * the user is revoked; the caller logs in again. */
int api_users_password(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0], *key;
    int self = strcmp(name, eagle_api_username(call)) == 0;
    json_t *body = NULL, *v, *user = NULL;
    char hash[crypto_pwhash_STRBYTES];
    int rc = -1;

    if (!self && !eagle_api_is_admin(call))
        return eagle_err_notfound(err, "user '%s' not found", name);
    if (eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "password") && strcmp(key, "current_password")) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    if (eagle_store_user_get(st, name, &user, err) < 0) {
        if (err->status == 404)
            eagle_err_notfound(err, "user '%s' not found", name);
        goto out;
    }
    if (self && !eagle_api_is_admin(call)) {
        v = json_object_get(body, "current_password");
        if (!json_is_string(v) || crypto_pwhash_str_verify(json_string_value(json_object_get(user, "password_hash")),
                                                           json_string_value(v), json_string_length(v)) != 0) {
            eagle_err_set(err, 403, "forbidden", "current_password", "current_password is wrong");
            goto out;
        }
    }
    if (hash_password(json_object_get(body, "password"), hash, err) < 0)
        goto out;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_user_set_password(st, name, hash, err) < 0 || eagle_store_token_revoke_user(st, name, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "user.password", name, "ok", "", call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_tokencache_drop_user(name);
    call->status = 204;
    rc = 0;
out:
    json_decref(body);
    json_decref(user);
    return rc;
}
