/*
 * buf.c — see buf.h. No libcurl here: eagle_buf_write only has the signature
 * libcurl expects of a write callback.
 */
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define FIRST_CAP 4096

int eagle_buf_append(struct eagle_buf *b, const void *p, size_t n)
{
    /* Below SIZE_MAX so that len + n + 1 cannot wrap. */
    size_t limit = b->max && b->max < SIZE_MAX ? b->max : SIZE_MAX - 1;
    size_t need, cap;

    if (b->len > limit || n > limit - b->len) {
        b->too_big = 1;
        return -1;
    }
    if (n == 0)
        return 0;
    need = b->len + n + 1;
    if (need > b->cap) {
        cap = b->cap ? b->cap : FIRST_CAP;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap - 1 > limit) /* need - 1 <= limit, so this still fits */
            cap = limit + 1;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void eagle_buf_release(struct eagle_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->too_big = 0;
}

size_t eagle_buf_write(char *p, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;

    return eagle_buf_append(userdata, p, n) < 0 ? 0 : n;
}
