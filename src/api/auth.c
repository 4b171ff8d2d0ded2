/*
 * auth.c — login, logout, who am I.
 *
 * A session token is 32 random bytes (hex); the store keeps only its keyed
 * BLAKE2b hash, so a leaked database reveals no usable token. Passwords are
 * argon2id (libsodium's crypto_pwhash_str).
 */
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/util.h"
#include "daemon.h"
#include "store/store.h"

#define MAX_CREDENTIAL 1024

int api_login(struct eagle_call *call, struct eagle_err *err)
{
    json_t *body = NULL, *user = NULL, *k, *v;
    const char *key, *username, *password;
    unsigned char raw[32];
    char token[65], hash[129], expires[32];
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
    if (!json_is_string(k) || !json_string_length(k) || json_string_length(k) > MAX_CREDENTIAL) {
        eagle_err_invalid(err, "username", "username must be a non-empty string");
        goto out;
    }
    if (!json_is_string(v) || json_string_length(v) > MAX_CREDENTIAL) {
        eagle_err_invalid(err, "password", "password must be a string");
        goto out;
    }
    username = json_string_value(k);
    password = json_string_value(v);
    if (eagle_store_user_get(call->worker->store, username, &user, err) < 0) {
        if (err->status == 404)
            eagle_err_set(err, 401, "unauthorized", NULL, "wrong username or password");
        goto out;
    }
    if (crypto_pwhash_str_verify(json_string_value(json_object_get(user, "password_hash")), password,
                                 json_string_length(v)) != 0) {
        eagle_err_set(err, 401, "unauthorized", NULL, "wrong username or password");
        goto out;
    }
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
    eagle_api_token_hash(token, hash);
    int64_t expires_ms = eagle_now_ms() + (int64_t)eagle_daemon_config()->session_hours * 3600 * 1000;
    if (eagle_store_token_create(call->worker->store, hash, username, "session", expires_ms, err) < 0)
        goto out;
    time_t secs = (time_t)(expires_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    call->status = 200;
    call->out = json_pack("{s:s, s:s, s:s}", "token", token, "expires_at", expires, "username", username);
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
    call->status = 204;
    return 0;
}

int api_me(struct eagle_call *call, struct eagle_err *err)
{
    call->out = json_pack("{s:O, s:O}", "username", json_object_get(call->user, "username"), "role",
                          json_object_get(call->user, "role"));
    return 0;
}
