/*
 * sse.c — see sse.h.
 */
#include "ctl/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void ctl_sse_init(struct ctl_sse *p, ctl_sse_cb cb, void *userdata)
{
    memset(p, 0, sizeof(*p));
    p->cb = cb;
    p->userdata = userdata;
}

void ctl_sse_release(struct ctl_sse *p)
{
    if (!p)
        return;
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof(*p));
}

static void grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    *cap = *cap ? *cap : 256;
    while (*cap < need)
        *cap *= 2;
    *buf = xrealloc(*buf, *cap);
}

static void reset_event(struct ctl_sse *p)
{
    p->data_len = 0;
    p->has_data = false;
    p->event[0] = 0;
    p->id[0] = 0;
    p->has_id = false;
}

/* An empty line: hand over the event when it has data. */
static int dispatch(struct ctl_sse *p)
{
    int ret = 0;

    if (p->has_data) {
        grow(&p->data, &p->data_cap, p->data_len + 1);
        p->data[p->data_len] = 0;
        ret = p->cb(p->event[0] ? p->event : "message", p->has_id ? p->id : NULL, p->data, p->userdata);
    }
    reset_event(p);
    return ret;
}

/* One complete line (NUL-terminated, without its ending). */
static int process_line(struct ctl_sse *p, bool *too_long)
{
    char *line = p->line, *value;
    size_t n;

    if (p->line_len == 0)
        return dispatch(p);
    if (line[0] == ':')
        return 0; /* a comment: ": keep-alive" */
    value = strchr(line, ':');
    if (value) {
        *value++ = 0;
        if (*value == ' ')
            value++;
    } else {
        value = line + p->line_len; /* "data" alone: an empty value */
    }
    n = strlen(value);
    if (strcmp(line, "data") == 0) {
        if (p->data_len + n + 2 > CTL_SSE_MAX_LINE) {
            *too_long = true;
            return -1;
        }
        grow(&p->data, &p->data_cap, p->data_len + n + 2);
        if (p->has_data)
            p->data[p->data_len++] = '\n';
        memcpy(p->data + p->data_len, value, n);
        p->data_len += n;
        p->has_data = true;
    } else if (strcmp(line, "event") == 0) {
        snprintf(p->event, sizeof(p->event), "%s", value);
    } else if (strcmp(line, "id") == 0) {
        snprintf(p->id, sizeof(p->id), "%s", value);
        p->has_id = true;
    }
    /* "retry" and unknown fields are ignored */
    return 0;
}

int ctl_sse_feed(struct ctl_sse *p, const char *bytes, size_t len, bool *too_long)
{
    *too_long = false;
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];

        if (c == '\n' && p->after_cr) {
            p->after_cr = false;
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            int ret;

            grow(&p->line, &p->line_cap, p->line_len + 1);
            p->line[p->line_len] = 0;
            ret = process_line(p, too_long);
            p->line_len = 0;
            if (ret < 0)
                return -1;
            continue;
        }
        if (p->line_len + 2 > CTL_SSE_MAX_LINE) {
            *too_long = true;
            return -1;
        }
        grow(&p->line, &p->line_cap, p->line_len + 2);
        p->line[p->line_len++] = c;
    }
    return 0;
}
