/*
 * claims.h — one change at a time per name (a service, "agent:<cluster>"),
 * across API workers and controllers.
 *
 * A claim is a name held by one thread until it lets go. Controllers try once
 * (eagle_claim) and come back at their next pass; API calls wait their turn
 * (eagle_claim_wait), since the holder lets go after one engine call or one
 * change. At most `max_waiters` threads wait at once (they are API worker
 * threads: a crowd of callers retrying one busy name must not take them all).
 */
#ifndef EAGLE_CLAIMS_H
#define EAGLE_CLAIMS_H

/* 1 when `name` was claimed, 0 when another thread holds it (or 1024 are held). */
int eagle_claim(const char *name);
/* eagle_claim(), waiting up to `timeout_ms` for the holder to let go; 0 after
 * the timeout, or at once when max_waiters threads already wait. */
int eagle_claim_wait(const char *name, int timeout_ms);
void eagle_unclaim(const char *name);
/* How many threads may wait at once (default 4; at least 1), and how many do now. */
void eagle_claims_set_max_waiters(int n);
int eagle_claims_waiters(void);
/* Forget every claim (at shutdown, once no thread uses them). */
void eagle_claims_clear(void);

#endif
