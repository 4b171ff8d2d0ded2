/*
 * claims.c — see claims.h.
 */
#include "core/claims.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

#define MAX_CLAIMS 1024

static struct {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* broadcast by every unclaim */
    int waiters, max_waiters;
    char *names[MAX_CLAIMS];
} cl = {.lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER, .max_waiters = 4};

/* Under cl.lock. */
static int claim_locked(const char *name)
{
    int free_slot = -1;

    for (int i = 0; i < MAX_CLAIMS; i++) {
        if (!cl.names[i]) {
            if (free_slot < 0)
                free_slot = i;
        } else if (strcmp(cl.names[i], name) == 0) {
            return 0;
        }
    }
    if (free_slot < 0)
        return 0;
    cl.names[free_slot] = xstrdup(name);
    return 1;
}

int eagle_claim(const char *name)
{
    pthread_mutex_lock(&cl.lock);
    int ok = claim_locked(name);
    pthread_mutex_unlock(&cl.lock);
    return ok;
}

int eagle_claim_wait(const char *name, int timeout_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&cl.lock);
    int ok = claim_locked(name);
    if (!ok && timeout_ms > 0 && cl.waiters < cl.max_waiters) {
        cl.waiters++;
        while (!(ok = claim_locked(name)))
            if (pthread_cond_timedwait(&cl.freed, &cl.lock, &until) != 0) {
                ok = claim_locked(name);
                break;
            }
        cl.waiters--;
    }
    pthread_mutex_unlock(&cl.lock);
    return ok;
}

void eagle_unclaim(const char *name)
{
    pthread_mutex_lock(&cl.lock);
    for (int i = 0; i < MAX_CLAIMS; i++)
        if (cl.names[i] && strcmp(cl.names[i], name) == 0) {
            free(cl.names[i]);
            cl.names[i] = NULL;
            break;
        }
    pthread_cond_broadcast(&cl.freed);
    pthread_mutex_unlock(&cl.lock);
}

void eagle_claims_set_max_waiters(int n)
{
    pthread_mutex_lock(&cl.lock);
    cl.max_waiters = n > 1 ? n : 1;
    pthread_mutex_unlock(&cl.lock);
}

int eagle_claims_waiters(void)
{
    pthread_mutex_lock(&cl.lock);
    int n = cl.waiters;
    pthread_mutex_unlock(&cl.lock);
    return n;
}

void eagle_claims_clear(void)
{
    pthread_mutex_lock(&cl.lock);
    for (int i = 0; i < MAX_CLAIMS; i++) {
        free(cl.names[i]);
        cl.names[i] = NULL;
    }
    pthread_mutex_unlock(&cl.lock);
}
