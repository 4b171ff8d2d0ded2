/*
 * test_buf.c — the growable, capped byte buffer (src/core/buf.c) that collects
 * answer bodies from libcurl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_append_grows(void **state)
{
    (void)state;
    struct eagle_buf b = {0};
    char chunk[1000];
    size_t i;

    assert_null(b.data);
    assert_int_equal(eagle_buf_append(&b, "", 0), 0); /* nothing to add: nothing allocated */
    assert_null(b.data);
    assert_int_equal(eagle_buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_int_equal(b.cap, 4096);
    assert_string_equal(b.data, "abc");

    /* 3 + 10 * 1000 bytes: past 4096 and 8192, so it doubles twice. */
    for (i = 0; i < 10; i++) {
        memset(chunk, 'a' + (int)i, sizeof(chunk));
        assert_int_equal(eagle_buf_append(&b, chunk, sizeof(chunk)), 0);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_int_equal(b.len, 3 + 10 * sizeof(chunk));
    assert_int_equal(b.cap, 16384);
    assert_int_equal(strlen(b.data), b.len);
    assert_memory_equal(b.data, "abc", 3);
    for (i = 0; i < 10; i++) {
        const char *piece = b.data + 3 + i * sizeof(chunk);
        assert_int_equal(piece[0], 'a' + (int)i);
        assert_int_equal(piece[sizeof(chunk) - 1], 'a' + (int)i);
    }
    assert_false(b.too_big);
    eagle_buf_release(&b);
}

static void test_ceiling(void **state)
{
    (void)state;
    struct eagle_buf b = {.max = 10};

    assert_int_equal(eagle_buf_append(&b, "0123456", 7), 0);
    assert_int_equal(eagle_buf_append(&b, "7890", 4), -1); /* 11 > 10 */
    assert_true(b.too_big);
    assert_int_equal(b.len, 7); /* nothing of it appended */
    assert_string_equal(b.data, "0123456");
    assert_int_equal(eagle_buf_append(&b, "789", 3), 0); /* exactly max */
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(eagle_buf_append(&b, "x", 1), -1);
    assert_int_equal(eagle_buf_append(&b, "", 0), 0); /* nothing past max */
    assert_int_equal(b.len, 10);
    assert_int_equal(b.cap, 11); /* never more than max + 1 */
    eagle_buf_release(&b);

    /* A ceiling above the first allocation: storage stops at max + 1. */
    static char big[5000];
    memset(big, 'z', sizeof(big));
    b.max = 5000;
    assert_int_equal(eagle_buf_append(&b, big, 4000), 0);
    assert_int_equal(b.cap, 4096);
    assert_int_equal(eagle_buf_append(&b, big, 1000), 0);
    assert_int_equal(b.cap, 5001);
    assert_int_equal(b.len, 5000);
    assert_int_equal(b.data[5000], '\0');
    assert_int_equal(eagle_buf_append(&b, big, 1), -1);
    assert_true(b.too_big);
    eagle_buf_release(&b);
}

static void test_no_ceiling(void **state)
{
    (void)state;
    struct eagle_buf b = {0};
    size_t n = (size_t)1 << 20, i;
    char *chunk = calloc(1, n);

    assert_non_null(chunk);
    for (i = 0; i < 70; i++) /* 70 MiB: past any ceiling the callers use */
        assert_int_equal(eagle_buf_append(&b, chunk, n), 0);
    assert_int_equal(b.len, 70 * n);
    assert_int_equal(b.cap, 128 * n);
    assert_false(b.too_big);
    eagle_buf_release(&b);
    free(chunk);

    /* A length no buffer can reach is refused, not wrapped around. */
    assert_int_equal(eagle_buf_append(&b, "a", 1), 0);
    assert_int_equal(eagle_buf_append(&b, "a", SIZE_MAX), -1);
    assert_true(b.too_big);
    assert_int_equal(b.len, 1);
    eagle_buf_release(&b);
}

static void test_write_callback(void **state)
{
    (void)state;
    struct eagle_buf b = {.max = 8};
    char text[] = "abcdefghij";

    assert_int_equal(eagle_buf_write(text, 1, 3, &b), 3);
    assert_int_equal(eagle_buf_write(text + 3, 2, 2, &b), 4); /* size * nmemb */
    assert_string_equal(b.data, "abcdefg");
    assert_int_equal(eagle_buf_write(text + 7, 1, 2, &b), 0); /* 9 > 8: libcurl's write error */
    assert_true(b.too_big);
    assert_int_equal(b.len, 7);
    assert_int_equal(eagle_buf_write(text + 7, 1, 1, &b), 1); /* exactly max */
    assert_string_equal(b.data, "abcdefgh");
    eagle_buf_release(&b);
}

static void test_release_and_reuse(void **state)
{
    (void)state;
    struct eagle_buf b = {.max = 4};

    assert_int_equal(eagle_buf_append(&b, "abcde", 5), -1);
    assert_int_equal(eagle_buf_append(&b, "abcd", 4), 0);
    eagle_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_false(b.too_big);
    assert_int_equal(b.max, 4); /* kept */

    assert_int_equal(eagle_buf_append(&b, "wxyz", 4), 0);
    assert_string_equal(b.data, "wxyz");
    assert_int_equal(eagle_buf_append(&b, "!", 1), -1);
    eagle_buf_release(&b);
    eagle_buf_release(&b); /* twice is harmless */
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows),      cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_no_ceiling),        cmocka_unit_test(test_write_callback),
        cmocka_unit_test(test_release_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
