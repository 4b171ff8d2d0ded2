/*
 * auth.c — login, logout, who am I, and API tokens.
 *
 * Tokens are 32 random bytes (hex); the store keeps only their keyed BLAKE2b
 * hash, so a leaked database reveals no usable token. Passwords are argon2id
 * (libsodium's crypto_pwhash_str). Failed logins are limited per user+address
 * and per address (an in-memory window guarded by its own mutex).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/tokencache.h"
#include "core/util.h"
#include "daemon.h"
#include "store/store.h"

#define MAX_CREDENTIAL 1024
#define FAIL_WINDOW_MS 60000
#define FAIL_MAX_PER_USER 5  /* per user+address per window */
#define FAIL_MAX_PER_ADDR 20 /* per address per window */
#define FAIL_SLOTS 1024
#define API_TOKEN_MAX_DAYS 3650

static struct {
    pthread_mutex_t lock;
    struct fail_slot {
        char key[160]; /* "addr" or "addr\x1fuser" */
        int64_t window_start;
        int count;
    } slots[FAIL_SLOTS];
} fails = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct fail_slot *fail_slot(const char *key, int create)
{
    struct fail_slot *oldest = &fails.slots[0];
    for (int i = 0; i < FAIL_SLOTS; i++) {
        if (strcmp(fails.slots[i].key, key) == 0)
            return &fails.slots[i];
        if (fails.slots[i].window_start < oldest->window_start)
            oldest = &fails.slots[i];
    }
    if (!create)
        return NULL;
    snprintf(oldest->key, sizeof(oldest->key), "%s", key);
    oldest->window_start = eagle_now_ms();
    oldest->count = 0;
    return oldest;
}

/* 1 when this user+address or address is over its limit. */
static int login_blocked(const char *user, const char *addr, int64_t *retry_ms)
{
    char k1[160], k2[160];
    int64_t now = eagle_now_ms();
    int blocked = 0;

    snprintf(k1, sizeof(k1), "%s\x1f%s", addr, user);
    snprintf(k2, sizeof(k2), "%s", addr);
    pthread_mutex_lock(&fails.lock);
    struct fail_slot *a = fail_slot(k1, 0), *b = fail_slot(k2, 0);
    if (a && now - a->window_start < FAIL_WINDOW_MS && a->count >= FAIL_MAX_PER_USER) {
        blocked = 1;
        *retry_ms = FAIL_WINDOW_MS - (now - a->window_start);
    }
    if (b && now - b->window_start < FAIL_WINDOW_MS && b->count >= FAIL_MAX_PER_ADDR) {
        blocked = 1;
        *retry_ms = FAIL_WINDOW_MS - (now - b->window_start);
    }
    pthread_mutex_unlock(&fails.lock);
    return blocked;
}

static void login_failed(const char *user, const char *addr)
{
    char keys[2][160];
    int64_t now = eagle_now_ms();

    snprintf(keys[0], sizeof(keys[0]), "%s\x1f%s", addr, user);
    snprintf(keys[1], sizeof(keys[1]), "%s", addr);
    pthread_mutex_lock(&fails.lock);
    for (int i = 0; i < 2; i++) {
        struct fail_slot *s = fail_slot(keys[i], 1);
        if (now - s->window_start >= FAIL_WINDOW_MS) {
            s->window_start = now;
            s->count = 0;
        }
        s->count++;
    }
    pthread_mutex_unlock(&fails.lock);
}

static void login_succeeded(const char *user, const char *addr)
{
    char key[160];
    snprintf(key, sizeof(key), "%s\x1f%s", addr, user);
    pthread_mutex_lock(&fails.lock);
    struct fail_slot *s = fail_slot(key, 0);
    if (s)
        s->count = 0;
    pthread_mutex_unlock(&fails.lock);
}

static void format_ms(int64_t ms, char *buf, size_t n)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A new random token into `token` (65 bytes) and its hash into `hash`. */
static void new_token(char token[65], char hash[129])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, 65, raw, sizeof(raw));
    eagle_api_token_hash(token, hash);
}

int api_login(struct eagle_call *call, struct eagle_err *err)
{
    json_t *body = NULL, *user = NULL, *k, *v;
    const char *key, *username, *password;
    char token[65] = "", hash[129], expires[32];
    int64_t retry_ms = 0;
    int rc = -1;

    if (eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "username") != 0 && strcmp(key, "password") != 0) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    k = json_object_get(body, "username");
    v = json_object_get(body, "password");
    if (!json_is_string(k) || !json_string_length(k) || json_string_length(k) > 64) {
        eagle_err_invalid(err, "username", "username must be a non-empty string of at most 64 characters");
        goto out;
    }
    if (!json_is_string(v) || json_string_length(v) > MAX_CREDENTIAL) {
        eagle_err_invalid(err, "password", "password must be a string");
        goto out;
    }
    username = json_string_value(k);
    password = json_string_value(v);
    if (login_blocked(username, call->source, &retry_ms)) {
        eagle_err_set(err, 429, "too_many_attempts", NULL,
                      "too many failed logins from %s; try again in %lld s", call->source,
                      (long long)(retry_ms / 1000 + 1));
        goto out;
    }
    if (eagle_store_user_get(call->worker->store, username, &user, err) < 0) {
        if (err->status == 404) {
            login_failed(username, call->source);
            eagle_err_set(err, 401, "unauthorized", NULL, "wrong username or password");
        }
        goto out;
    }
    if (crypto_pwhash_str_verify(json_string_value(json_object_get(user, "password_hash")), password,
                                 json_string_length(v)) != 0) {
        login_failed(username, call->source);
        eagle_err_set(err, 401, "unauthorized", NULL, "wrong username or password");
        goto out;
    }
    login_succeeded(username, call->source);
    new_token(token, hash);
    int64_t expires_ms = eagle_now_ms() + (int64_t)eagle_daemon_config()->session_hours * 3600 * 1000;
    if (eagle_store_token_create(call->worker->store, hash, "", "", username, "session", 0, expires_ms, err) < 0)
        goto out;
    format_ms(expires_ms, expires, sizeof(expires));
    call->status = 200;
    call->out = json_pack("{s:s, s:s, s:s, s:O}", "token", token, "expires_at", expires, "username", username,
                          "role", json_object_get(user, "role"));
    rc = 0;
out:
    sodium_memzero(token, sizeof(token));
    json_decref(body);
    json_decref(user);
    return rc;
}

int api_logout(struct eagle_call *call, struct eagle_err *err)
{
    if (eagle_store_token_revoke(call->worker->store, call->token_hash, err) < 0)
        return -1;
    eagle_tokencache_drop_hash(call->token_hash);
    call->status = 204;
    return 0;
}

int api_me(struct eagle_call *call, struct eagle_err *err)
{
    json_t *tenants = NULL, *rows, *r;
    const char *user = eagle_api_username(call);
    size_t i;

    /* the tenants the caller belongs to, with the role in each */
    if (eagle_store_query(call->worker->store, "SELECT tenant, role FROM members WHERE username = ? ORDER BY tenant",
                          (struct eagle_sqlarg[]){SQL_TEXT(user)}, 1, &rows, err) < 0)
        return -1;
    tenants = json_object();
    json_array_foreach(rows, i, r) json_object_set(tenants, json_string_value(json_object_get(r, "tenant")),
                                                   json_object_get(r, "role"));
    json_decref(rows);
    call->out = json_pack("{s:O, s:O, s:O, s:o}", "username", json_object_get(call->user, "username"), "role",
                          json_object_get(call->user, "role"), "read_only", json_object_get(call->user, "read_only"),
                          "tenants", tenants);
    return 0;
}

static json_t *token_out(const json_t *row)
{
    char expires[32];
    format_ms(json_integer_value(json_object_get(row, "expires_ms")), expires, sizeof(expires));
    return json_pack("{s:O, s:O, s:b, s:s, s:O}", "id", json_object_get(row, "id"), "name",
                     json_object_get(row, "name"), "read_only", (int)json_integer_value(json_object_get(row, "read_only")),
                     "expires_at", expires, "created_at", json_object_get(row, "created_at"));
}

int api_tokens_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *rows, *items = json_array(), *r;
    size_t i;

    if (eagle_store_token_list(call->worker->store, eagle_api_username(call), &rows, err) < 0) {
        json_decref(items);
        return -1;
    }
    json_array_foreach(rows, i, r) json_array_append_new(items, token_out(r));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

/* POST /v1/tokens {"name", "read_only": false, "expires_in_days": 365} → the token, shown once. */
int api_tokens_create(struct eagle_call *call, struct eagle_err *err)
{
    json_t *body = NULL, *v, *row = NULL;
    const char *key, *name;
    char token[65] = "", hash[129], id[17];
    unsigned char raw[8];
    int64_t days = 365;
    int ro = 0, rc = -1;

    if (eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "read_only") && strcmp(key, "expires_in_days")) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    v = json_object_get(body, "name");
    if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 64) {
        eagle_err_invalid(err, "name", "name must be a string of 1 to 64 characters");
        goto out;
    }
    name = json_string_value(v);
    v = json_object_get(body, "read_only");
    if (v && !json_is_boolean(v)) {
        eagle_err_invalid(err, "read_only", "read_only must be true or false");
        goto out;
    }
    ro = json_is_true(v);
    v = json_object_get(body, "expires_in_days");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > API_TOKEN_MAX_DAYS) {
            eagle_err_invalid(err, "expires_in_days", "expires_in_days must be an integer from 1 to %d",
                              API_TOKEN_MAX_DAYS);
            goto out;
        }
        days = json_integer_value(v);
    }
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
    new_token(token, hash);
    int64_t expires_ms = eagle_now_ms() + days * 86400 * 1000;
    struct eagle_store *st = call->worker->store;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_token_create(st, hash, id, name, eagle_api_username(call), "api", ro, expires_ms, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "token.create", id, "ok", name, call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    row = json_pack("{s:s, s:s, s:I, s:I, s:s}", "id", id, "name", name, "read_only", (json_int_t)ro, "expires_ms",
                    (json_int_t)expires_ms, "created_at", "");
    call->out = token_out(row);
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    json_object_set_new(call->out, "created_at", json_string(now));
    json_object_set_new(call->out, "token", json_string(token)); /* shown once, never again */
    call->status = 201;
    rc = 0;
out:
    sodium_memzero(token, sizeof(token));
    json_decref(body);
    json_decref(row);
    return rc;
}

int api_tokens_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;

    if (eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_token_revoke_id(st, eagle_api_username(call), call->params[0], err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), "", "token.revoke", call->params[0], "ok", "", call->source,
                          err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    eagle_tokencache_drop_id(call->params[0]);
    call->status = 204;
    return 0;
}
