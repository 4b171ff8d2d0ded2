/*
 * sse.h — a parser for server-sent events (text/event-stream), fed the stream's
 * bytes in whatever pieces they arrive.
 *
 * It follows the WHATWG rules eaglectl needs: lines end with LF, CRLF or CR;
 * "field: value" (one space after the colon dropped); lines starting with ':'
 * are comments; an empty line dispatches the event when it has data. It knows
 * nothing of Eagle's events. A line or an event's data longer than
 * CTL_SSE_MAX_LINE is an error: the stream is not what it should be.
 */
#ifndef EAGLE_CTL_SSE_H
#define EAGLE_CTL_SSE_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_SSE_MAX_LINE (1u << 20)

/* One event: `event` is its type ("message" when the frame named none); `id` the
 * frame's own id, NULL when it had none; `data` its data lines joined by '\n'.
 * All borrowed for the call. Returns 0 to go on, -1 to stop the stream. */
typedef int (*ctl_sse_cb)(const char *event, const char *id, const char *data, void *userdata);

struct ctl_sse {
    ctl_sse_cb cb;
    void *userdata;
    char *line; /* the line being read; owned */
    size_t line_len, line_cap;
    bool after_cr; /* the last byte was CR: a LF right after it ends nothing */
    char *data;    /* data lines so far; owned */
    size_t data_len, data_cap;
    bool has_data;
    char event[64];
    char id[64];
    bool has_id;
};

void ctl_sse_init(struct ctl_sse *p, ctl_sse_cb cb, void *userdata);
void ctl_sse_release(struct ctl_sse *p);

/* Parse `len` more bytes, calling the callback for every event they complete.
 * Returns 0, or -1 when the callback stopped or a line was too long (`*too_long`). */
int ctl_sse_feed(struct ctl_sse *p, const char *bytes, size_t len, bool *too_long);

#endif
