/*
 * log.c — see log.h. The message is quoted so a line stays one logfmt record.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

enum eagle_log_level eagle_log_min = EAGLE_LOG_INFO;

static const char *names[] = {"debug", "info", "warn", "error"};

int eagle_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void eagle_log_write(enum eagle_log_level lvl, const char *comp, const char *fmt, ...)
{
    char msg[1024], quoted[2100], ts[32];
    size_t j = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (size_t i = 0; msg[i] && j < sizeof(quoted) - 3; i++) {
        char c = msg[i];
        if (c == '"' || c == '\\') {
            quoted[j++] = '\\';
            quoted[j++] = c;
        } else if (c == '\n') {
            quoted[j++] = '\\';
            quoted[j++] = 'n';
        } else {
            quoted[j++] = c;
        }
    }
    quoted[j] = 0;
    eagle_now_rfc3339(ts, sizeof(ts));
    fprintf(stderr, "%s level=%s comp=%s msg=\"%s\"\n", ts, names[lvl], comp, quoted);
}
