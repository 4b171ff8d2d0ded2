/*
 * tokencache.c — see tokencache.h. Open addressing over a fixed table; a full
 * neighbourhood evicts its oldest entry.
 */
#include "api/tokencache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define SLOTS 4096 /* power of two */
#define PROBE 8

static struct {
    pthread_mutex_t lock;
    struct slot {
        char hash[65];
        int64_t cached_ms;
        struct eagle_cached_token t;
    } slots[SLOTS];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint32_t home(const char *hash)
{
    uint32_t h = 2166136261u;
    for (const char *p = hash; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h & (SLOTS - 1);
}

int eagle_tokencache_get(const char *hash, struct eagle_cached_token *out)
{
    uint32_t h = home(hash);
    int64_t now = eagle_now_ms();
    int rc = -1;

    pthread_mutex_lock(&cache.lock);
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &cache.slots[(h + i) & (SLOTS - 1)];
        if (s->hash[0] && strcmp(s->hash, hash) == 0) {
            if (now - s->cached_ms < TOKEN_CACHE_TTL_MS && now < s->t.expires_ms) {
                *out = s->t;
                rc = 0;
            } else {
                s->hash[0] = 0;
            }
            break;
        }
    }
    pthread_mutex_unlock(&cache.lock);
    return rc;
}

void eagle_tokencache_put(const char *hash, const struct eagle_cached_token *t)
{
    uint32_t h = home(hash);
    struct slot *victim = NULL;

    if (strlen(hash) >= sizeof(victim->hash))
        return;
    pthread_mutex_lock(&cache.lock);
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &cache.slots[(h + i) & (SLOTS - 1)];
        if (!s->hash[0] || strcmp(s->hash, hash) == 0) {
            victim = s;
            break;
        }
        if (!victim || s->cached_ms < victim->cached_ms)
            victim = s;
    }
    snprintf(victim->hash, sizeof(victim->hash), "%s", hash);
    victim->cached_ms = eagle_now_ms();
    victim->t = *t;
    pthread_mutex_unlock(&cache.lock);
}

static void drop_where(int (*match)(const struct slot *, const char *), const char *arg)
{
    pthread_mutex_lock(&cache.lock);
    for (int i = 0; i < SLOTS; i++)
        if (cache.slots[i].hash[0] && match(&cache.slots[i], arg))
            cache.slots[i].hash[0] = 0;
    pthread_mutex_unlock(&cache.lock);
}

static int by_hash(const struct slot *s, const char *a)
{
    return strcmp(s->hash, a) == 0;
}
static int by_user(const struct slot *s, const char *a)
{
    return strcmp(s->t.username, a) == 0;
}
static int by_id(const struct slot *s, const char *a)
{
    return s->t.id[0] && strcmp(s->t.id, a) == 0;
}
static int any(const struct slot *s, const char *a)
{
    return 1;
}

void eagle_tokencache_drop_hash(const char *hash)
{
    drop_where(by_hash, hash);
}
void eagle_tokencache_drop_user(const char *username)
{
    drop_where(by_user, username);
}
void eagle_tokencache_drop_id(const char *id)
{
    drop_where(by_id, id);
}
void eagle_tokencache_clear(void)
{
    drop_where(any, "");
}
