/*
 * ctl.h — eaglectl's shared context and its command groups.
 *
 * One `struct ctl` lives on main()'s stack for the whole run: the global options
 * as given, and the endpoint and token resolved from them the first time a
 * command talks to the server (flags, then EAGLE_ENDPOINT / EAGLE_TOKEN, then the
 * config file). Every command returns the process exit status: 0, CTL_EXIT_FAIL
 * when the server or the connection failed, CTL_EXIT_USAGE for a usage error.
 * Commands print their own results; errors go to stderr as "eaglectl: ...".
 */
#ifndef EAGLE_CTL_H
#define EAGLE_CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "ctl/http.h"

#ifndef EAGLE_VERSION
#define EAGLE_VERSION "dev"
#endif

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

#define CTL_DEFAULT_ENDPOINT "http://127.0.0.1:8420"

enum ctl_output {
    CTL_OUTPUT_TABLE,
    CTL_OUTPUT_JSON,
};

struct ctl {
    /* Global options as given; they point into argv, NULL when absent. */
    const char *endpoint_flag;
    const char *token_flag;
    const char *config_flag;
    enum ctl_output output;
    long timeout; /* seconds a request may take; 0 = CTL_HTTP_TIMEOUT (blocking queries raise it) */

    /* Resolved by ctl_resolve(); owned, freed by ctl_release(). */
    bool resolved;
    char *endpoint;    /* normalised, no trailing '/' */
    char *token;       /* NULL when there is none */
    char *config_path; /* the config file in use */
    bool token_from_config;
    char *other_endpoint; /* the config's endpoint when its token was not used for this one */
};

void ctl_init(struct ctl *ctl);
void ctl_release(struct ctl *ctl);

/* Work out the endpoint, token and config path (once). Never fails: a missing or
 * unreadable config file only means no token; a malformed one is warned about. */
void ctl_resolve(struct ctl *ctl);

/*
 * Send a request to the server (path such as "/v1/services", already escaped) with
 * an optional JSON body (not stolen), with the bearer token when `auth`. On a 2xx
 * answer returns 0 and fills `reply` (release it with ctl_http_reply_release()).
 * Otherwise returns -1 with `err` filled: the server's status, code, field and
 * message, or status 0 when no answer came; `reply` then holds only the status
 * and the X-Eagle-Index (a discovery 404 carries one), nothing to release.
 */
int ctl_request(struct ctl *ctl, const char *method, const char *path, json_t *body, bool auth,
                struct ctl_http_reply *reply, struct eagle_err *err);

/*
 * Read the event stream at `path` with the token, handing its body to `on_data`
 * (see ctl_http_stream()); `headers` are extra request headers, or NULL.
 * Returns 1 when on_data ended it; 0 when a 2xx stream ended otherwise (the
 * server closed it or the connection dropped: `err` says which; reconnect); -1
 * when no stream began: `err` holds the server's error, or status 0 when no
 * answer came.
 */
int ctl_stream(struct ctl *ctl, const char *path, const char *const *headers, ctl_http_data_cb on_data,
               void *userdata, struct eagle_err *err);

/* ctl_request() with the token, printing the error (ctl_print_err()) on failure. */
int ctl_call(struct ctl *ctl, const char *method, const char *path, json_t *body,
             struct ctl_http_reply *reply);

/* Print "eaglectl: <message> (field: F) [code]" to stderr, plus a hint to log in
 * after a 401 unless `ctl` is NULL. */
void ctl_print_err(struct ctl *ctl, const struct eagle_err *err);

/* "<base><name, escaped><suffix>", e.g. ctl_path("/v1/services/", "web", "/scale"). Caller frees. */
char *ctl_path(const char *base, const char *name, const char *suffix);

/* The whole of an `rm NAME` command: parse one positional NAME (with `usage`),
 * DELETE ctl_path(base, NAME, suffix), then print `done_fmt` with NAME for %s
 * (or the answer with -o json). Returns the exit code. */
int ctl_remove_named(struct ctl *ctl, int argc, char **argv, const char *usage, const char *base,
                     const char *suffix, const char *done_fmt);

/* Print the answer as JSON (re-indented, exactly the server's tokens); a 204's
 * empty answer prints nothing. */
void ctl_print_reply(const struct ctl_http_reply *reply);

/* Read a whole file ("-" = stdin) of at most `max` bytes into a new NUL-terminated
 * string (free()); *len gets its length when not NULL. */
char *ctl_read_file(const char *path, size_t max, size_t *len, struct eagle_err *err);

/* Read a JSON object from a file ("-" = stdin) of at most 1 MiB (the server's cap
 * on bodies). Returns a new reference or NULL with err filled. */
json_t *ctl_read_json_object(const char *path, struct eagle_err *err);

/* Command groups: argv[0] is the command word ("cluster", "login", ...). */
int ctl_cmd_login(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_logout(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_whoami(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_version(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_api(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_cluster(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_service(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_deploy(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_tenant(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_member(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_audit(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_user(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_token(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_discovery(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_events(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_release(struct ctl *ctl, int argc, char **argv);

#endif
