/*
 * args.c — see args.h.
 */
#include "ctl/args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum match {
    NO_MATCH,
    MATCHED,
    MATCH_ERROR, /* matched, but the value is missing or not wanted (message printed) */
};

/* Does argv[*i] name the option (--name, --name=v, -s, -sv)? On MATCHED, *i is
 * left on the last word used and *value set (NULL for a flag). */
static enum match match_opt(const char *name, char short_name, bool takes_value, int argc, char **argv,
                            int *i, const char **value)
{
    const char *arg = argv[*i], *inline_value = NULL;
    size_t n = strlen(name);

    if (arg[0] == '-' && arg[1] == '-' && strncmp(arg + 2, name, n) == 0 &&
        (arg[2 + n] == 0 || arg[2 + n] == '=')) {
        if (arg[2 + n] == '=')
            inline_value = arg + 3 + n;
    } else if (short_name && arg[0] == '-' && arg[1] == short_name) {
        if (arg[2] && !takes_value)
            return NO_MATCH;
        if (arg[2])
            inline_value = arg[2] == '=' ? arg + 3 : arg + 2; /* -ojson, -o=json */
    } else {
        return NO_MATCH;
    }

    if (!takes_value) {
        if (inline_value) {
            fprintf(stderr, "eaglectl: option --%s takes no value\n", name);
            return MATCH_ERROR;
        }
        *value = NULL;
        return MATCHED;
    }
    if (inline_value) {
        *value = inline_value;
        return MATCHED;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "eaglectl: option --%s needs a value\n", name);
        return MATCH_ERROR;
    }
    *value = argv[++*i];
    return MATCHED;
}

static bool claimed(const struct ctl_opt *opts, const char *name)
{
    for (; opts && opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return true;
    return false;
}

/* The global options, accepted after the command word as well as before it;
 * those named in `opts` belong to the command instead. */
static enum match match_global(struct ctl *ctl, const struct ctl_opt *opts, int argc, char **argv, int *i)
{
    static const struct {
        const char *name;
        char short_name;
    } globals[] = {{"output", 'o'}, {"token", 0}, {"config", 0}, {"endpoint", 0}};
    const char *value;

    for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++) {
        enum match m;

        if (claimed(opts, globals[g].name))
            continue;
        m = match_opt(globals[g].name, globals[g].short_name, true, argc, argv, i, &value);
        if (m == MATCH_ERROR)
            return MATCH_ERROR;
        if (m == NO_MATCH)
            continue;
        if (strcmp(globals[g].name, "output") == 0) {
            if (strcmp(value, "json") == 0) {
                ctl->output = CTL_OUTPUT_JSON;
            } else if (strcmp(value, "table") == 0) {
                ctl->output = CTL_OUTPUT_TABLE;
            } else {
                fprintf(stderr, "eaglectl: unknown output format '%s' (table or json)\n", value);
                return MATCH_ERROR;
            }
        } else if (strcmp(globals[g].name, "token") == 0) {
            ctl->token_flag = value;
        } else if (strcmp(globals[g].name, "config") == 0) {
            ctl->config_flag = value;
        } else {
            ctl->endpoint_flag = value;
        }
        return MATCHED;
    }
    return NO_MATCH;
}

int ctl_args_global(struct ctl *ctl, int argc, char **argv, int *i)
{
    switch (match_global(ctl, NULL, argc, argv, i)) {
    case MATCHED:
        return 1;
    case NO_MATCH:
        return 0;
    default:
        return -1;
    }
}

int ctl_args_dispatch(struct ctl *ctl, int argc, char **argv, const struct ctl_subcommand *subs,
                      size_t n_subs, const char *usage)
{
    int i;

    for (i = 1; i < argc; i++) {
        int m;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return CTL_EXIT_OK;
        }
        m = ctl_args_global(ctl, argc, argv, &i);
        if (m < 0) {
            fprintf(stderr, "\n%s", usage);
            return CTL_EXIT_USAGE;
        }
        if (m == 0)
            break;
    }
    if (i >= argc)
        return ctl_usage_error(usage, "missing %s command", argv[0]);
    if (strcmp(argv[i], "help") == 0) {
        fputs(usage, stdout);
        return CTL_EXIT_OK;
    }
    for (size_t s = 0; s < n_subs; s++)
        if (strcmp(argv[i], subs[s].name) == 0)
            return subs[s].run(ctl, argc - i, argv + i);
    if (argv[i][0] == '-')
        return ctl_usage_error(usage, "unknown option '%s'", argv[i]);
    return ctl_usage_error(usage, "unknown %s command '%s'", argv[0], argv[i]);
}

int ctl_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("eaglectl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (usage)
        fprintf(stderr, "\n%s", usage);
    return CTL_EXIT_USAGE;
}

static int parse_error(struct ctl_args *out, const char *usage)
{
    ctl_args_release(out);
    if (usage)
        fprintf(stderr, "\n%s", usage);
    return CTL_EXIT_USAGE;
}

int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, const char *usage,
                   size_t min_pos, size_t max_pos, bool allow_rest, struct ctl_args *out)
{
    memset(out, 0, sizeof(*out));
    out->pos = xcalloc((size_t)argc, sizeof(*out->pos));

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        enum match m = NO_MATCH;

        if (strcmp(arg, "--") == 0) {
            if (!allow_rest) {
                fprintf(stderr, "eaglectl: unexpected '--'\n");
                return parse_error(out, usage);
            }
            out->rest = argv + i + 1;
            out->n_rest = argc - i - 1;
            break;
        }
        if (arg[0] != '-' || arg[1] == 0) { /* "-" alone is a positional (stdin) */
            out->pos[out->n_pos++] = arg;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            ctl_args_release(out);
            return CTL_EXIT_OK;
        }
        for (const struct ctl_opt *o = opts; o && o->name; o++) {
            m = match_opt(o->name, o->short_name, o->kind != CTL_OPT_BOOL, argc, argv, &i, &value);
            if (m == MATCH_ERROR)
                return parse_error(out, usage);
            if (m != MATCHED)
                continue;
            if (o->kind == CTL_OPT_BOOL) {
                *(bool *)o->dest = true;
            } else if (o->kind == CTL_OPT_STR) {
                *(const char **)o->dest = value;
            } else {
                struct ctl_list *l = o->dest;
                l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
                l->items[l->n++] = value;
            }
            break;
        }
        if (m == MATCHED)
            continue;
        m = match_global(ctl, opts, argc, argv, &i);
        if (m == MATCH_ERROR)
            return parse_error(out, usage);
        if (m == MATCHED)
            continue;
        fprintf(stderr, "eaglectl: unknown option '%s'\n", arg);
        return parse_error(out, usage);
    }

    if (out->n_pos < min_pos) {
        fprintf(stderr, "eaglectl: missing argument\n");
        return parse_error(out, usage);
    }
    if (out->n_pos > max_pos) {
        fprintf(stderr, "eaglectl: unexpected argument '%s'\n", out->pos[max_pos]);
        return parse_error(out, usage);
    }
    return CTL_CONTINUE;
}

void ctl_args_release(struct ctl_args *args)
{
    if (!args)
        return;
    free(args->pos);
    memset(args, 0, sizeof(*args));
}

void ctl_list_release(struct ctl_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->n = 0;
}
