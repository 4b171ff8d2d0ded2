/*
 * test_claims.c — one change at a time per name (src/core/claims.c): claims
 * exclude each other, a waiter gets the name when its holder lets go, the wait
 * ends at its timeout, and no more than max_waiters threads wait at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "core/claims.h"
#include "core/util.h"

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int teardown(void **state)
{
    (void)state;
    eagle_claims_clear();
    eagle_claims_set_max_waiters(4);
    return 0;
}

static void test_claims_exclude_each_other(void **state)
{
    (void)state;
    assert_int_equal(eagle_claim("web"), 1);
    assert_int_equal(eagle_claim("web"), 0);
    assert_int_equal(eagle_claim("api"), 1); /* another name is free */
    assert_int_equal(eagle_claim_wait("web", 0), 0);
    eagle_unclaim("web");
    assert_int_equal(eagle_claim("web"), 1);
    eagle_unclaim("web");
    eagle_unclaim("api");
    eagle_unclaim("never-claimed"); /* harmless */
}

static void test_at_most_1024_names(void **state)
{
    (void)state;
    char name[32];
    for (int i = 0; i < 1024; i++) {
        snprintf(name, sizeof(name), "svc-%d", i);
        assert_int_equal(eagle_claim(name), 1);
    }
    assert_int_equal(eagle_claim("one-too-many"), 0);
    eagle_unclaim("svc-7");
    assert_int_equal(eagle_claim("one-too-many"), 1);
}

struct holder {
    const char *name;
    long hold_ms;
};

static void *hold_then_let_go(void *arg)
{
    struct holder *h = arg;
    pause_ms(h->hold_ms);
    eagle_unclaim(h->name);
    return NULL;
}

static void test_a_waiter_gets_the_name_when_its_holder_lets_go(void **state)
{
    (void)state;
    struct holder h = {"web", 100};
    pthread_t t;

    assert_int_equal(eagle_claim("web"), 1);
    int64_t t0 = eagle_monotonic_ms();
    assert_int_equal(pthread_create(&t, NULL, hold_then_let_go, &h), 0);
    assert_int_equal(eagle_claim_wait("web", 30000), 1);
    int64_t waited = eagle_monotonic_ms() - t0;
    pthread_join(t, NULL);
    assert_true(waited >= 90);               /* not before the holder let go... */
    assert_true(waited < 20000);             /* ...and long before the timeout */
    assert_int_equal(eagle_claim("web"), 0); /* the waiter holds it now */
    eagle_unclaim("web");
}

static void test_the_wait_ends_at_its_timeout(void **state)
{
    (void)state;
    assert_int_equal(eagle_claim("web"), 1);
    int64_t t0 = eagle_monotonic_ms();
    assert_int_equal(eagle_claim_wait("web", 150), 0);
    assert_true(eagle_monotonic_ms() - t0 >= 140);
    assert_int_equal(eagle_claims_waiters(), 0);
    eagle_unclaim("web");
}

static void *wait_for_web(void *arg)
{
    int *got = arg;
    *got = eagle_claim_wait("web", 30000);
    return NULL;
}

static void test_no_more_than_max_waiters_wait(void **state)
{
    (void)state;
    pthread_t t;
    int got = -1;

    eagle_claims_set_max_waiters(1);
    assert_int_equal(eagle_claim("web"), 1);
    assert_int_equal(pthread_create(&t, NULL, wait_for_web, &got), 0);
    while (eagle_claims_waiters() < 1)
        pause_ms(5);
    /* the one waiting place is taken: a second caller is answered at once */
    int64_t t0 = eagle_monotonic_ms();
    assert_int_equal(eagle_claim_wait("web", 30000), 0);
    assert_true(eagle_monotonic_ms() - t0 < 20000);
    /* another name is not held up by it */
    assert_int_equal(eagle_claim_wait("api", 30000), 1);
    eagle_unclaim("api");
    eagle_unclaim("web");
    pthread_join(t, NULL);
    assert_int_equal(got, 1);
    eagle_unclaim("web");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_claims_exclude_each_other, teardown),
        cmocka_unit_test_teardown(test_at_most_1024_names, teardown),
        cmocka_unit_test_teardown(test_a_waiter_gets_the_name_when_its_holder_lets_go, teardown),
        cmocka_unit_test_teardown(test_the_wait_ends_at_its_timeout, teardown),
        cmocka_unit_test_teardown(test_no_more_than_max_waiters_wait, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
