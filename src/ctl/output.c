/*
 * output.c — see output.h.
 */
#define _GNU_SOURCE /* strptime */
#include "ctl/output.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

char *ctl_sanitize(const char *s)
{
    char *out = xstrdup(s ? s : "");

    for (unsigned char *p = (unsigned char *)out; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return out;
}

/* Display width in UTF-8 code points (close enough for names and addresses). */
static size_t width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static void push(struct ctl_table *t, char *cell)
{
    if (t->n_cells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
    }
    t->cells[t->n_cells++] = cell;
}

void ctl_buf_add(struct ctl_buf *b, const char *sep, const char *s)
{
    size_t n_sep = b->len ? strlen(sep) : 0, n = strlen(s);

    if (b->len + n_sep + n + 1 > b->cap) {
        b->cap = (b->len + n_sep + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, sep, n_sep);
    memcpy(b->s + b->len + n_sep, s, n + 1);
    b->len += n_sep + n;
}

void ctl_buf_addf(struct ctl_buf *b, const char *sep, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    s[0] = 0;
    if (n > 0) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    ctl_buf_add(b, sep, s);
    free(s);
}

char *ctl_buf_take(struct ctl_buf *b)
{
    char *s = b->s ? b->s : xstrdup("");

    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void ctl_table_init(struct ctl_table *t, const char *const *headers)
{
    memset(t, 0, sizeof(*t));
    for (; *headers; headers++, t->n_cols++)
        push(t, xstrdup(*headers));
}

void ctl_table_cell(struct ctl_table *t, const char *s)
{
    push(t, ctl_sanitize(s && *s ? s : "-"));
}

void ctl_table_cellf(struct ctl_table *t, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    s[0] = 0;
    if (n > 0) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    ctl_table_cell(t, s);
    free(s);
}

void ctl_table_print(const struct ctl_table *t, FILE *f)
{
    size_t *widths = xcalloc(t->n_cols, sizeof(*widths));

    for (size_t i = 0; i < t->n_cells; i++) {
        size_t w = width(t->cells[i]);
        if (w > widths[i % t->n_cols])
            widths[i % t->n_cols] = w;
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        size_t col = i % t->n_cols;
        bool last = col + 1 == t->n_cols || i + 1 == t->n_cells;

        fputs(t->cells[i], f);
        if (last) {
            fputc('\n', f);
            continue;
        }
        for (size_t pad = width(t->cells[i]); pad < widths[col] + 3; pad++)
            fputc(' ', f);
    }
    free(widths);
}

void ctl_table_release(struct ctl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void ctl_kv(const char *key, const char *value)
{
    char *v = ctl_sanitize(value);

    if (*v)
        printf("%s: %s\n", key, v);
    else
        printf("%s:\n", key);
    free(v);
}

void ctl_kvf(const char *key, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    s[0] = 0;
    if (n > 0) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    ctl_kv(key, s);
    free(s);
}

void ctl_kv_object(json_t *obj)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        if (json_is_string(v)) {
            ctl_kv(key, json_string_value(v));
        } else if (json_is_null(v)) {
            ctl_kv(key, "");
        } else {
            char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            ctl_kv(key, text);
            free(text);
        }
    }
}

static void newline(FILE *f, int depth)
{
    fputc('\n', f);
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

static size_t skip_space(const char *text, size_t len, size_t i)
{
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i;
}

void ctl_print_json_text(FILE *f, const char *text, size_t len)
{
    bool in_string = false, escaped = false, any = false;
    int depth = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            fputc(c, f);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            continue;
        case '"':
            in_string = true;
            fputc(c, f);
            break;
        case '{':
        case '[': {
            size_t next = skip_space(text, len, i + 1);
            fputc(c, f);
            if (next < len && text[next] == (c == '{' ? '}' : ']')) {
                fputc(text[next], f); /* {} and [] stay on one line */
                i = next;
                break;
            }
            newline(f, ++depth);
            break;
        }
        case '}':
        case ']':
            newline(f, --depth);
            fputc(c, f);
            break;
        case ',':
            fputc(c, f);
            newline(f, depth);
            break;
        case ':':
            fputs(": ", f);
            break;
        default:
            fputc(c, f);
            break;
        }
        any = true;
    }
    if (any || in_string)
        fputc('\n', f);
}

void ctl_print_json_line(FILE *f, const char *text, size_t len)
{
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            fputc(c, f);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            fputc(c, f);
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            fputc(c, f);
        }
    }
    fputc('\n', f);
}

json_t *ctl_jget(json_t *j, const char *path)
{
    const char *p = path;

    while (j && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        if (!json_is_object(j))
            return NULL;
        j = json_object_getn(j, p, n);
        p += n;
        if (*p == '.')
            p++;
    }
    return j;
}

const char *ctl_jstr(json_t *j, const char *path)
{
    json_t *v = ctl_jget(j, path);

    return json_is_string(v) ? json_string_value(v) : "";
}

json_int_t ctl_jint(json_t *j, const char *path, json_int_t dflt)
{
    json_t *v = ctl_jget(j, path);

    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (json_int_t)json_real_value(v);
    return dflt;
}

/* Seconds since the epoch of "2026-11-25T17:00:00Z", "...:00.123Z" or
 * "...:00+02:00"; -1 when it is none of these. */
static int parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm;
    const char *p;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    t = timegm(&tm);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = atoi(p + 1), mm = atoi(p + 4);
        t += (*p == '+' ? -1 : 1) * (time_t)(hh * 3600 + mm * 60);
        p += 6;
    }
    if (*p)
        return -1;
    *out = t;
    return 0;
}

char *ctl_format_age(const char *rfc3339)
{
    time_t t, now = time(NULL);
    long long d;

    if (!rfc3339 || !*rfc3339)
        return xstrdup("");
    if (parse_rfc3339(rfc3339, &t) < 0)
        return xstrdup(rfc3339);
    d = (long long)(now - t);
    if (d < 1)
        return xstrdup("just now");
    if (d < 120)
        return xasprintf("%llds ago", d);
    if (d < 120 * 60)
        return xasprintf("%lldm ago", d / 60);
    if (d < 48 * 3600)
        return xasprintf("%lldh ago", d / 3600);
    return xasprintf("%lldd ago", d / 86400);
}

char *ctl_format_number(double v)
{
    return xasprintf("%.15g", v);
}

char *ctl_format_bytes(int64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    size_t u = 0;

    if (bytes < 1024)
        return xasprintf("%lldB", (long long)bytes);
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (v == (double)(long long)v)
        return xasprintf("%lld%s", (long long)v, units[u]);
    return xasprintf("%.1f%s", v, units[u]);
}

char *ctl_short_id(const char *id, size_t n)
{
    size_t len = id ? strlen(id) : 0;
    char *s = xmalloc((len < n ? len : n) + 1);

    memcpy(s, id ? id : "", len < n ? len : n);
    s[len < n ? len : n] = 0;
    return s;
}
