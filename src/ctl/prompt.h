/*
 * prompt.h — reading a password: one line from stdin (--password-stdin), or a
 * prompt on the terminal with echo turned off.
 *
 * Strings returned are freed with ctl_secret_free(), which wipes them first.
 */
#ifndef EAGLE_CTL_PROMPT_H
#define EAGLE_CTL_PROMPT_H

#include <stdio.h>

#include "core/err.h"

#define CTL_SECRET_MAX 4096 /* longer lines are refused */

/* Read one line from `f` without its line ending. Returns NULL (and fills err) at
 * end of input or when the line is too long. */
char *ctl_read_secret_line(FILE *f, struct eagle_err *err);

/* Print `prompt` to stderr and read a line from the terminal on stdin without
 * echoing it; the terminal is restored even if interrupted by a signal. */
char *ctl_prompt_secret(const char *prompt, struct eagle_err *err);

void ctl_secret_free(char *s);

#endif
