/*
 * test_cidr.c — address ranges (src/core/cidr.c), as the callback policy uses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "core/cidr.h"
#include "core/config.h"

static void test_default_policy(void **state)
{
    (void)state;
    struct eagle_cidrs l;
    struct eagle_err err;
    static const char *const denied[] = {"127.0.0.1",        "127.255.0.9", "0.0.0.0", "169.254.169.254",
                                         "224.0.0.1",        "::1",         "::",      "fe80::1",
                                         "::ffff:127.0.0.1", "[::1]",       "ff02::1"};
    static const char *const allowed[] = {"10.0.0.1",    "192.168.1.1",     "198.18.213.2",
                                          "8.8.8.8",     "126.255.255.255", "128.0.0.1",
                                          "2001:db8::1", "::ffff:10.0.0.1", "fec0::1"};

    assert_int_equal(eagle_cidrs_parse(EAGLE_CALLBACK_DENY_DEFAULT, &l, &err), 0);
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        if (eagle_cidrs_match_text(&l, denied[i]) != 1)
            fail_msg("%s should be denied", denied[i]);
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (eagle_cidrs_match_text(&l, allowed[i]) != 0)
            fail_msg("%s should be allowed", allowed[i]);
    assert_int_equal(eagle_cidrs_match_text(&l, "localhost"), -1); /* a name: checked when it resolves */
    assert_int_equal(eagle_cidrs_match_text(&l, "127.1"), -1);

    struct sockaddr_in in4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.53", &in4.sin_addr);
    assert_int_equal(eagle_cidrs_match(&l, (struct sockaddr *)&in4), 1);
    inet_pton(AF_INET, "10.1.2.3", &in4.sin_addr);
    assert_int_equal(eagle_cidrs_match(&l, (struct sockaddr *)&in4), 0);
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:169.254.1.1", &in6.sin6_addr);
    assert_int_equal(eagle_cidrs_match(&l, (struct sockaddr *)&in6), 1);
    eagle_cidrs_release(&l);
}

static void test_parse(void **state)
{
    (void)state;
    struct eagle_cidrs l;
    struct eagle_err err;

    assert_int_equal(eagle_cidrs_parse("", &l, &err), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(eagle_cidrs_match_text(&l, "127.0.0.1"), 0);
    eagle_cidrs_release(&l);
    assert_int_equal(eagle_cidrs_parse(" 10.0.0.0/9 , 10.200.0.1,2001:db8::/33 ", &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(eagle_cidrs_match_text(&l, "10.127.255.255"), 1);
    assert_int_equal(eagle_cidrs_match_text(&l, "10.128.0.0"), 0);
    assert_int_equal(eagle_cidrs_match_text(&l, "10.200.0.1"), 1);
    assert_int_equal(eagle_cidrs_match_text(&l, "10.200.0.2"), 0);
    assert_int_equal(eagle_cidrs_match_text(&l, "2001:db8:7fff::1"), 1);
    assert_int_equal(eagle_cidrs_match_text(&l, "2001:db8:8000::1"), 0);
    eagle_cidrs_release(&l);
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0/8", "::/129",     "x",
                                      "10.0.0.0/",   "/8",       "10.0.0.0/8x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = 0;
        if (eagle_cidrs_parse(bad[i], &l, &err) != -1 || err.status != 400 ||
            !strstr(err.msg, "address range"))
            fail_msg("'%s' should be refused", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
