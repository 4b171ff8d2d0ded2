/*
 * cmd_service.c — `eaglectl service ...` and `eaglectl deploy`: services, their
 * revisions and their tasks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/specflags.h"

static const char service_usage[] =
    "Usage: eaglectl service COMMAND\n"
    "\n"
    "Manage services. Every change makes a new revision; any revision can be rolled back to.\n"
    "\n"
    "Commands:\n"
    "  ls [--cluster C]                list services\n"
    "  get NAME                        show a service\n"
    "  create NAME --image IMG [...]   create a service from flags (or -f FILE, a JSON spec)\n"
    "  update NAME -f FILE             replace a service's spec\n"
    "  scale NAME N                    set the number of replicas\n"
    "  rollback NAME [--revision R]    apply an earlier revision's spec (default: the previous one)\n"
    "  rm NAME                         remove a service\n"
    "  revisions NAME [--revision R]   list a service's revisions, or show one\n"
    "  tasks NAME                      list a service's tasks on every node\n"
    "\n"
    "Run 'eaglectl service COMMAND --help' for more.\n";

static const char ls_usage[] =
    "Usage: eaglectl service ls [--cluster C]\n"
    "\n"
    "List services: NAME CLUSTER REVISION STATUS REPLICAS (running/desired) IMAGE UPDATED.\n"
    "\n"
    "Options:\n"
    "  --cluster C   only the services of cluster C\n";

static const char get_usage[] = "Usage: eaglectl service get NAME\n"
                                "\n"
                                "Show a service as \"key: value\" lines ('-o json' for the whole of it).\n";

static const char rm_usage[] = "Usage: eaglectl service rm NAME\n"
                               "\n"
                               "Remove a service from the engine and from Eagle, with its revisions.\n";

static const char revisions_usage[] =
    "Usage: eaglectl service revisions NAME [--revision R]\n"
    "\n"
    "List a service's revisions, newest first: REVISION REASON CREATED BY IMAGE REPLICAS.\n"
    "With --revision (or a second argument), show that revision and its spec.\n";

static const char tasks_usage[] =
    "Usage: eaglectl service tasks NAME\n"
    "\n"
    "List a service's tasks on every node: ID NODE STATE DESIRED HEALTH CONTAINER ADDRESSES PORTS ERROR.\n";

static const char create_usage[] =
    "Usage: eaglectl service create NAME --image IMG [options] [-- COMMAND ARGS...]\n"
    "       eaglectl service create -f FILE\n"
    "\n"
    "Create a service (revision 1).\n"
    "\n"
    "Options:\n"
    "  --image IMG            image to run (required)\n"
    "  --replicas N           number of tasks (default 1)\n"
    "  --global               one task on every node instead\n"
    "  -e, --env K=V          environment variable (repeatable; a bare K takes its value from here)\n"
    "  -l, --label K=V        service label (repeatable)\n"
    "  -p, --publish SPEC     PUBLISHED:TARGET[/tcp|udp][:host|ingress] (repeatable)\n"
    "  --constraint EXPR      placement constraint such as node.role==worker (repeatable)\n"
    "  --cluster C            cluster to run on (optional when there is only one)\n"
    "  --cpus X               CPU limit, such as 0.5\n"
    "  --memory SIZE          memory limit, such as 256M\n"
    "  -f, --file FILE        a JSON spec (see docs/api.md) instead of the flags; \"-\" = stdin\n"
    "  -- COMMAND ARGS...     the command to run instead of the image's\n";

static const char update_usage[] =
    "Usage: eaglectl service update NAME -f FILE\n"
    "\n"
    "Replace a service's whole spec with a JSON spec (\"-\" = stdin); a new revision.\n";

static const char scale_usage[] = "Usage: eaglectl service scale NAME N\n"
                                  "\n"
                                  "Set the number of replicas of a replicated service; a new revision.\n";

static const char rollback_usage[] =
    "Usage: eaglectl service rollback NAME [--revision R]\n"
    "\n"
    "Apply revision R's spec as a new revision; without R, the revision before the current one.\n";

static const char deploy_usage[] =
    "Usage: eaglectl deploy -f FILE\n"
    "\n"
    "Create the service described by a JSON spec (\"-\" = stdin), or update it\n"
    "if it exists already.\n";

/* "/v1/services/<name><suffix>", the name escaped. */
static char *service_path(const char *name, const char *suffix)
{
    return ctl_path("/v1/services/", name, suffix);
}

/* Array of strings joined by `sep`; words with spaces quoted when `quote`. */
static char *join_strings(json_t *array, const char *sep, bool quote)
{
    struct ctl_buf b = {0};
    size_t i;
    json_t *v;

    json_array_foreach(array, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        if (quote && (!*s || strpbrk(s, " \t'\""))) {
            char *q = xasprintf("'%s'", s);
            ctl_buf_add(&b, sep, q);
            free(q);
        } else {
            ctl_buf_add(&b, sep, s);
        }
    }
    return ctl_buf_take(&b);
}

/* {"K": "V", ...} as "K=V,K2=V2". */
static char *join_pairs(json_t *obj, const char *sep)
{
    struct ctl_buf b = {0};
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        char *item = xasprintf("%s=%s", key, json_is_string(v) ? json_string_value(v) : "");
        ctl_buf_add(&b, sep, item);
        free(item);
    }
    return ctl_buf_take(&b);
}

/* Ports in --publish syntax: "18080:8080/tcp:host". */
static char *join_ports(json_t *ports)
{
    struct ctl_buf b = {0};
    size_t i;
    json_t *p;

    json_array_foreach(ports, i, p)
    {
        const char *protocol = ctl_jstr(p, "protocol"), *mode = ctl_jstr(p, "mode");
        char *item = xasprintf("%lld:%lld/%s%s%s", (long long)ctl_jint(p, "published", 0),
                               (long long)ctl_jint(p, "target", 0), *protocol ? protocol : "tcp",
                               *mode ? ":" : "", mode);
        ctl_buf_add(&b, ",", item);
        free(item);
    }
    return ctl_buf_take(&b);
}

/* "running/desired", "?" for what is unknown (null while the engine is unreachable). */
static char *format_replicas(json_t *service)
{
    json_t *running = ctl_jget(service, "replicas.running"), *desired = ctl_jget(service, "replicas.desired");
    char r[32] = "?", d[32] = "?";

    if (json_is_integer(running))
        snprintf(r, sizeof(r), "%lld", (long long)json_integer_value(running));
    if (json_is_integer(desired))
        snprintf(d, sizeof(d), "%lld", (long long)json_integer_value(desired));
    else if (strcmp(ctl_jstr(service, "spec.mode"), "global") == 0)
        snprintf(d, sizeof(d), "global"); /* one per eligible node: no fixed count */
    return xasprintf("%s/%s", r, d);
}

static char *spec_replicas(json_t *spec)
{
    if (strcmp(ctl_jstr(spec, "mode"), "global") == 0)
        return xstrdup("global");
    if (json_is_integer(ctl_jget(spec, "replicas")))
        return xasprintf("%lld", (long long)ctl_jint(spec, "replicas", 0));
    return xstrdup("");
}

/* Warn on stderr when a service just changed did not reach the engine. */
static void warn_status(json_t *service)
{
    if (strcmp(ctl_jstr(service, "status"), "failed") == 0)
        fprintf(stderr, "eaglectl: warning: service '%s' is failed: %s (Eagle retries)\n",
                ctl_jstr(service, "name"), ctl_jstr(service, "status_message"));
}

static int service_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"NAME",     "CLUSTER", "REVISION", "STATUS",
                                          "REPLICAS", "IMAGE",   "UPDATED",  NULL};
    const char *cluster = NULL;
    struct ctl_opt opts[] = {{"cluster", 0, CTL_OPT_STR, &cluster}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *s;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, ls_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (cluster) {
        char *esc = ctl_http_escape(cluster);
        path = xasprintf("/v1/services?cluster=%s", esc);
        free(esc);
    } else {
        path = xstrdup("/v1/services");
    }
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
    json_array_foreach(ctl_jget(reply.json, "items"), i, s)
    {
        char *replicas = format_replicas(s), *age = ctl_format_age(ctl_jstr(s, "updated_at"));

        ctl_table_cell(&table, ctl_jstr(s, "name"));
        ctl_table_cell(&table, ctl_jstr(s, "cluster"));
        ctl_table_cellf(&table, "%lld", (long long)ctl_jint(s, "revision", 0));
        ctl_table_cell(&table, ctl_jstr(s, "status"));
        ctl_table_cell(&table, replicas);
        ctl_table_cell(&table, ctl_jstr(s, "spec.image"));
        ctl_table_cell(&table, age);
        free(replicas);
        free(age);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* "key: value" only when the value is not empty. */
static void kv_nonempty(const char *key, char *value_take)
{
    if (value_take && *value_take)
        ctl_kv(key, value_take);
    free(value_take);
}

/* "cpus=0.5 memory=64MiB"; zero means unset and is left out. */
static void print_resources(const char *key, json_t *r)
{
    json_t *cpus = ctl_jget(r, "cpus"), *memory = ctl_jget(r, "memory");
    struct ctl_buf b = {0};
    char *value = NULL, *item;

    if (json_is_number(cpus) && json_number_value(cpus) > 0) {
        value = ctl_format_number(json_number_value(cpus));
        item = xasprintf("cpus=%s", value);
        ctl_buf_add(&b, " ", item);
        free(item);
        free(value);
        value = NULL;
    }
    if (json_is_string(memory) && *json_string_value(memory))
        value = xstrdup(json_string_value(memory));
    else if (json_is_integer(memory) && json_integer_value(memory) > 0)
        value = ctl_format_bytes(json_integer_value(memory));
    if (value) {
        item = xasprintf("memory=%s", value);
        ctl_buf_add(&b, " ", item);
        free(item);
        free(value);
    }
    kv_nonempty(key, ctl_buf_take(&b));
}

static void print_service(json_t *s)
{
    json_t *spec = ctl_jget(s, "spec");
    struct ctl_buf command = {0};
    char *words;

    ctl_kv("name", ctl_jstr(s, "name"));
    ctl_kv("cluster", ctl_jstr(s, "cluster"));
    ctl_kvf("revision", "%lld", (long long)ctl_jint(s, "revision", 0));
    ctl_kv("status", ctl_jstr(s, "status"));
    if (*ctl_jstr(s, "status_message"))
        ctl_kv("status_message", ctl_jstr(s, "status_message"));
    ctl_kv("image", ctl_jstr(spec, "image"));
    ctl_kv("mode", *ctl_jstr(spec, "mode") ? ctl_jstr(spec, "mode") : "replicated");
    kv_nonempty("replicas", format_replicas(s));

    words = join_strings(ctl_jget(spec, "command"), " ", true);
    ctl_buf_add(&command, " ", words);
    free(words);
    words = join_strings(ctl_jget(spec, "args"), " ", true);
    if (*words)
        ctl_buf_add(&command, " ", words);
    free(words);
    kv_nonempty("command", ctl_buf_take(&command));

    kv_nonempty("env", join_pairs(ctl_jget(spec, "env"), ","));
    kv_nonempty("labels", join_pairs(ctl_jget(spec, "labels"), ","));
    kv_nonempty("ports", join_ports(ctl_jget(spec, "ports")));
    kv_nonempty("constraints", join_strings(ctl_jget(spec, "placement.constraints"), ",", false));
    print_resources("limits", ctl_jget(spec, "resources.limits"));
    print_resources("reservations", ctl_jget(spec, "resources.reservations"));
    kv_nonempty("networks", join_strings(ctl_jget(spec, "networks"), ",", false));
    if (*ctl_jstr(s, "engine_id"))
        ctl_kv("engine_id", ctl_jstr(s, "engine_id"));
    ctl_kv("created_at", ctl_jstr(s, "created_at"));
    ctl_kv("created_by", ctl_jstr(s, "created_by"));
    ctl_kv("updated_at", ctl_jstr(s, "updated_at"));
}

/* GET path, then print the object with `print` (or as JSON). */
static int show(struct ctl *ctl, const char *path, void (*print)(json_t *obj))
{
    struct ctl_http_reply reply;

    if (ctl_call(ctl, "GET", path, NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        print(reply.json);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int service_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, get_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = service_path(args.pos[0], "");
    ctl_args_release(&args);
    rc = show(ctl, path, print_service);
    free(path);
    return rc;
}

static int service_rm(struct ctl *ctl, int argc, char **argv)
{
    return ctl_remove_named(ctl, argc, argv, rm_usage, "/v1/services/", "", "service '%s' removed\n");
}

static void print_revision(json_t *r)
{
    json_t *spec = ctl_jget(r, "spec");
    char *text;

    ctl_kv("service", ctl_jstr(r, "service"));
    ctl_kvf("revision", "%lld", (long long)ctl_jint(r, "revision", 0));
    ctl_kv("reason", ctl_jstr(r, "reason"));
    ctl_kv("created_at", ctl_jstr(r, "created_at"));
    ctl_kv("created_by", ctl_jstr(r, "created_by"));
    ctl_kv("image", ctl_jstr(spec, "image"));
    kv_nonempty("replicas", spec_replicas(spec));
    text = spec ? json_dumps(spec, JSON_INDENT(2)) : NULL;
    if (text)
        printf("spec: %s\n", text);
    free(text);
}

static int service_revisions(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"REVISION", "REASON", "CREATED", "BY", "IMAGE", "REPLICAS", NULL};
    const char *revision = NULL;
    struct ctl_opt opts[] = {{"revision", 'r', CTL_OPT_STR, &revision}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *r;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, revisions_usage, 1, 2, false, &args)) != CTL_CONTINUE)
        return rc;
    if (args.n_pos == 2)
        revision = args.pos[1];
    if (revision) {
        long long n;
        char *suffix;

        if (ctl_parse_int(revision, 1, (long long)1 << 53, &n) < 0) {
            ctl_args_release(&args);
            return ctl_usage_error(revisions_usage, "revision '%s': expected a positive whole number",
                                   revision);
        }
        suffix = xasprintf("/revisions/%lld", n);
        path = service_path(args.pos[0], suffix);
        free(suffix);
        ctl_args_release(&args);
        rc = show(ctl, path, print_revision);
        free(path);
        return rc;
    }
    path = service_path(args.pos[0], "/revisions");
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
    json_array_foreach(ctl_jget(reply.json, "items"), i, r)
    {
        char *age = ctl_format_age(ctl_jstr(r, "created_at")), *replicas = spec_replicas(ctl_jget(r, "spec"));

        ctl_table_cellf(&table, "%lld", (long long)ctl_jint(r, "revision", 0));
        ctl_table_cell(&table, ctl_jstr(r, "reason"));
        ctl_table_cell(&table, age);
        ctl_table_cell(&table, ctl_jstr(r, "created_by"));
        ctl_table_cell(&table, ctl_jstr(r, "spec.image"));
        ctl_table_cell(&table, replicas);
        free(age);
        free(replicas);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int service_tasks(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"ID",        "NODE",      "STATE", "DESIRED", "HEALTH",
                                          "CONTAINER", "ADDRESSES", "PORTS", "ERROR",   NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *t;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, tasks_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = service_path(args.pos[0], "/tasks");
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
    json_array_foreach(ctl_jget(reply.json, "items"), i, t)
    {
        char *id = ctl_short_id(ctl_jstr(t, "id"), 12),
             *container = ctl_short_id(ctl_jstr(t, "container_id"), 12);
        char *ports = join_ports(ctl_jget(t, "ports"));
        struct ctl_buf addresses = {0};
        const char *node = *ctl_jstr(t, "node") ? ctl_jstr(t, "node") : ctl_jstr(t, "node_id");
        size_t j;
        json_t *a;

        json_array_foreach(ctl_jget(t, "addresses"), j, a)
            ctl_buf_add(&addresses, ",", ctl_jstr(a, "address"));

        ctl_table_cell(&table, id);
        ctl_table_cell(&table, node);
        ctl_table_cell(&table, ctl_jstr(t, "state"));
        ctl_table_cell(&table, ctl_jstr(t, "desired_state"));
        ctl_table_cell(&table, ctl_jstr(t, "health"));
        ctl_table_cell(&table, container);
        ctl_table_cell(&table, addresses.s);
        ctl_table_cell(&table, ports);
        ctl_table_cell(&table, ctl_jstr(t, "error"));
        free(id);
        free(container);
        free(ports);
        free(addresses.s);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* Print a mutation's answer: the JSON, or "service 'web' <what> (revision N)". */
static void print_changed(struct ctl *ctl, const struct ctl_http_reply *reply, const char *what)
{
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(reply);
    else
        printf("service '%s' %s (revision %lld)\n", ctl_jstr(reply->json, "name"), what,
               (long long)ctl_jint(reply->json, "revision", 0));
    warn_status(reply->json);
}

/* Read the spec file; when `name` is given, the spec's name must match or is set. */
static json_t *read_spec(const char *file, const char *name)
{
    struct eagle_err err = {0};
    json_t *spec = ctl_read_json_object(file, &err);
    json_t *spec_name;

    if (!spec) {
        fprintf(stderr, "eaglectl: %s\n", err.msg);
        return NULL;
    }
    spec_name = json_object_get(spec, "name");
    if (name && !spec_name) {
        json_object_set_new(spec, "name", json_string(name));
    } else if (name && (!json_is_string(spec_name) || strcmp(json_string_value(spec_name), name) != 0)) {
        fprintf(stderr, "eaglectl: the spec in %s names another service than '%s'\n",
                strcmp(file, "-") == 0 ? "stdin" : file, name);
        json_decref(spec);
        return NULL;
    }
    return spec;
}

static int service_create(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_spec_flags f = {0};
    const char *file = NULL;
    struct ctl_opt opts[] = {
        {"image", 0, CTL_OPT_STR, &f.image},
        {"replicas", 0, CTL_OPT_STR, &f.replicas},
        {"global", 0, CTL_OPT_BOOL, &f.global},
        {"env", 'e', CTL_OPT_LIST, &f.env},
        {"label", 'l', CTL_OPT_LIST, &f.labels},
        {"publish", 'p', CTL_OPT_LIST, &f.publish},
        {"constraint", 0, CTL_OPT_LIST, &f.constraints},
        {"cluster", 0, CTL_OPT_STR, &f.cluster},
        {"cpus", 0, CTL_OPT_STR, &f.cpus},
        {"memory", 0, CTL_OPT_STR, &f.memory},
        {"file", 'f', CTL_OPT_STR, &file},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    json_t *spec = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, create_usage, 0, 1, true, &args);
    if (rc != CTL_CONTINUE)
        goto out_lists;
    if (file) {
        if (f.image || f.replicas || f.global || f.env.n || f.labels.n || f.publish.n || f.constraints.n ||
            f.cluster || f.cpus || f.memory || args.rest) {
            rc = ctl_usage_error(create_usage, "-f FILE cannot be combined with the spec's flags");
            goto out;
        }
        rc = CTL_EXIT_FAIL;
        spec = read_spec(file, args.n_pos ? args.pos[0] : NULL);
        if (!spec)
            goto out;
    } else {
        if (!args.n_pos) {
            rc = ctl_usage_error(create_usage, "missing the service's NAME");
            goto out;
        }
        if (!f.image) {
            rc = ctl_usage_error(create_usage, "--image is required");
            goto out;
        }
        f.name = args.pos[0];
        f.command = args.rest;
        f.n_command = args.n_rest;
        spec = ctl_spec_from_flags(&f, &err);
        if (!spec) {
            rc = ctl_usage_error(create_usage, "%s", err.msg);
            goto out;
        }
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "POST", "/v1/services", spec, &reply) < 0)
        goto out;
    print_changed(ctl, &reply, "created");
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    json_decref(spec);
    ctl_args_release(&args);
out_lists:
    ctl_list_release(&f.env);
    ctl_list_release(&f.labels);
    ctl_list_release(&f.publish);
    ctl_list_release(&f.constraints);
    return rc;
}

static int service_update(struct ctl *ctl, int argc, char **argv)
{
    const char *file = NULL;
    struct ctl_opt opts[] = {{"file", 'f', CTL_OPT_STR, &file}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *spec;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, update_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (!file) {
        ctl_args_release(&args);
        return ctl_usage_error(update_usage, "-f FILE is required");
    }
    /* The server checks that spec.name matches the path; leave that to it. */
    spec = read_spec(file, NULL);
    if (!spec) {
        ctl_args_release(&args);
        return CTL_EXIT_FAIL;
    }
    path = service_path(args.pos[0], "");
    rc = ctl_call(ctl, "PUT", path, spec, &reply) < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    if (rc == CTL_EXIT_OK) {
        print_changed(ctl, &reply, "updated");
        ctl_http_reply_release(&reply);
    }
    free(path);
    json_decref(spec);
    ctl_args_release(&args);
    return rc;
}

static int service_scale(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *body;
    long long n;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, scale_usage, 2, 2, false, &args)) != CTL_CONTINUE)
        return rc;
    if (ctl_parse_int(args.pos[1], 0, 1000000, &n) < 0) {
        rc = ctl_usage_error(scale_usage, "replicas '%s': expected a whole number", args.pos[1]);
        ctl_args_release(&args);
        return rc;
    }
    body = json_pack("{s:I}", "replicas", (json_int_t)n);
    path = service_path(args.pos[0], "/scale");
    rc = ctl_call(ctl, "POST", path, body, &reply) < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    if (rc == CTL_EXIT_OK) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf("service '%s' scaled to %lld replica%s (revision %lld)\n", ctl_jstr(reply.json, "name"),
                   (long long)ctl_jint(reply.json, "spec.replicas", n),
                   ctl_jint(reply.json, "spec.replicas", n) == 1 ? "" : "s",
                   (long long)ctl_jint(reply.json, "revision", 0));
        warn_status(reply.json);
        ctl_http_reply_release(&reply);
    }
    free(path);
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}

/* The revision a rollback restored: from the new revision's reason "rollback to N". */
static long long rolled_back_to(struct ctl *ctl, const char *name, long long revision)
{
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    long long to = 0;
    char *suffix = xasprintf("/revisions/%lld", revision);
    char *path = service_path(name, suffix);

    if (ctl_request(ctl, "GET", path, NULL, true, &reply, &err) == 0) {
        if (sscanf(ctl_jstr(reply.json, "reason"), "rollback to %lld", &to) != 1)
            to = 0;
        ctl_http_reply_release(&reply);
    }
    free(path);
    free(suffix);
    return to;
}

static int service_rollback(struct ctl *ctl, int argc, char **argv)
{
    const char *revision = NULL;
    struct ctl_opt opts[] = {{"revision", 'r', CTL_OPT_STR, &revision}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct ctl_args args;
    long long to = 0;
    json_t *body;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, rollback_usage, 1, 2, false, &args)) != CTL_CONTINUE)
        return rc;
    if (args.n_pos == 2)
        revision = args.pos[1];
    if (revision && ctl_parse_int(revision, 1, (long long)1 << 53, &to) < 0) {
        rc = ctl_usage_error(rollback_usage, "revision '%s': expected a positive whole number", revision);
        ctl_args_release(&args);
        return rc;
    }
    body = revision ? json_pack("{s:I}", "revision", (json_int_t)to) : json_object();
    path = service_path(args.pos[0], "/rollback");
    rc = ctl_call(ctl, "POST", path, body, &reply) < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    if (rc == CTL_EXIT_OK) {
        if (ctl->output == CTL_OUTPUT_JSON) {
            ctl_print_reply(&reply);
        } else {
            long long now = ctl_jint(reply.json, "revision", 0);
            if (!to)
                to = rolled_back_to(ctl, args.pos[0], now);
            if (to)
                printf("service '%s' rolled back to revision %lld (revision %lld)\n",
                       ctl_jstr(reply.json, "name"), to, now);
            else
                printf("service '%s' rolled back (revision %lld)\n", ctl_jstr(reply.json, "name"), now);
        }
        warn_status(reply.json);
        ctl_http_reply_release(&reply);
    }
    free(path);
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}

int ctl_cmd_service(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", service_ls},
        {"list", service_ls},
        {"get", service_get},
        {"inspect", service_get},
        {"create", service_create},
        {"update", service_update},
        {"scale", service_scale},
        {"rollback", service_rollback},
        {"rm", service_rm},
        {"remove", service_rm},
        {"delete", service_rm},
        {"revisions", service_revisions},
        {"history", service_revisions},
        {"tasks", service_tasks},
        {"ps", service_tasks},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), service_usage);
}

int ctl_cmd_deploy(struct ctl *ctl, int argc, char **argv)
{
    const char *file = NULL;
    struct ctl_opt opts[] = {{"file", 'f', CTL_OPT_STR, &file}, {NULL, 0, 0, NULL}};
    struct ctl_http_reply reply;
    struct eagle_err err = {0};
    struct ctl_args args;
    json_t *spec = NULL;
    const char *name;
    char *path = NULL;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, deploy_usage, 0, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (args.n_pos)
        file = args.pos[0];
    if (!file) {
        ctl_args_release(&args);
        return ctl_usage_error(deploy_usage, "-f FILE is required");
    }
    rc = CTL_EXIT_FAIL;
    spec = read_spec(file, NULL);
    if (!spec)
        goto out;
    name = ctl_jstr(spec, "name");
    if (!*name) {
        fprintf(stderr, "eaglectl: the spec in %s has no \"name\"\n",
                strcmp(file, "-") == 0 ? "stdin" : file);
        goto out;
    }
    path = service_path(name, "");

    /* Exists? Then PUT; if not, POST, and PUT after all if someone created it meanwhile. */
    if (ctl_request(ctl, "GET", path, NULL, true, &reply, &err) == 0) {
        ctl_http_reply_release(&reply);
    } else if (err.status == 404) {
        if (ctl_request(ctl, "POST", "/v1/services", spec, true, &reply, &err) == 0) {
            print_changed(ctl, &reply, "created");
            ctl_http_reply_release(&reply);
            rc = CTL_EXIT_OK;
            goto out;
        }
        if (err.status != 409 || strcmp(err.code, "conflict") != 0) {
            ctl_print_err(ctl, &err);
            goto out;
        }
    } else {
        ctl_print_err(ctl, &err);
        goto out;
    }
    if (ctl_call(ctl, "PUT", path, spec, &reply) < 0)
        goto out;
    print_changed(ctl, &reply, "updated");
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    free(path);
    json_decref(spec);
    ctl_args_release(&args);
    return rc;
}
