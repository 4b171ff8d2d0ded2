/*
 * err.h — the error object every fallible function takes last (crun's pattern).
 *
 * A function that can fail returns 0 on success or -1 after filling `err`.
 * Callers add context on the way up with eagle_err_wrap(). The message buffer
 * is fixed-size, so an error never needs freeing. The HTTP layer turns an error
 * into a status and {"error": {"code", "message", "field"}} in one place.
 */
#ifndef EAGLE_ERR_H
#define EAGLE_ERR_H

struct eagle_err {
    int status;      /* HTTP status this error maps to (400, 404, 502, ...) */
    char code[32];   /* machine-readable code: "invalid_argument", "not_found", ... */
    char field[96];  /* the offending input field, "" when none (e.g. "spec.replicas") */
    char msg[512];
};

/* Fill `err` (which may be NULL) and return -1. */
int eagle_err_set(struct eagle_err *err, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prefix the message with context ("create service 'web': ...") and return -1. */
int eagle_err_wrap(struct eagle_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void eagle_err_clear(struct eagle_err *err);

/* Shorthands for the common kinds; all return -1. */
#define eagle_err_invalid(e, field, ...) eagle_err_set((e), 400, "invalid_argument", (field), __VA_ARGS__)
#define eagle_err_notfound(e, ...) eagle_err_set((e), 404, "not_found", NULL, __VA_ARGS__)
#define eagle_err_conflict(e, ...) eagle_err_set((e), 409, "conflict", NULL, __VA_ARGS__)
#define eagle_err_internal(e, ...) eagle_err_set((e), 500, "internal", NULL, __VA_ARGS__)

#endif
