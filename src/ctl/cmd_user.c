/*
 * cmd_user.c — `eaglectl user ...` and `eaglectl token ...`: Eagle's users (made
 * by platform admins), passwords, and your own API tokens for scripts and CI.
 *
 * Passwords come from stdin (--password-stdin, one per line) or are asked on the
 * terminal, twice when they are new; they never appear on the command line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/prompt.h"
#include "ctl/specflags.h"

static const char user_usage[] =
    "Usage: eaglectl user COMMAND\n"
    "\n"
    "Manage Eagle's users. Platform admins list, create and remove users;\n"
    "anyone may change their own password.\n"
    "\n"
    "Commands:\n"
    "  ls                                    list users (admin)\n"
    "  create NAME [--role admin] [--password-stdin]\n"
    "                                        create a user (admin)\n"
    "  rm NAME                               remove a user (admin)\n"
    "  passwd [NAME] [--password-stdin]      change a password (yours by default)\n"
    "\n"
    "Run 'eaglectl user COMMAND --help' for more.\n";

static const char user_ls_usage[] = "Usage: eaglectl user ls\n"
                                    "\n"
                                    "List users: USER ROLE CREATED (platform admins).\n";

static const char user_create_usage[] =
    "Usage: eaglectl user create NAME [--role user|admin] [--password-stdin]\n"
    "\n"
    "Create a user (platform admins). The password (8 to 1024 characters) is asked\n"
    "twice on the terminal, or read from the first line of stdin.\n"
    "\n"
    "Options:\n"
    "  --role ROLE        the platform role: user (default) or admin\n"
    "  --password-stdin   read the password from the first line of stdin\n";

static const char user_rm_usage[] = "Usage: eaglectl user rm NAME\n"
                                    "\n"
                                    "Remove a user with their memberships and tokens (platform admins; not\n"
                                    "yourself).\n";

static const char user_passwd_usage[] =
    "Usage: eaglectl user passwd [NAME] [--password-stdin]\n"
    "\n"
    "Change a password: your own (the default), which needs your current password,\n"
    "or, for a platform admin, anyone's. Every token of the user is revoked: they\n"
    "log in again.\n"
    "\n"
    "Options:\n"
    "  --password-stdin   read from stdin instead of asking: for your own password the\n"
    "                     current one on the first line and the new one on the second;\n"
    "                     for another user's, the new one on the first line\n";

static const char token_usage[] = "Usage: eaglectl token COMMAND\n"
                                  "\n"
                                  "Manage your API tokens: long-lived tokens for scripts and CI that act as\n"
                                  "you (use one with --token or EAGLE_TOKEN).\n"
                                  "\n"
                                  "Commands:\n"
                                  "  ls                                          list your API tokens\n"
                                  "  create NAME [--read-only] [--expires-in-days N]\n"
                                  "                                              create one; shown once\n"
                                  "  rm ID                                       revoke one\n"
                                  "\n"
                                  "Run 'eaglectl token COMMAND --help' for more.\n";

static const char token_ls_usage[] =
    "Usage: eaglectl token ls\n"
    "\n"
    "List your API tokens that are not revoked: ID NAME ACCESS EXPIRES CREATED\n"
    "(the tokens themselves are never shown again).\n";

static const char token_create_usage[] =
    "Usage: eaglectl token create NAME [--read-only] [--expires-in-days N]\n"
    "\n"
    "Create an API token and print it on stdout, alone on its line. It is shown\n"
    "this once: Eagle keeps only a hash of it.\n"
    "\n"
    "Options:\n"
    "  --read-only            the token may only read (GET) and log out\n"
    "  --expires-in-days N    valid for N days, 1 to 3650 (default 365)\n";

static const char token_rm_usage[] = "Usage: eaglectl token rm ID\n"
                                     "\n"
                                     "Revoke one of your API tokens at once (ID from 'eaglectl token ls').\n";

/* "/v1/users/<name><suffix>", the name escaped. */
static char *user_path(const char *name, const char *suffix)
{
    return ctl_path("/v1/users/", name, suffix);
}

/* A new password: the next line of stdin, or asked twice on the terminal. */
static char *new_password(bool from_stdin, const char *prompt, struct eagle_err *err)
{
    char *first, *again, *retype;

    if (from_stdin)
        return ctl_read_secret_line(stdin, err);
    first = ctl_prompt_secret(prompt, err);
    if (!first)
        return NULL;
    retype = xasprintf("Retype %c%s", tolower((unsigned char)prompt[0]), prompt + 1);
    again = ctl_prompt_secret(retype, err);
    free(retype);
    if (!again) {
        ctl_secret_free(first);
        return NULL;
    }
    if (strcmp(first, again) != 0) {
        ctl_secret_free(first);
        ctl_secret_free(again);
        eagle_err_set(err, 0, "usage", NULL, "the passwords do not match");
        return NULL;
    }
    ctl_secret_free(again);
    return first;
}

static int user_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"USER", "ROLE", "CREATED", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    size_t i;
    json_t *u;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, user_ls_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_call(ctl, "GET", "/v1/users", NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, u)
    {
        char *age = ctl_format_age(ctl_jstr(u, "created_at"));

        ctl_table_cell(&table, ctl_jstr(u, "username"));
        ctl_table_cell(&table, ctl_jstr(u, "role"));
        ctl_table_cell(&table, age);
        free(age);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int user_create(struct ctl *ctl, int argc, char **argv)
{
    const char *role = NULL;
    bool password_stdin = false;
    struct ctl_opt opts[] = {
        {"role", 0, CTL_OPT_STR, &role},
        {"password-stdin", 0, CTL_OPT_BOOL, &password_stdin},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    json_t *body = NULL;
    char *secret;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, user_create_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (!password_stdin && !isatty(STDIN_FILENO)) {
        rc = ctl_usage_error(user_create_usage, "stdin is not a terminal: give --password-stdin");
        goto out;
    }
    secret = new_password(password_stdin, "Password: ", &err);
    if (!secret) {
        fprintf(stderr, "eaglectl: %s\n", err.msg);
        rc = CTL_EXIT_USAGE;
        goto out;
    }
    body = json_pack("{s:s, s:s, s:s*}", "username", args.pos[0], "password", secret, "role", role);
    ctl_secret_free(secret);
    if (!body) {
        rc = ctl_usage_error(user_create_usage, "the name, the password and the role must be valid UTF-8");
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "POST", "/v1/users", body, &reply) < 0)
        goto out;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        printf("user '%s' created (role %s)\n", ctl_jstr(reply.json, "username"),
               ctl_jstr(reply.json, "role"));
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}

static int user_rm(struct ctl *ctl, int argc, char **argv)
{
    return ctl_remove_named(ctl, argc, argv, user_rm_usage, "/v1/users/", "", "user '%s' removed\n");
}

static int user_passwd(struct ctl *ctl, int argc, char **argv)
{
    bool password_stdin = false;
    struct ctl_opt opts[] = {{"password-stdin", 0, CTL_OPT_BOOL, &password_stdin}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    char *me = NULL, *current = NULL, *secret = NULL, *path = NULL, *prompt = NULL;
    const char *name;
    json_t *body = NULL;
    bool self;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, user_passwd_usage, 0, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (!password_stdin && !isatty(STDIN_FILENO)) {
        rc = ctl_usage_error(user_passwd_usage, "stdin is not a terminal: give --password-stdin");
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "GET", "/v1/me", NULL, &reply) < 0)
        goto out;
    me = xstrdup(ctl_jstr(reply.json, "username"));
    ctl_http_reply_release(&reply);
    name = args.n_pos ? args.pos[0] : me;
    self = strcmp(name, me) == 0;

    rc = CTL_EXIT_USAGE;
    if (self) {
        current = password_stdin ? ctl_read_secret_line(stdin, &err)
                                 : ctl_prompt_secret("Current password: ", &err);
        if (!current)
            goto print_err;
        prompt = xstrdup("New password: ");
    } else {
        prompt = xasprintf("New password for '%s': ", name);
    }
    secret = new_password(password_stdin, prompt, &err);
    if (!secret)
        goto print_err;
    body = json_pack("{s:s, s:s*}", "password", secret, "current_password", current);
    if (!body) {
        fprintf(stderr, "eaglectl: the password must be valid UTF-8\n");
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    path = user_path(name, "/password");
    if (ctl_call(ctl, "PUT", path, body, &reply) < 0)
        goto out;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else if (self)
        printf("password of '%s' changed; every token of yours is revoked: run 'eaglectl login' again\n",
               name);
    else
        printf("password of '%s' changed; every token of theirs is revoked\n", name);
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
    goto out;
print_err:
    fprintf(stderr, "eaglectl: %s\n", err.msg);
out:
    json_decref(body);
    ctl_secret_free(current);
    ctl_secret_free(secret);
    free(me);
    free(prompt);
    free(path);
    ctl_args_release(&args);
    return rc;
}

int ctl_cmd_user(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", user_ls},      {"list", user_ls},       {"create", user_create},
        {"add", user_create}, {"rm", user_rm},         {"remove", user_rm},
        {"delete", user_rm},  {"passwd", user_passwd}, {"password", user_passwd},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), user_usage);
}

static int token_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"ID", "NAME", "ACCESS", "EXPIRES", "CREATED", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    size_t i;
    json_t *t;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, token_ls_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_call(ctl, "GET", "/v1/tokens", NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, t)
    {
        char *age = ctl_format_age(ctl_jstr(t, "created_at"));

        ctl_table_cell(&table, ctl_jstr(t, "id"));
        ctl_table_cell(&table, ctl_jstr(t, "name"));
        ctl_table_cell(&table, json_is_true(ctl_jget(t, "read_only")) ? "read-only" : "read-write");
        ctl_table_cell(&table, ctl_jstr(t, "expires_at"));
        ctl_table_cell(&table, age);
        free(age);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int token_create(struct ctl *ctl, int argc, char **argv)
{
    const char *days = NULL;
    bool read_only = false;
    struct ctl_opt opts[] = {
        {"read-only", 0, CTL_OPT_BOOL, &read_only},
        {"expires-in-days", 0, CTL_OPT_STR, &days},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *body;
    long long n = 0;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, token_create_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (days && ctl_parse_int(days, 1, 3650, &n) < 0) {
        rc = ctl_usage_error(token_create_usage,
                             "--expires-in-days '%s': expected a whole number from 1 to 3650", days);
        ctl_args_release(&args);
        return rc;
    }
    body = json_pack("{s:s, s:b}", "name", args.pos[0], "read_only", read_only);
    ctl_args_release(&args);
    if (!body)
        return ctl_usage_error(token_create_usage, "NAME must be valid UTF-8");
    if (days)
        json_object_set_new(body, "expires_in_days", json_integer(n));
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "POST", "/v1/tokens", body, &reply) == 0) {
        /* The token alone on stdout, so that TOKEN=$(eaglectl token create ci) works. */
        if (ctl->output == CTL_OUTPUT_JSON) {
            ctl_print_reply(&reply);
        } else {
            char *token = ctl_sanitize(ctl_jstr(reply.json, "token"));
            printf("%s\n", token);
            explicit_bzero(token, strlen(token));
            free(token);
            fprintf(stderr, "token '%s' created (id %s, %s, expires %s)\n", ctl_jstr(reply.json, "name"),
                    ctl_jstr(reply.json, "id"),
                    json_is_true(ctl_jget(reply.json, "read_only")) ? "read-only" : "read-write",
                    ctl_jstr(reply.json, "expires_at"));
        }
        fprintf(stderr, "warning: this is the only time the token is shown; it cannot be shown again, so "
                        "store it now\n");
        explicit_bzero(reply.body, reply.len);
        ctl_http_reply_release(&reply);
        rc = CTL_EXIT_OK;
    }
    json_decref(body);
    return rc;
}

static int token_rm(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *esc, *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, token_rm_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    esc = ctl_http_escape(args.pos[0]);
    path = xasprintf("/v1/tokens/%s", esc);
    free(esc);
    rc = ctl_call(ctl, "DELETE", path, NULL, &reply);
    free(path);
    if (rc == 0) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf("token '%s' revoked\n", args.pos[0]);
        ctl_http_reply_release(&reply);
    }
    ctl_args_release(&args);
    return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_cmd_token(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", token_ls},     {"list", token_ls},   {"create", token_create}, {"rm", token_rm},
        {"revoke", token_rm}, {"remove", token_rm}, {"delete", token_rm},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), token_usage);
}
