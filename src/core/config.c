/*
 * config.c — see config.h. Adding an option is adding a row to `options`.
 */
#include "core/config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/log.h"
#include "core/util.h"

enum opt_type { OPT_STRING, OPT_INT };

struct option_row {
    const char *name;
    enum opt_type type;
    const char *def;
    size_t offset;
    int min, max; /* OPT_INT bounds */
    const char *help;
};

static const struct option_row options[] = {
    {"listen", OPT_STRING, "127.0.0.1:8420", offsetof(struct eagle_config, listen), 0, 0,
     "address:port the HTTP API listens on"},
    {"data", OPT_STRING, "var", offsetof(struct eagle_config, data), 0, 0,
     "directory for the store (eagle.db) and cluster credentials"},
    {"engine", OPT_STRING, NULL, offsetof(struct eagle_config, engine), 0, 0,
     "Docker endpoint (unix:///path or tcp://host:port) registered as cluster 'local' on first start"},
    {"datacenter", OPT_STRING, "dc1", offsetof(struct eagle_config, datacenter), 0, 0,
     "data centre name of the 'local' cluster"},
    {"log-level", OPT_STRING, "info", offsetof(struct eagle_config, log_level), 0, 0,
     "debug, info, warn or error"},
    {"threads", OPT_INT, "0", offsetof(struct eagle_config, threads), 0, 64,
     "HTTP event loops (0 = one per core)"},
    {"workers", OPT_INT, "8", offsetof(struct eagle_config, workers), 1, 256,
     "worker threads for store and engine calls"},
    {"check-interval", OPT_INT, "5", offsetof(struct eagle_config, check_interval), 1, 3600,
     "seconds between cluster checks and reconcile passes"},
    {"session-hours", OPT_INT, "24", offsetof(struct eagle_config, session_hours), 1, 8760,
     "lifetime of a login session"},
    {"catalog-interval-ms", OPT_INT, "500", offsetof(struct eagle_config, catalog_interval_ms), 50, 60000,
     "how often the catalog re-reads every cluster's services, tasks and nodes"},
    {"callback-deny", OPT_STRING, EAGLE_CALLBACK_DENY_DEFAULT, offsetof(struct eagle_config, callback_deny),
     0, 0,
     "address ranges that subscriptions made by non-admins may not call (comma-separated CIDRs; \"\" = "
     "none)"},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option_row *find(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static int set(struct eagle_config *cfg, const struct option_row *o, const char *value, const char *origin,
               struct eagle_err *err)
{
    char *field = (char *)cfg + o->offset;

    if (o->type == OPT_STRING) {
        char **p = (char **)field;
        free(*p);
        *p = xstrdup(value);
        if (strcmp(o->name, "log-level") == 0 && eagle_log_parse_level(value) < 0)
            return eagle_err_invalid(
                err, o->name, "%s: log-level must be debug, info, warn or error, not '%s'", origin, value);
        if (strcmp(o->name, "callback-deny") == 0) {
            struct eagle_cidrs l;
            struct eagle_err e2;
            if (eagle_cidrs_parse(value, &l, &e2) < 0)
                return eagle_err_invalid(err, o->name, "%s: callback-deny: %s", origin, e2.msg);
            eagle_cidrs_release(&l);
        }
        return 0;
    }
    char *end;
    long v = strtol(value, &end, 10);
    if (!*value || *end || v < o->min || v > o->max)
        return eagle_err_invalid(err, o->name, "%s: %s must be an integer in %d..%d, not '%s'", origin,
                                 o->name, o->min, o->max, value);
    *(int *)field = (int)v;
    return 0;
}

static int load_file(struct eagle_config *cfg, const char *path, struct eagle_err *err)
{
    char line[4096];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");

    if (!f)
        return eagle_err_invalid(err, "config", "cannot open config file '%s'", path);
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *p = line, *key, *val, *end, origin[300];
        lineno++;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        key = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = 0;
        while (isspace((unsigned char)*p))
            p++;
        val = p;
        end = val + strlen(val);
        while (end > val && isspace((unsigned char)end[-1]))
            *--end = 0;
        snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
        const struct option_row *o = find(key);
        if (!o)
            rc = eagle_err_invalid(err, key, "%s: unknown option '%s'", origin, key);
        else
            rc = set(cfg, o, val, origin, err);
    }
    fclose(f);
    return rc;
}

void eagle_config_usage(FILE *out)
{
    fprintf(out, "Usage: eagled [--config FILE] [OPTIONS]\n\n"
                 "Eagle's control-plane daemon. Every option is also a config-file line\n"
                 "\"name value\" and an environment variable EAGLE_<NAME>.\n\n"
                 "  --config FILE          read options from FILE (env EAGLE_CONFIG)\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s %s", options[i].name, options[i].type == OPT_INT ? "N" : "VALUE");
        fprintf(out, "  %-22s %s%s%s%s\n", flag, options[i].help, options[i].def ? " (default " : "",
                options[i].def ? options[i].def : "", options[i].def ? ")" : "");
    }
    fprintf(out, "  --help                 show this help\n"
                 "  --version              show the version\n\n"
                 "On first start the admin user 'admin' is created with the password in\n"
                 "EAGLE_ADMIN_PASSWORD, or a generated one written to DATA/initial-admin-password.\n");
}

int eagle_config_load(struct eagle_config *cfg, int argc, char **argv, struct eagle_err *err)
{
    const char *file = getenv("EAGLE_CONFIG");

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].def && set(cfg, &options[i], options[i].def, "default", err) < 0)
            return -1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            eagle_config_usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("eagled %s\n", EAGLE_VERSION);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file && load_file(cfg, file, err) < 0)
        return -1;

    for (size_t i = 0; i < N_OPTIONS; i++) {
        char env[64];
        size_t j = 0;
        for (const char *p = "EAGLE_"; *p; p++)
            env[j++] = *p;
        for (const char *p = options[i].name; *p && j < sizeof(env) - 1; p++)
            env[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[j] = 0;
        const char *v = getenv(env);
        if (v && set(cfg, &options[i], v, env, err) < 0)
            return -1;
    }

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        char name[64];
        if (strncmp(arg, "--", 2) != 0)
            return eagle_err_invalid(err, arg, "unexpected argument '%s' (see --help)", arg);
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (n >= sizeof(name))
            return eagle_err_invalid(err, arg, "unknown option '%s' (see --help)", arg);
        memcpy(name, arg + 2, n);
        name[n] = 0;
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        if (strcmp(name, "config") == 0)
            continue;
        const struct option_row *o = find(name);
        if (!o)
            return eagle_err_invalid(err, name, "unknown option '--%s' (see --help)", name);
        if (!val)
            return eagle_err_invalid(err, name, "option '--%s' needs a value", name);
        if (set(cfg, o, val, "flag", err) < 0)
            return -1;
    }
    if (cfg->engine && !*cfg->engine) {
        free(cfg->engine);
        cfg->engine = NULL;
    }
    return 0;
}

void eagle_config_release(struct eagle_config *cfg)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].type == OPT_STRING) {
            char **p = (char **)((char *)cfg + options[i].offset);
            free(*p);
            *p = NULL;
        }
}
