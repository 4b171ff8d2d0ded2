/*
 * buf.h — a growable byte buffer with a ceiling, for collecting an answer body
 * (libcurl's write callback is eagle_buf_write) or any other bytes that arrive
 * in pieces. The storage starts at 4096 bytes and doubles, never past max + 1.
 *
 * A struct eagle_buf is embedded by its owner: zero it, set `max`, append, read
 * `data`/`len` in place, and eagle_buf_release() it. Whoever takes `data` away
 * sets the field to NULL and then owns it (free()). Allocation failure aborts.
 */
#ifndef EAGLE_BUF_H
#define EAGLE_BUF_H

#include <stddef.h>

struct eagle_buf {
    char *data; /* NUL-terminated once anything is in it; NULL until then */
    size_t len;
    size_t cap;
    size_t max;  /* the most bytes it may hold; 0: no ceiling */
    int too_big; /* an append was refused for going past max */
};

/* Append n bytes: 0, or -1 with too_big set when len + n would pass max, in
 * which case nothing is appended. */
int eagle_buf_append(struct eagle_buf *b, const void *p, size_t n);

/* Free data and zero everything but max, ready to be used again. */
void eagle_buf_release(struct eagle_buf *b);

/* A libcurl CURLOPT_WRITEFUNCTION (the same signature) appending to the struct
 * eagle_buf passed as CURLOPT_WRITEDATA. Returns size * nmemb, or 0 past max,
 * which makes libcurl fail with CURLE_WRITE_ERROR. */
size_t eagle_buf_write(char *p, size_t size, size_t nmemb, void *userdata);

#endif
