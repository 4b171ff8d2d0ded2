/*
 * util.c — see util.h.
 */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t n)
{
    fprintf(stderr, "eagle: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
    void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
    if (!p)
        oom(nmemb * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    char *d;
    size_t n;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void eagle_now_rfc3339(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t eagle_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t eagle_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse a non-negative decimal number with an optional fraction; returns the end. */
static const char *parse_number(const char *s, double *out)
{
    char *end;
    double v;

    if (!isdigit((unsigned char)*s) && *s != '.')
        return NULL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || v < 0 || v > 1e15)
        return NULL;
    *out = v;
    return end;
}

int eagle_parse_duration(const char *s, int64_t *ns)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"", 1e9}};
    const char *end;
    double v;

    if (!s || !(end = parse_number(s, &v)))
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double r = v * units[i].mult;
            if (r > 9.2e18)
                return -1;
            *ns = (int64_t)r;
            return 0;
        }
    }
    return -1;
}

int eagle_parse_bytes(const char *s, int64_t *bytes)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"k", 1e3},
                 {"m", 1e6},
                 {"g", 1e9},
                 {"t", 1e12},
                 {"kb", 1e3},
                 {"mb", 1e6},
                 {"gb", 1e9},
                 {"ki", 1024.0},
                 {"mi", 1048576.0},
                 {"gi", 1073741824.0},
                 {"kib", 1024.0},
                 {"mib", 1048576.0},
                 {"gib", 1073741824.0},
                 {"ti", 1099511627776.0}};
    char unit[8];
    const char *end;
    double v;
    size_t n;

    if (!s || !(end = parse_number(s, &v)))
        return -1;
    n = strlen(end);
    if (n >= sizeof(unit))
        return -1;
    for (size_t i = 0; i <= n; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    /* Docker's convention: "256M" means MiB. Treat single-letter units as binary. */
    if (n == 1 && strchr("kmgt", unit[0])) {
        unit[1] = 'i';
        unit[2] = 0;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            double r = v * units[i].mult;
            if (r > 9.2e18)
                return -1;
            *bytes = (int64_t)r;
            return 0;
        }
    }
    return -1;
}
