/*
 * tokencache.h — a bounded in-memory cache of verified tokens, so checking a
 * token costs a hash lookup, not a store query (and never an argon2 run).
 *
 * Keyed by the token's keyed hash; an entry lives at most TOKEN_CACHE_TTL_MS
 * and is dropped at once when the token is revoked, its user deleted or its
 * password changed. Thread-safe (one mutex); safe on event loops (no I/O).
 */
#ifndef EAGLE_TOKENCACHE_H
#define EAGLE_TOKENCACHE_H

#include <stdint.h>

#define TOKEN_CACHE_TTL_MS 30000

struct eagle_cached_token {
    char username[64];
    char role[16];   /* platform role: "admin" or "user" */
    char id[40];     /* API token id, "" for sessions */
    int read_only;
    int64_t expires_ms;
    char tenants[1024]; /* the user's tenants, "\n"-separated, for checks on event loops */
};

/* Copy the entry for `hash` into *out; 0 when found and fresh, -1 otherwise. */
int eagle_tokencache_get(const char *hash, struct eagle_cached_token *out);
void eagle_tokencache_put(const char *hash, const struct eagle_cached_token *t);
void eagle_tokencache_drop_hash(const char *hash);
void eagle_tokencache_drop_user(const char *username);
void eagle_tokencache_drop_id(const char *id);
void eagle_tokencache_clear(void);

#endif
