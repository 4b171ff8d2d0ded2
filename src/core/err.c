/*
 * err.c — see err.h.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int eagle_err_set(struct eagle_err *err, int status, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    err->status = status;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "internal");
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int eagle_err_wrap(struct eagle_err *err, const char *fmt, ...)
{
    char prefix[256], old[sizeof(err->msg)];
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    size_t n = strlen(prefix);
    if (n > sizeof(err->msg) - 3)
        n = sizeof(err->msg) - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof(err->msg) - n - 3, m = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = 0;
    return -1;
}

void eagle_err_clear(struct eagle_err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}
