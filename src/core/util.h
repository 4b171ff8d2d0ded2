/*
 * util.h — allocation that aborts on failure (as Redis, h2o and crun do), and
 * a few string helpers. Everything returned here is freed with free().
 */
#ifndef EAGLE_UTIL_H
#define EAGLE_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* xstrdup(NULL) returns NULL */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wall-clock time as RFC 3339 UTC ("2026-11-25T17:19:57Z") into buf (>= 32 bytes). */
void eagle_now_rfc3339(char *buf, size_t n);
int64_t eagle_now_ms(void);
int64_t eagle_monotonic_ms(void); /* CLOCK_MONOTONIC: for intervals, not dates */

/* Parse a duration such as "1500ms", "30s", "5m", "1h", "250us", or a bare number of
 * seconds. Returns 0 and nanoseconds in *ns, or -1 when malformed or negative. */
int eagle_parse_duration(const char *s, int64_t *ns);

/* Parse a byte size such as "256M", "1G", "512Ki", "1048576". Returns -1 when malformed. */
int eagle_parse_bytes(const char *s, int64_t *bytes);

#endif
