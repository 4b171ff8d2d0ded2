/*
 * args.h — eaglectl's option parser, driven by a table per command.
 *
 * Options may come before, between or after positional arguments, as
 * "--name value", "--name=value", "-x value" or "-xvalue"; "--" ends the options
 * and the rest is handed back untouched (the command of `service create`). The
 * global options -o/--output, --token, --config, --endpoint and -h/--help are
 * accepted after any command too, unless the command's table claims the name
 * (`cluster add --endpoint` is the engine's endpoint). Nothing here allocates
 * except the arrays of a struct ctl_list and of the positionals.
 */
#ifndef EAGLE_CTL_ARGS_H
#define EAGLE_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl/ctl.h"

/* Returned by ctl_args_parse() when the command should go on. */
#define CTL_CONTINUE (-1)

enum ctl_opt_kind {
    CTL_OPT_BOOL, /* dest: bool * */
    CTL_OPT_STR,  /* dest: const char ** (points into argv; the last one given wins) */
    CTL_OPT_LIST, /* dest: struct ctl_list * (every one given, in order) */
};

struct ctl_list {
    const char **items; /* point into argv; the array is freed by ctl_list_release() */
    size_t n;
};

struct ctl_opt {
    const char *name; /* long name without the dashes: "replicas" */
    char short_name;  /* 'f', or 0 */
    enum ctl_opt_kind kind;
    void *dest;
};

struct ctl_args {
    const char **pos; /* positional arguments (into argv); freed by ctl_args_release() */
    size_t n_pos;
    char **rest; /* what followed "--" (into argv), NULL when there was no "--" */
    int n_rest;
};

/*
 * Parse argv[1..argc) (argv[0] is the command word) against `opts`, terminated by
 * an entry with a NULL name. `usage` is printed for --help (to stdout, then the
 * function returns CTL_EXIT_OK) or after a usage error (to stderr, returns
 * CTL_EXIT_USAGE). Between min_pos and max_pos positionals are allowed. When
 * allow_rest is false, "--" is an error. Returns CTL_CONTINUE when all is well.
 */
int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, const char *usage,
                   size_t min_pos, size_t max_pos, bool allow_rest, struct ctl_args *out);
void ctl_args_release(struct ctl_args *args);

/* Try argv[*i] as a global option (main's loop before the command word). Returns 1
 * when it was one (*i on the last word used), 0 when not, -1 after printing why
 * it is malformed. */
int ctl_args_global(struct ctl *ctl, int argc, char **argv, int *i);

struct ctl_subcommand {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv); /* argv[0] is the subcommand's word */
};

/* Run the subcommand of a group (argv[0] is the group's word, global options may
 * come before the subcommand's). --help or a missing or unknown subcommand print
 * `usage`. Returns the subcommand's exit status. */
int ctl_args_dispatch(struct ctl *ctl, int argc, char **argv, const struct ctl_subcommand *subs,
                      size_t n_subs, const char *usage);

void ctl_list_release(struct ctl_list *list);

/* Print "eaglectl: <message>" and `usage` to stderr; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
