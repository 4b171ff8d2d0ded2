/*
 * ctl.c — the context every command shares: resolving the endpoint and token,
 * calling the server and reporting its errors in one way, reading input files.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/config.h"
#include "ctl/output.h"

#define SPEC_MAX_SIZE (1u << 20)

void ctl_init(struct ctl *ctl)
{
    memset(ctl, 0, sizeof(*ctl));
    ctl->output = CTL_OUTPUT_TABLE;
}

void ctl_release(struct ctl *ctl)
{
    if (!ctl)
        return;
    free(ctl->endpoint);
    if (ctl->token) {
        explicit_bzero(ctl->token, strlen(ctl->token));
        free(ctl->token);
    }
    free(ctl->config_path);
    free(ctl->other_endpoint);
    memset(ctl, 0, sizeof(*ctl));
}

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

void ctl_resolve(struct ctl *ctl)
{
    struct eagle_err err = {0};
    const char *endpoint, *token;
    json_t *cfg = NULL;

    if (ctl->resolved)
        return;
    ctl->resolved = true;
    ctl->config_path = ctl_config_path(ctl->config_flag);
    if (ctl_config_load(ctl->config_path, &cfg, &err) < 0)
        fprintf(stderr, "eaglectl: warning: ignoring the config file: %s\n", err.msg);

    endpoint = ctl->endpoint_flag ? ctl->endpoint_flag : nonempty_env("EAGLE_ENDPOINT");
    if (!endpoint && *ctl_jstr(cfg, "endpoint"))
        endpoint = ctl_jstr(cfg, "endpoint");
    ctl->endpoint = ctl_http_normalize_endpoint(endpoint ? endpoint : CTL_DEFAULT_ENDPOINT);

    token = ctl->token_flag ? ctl->token_flag : nonempty_env("EAGLE_TOKEN");
    if (!token && *ctl_jstr(cfg, "token")) {
        /* The saved token belongs to the saved endpoint: never hand it to another server. */
        const char *saved = ctl_jstr(cfg, "endpoint");
        char *norm = *saved ? ctl_http_normalize_endpoint(saved) : NULL;

        if (!norm || strcmp(norm, ctl->endpoint) == 0) {
            token = ctl_jstr(cfg, "token");
            ctl->token_from_config = true;
            free(norm);
        } else {
            ctl->other_endpoint = norm;
        }
    }
    ctl->token = token ? xstrdup(token) : NULL;
    json_decref(cfg);
}

/* Fill `err` from an error answer: {"error": {"code", "message", "field"}}. */
static void reply_error(const struct ctl_http_reply *reply, struct eagle_err *err)
{
    json_t *e = ctl_jget(reply->json, "error");
    const char *message = ctl_jstr(e, "message"), *code = ctl_jstr(e, "code");

    if (json_is_object(e) && (*message || *code)) {
        eagle_err_set(err, (int)reply->status, code, ctl_jstr(e, "field"), "%s", *message ? message : code);
        return;
    }
    /* Not Eagle's error shape (a proxy in between?): show the start of the body. */
    eagle_err_set(err, (int)reply->status, "", NULL, "the server answered HTTP %ld%s%.200s", reply->status,
                  reply->len ? ": " : "", reply->body ? reply->body : "");
}

/* Release an error answer but keep what a caller may still need from it. */
static void keep_status(struct ctl_http_reply *reply)
{
    long status = reply->status;
    bool has_index = reply->has_index;
    uint64_t index = reply->index;

    ctl_http_reply_release(reply);
    reply->status = status;
    reply->has_index = has_index;
    reply->index = index;
}

int ctl_request(struct ctl *ctl, const char *method, const char *path, json_t *body, bool auth,
                struct ctl_http_reply *reply, struct eagle_err *err)
{
    char *text = NULL;
    int ret;

    ctl_resolve(ctl);
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            return eagle_err_set(err, 0, "", NULL, "cannot encode the request body");
    }
    ret = ctl_http_request(ctl->endpoint, auth ? ctl->token : NULL, method, path, text, ctl->timeout, reply,
                           err);
    if (text) {
        explicit_bzero(text, strlen(text)); /* it may hold a password */
        free(text);
    }
    if (ret < 0)
        return -1;
    if (reply->status >= 200 && reply->status < 300)
        return 0;
    reply_error(reply, err);
    keep_status(reply);
    return -1;
}

int ctl_stream(struct ctl *ctl, const char *path, const char *const *headers, ctl_http_data_cb on_data,
               void *userdata, struct eagle_err *err)
{
    struct ctl_http_reply reply;
    bool stopped;
    int ret;

    ctl_resolve(ctl);
    ret = ctl_http_stream(ctl->endpoint, ctl->token, path, headers, on_data, userdata, &stopped, &reply, err);
    if (ret < 0) {
        ret = reply.status >= 200 && reply.status < 300 ? 0 : -1; /* began, then broke */
    } else if (stopped) {
        ret = 1;
    } else if (reply.status >= 200 && reply.status < 300) {
        eagle_err_set(err, 0, "unavailable", NULL, "Eagle at %s closed the stream", ctl->endpoint);
        ret = 0;
    } else {
        reply_error(&reply, err);
        ret = -1;
    }
    ctl_http_reply_release(&reply);
    return ret;
}

int ctl_call(struct ctl *ctl, const char *method, const char *path, json_t *body,
             struct ctl_http_reply *reply)
{
    struct eagle_err err = {0};

    if (ctl_request(ctl, method, path, body, true, reply, &err) == 0)
        return 0;
    ctl_print_err(ctl, &err);
    return -1;
}

/* Control characters to spaces: one line, and no escape sequences from whatever answered. */
static void flatten(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

void ctl_print_err(struct ctl *ctl, const struct eagle_err *err)
{
    char msg[sizeof(err->msg)], field[sizeof(err->field)];

    snprintf(msg, sizeof(msg), "%s", err->msg);
    snprintf(field, sizeof(field), "%s", err->field);
    flatten(msg);
    flatten(field);
    fprintf(stderr, "eaglectl: %s", msg);
    if (field[0])
        fprintf(stderr, " (field: %s)", field);
    if (err->status && err->code[0])
        fprintf(stderr, " [%s]", err->code);
    fputc('\n', stderr);
    if (err->status == 401 && ctl && ctl->resolved) {
        if (!ctl->token && ctl->other_endpoint)
            fprintf(stderr, "hint: the saved token is for %s, not %s; run 'eaglectl login'\n",
                    ctl->other_endpoint, ctl->endpoint);
        else if (!ctl->token)
            fprintf(stderr, "hint: no token for %s; run 'eaglectl login' first\n", ctl->endpoint);
        else
            fprintf(stderr, "hint: the token was refused; run 'eaglectl login' again\n");
    }
}

void ctl_print_reply(const struct ctl_http_reply *reply)
{
    if (reply->json)
        ctl_print_json_text(stdout, reply->body, reply->len);
    else if (reply->len)
        printf("%s\n", reply->body);
}

char *ctl_read_file(const char *path, size_t max, size_t *len, struct eagle_err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    size_t n = 0, cap = 4096;
    char *buf;

    if (!f) {
        eagle_err_set(err, 0, "", NULL, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = xmalloc(cap);
    for (;;) {
        size_t got;

        if (n + 1 == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            eagle_err_set(err, 0, "", NULL, "%s is larger than %zu KiB", is_stdin ? "stdin" : path,
                          max >> 10);
            goto fail;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        eagle_err_set(err, 0, "", NULL, "cannot read %s: %s", is_stdin ? "stdin" : path, strerror(errno));
        goto fail;
    }
    if (!is_stdin)
        fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
fail:
    if (!is_stdin)
        fclose(f);
    free(buf);
    return NULL;
}

json_t *ctl_read_json_object(const char *path, struct eagle_err *err)
{
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    json_error_t jerr;
    size_t len;
    json_t *j;
    char *text;

    text = ctl_read_file(path, SPEC_MAX_SIZE, &len, err);
    if (!text)
        return NULL;
    j = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!j) {
        eagle_err_set(err, 0, "", NULL, "%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        eagle_err_set(err, 0, "", NULL, "%s: a spec must be a JSON object", name);
        return NULL;
    }
    return j;
}

char *ctl_path(const char *base, const char *name, const char *suffix)
{
    char *esc = ctl_http_escape(name);
    char *path = xasprintf("%s%s%s", base, esc, suffix);

    free(esc);
    return path;
}

int ctl_remove_named(struct ctl *ctl, int argc, char **argv, const char *usage, const char *base,
                     const char *suffix, const char *done_fmt)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = ctl_path(base, args.pos[0], suffix);
    rc = ctl_call(ctl, "DELETE", path, NULL, &reply);
    free(path);
    if (rc == 0) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf(done_fmt, args.pos[0]);
        ctl_http_reply_release(&reply);
    }
    ctl_args_release(&args);
    return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
