/*
 * cmd_tenant.c — `eaglectl tenant ...`, `eaglectl member ...` and `eaglectl
 * audit`: tenants (quotas, a node pool, exceptions to the safety rules), who
 * belongs to them with which role, and the log of every change.
 *
 * `tenant update` changes only what its flags name: it reads the tenant and
 * sends the quotas and exceptions merged, where the API replaces them whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/specflags.h"

static const char tenant_usage[] =
    "Usage: eaglectl tenant COMMAND\n"
    "\n"
    "Manage tenants: resource pools shared by a team, with quotas, a node pool,\n"
    "exceptions to the safety rules and members (see 'eaglectl member').\n"
    "\n"
    "Commands:\n"
    "  ls                               list tenants (yours; every one for an admin)\n"
    "  get NAME                         show a tenant\n"
    "  create NAME [--owner U] [--pool P] [--quota K=V ...] [--allow X ...]\n"
    "                                   create a tenant (admin)\n"
    "  update NAME [--pool P] [--quota K=V ...] [--allow X[=false] ...]\n"
    "                                   change a tenant's quotas, pool or exceptions (admin)\n"
    "  rm NAME                          remove a tenant without services (admin)\n"
    "  usage NAME                       what the tenant uses against its quotas\n"
    "\n"
    "Run 'eaglectl tenant COMMAND --help' for more.\n";

static const char ls_usage[] = "Usage: eaglectl tenant ls\n"
                               "\n"
                               "List tenants: NAME POOL NETWORK QUOTAS ALLOW CREATED.\n";

static const char get_usage[] = "Usage: eaglectl tenant get NAME\n"
                                "\n"
                                "Show a tenant as \"key: value\" lines.\n";

static const char create_usage[] =
    "Usage: eaglectl tenant create NAME [--owner U] [--pool P] [--quota K=V ...] [--allow X ...]\n"
    "\n"
    "Create a tenant (platform admins). A tenant gets a network of its own, eagle-t-NAME.\n"
    "\n"
    "Options:\n"
    "  --owner U       an existing user who becomes the tenant's owner\n"
    "  --pool P        run the tenant's services only on nodes labelled eagle.pool=P\n"
    "  --quota K=V     a limit (repeatable): cpus=4, memory=8G, reserved_cpus=2,\n"
    "                  reserved_memory=4G, replicas=20, services=10, volumes=5; 0 = unlimited\n"
    "  --allow X       an exception to the safety rules (repeatable): bind_mounts,\n"
    "                  host_network, cap_add\n";

static const char update_usage[] =
    "Usage: eaglectl tenant update NAME [--pool P] [--quota K=V ...] [--allow X[=false] ...]\n"
    "\n"
    "Change a tenant (platform admins). Only what the flags name changes: the other\n"
    "quotas and exceptions are kept.\n"
    "\n"
    "Options:\n"
    "  --pool P          the node pool (\"\" = any node)\n"
    "  --quota K=V       set a limit (repeatable); K=0 removes it\n"
    "  --allow X         grant an exception (repeatable); X=false withdraws it\n";

static const char rm_usage[] = "Usage: eaglectl tenant rm NAME\n"
                               "\n"
                               "Remove a tenant and its memberships (platform admins); refused while it\n"
                               "has services, and for the tenant 'default'.\n";

static const char usage_usage[] = "Usage: eaglectl tenant usage NAME\n"
                                  "\n"
                                  "Show what a tenant's services use against its quotas: QUOTA LIMIT USED.\n";

static const char member_usage[] =
    "Usage: eaglectl member COMMAND\n"
    "\n"
    "Manage who belongs to a tenant, with which role: viewer < developer < owner.\n"
    "\n"
    "Commands:\n"
    "  ls TENANT               list a tenant's members\n"
    "  set TENANT USER ROLE    add a user, or change their role (owners, admins)\n"
    "  rm TENANT USER          remove a user from a tenant (owners, admins)\n"
    "\n"
    "Run 'eaglectl member COMMAND --help' for more.\n";

static const char member_ls_usage[] = "Usage: eaglectl member ls TENANT\n"
                                      "\n"
                                      "List a tenant's members: USER ROLE.\n";

static const char member_set_usage[] =
    "Usage: eaglectl member set TENANT USER ROLE\n"
    "\n"
    "Add USER to TENANT with ROLE (viewer, developer or owner), or change\n"
    "their role. The user must exist.\n";

static const char member_rm_usage[] = "Usage: eaglectl member rm TENANT USER\n"
                                      "\n"
                                      "Remove USER from TENANT.\n";

static const char audit_usage[] =
    "Usage: eaglectl audit [--tenant T] [--user U] [--target X] [--since TIME] [--until TIME] [--limit N]\n"
    "\n"
    "Show the audit log, newest first: AT USER TENANT ACTION TARGET RESULT DETAIL.\n"
    "Admins read all of it; a tenant's owners read the tenant's with --tenant.\n"
    "\n"
    "Options:\n"
    "  --tenant T      only the entries of tenant T\n"
    "  --user U        only what user U did\n"
    "  --target X      only the entries about X (a service, a user, a token id, ...)\n"
    "  --since TIME    from TIME on: 2026-11-25T17:00:00Z, or an age such as 30m, 2h, 7d\n"
    "  --until TIME    up to TIME (same forms)\n"
    "  --limit N       at most N entries (1 to 10000; default 100)\n";

/* "/v1/tenants/<name><suffix>", the name escaped. */
static char *tenant_path(const char *name, const char *suffix)
{
    return ctl_path("/v1/tenants/", name, suffix);
}

/* "/v1/tenants/<tenant>/members/<user>", both escaped. */
static char *member_path(const char *tenant, const char *user)
{
    char *esc = ctl_http_escape(user), *suffix = xasprintf("/members/%s", esc);
    char *path = tenant_path(tenant, suffix);

    free(esc);
    free(suffix);
    return path;
}

/* A quota's value as people read it: sizes for memory, numbers otherwise. */
static char *quota_value(const char *key, json_t *v)
{
    if (!json_is_number(v))
        return xstrdup(json_is_string(v) ? json_string_value(v) : "");
    if (strstr(key, "memory"))
        return ctl_format_bytes((int64_t)json_number_value(v));
    return ctl_format_number(json_number_value(v));
}

/* "cpus=4,memory=8GiB": the quotas that are set (0 is unlimited). */
static char *join_quotas(json_t *quotas)
{
    struct ctl_buf b = {0};
    const char *key;
    json_t *v;

    json_object_foreach(quotas, key, v)
    {
        char *value;

        if (json_is_number(v) && json_number_value(v) == 0)
            continue;
        value = quota_value(key, v);
        ctl_buf_addf(&b, ",", "%s=%s", key, value);
        free(value);
    }
    return ctl_buf_take(&b);
}

/* "bind_mounts,cap_add": the exceptions granted. */
static char *join_allowed(json_t *allow)
{
    struct ctl_buf b = {0};
    const char *key;
    json_t *v;

    json_object_foreach(allow, key, v)
    {
        if (json_is_true(v))
            ctl_buf_add(&b, ",", key);
    }
    return ctl_buf_take(&b);
}

static int tenant_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"NAME", "POOL", "NETWORK", "QUOTAS", "ALLOW", "CREATED", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    size_t i;
    json_t *t;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, ls_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_call(ctl, "GET", "/v1/tenants", NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, t)
    {
        char *quotas = join_quotas(ctl_jget(t, "quotas")), *allowed = join_allowed(ctl_jget(t, "allow"));
        char *age = ctl_format_age(ctl_jstr(t, "created_at"));

        ctl_table_cell(&table, ctl_jstr(t, "name"));
        ctl_table_cell(&table, ctl_jstr(t, "pool"));
        ctl_table_cell(&table, ctl_jstr(t, "network"));
        ctl_table_cell(&table, quotas);
        ctl_table_cell(&table, allowed);
        ctl_table_cell(&table, age);
        free(quotas);
        free(allowed);
        free(age);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static void print_tenant(json_t *t)
{
    char *quotas = join_quotas(ctl_jget(t, "quotas")), *allowed = join_allowed(ctl_jget(t, "allow"));

    ctl_kv("name", ctl_jstr(t, "name"));
    ctl_kv("pool", ctl_jstr(t, "pool"));
    ctl_kv("network", ctl_jstr(t, "network"));
    ctl_kv("quotas", *quotas ? quotas : "none");
    ctl_kv("allow", *allowed ? allowed : "none");
    ctl_kv("created_at", ctl_jstr(t, "created_at"));
    free(quotas);
    free(allowed);
}

static int tenant_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, get_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = tenant_path(args.pos[0], "");
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        print_tenant(reply.json);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* A --quota value as JSON: a whole number, a real ("0.5" CPUs), else the text
 * ("8G"); the server knows which key takes what and names the one at fault. */
static json_t *quota_json(const char *value)
{
    long long n;
    double d;
    char *end;

    if (ctl_parse_int(value, 0, (long long)1 << 53, &n) == 0)
        return json_integer(n);
    d = strtod(value, &end);
    if (*value && end != value && !*end)
        return json_real(d);
    return json_string(value);
}

/* Fill `quotas` from --quota K=V flags and `allow` from --allow X[=true|false]. */
static int parse_tenant_flags(const struct ctl_list *quota, const struct ctl_list *allow, json_t *quotas,
                              json_t *allowed, const char *usage)
{
    for (size_t i = 0; i < quota->n; i++) {
        const char *item = quota->items[i], *eq = strchr(item, '=');
        json_t *v;
        char *key;

        if (!eq || eq == item || !eq[1])
            return ctl_usage_error(usage, "--quota '%s': expected KEY=VALUE such as cpus=4 or memory=8G",
                                   item);
        v = quota_json(eq + 1);
        if (!v)
            return ctl_usage_error(usage, "--quota '%s': not valid UTF-8", item);
        key = xasprintf("%.*s", (int)(eq - item), item);
        if (json_object_set_new(quotas, key, v) < 0) {
            free(key);
            return ctl_usage_error(usage, "--quota '%s': not valid UTF-8", item);
        }
        free(key);
    }
    for (size_t i = 0; i < allow->n; i++) {
        const char *item = allow->items[i], *eq = strchr(item, '=');
        bool on = true;
        char *key;

        if (eq && strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0)
            return ctl_usage_error(usage, "--allow '%s': expected NAME or NAME=true|false", item);
        if (eq)
            on = strcmp(eq + 1, "true") == 0;
        if (eq == item || !*item)
            return ctl_usage_error(usage, "--allow: expected bind_mounts, host_network or cap_add");
        key = eq ? xasprintf("%.*s", (int)(eq - item), item) : xstrdup(item);
        if (json_object_set_new(allowed, key, json_boolean(on)) < 0) {
            free(key);
            return ctl_usage_error(usage, "--allow '%s': not valid UTF-8", item);
        }
        free(key);
    }
    return 0;
}

static void print_tenant_changed(struct ctl *ctl, const struct ctl_http_reply *reply, const char *what)
{
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(reply);
    else
        printf("tenant '%s' %s\n", ctl_jstr(reply->json, "name"), what);
}

static int tenant_create(struct ctl *ctl, int argc, char **argv)
{
    const char *owner = NULL, *pool = NULL;
    struct ctl_list quota = {0}, allow = {0};
    struct ctl_opt opts[] = {
        {"owner", 0, CTL_OPT_STR, &owner},
        {"pool", 0, CTL_OPT_STR, &pool},
        {"quota", 'q', CTL_OPT_LIST, &quota},
        {"allow", 0, CTL_OPT_LIST, &allow},
        {NULL, 0, 0, NULL},
    };
    json_t *body = NULL, *quotas = json_object(), *allowed = json_object();
    struct ctl_http_reply reply;
    struct ctl_args args;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, create_usage, 1, 1, false, &args);
    if (rc != CTL_CONTINUE)
        goto out_lists;
    if ((rc = parse_tenant_flags(&quota, &allow, quotas, allowed, create_usage)) != 0)
        goto out;
    body = json_pack("{s:s, s:s*, s:s*}", "name", args.pos[0], "owner", owner, "pool", pool);
    if (!body) {
        rc = ctl_usage_error(create_usage, "arguments must be valid UTF-8");
        goto out;
    }
    if (quota.n)
        json_object_set(body, "quotas", quotas);
    if (allow.n)
        json_object_set(body, "allow", allowed);
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "POST", "/v1/tenants", body, &reply) < 0)
        goto out;
    print_tenant_changed(ctl, &reply, "created");
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    ctl_args_release(&args);
out_lists:
    json_decref(body);
    json_decref(quotas);
    json_decref(allowed);
    ctl_list_release(&quota);
    ctl_list_release(&allow);
    return rc;
}

/* A new copy of `v` when it is an object, else a new empty object. */
static json_t *copy_object(json_t *v)
{
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

static int tenant_update(struct ctl *ctl, int argc, char **argv)
{
    const char *pool = NULL;
    struct ctl_list quota = {0}, allow = {0};
    struct ctl_opt opts[] = {
        {"pool", 0, CTL_OPT_STR, &pool},
        {"quota", 'q', CTL_OPT_LIST, &quota},
        {"allow", 0, CTL_OPT_LIST, &allow},
        {NULL, 0, 0, NULL},
    };
    json_t *body = json_object(), *quotas = NULL, *allowed = NULL;
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, update_usage, 1, 1, false, &args);
    if (rc != CTL_CONTINUE)
        goto out_lists;
    if (!pool && !quota.n && !allow.n) {
        rc = ctl_usage_error(update_usage, "nothing to change: give --pool, --quota or --allow");
        goto out;
    }
    path = tenant_path(args.pos[0], "");
    rc = CTL_EXIT_FAIL;
    if (quota.n || allow.n) { /* merge into what the tenant has now */
        if (ctl_call(ctl, "GET", path, NULL, &reply) < 0)
            goto out;
        quotas = copy_object(ctl_jget(reply.json, "quotas"));
        allowed = copy_object(ctl_jget(reply.json, "allow"));
        ctl_http_reply_release(&reply);
        if ((rc = parse_tenant_flags(&quota, &allow, quotas, allowed, update_usage)) != 0)
            goto out;
        rc = CTL_EXIT_FAIL;
        if (quota.n)
            json_object_set(body, "quotas", quotas);
        if (allow.n)
            json_object_set(body, "allow", allowed);
    }
    if (pool) {
        json_t *p = json_string(pool);
        if (!p) {
            rc = ctl_usage_error(update_usage, "--pool: not valid UTF-8");
            goto out;
        }
        json_object_set_new(body, "pool", p);
    }
    if (ctl_call(ctl, "PUT", path, body, &reply) < 0)
        goto out;
    print_tenant_changed(ctl, &reply, "updated");
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    ctl_args_release(&args);
out_lists:
    free(path);
    json_decref(body);
    json_decref(quotas);
    json_decref(allowed);
    ctl_list_release(&quota);
    ctl_list_release(&allow);
    return rc;
}

static int tenant_rm(struct ctl *ctl, int argc, char **argv)
{
    return ctl_remove_named(ctl, argc, argv, rm_usage, "/v1/tenants/", "", "tenant '%s' removed\n");
}

static int tenant_usage_cmd(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"QUOTA", "LIMIT", "USED", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    const char *key;
    json_t *limit;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, usage_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = tenant_path(args.pos[0], "/usage");
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_object_foreach(ctl_jget(reply.json, "quotas"), key, limit)
    {
        char *l = json_is_number(limit) && json_number_value(limit) == 0 ? xstrdup("unlimited")
                                                                         : quota_value(key, limit);
        char *used = quota_value(key, json_object_get(ctl_jget(reply.json, "usage"), key));

        ctl_table_cell(&table, key);
        ctl_table_cell(&table, l);
        ctl_table_cell(&table, used);
        free(l);
        free(used);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

int ctl_cmd_tenant(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", tenant_ls},         {"list", tenant_ls},         {"get", tenant_get}, {"inspect", tenant_get},
        {"create", tenant_create}, {"update", tenant_update},   {"rm", tenant_rm},   {"remove", tenant_rm},
        {"delete", tenant_rm},     {"usage", tenant_usage_cmd},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), tenant_usage);
}

static int member_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"USER", "ROLE", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *m;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, member_ls_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = tenant_path(args.pos[0], "/members");
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, m)
    {
        ctl_table_cell(&table, ctl_jstr(m, "username"));
        ctl_table_cell(&table, ctl_jstr(m, "role"));
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int member_set(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *body;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, member_set_usage, 3, 3, false, &args)) != CTL_CONTINUE)
        return rc;
    body = json_pack("{s:s}", "role", args.pos[2]);
    if (!body) {
        ctl_args_release(&args);
        return ctl_usage_error(member_set_usage, "ROLE must be valid UTF-8");
    }
    path = member_path(args.pos[0], args.pos[1]);
    rc = ctl_call(ctl, "PUT", path, body, &reply) < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    if (rc == CTL_EXIT_OK) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf("user '%s' is %s in tenant '%s'\n", ctl_jstr(reply.json, "username"),
                   ctl_jstr(reply.json, "role"), ctl_jstr(reply.json, "tenant"));
        ctl_http_reply_release(&reply);
    }
    free(path);
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}

static int member_rm(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, member_rm_usage, 2, 2, false, &args)) != CTL_CONTINUE)
        return rc;
    path = member_path(args.pos[0], args.pos[1]);
    rc = ctl_call(ctl, "DELETE", path, NULL, &reply);
    free(path);
    if (rc == 0) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf("user '%s' removed from tenant '%s'\n", args.pos[1], args.pos[0]);
        ctl_http_reply_release(&reply);
    }
    ctl_args_release(&args);
    return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_cmd_member(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", member_ls}, {"list", member_ls},   {"set", member_set},   {"add", member_set},
        {"rm", member_rm}, {"remove", member_rm}, {"delete", member_rm},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), member_usage);
}

/* --since/--until: an RFC 3339 time as given, or an age ("30m", "2h", "7d") as
 * the UTC time that long ago, in the log's own form. A new string, or NULL. */
static char *audit_time(const char *s)
{
    size_t n = strlen(s);
    int64_t ns = 0;
    struct tm tm;
    char buf[32];
    time_t t;

    if (n > 1 && s[n - 1] == 'd') {
        long long days;
        char *num = xasprintf("%.*s", (int)(n - 1), s);
        int bad = ctl_parse_int(num, 0, 36500, &days);
        free(num);
        if (bad < 0)
            return NULL;
        ns = (int64_t)days * 86400 * 1000000000;
    } else if (eagle_parse_duration(s, &ns) < 0) {
        return strchr(s, '-') ? xstrdup(s) : NULL; /* a date: the server compares it as text */
    }
    t = time(NULL) - (time_t)(ns / 1000000000);
    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return NULL;
    return xstrdup(buf);
}

/* Append "&name=value" (escaped) to the query being built. */
static void add_query(struct ctl_buf *q, const char *name, const char *value)
{
    char *esc;

    if (!value)
        return;
    esc = ctl_http_escape(value);
    ctl_buf_addf(q, "&", "%s=%s", name, esc);
    free(esc);
}

int ctl_cmd_audit(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"AT",     "USER",   "TENANT", "ACTION",
                                          "TARGET", "RESULT", "DETAIL", NULL};
    const char *tenant = NULL, *user = NULL, *target = NULL, *since = NULL, *until = NULL, *limit = NULL;
    struct ctl_opt opts[] = {
        {"tenant", 0, CTL_OPT_STR, &tenant},
        {"user", 0, CTL_OPT_STR, &user},
        {"target", 0, CTL_OPT_STR, &target},
        {"since", 0, CTL_OPT_STR, &since},
        {"until", 0, CTL_OPT_STR, &until},
        {"limit", 'n', CTL_OPT_STR, &limit},
        {NULL, 0, 0, NULL},
    };
    char *since_t = NULL, *until_t = NULL, *query = NULL, *path = NULL;
    struct ctl_http_reply reply;
    struct ctl_buf q = {0};
    struct ctl_table table;
    struct ctl_args args;
    long long n;
    size_t i;
    json_t *e;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, audit_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (limit && ctl_parse_int(limit, 1, 10000, &n) < 0)
        return ctl_usage_error(audit_usage, "--limit '%s': expected a whole number from 1 to 10000", limit);
    if (since && !(since_t = audit_time(since))) {
        rc = ctl_usage_error(audit_usage,
                             "--since '%s': expected a time such as 2026-11-25T17:00:00Z or an "
                             "age such as 2h",
                             since);
        goto out;
    }
    if (until && !(until_t = audit_time(until))) {
        rc = ctl_usage_error(audit_usage,
                             "--until '%s': expected a time such as 2026-11-25T17:00:00Z or an "
                             "age such as 2h",
                             until);
        goto out;
    }
    add_query(&q, "tenant", tenant);
    add_query(&q, "user", user);
    add_query(&q, "target", target);
    add_query(&q, "since", since_t);
    add_query(&q, "until", until_t);
    add_query(&q, "limit", limit);
    query = ctl_buf_take(&q);
    path = xasprintf("/v1/audit%s%s", *query ? "?" : "", query);
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "GET", path, NULL, &reply) < 0)
        goto out;
    rc = CTL_EXIT_OK;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        goto out;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, e)
    {
        ctl_table_cell(&table, ctl_jstr(e, "at"));
        ctl_table_cell(&table, ctl_jstr(e, "username"));
        ctl_table_cell(&table, ctl_jstr(e, "tenant"));
        ctl_table_cell(&table, ctl_jstr(e, "action"));
        ctl_table_cell(&table, ctl_jstr(e, "target"));
        ctl_table_cell(&table, ctl_jstr(e, "result"));
        ctl_table_cell(&table, ctl_jstr(e, "detail"));
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
out:
    free(since_t);
    free(until_t);
    free(query);
    free(path);
    return rc;
}
