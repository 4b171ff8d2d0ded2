/*
 * output.h — how eaglectl prints: aligned tables, "key: value" lines, the
 * server's JSON re-indented, and the small formatters they use.
 *
 * Everything printed that came from the server goes through a sanitiser that
 * turns control characters into spaces, so an error text cannot break a table
 * or send escape sequences to the terminal.
 */
#ifndef EAGLE_CTL_OUTPUT_H
#define EAGLE_CTL_OUTPUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* A table built cell by cell, row after row; columns are as wide as their widest
 * cell, three spaces apart; an empty cell prints as "-". */
struct ctl_table {
    size_t n_cols;
    char **cells; /* row-major, header row first; owned */
    size_t n_cells, cap;
};

/* `headers` is NULL-terminated. Release with ctl_table_release(). */
void ctl_table_init(struct ctl_table *t, const char *const *headers);
void ctl_table_cell(struct ctl_table *t, const char *s); /* NULL or "" print as "-" */
void ctl_table_cellf(struct ctl_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_table_print(const struct ctl_table *t, FILE *f);
void ctl_table_release(struct ctl_table *t);

/* A growing string, for lists joined by a separator. */
struct ctl_buf {
    char *s; /* NULL until something is added; owned */
    size_t len, cap;
};

/* Append `s`, preceded by `sep` unless the buffer is still empty. */
void ctl_buf_add(struct ctl_buf *b, const char *sep, const char *s);
void ctl_buf_addf(struct ctl_buf *b, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hand the string over (never NULL: "" when nothing was added; free()); the buffer is empty again. */
char *ctl_buf_take(struct ctl_buf *b);

/* A copy of `s` (NULL reads as "") with control characters turned into spaces (free()). */
char *ctl_sanitize(const char *s);

/* Print "key: value\n"; the value is sanitised, NULL prints as "". */
void ctl_kv(const char *key, const char *value);
void ctl_kvf(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "key: value" for every member of an object: scalars as text (null as ""),
 * arrays and objects as compact JSON. */
void ctl_kv_object(json_t *obj);

/* Re-indent JSON text (already known to be valid) by two spaces, keeping every
 * token exactly as the server wrote it. Prints nothing for an empty text. */
void ctl_print_json_text(FILE *f, const char *text, size_t len);

/* Print JSON text (already known to be valid) on one line, every token as the
 * server wrote it: for streams, one answer or event per line. */
void ctl_print_json_line(FILE *f, const char *text, size_t len);

/* Walk a dotted path ("spec.image") through objects; NULL when absent. */
json_t *ctl_jget(json_t *j, const char *path);
/* The string at `path`, or "" when absent or not a string. Borrowed. */
const char *ctl_jstr(json_t *j, const char *path);
/* The integer at `path`, or `dflt`. */
json_int_t ctl_jint(json_t *j, const char *path, json_int_t dflt);

/* New strings (free()): "42s ago", "5m ago", "3h ago", "12d ago" for an RFC 3339
 * time ("" when empty, the input when unparseable); "1.5GiB"; "0.5". */
char *ctl_format_age(const char *rfc3339);
char *ctl_format_bytes(int64_t bytes);
char *ctl_format_number(double v);

/* The first `n` characters of an id (a new string). */
char *ctl_short_id(const char *id, size_t n);

#endif
