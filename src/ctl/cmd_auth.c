/*
 * cmd_auth.c — the commands about the session and the server itself: login,
 * logout, whoami, version, and `api`, the escape hatch to any path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/prompt.h"

static const char login_usage[] =
    "Usage: eaglectl login [--username NAME] [--password-stdin | --password PASSWORD]\n"
    "\n"
    "Log in to Eagle and save the endpoint and the token in the config file (0600).\n"
    "Without --password-stdin or --password, the password is asked on the terminal.\n"
    "\n"
    "Options:\n"
    "  -u, --username NAME   user to log in as (default admin)\n"
    "  --password-stdin      read the password from the first line of stdin\n"
    "  -p, --password P      the password itself (visible to other users in ps; avoid)\n";

static const char logout_usage[] = "Usage: eaglectl logout\n"
                                   "\n"
                                   "Revoke the token on the server and remove it from the config file.\n";

static const char whoami_usage[] = "Usage: eaglectl whoami\n"
                                   "\n"
                                   "Show the user and role the token belongs to.\n";

static const char version_usage[] = "Usage: eaglectl version\n"
                                    "\n"
                                    "Show eaglectl's version and the server's (from /v1/health).\n";

static const char api_usage[] =
    "Usage: eaglectl api [-X METHOD] PATH [-d JSON | -f FILE]\n"
    "\n"
    "Send a request to any API path (with the token) and print the JSON answer,\n"
    "e.g. 'eaglectl api /v1/openapi.json' or 'eaglectl api /v1/services/web/revisions/2'.\n"
    "\n"
    "Options:\n"
    "  -X, --method METHOD   GET (default; POST when a body is given), PUT, DELETE, ...\n"
    "  -d, --data JSON       request body\n"
    "  -f, --file FILE       request body from a file (\"-\" = stdin)\n";

static char *get_password(const char *given, bool from_stdin, struct eagle_err *err)
{
    if (given)
        return xstrdup(given);
    if (from_stdin)
        return ctl_read_secret_line(stdin, err);
    return ctl_prompt_secret("Password: ", err);
}

int ctl_cmd_login(struct ctl *ctl, int argc, char **argv)
{
    const char *username = "admin", *password = NULL;
    bool password_stdin = false;
    struct ctl_opt opts[] = {
        {"username", 'u', CTL_OPT_STR, &username},
        {"password", 'p', CTL_OPT_STR, &password},
        {"password-stdin", 0, CTL_OPT_BOOL, &password_stdin},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply = {0};
    struct eagle_err err = {0};
    struct ctl_args args;
    json_t *body = NULL, *cfg = NULL;
    char *secret = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, login_usage, 0, 0, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    rc = CTL_EXIT_FAIL;
    if (password && password_stdin)
        return ctl_usage_error(login_usage, "--password and --password-stdin exclude each other");
    if (!*username)
        return ctl_usage_error(login_usage, "--username must not be empty");
    if (!password && !password_stdin && !isatty(STDIN_FILENO))
        return ctl_usage_error(login_usage, "stdin is not a terminal: give --password-stdin");

    secret = get_password(password, password_stdin, &err);
    if (!secret) {
        fprintf(stderr, "eaglectl: %s\n", err.msg);
        return CTL_EXIT_USAGE;
    }
    body = json_pack("{s:s, s:s}", "username", username, "password", secret);
    ctl_secret_free(secret);
    if (!body) {
        fprintf(stderr, "eaglectl: the username and the password must be valid UTF-8\n");
        return CTL_EXIT_USAGE;
    }
    if (ctl_request(ctl, "POST", "/v1/auth/login", body, false, &reply, &err) < 0) {
        ctl_print_err(NULL, &err); /* no "log in" hint: this is the login */
        goto out;
    }
    if (!*ctl_jstr(reply.json, "token")) {
        fprintf(stderr, "eaglectl: the server's answer to the login holds no token\n");
        goto out;
    }

    if (ctl_config_load(ctl->config_path, &cfg, &err) < 0) {
        fprintf(stderr, "eaglectl: warning: replacing the config file: %s\n", err.msg);
        cfg = json_object();
    }
    json_object_set_new(cfg, "endpoint", json_string(ctl->endpoint));
    json_object_set_new(cfg, "token", json_string(ctl_jstr(reply.json, "token")));
    json_object_set_new(
        cfg, "username",
        json_string(*ctl_jstr(reply.json, "username") ? ctl_jstr(reply.json, "username") : username));
    if (*ctl_jstr(reply.json, "expires_at"))
        json_object_set_new(cfg, "expires_at", json_string(ctl_jstr(reply.json, "expires_at")));
    else
        json_object_del(cfg, "expires_at");
    if (ctl_config_save(ctl->config_path, cfg, &err) < 0) {
        fprintf(stderr, "eaglectl: logged in, but %s\n", err.msg);
        goto out;
    }

    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
    } else {
        printf("logged in to %s as '%s'", ctl->endpoint, ctl_jstr(cfg, "username"));
        if (*ctl_jstr(reply.json, "expires_at"))
            printf(" (token expires %s)", ctl_jstr(reply.json, "expires_at"));
        printf("; saved in %s\n", ctl->config_path);
    }
    rc = CTL_EXIT_OK;
out:
    json_decref(body);
    json_decref(cfg);
    ctl_http_reply_release(&reply);
    return rc;
}

/* Remove the saved token when it is the one just revoked. */
static int forget_token(struct ctl *ctl)
{
    struct eagle_err err = {0};
    json_t *cfg = NULL;
    int ret = 0;

    if (!ctl->token_from_config)
        return 0;
    if (ctl_config_load(ctl->config_path, &cfg, &err) < 0) {
        fprintf(stderr, "eaglectl: %s\n", err.msg);
        return -1;
    }
    json_object_del(cfg, "token");
    json_object_del(cfg, "expires_at");
    json_object_del(cfg, "username");
    if (ctl_config_save(ctl->config_path, cfg, &err) < 0) {
        fprintf(stderr, "eaglectl: %s\n", err.msg);
        ret = -1;
    }
    json_decref(cfg);
    return ret;
}

int ctl_cmd_logout(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply = {0};
    struct eagle_err err = {0};
    struct ctl_args args;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, NULL, logout_usage, 0, 0, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    ctl_resolve(ctl);
    if (!ctl->token) {
        printf("not logged in to %s\n", ctl->endpoint);
        return CTL_EXIT_OK;
    }
    if (ctl_request(ctl, "POST", "/v1/auth/logout", NULL, true, &reply, &err) < 0) {
        if (err.status != 401) { /* keep the token: it is still valid, try again later */
            ctl_print_err(ctl, &err);
            return CTL_EXIT_FAIL;
        }
        /* 401: the token was already expired or revoked; just forget it. */
    }
    ctl_http_reply_release(&reply);
    if (forget_token(ctl) < 0)
        return CTL_EXIT_FAIL;
    printf("logged out of %s\n", ctl->endpoint);
    return CTL_EXIT_OK;
}

int ctl_cmd_whoami(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, NULL, whoami_usage, 0, 0, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_call(ctl, "GET", "/v1/me", NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
    } else {
        ctl_kv_object(reply.json);
        ctl_kv("endpoint", ctl->endpoint);
    }
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

int ctl_cmd_version(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, NULL, version_usage, 0, 0, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_request(ctl, "GET", "/v1/health", NULL, false, &reply, &err) < 0) {
        if (ctl->output != CTL_OUTPUT_JSON)
            ctl_kv("client", EAGLE_VERSION);
        ctl_print_err(ctl, &err);
        return CTL_EXIT_FAIL;
    }
    if (ctl->output == CTL_OUTPUT_JSON) {
        /* {"client": {"version": ...}, "server": <the health answer as it came>} */
        json_t *v = json_pack("{s:s}", "version", EAGLE_VERSION);
        char *client = json_dumps(v, JSON_COMPACT);
        char *text = xasprintf("{\"client\": %s, \"server\": %s}", client, reply.json ? reply.body : "null");
        ctl_print_json_text(stdout, text, strlen(text));
        free(text);
        free(client);
        json_decref(v);
    } else {
        ctl_kv("client", EAGLE_VERSION);
        ctl_kv("server", ctl_jstr(reply.json, "version"));
        ctl_kv("status", ctl_jstr(reply.json, "status"));
        ctl_kv("endpoint", ctl->endpoint);
    }
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

int ctl_cmd_api(struct ctl *ctl, int argc, char **argv)
{
    const char *method = NULL, *data = NULL, *file = NULL;
    struct ctl_opt opts[] = {
        {"method", 'X', CTL_OPT_STR, &method},
        {"data", 'd', CTL_OPT_STR, &data},
        {"file", 'f', CTL_OPT_STR, &file},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    json_t *body = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, api_usage, 1, 1, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    if (args.pos[0][0] != '/') {
        ctl_args_release(&args);
        return ctl_usage_error(api_usage, "PATH must start with '/'");
    }
    if (data && file) {
        ctl_args_release(&args);
        return ctl_usage_error(api_usage, "-d and -f exclude each other");
    }
    if (data) {
        json_error_t jerr;
        body = json_loads(data, JSON_DECODE_ANY, &jerr);
        if (!body) {
            ctl_args_release(&args);
            return ctl_usage_error(api_usage, "-d: %s", jerr.text);
        }
    } else if (file) {
        body = ctl_read_json_object(file, &err);
        if (!body) {
            ctl_args_release(&args);
            fprintf(stderr, "eaglectl: %s\n", err.msg);
            return CTL_EXIT_FAIL;
        }
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, method ? method : body ? "POST" : "GET", args.pos[0], body, &reply) == 0) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        rc = CTL_EXIT_OK;
    }
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}
