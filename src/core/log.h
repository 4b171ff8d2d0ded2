/*
 * log.h — structured log lines on stderr:
 *   2026-11-25T17:19:57Z level=info comp=http msg="listening on 127.0.0.1:8420"
 * The macros check the level before evaluating their arguments (Redis' serverLog).
 * Safe from any thread (one fprintf per line, stderr is line-locked by stdio).
 */
#ifndef EAGLE_LOG_H
#define EAGLE_LOG_H

enum eagle_log_level { EAGLE_LOG_DEBUG, EAGLE_LOG_INFO, EAGLE_LOG_WARN, EAGLE_LOG_ERROR };

extern enum eagle_log_level eagle_log_min; /* set once at start-up, read-only afterwards */

/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int eagle_log_parse_level(const char *s);

void eagle_log_write(enum eagle_log_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define eagle_log(lvl, comp, ...)                                                                           \
    do {                                                                                                    \
        if ((lvl) >= eagle_log_min)                                                                         \
            eagle_log_write((lvl), (comp), __VA_ARGS__);                                                    \
    } while (0)
#define log_debug(comp, ...) eagle_log(EAGLE_LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) eagle_log(EAGLE_LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) eagle_log(EAGLE_LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) eagle_log(EAGLE_LOG_ERROR, comp, __VA_ARGS__)

#endif
