/*
 * cmd_cluster.c — `eaglectl cluster ...`: clusters (one Docker Swarm each) and
 * their nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define PEM_MAX_SIZE (256u << 10)

static const char cluster_usage[] =
    "Usage: eaglectl cluster COMMAND\n"
    "\n"
    "Manage clusters: each is one Docker Swarm, one data centre.\n"
    "\n"
    "Commands:\n"
    "  ls                list clusters\n"
    "  get NAME          show a cluster\n"
    "  nodes NAME        list the nodes of a cluster's swarm\n"
    "  add NAME --endpoint E [--datacenter DC] [--tls-ca F --tls-cert F --tls-key F]\n"
    "                    register a swarm manager's engine\n"
    "  rm NAME           remove a cluster (it must have no services left)\n"
    "  agent install NAME --image IMG --url URL [--engine-socket P] [--proc P] [--all-nodes]\n"
    "                    run eagle-agent on the cluster's nodes (health checks there)\n"
    "  agent show NAME   how the agent was installed, and every node's agent\n"
    "  agent rm NAME     remove the agent\n"
    "\n"
    "Run 'eaglectl cluster COMMAND --help' for more.\n";

static const char ls_usage[] = "Usage: eaglectl cluster ls\n"
                               "\n"
                               "List clusters: NAME DATACENTER STATUS ENDPOINT ENGINE REASON.\n";

static const char get_usage[] = "Usage: eaglectl cluster get NAME\n"
                                "\n"
                                "Show a cluster as \"key: value\" lines.\n";

static const char nodes_usage[] = "Usage: eaglectl cluster nodes NAME\n"
                                  "\n"
                                  "List the nodes of a cluster's swarm: ID HOSTNAME ROLE STATE AVAILABILITY "
                                  "ADDR CPUS MEMORY ENGINE LABELS.\n";

static const char rm_usage[] = "Usage: eaglectl cluster rm NAME\n"
                               "\n"
                               "Remove a cluster from Eagle; refused while services run on it.\n";

static const char add_usage[] =
    "Usage: eaglectl cluster add NAME --endpoint E [--datacenter DC] [--tls-ca F --tls-cert F --tls-key F]\n"
    "\n"
    "Register a Docker Swarm manager's engine as a cluster. Eagle contacts it first.\n"
    "\n"
    "Options:\n"
    "  --endpoint E      the engine: unix:///run/docker.sock or tcp://host:2376\n"
    "  --datacenter DC   the data centre it stands for\n"
    "  --tls-ca F        CA certificate (PEM file) to check the engine with (tcp only)\n"
    "  --tls-cert F      client certificate (PEM file)\n"
    "  --tls-key F       client key (PEM file)\n";

/* "/v1/clusters/<name><suffix>", the name escaped. */
static char *cluster_path(const char *name, const char *suffix)
{
    return ctl_path("/v1/clusters/", name, suffix);
}

static int parse_simple(struct ctl *ctl, int argc, char **argv, const char *usage, size_t n_pos,
                        struct ctl_args *args)
{
    return ctl_args_parse(ctl, argc, argv, NULL, usage, n_pos, n_pos, false, args);
}

static int cluster_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"NAME",   "DATACENTER", "STATUS", "ENDPOINT",
                                          "ENGINE", "REASON",     NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    size_t i;
    json_t *c;
    int rc;

    if ((rc = parse_simple(ctl, argc, argv, ls_usage, 0, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (ctl_call(ctl, "GET", "/v1/clusters", NULL, &reply) < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
        ctl_http_reply_release(&reply);
        return CTL_EXIT_OK;
    }
    ctl_table_init(&table, headers);
    json_array_foreach(ctl_jget(reply.json, "items"), i, c)
    {
        ctl_table_cell(&table, ctl_jstr(c, "name"));
        ctl_table_cell(&table, ctl_jstr(c, "datacenter"));
        ctl_table_cell(&table, ctl_jstr(c, "status"));
        ctl_table_cell(&table, ctl_jstr(c, "endpoint"));
        ctl_table_cell(&table, ctl_jstr(c, "engine_version"));
        ctl_table_cell(&table, ctl_jstr(c, "reason"));
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int cluster_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = parse_simple(ctl, argc, argv, get_usage, 1, &args)) != CTL_CONTINUE)
        return rc;
    path = cluster_path(args.pos[0], "");
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        ctl_kv_object(reply.json);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static char *node_labels(json_t *labels)
{
    size_t len = 0, cap = 64;
    char *out = xmalloc(cap);
    const char *key;
    json_t *v;

    out[0] = 0;
    json_object_foreach(labels, key, v)
    {
        const char *value = json_is_string(v) ? json_string_value(v) : "";
        size_t need = strlen(key) + strlen(value) + 3;

        while (len + need >= cap)
            out = xrealloc(out, cap *= 2);
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? "," : "", key, value);
    }
    return out;
}

static int cluster_nodes(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"ID",           "HOSTNAME", "ROLE", "STATE",
                                          "AVAILABILITY", "ADDR",     "CPUS", "MEMORY",
                                          "ENGINE",       "LABELS",   NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *n;
    int rc;

    if ((rc = parse_simple(ctl, argc, argv, nodes_usage, 1, &args)) != CTL_CONTINUE)
        return rc;
    path = cluster_path(args.pos[0], "/nodes");
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
    json_array_foreach(ctl_jget(reply.json, "items"), i, n)
    {
        json_int_t nano_cpus = ctl_jint(n, "nano_cpus", -1), memory = ctl_jint(n, "memory_bytes", -1);
        char *cpus = nano_cpus >= 0 ? ctl_format_number((double)nano_cpus / 1e9) : xstrdup("");
        char *mem = memory >= 0 ? ctl_format_bytes(memory) : xstrdup("");
        char *labels = node_labels(ctl_jget(n, "labels"));

        ctl_table_cell(&table, ctl_jstr(n, "id"));
        ctl_table_cell(&table, ctl_jstr(n, "hostname"));
        ctl_table_cell(&table, ctl_jstr(n, "role"));
        ctl_table_cell(&table, ctl_jstr(n, "state"));
        ctl_table_cell(&table, ctl_jstr(n, "availability"));
        ctl_table_cell(&table, ctl_jstr(n, "addr"));
        ctl_table_cell(&table, cpus);
        ctl_table_cell(&table, mem);
        ctl_table_cell(&table, ctl_jstr(n, "engine_version"));
        ctl_table_cell(&table, labels);
        free(cpus);
        free(mem);
        free(labels);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* Put the text of the PEM file `path` at tls.<key>. */
static int add_pem(json_t *tls, const char *key, const char *path)
{
    struct eagle_err err = {0};
    json_t *s;
    size_t len;
    char *text;

    text = ctl_read_file(path, PEM_MAX_SIZE, &len, &err);
    if (!text) {
        fprintf(stderr, "eaglectl: --tls-%s: %s\n", key, err.msg);
        return -1;
    }
    s = strlen(text) == len ? json_stringn(text, len) : NULL;
    free(text);
    if (!s || !strstr(json_string_value(s), "-----BEGIN ")) {
        json_decref(s);
        fprintf(stderr, "eaglectl: --tls-%s: %s is not a PEM file\n", key, path);
        return -1;
    }
    json_object_set_new(tls, key, s);
    return 0;
}

static int cluster_add(struct ctl *ctl, int argc, char **argv)
{
    const char *endpoint = NULL, *datacenter = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    struct ctl_opt opts[] = {
        {"endpoint", 0, CTL_OPT_STR, &endpoint}, {"datacenter", 0, CTL_OPT_STR, &datacenter},
        {"tls-ca", 0, CTL_OPT_STR, &ca},         {"tls-cert", 0, CTL_OPT_STR, &cert},
        {"tls-key", 0, CTL_OPT_STR, &key},       {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *body = NULL;
    int rc;

    rc = ctl_args_parse(ctl, argc, argv, opts, add_usage, 1, 1, false, &args);
    if (rc != CTL_CONTINUE)
        return rc;
    if (!endpoint) {
        rc = ctl_usage_error(add_usage, "--endpoint is required");
        goto out;
    }
    if (!cert != !key) {
        rc = ctl_usage_error(add_usage, "--tls-cert and --tls-key go together");
        goto out;
    }
    body =
        json_pack("{s:s?, s:s?, s:s?}", "name", args.pos[0], "datacenter", datacenter, "endpoint", endpoint);
    if (!body) {
        rc = ctl_usage_error(add_usage, "arguments must be valid UTF-8");
        goto out;
    }
    if (ca || cert || key) {
        json_t *tls = json_object();
        json_object_set_new(body, "tls", tls);
        rc = CTL_EXIT_FAIL;
        if ((ca && add_pem(tls, "ca", ca) < 0) || (cert && add_pem(tls, "cert", cert) < 0) ||
            (key && add_pem(tls, "key", key) < 0))
            goto out;
    }

    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "POST", "/v1/clusters", body, &reply) < 0)
        goto out;
    if (ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_reply(&reply);
    } else {
        const char *status = ctl_jstr(reply.json, "status"), *reason = ctl_jstr(reply.json, "reason");
        printf("cluster '%s' added (%s", ctl_jstr(reply.json, "name"), *status ? status : "status unknown");
        if (*ctl_jstr(reply.json, "engine_version"))
            printf(", engine %s", ctl_jstr(reply.json, "engine_version"));
        if (*reason)
            printf(": %s", reason);
        printf(")\n");
    }
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    json_decref(body);
    ctl_args_release(&args);
    return rc;
}

static int cluster_rm(struct ctl *ctl, int argc, char **argv)
{
    return ctl_remove_named(ctl, argc, argv, rm_usage, "/v1/clusters/", "", "cluster '%s' removed\n");
}

static const char agent_usage[] =
    "Usage: eaglectl cluster agent COMMAND NAME\n"
    "\n"
    "eagle-agent checks the health of the tasks on the nodes other than eagled's own.\n"
    "\n"
    "Commands:\n"
    "  install NAME --image IMG --url URL [--engine-socket P] [--proc P] [--all-nodes]\n"
    "  show NAME\n"
    "  rm NAME\n";

static const char agent_install_usage[] =
    "Usage: eaglectl cluster agent install NAME --image IMG --url URL [--engine-socket P] [--proc P] "
    "[--all-nodes]\n"
    "\n"
    "Run eagle-agent on every node of cluster NAME: a Swarm service per node, each with its own token in a\n"
    "Swarm secret only that node receives. Nodes that join later get theirs within seconds. Installing\n"
    "again replaces them all (and so every token). Build the image with scripts/agent-image.sh.\n"
    "\n"
    "Options:\n"
    "  --image IMG          the eagle-agent image, pullable by every node\n"
    "  --url URL            the address at which the nodes reach eagled (http://10.0.0.1:8420)\n"
    "  --engine-socket P    the engine's socket on the nodes [/var/run/docker.sock]\n"
    "  --proc P             the host's /proc on the nodes [/proc]\n"
    "  --all-nodes          also on eagled's own node (which eagled otherwise checks itself)\n";

static const char agent_show_usage[] =
    "Usage: eaglectl cluster agent show NAME\n"
    "\n"
    "How the agent was installed, then one line per node that runs it:\n"
    "NODE SERVICE HOSTNAME VERSION LAST SEEN STATE TARGETS HEALTHY UNHEALTHY UNKNOWN\n"
    "(STATE: starting until its first sync, then syncing, or silent when it stopped).\n";

static const char agent_rm_usage[] =
    "Usage: eaglectl cluster agent rm NAME\n"
    "\n"
    "Remove eagle-agent from the cluster (every node's service and secret).\n";

static int agent_install(struct ctl *ctl, int argc, char **argv)
{
    const char *image = NULL, *url = NULL, *sock = NULL, *proc = NULL;
    bool all = false;
    struct ctl_opt opts[] = {
        {"image", 0, CTL_OPT_STR, &image},        {"url", 0, CTL_OPT_STR, &url},
        {"engine-socket", 0, CTL_OPT_STR, &sock}, {"proc", 0, CTL_OPT_STR, &proc},
        {"all-nodes", 0, CTL_OPT_BOOL, &all},     {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct ctl_args args;
    json_t *body = NULL;
    char *path = NULL;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, agent_install_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (!image || !url) {
        rc = ctl_usage_error(agent_install_usage, "--image and --url are required");
        goto out;
    }
    body = json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "image", image, "url", url, "engine_socket", sock, "proc",
                     proc, "all_nodes", all);
    if (!body) {
        rc = ctl_usage_error(agent_install_usage, "arguments must be valid UTF-8");
        goto out;
    }
    path = cluster_path(args.pos[0], "/agent");
    rc = CTL_EXIT_FAIL;
    if (ctl_call(ctl, "PUT", path, body, &reply) < 0)
        goto out;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        printf(
            "eagle-agent %s installed on cluster '%s' (%zu node(s), a service and a token each); its agents "
            "reach eagled at %s\n",
            ctl_jstr(reply.json, "image"), args.pos[0], json_array_size(ctl_jget(reply.json, "nodes")),
            ctl_jstr(reply.json, "url"));
    ctl_http_reply_release(&reply);
    rc = CTL_EXIT_OK;
out:
    json_decref(body);
    free(path);
    ctl_args_release(&args);
    return rc;
}

static json_t *agent_of(json_t *agents, const char *node)
{
    json_t *a;
    size_t i;
    json_array_foreach(agents, i, a)
    {
        if (strcmp(ctl_jstr(a, "node"), node) == 0)
            return a;
    }
    return NULL;
}

static int agent_show(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"NODE",    "SERVICE", "HOSTNAME",  "VERSION", "LAST SEEN", "STATE",
                                          "TARGETS", "HEALTHY", "UNHEALTHY", "UNKNOWN", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *n;
    int rc;

    if ((rc = parse_simple(ctl, argc, argv, agent_show_usage, 1, &args)) != CTL_CONTINUE)
        return rc;
    path = cluster_path(args.pos[0], "/agent");
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
    json_t *agents = json_incref(ctl_jget(reply.json, "agents")),
           *nodes = json_incref(ctl_jget(reply.json, "nodes"));
    json_object_del(reply.json, "agents");
    json_object_del(reply.json, "nodes");
    ctl_kv_object(reply.json);
    printf("\n");
    ctl_table_init(&table, headers);
    json_array_foreach(nodes, i, n)
    {
        json_t *a = agent_of(agents, ctl_jstr(n, "node"));
        char c[4][24];
        snprintf(c[0], sizeof(c[0]), "%lld", (long long)ctl_jint(a, "targets", 0));
        snprintf(c[1], sizeof(c[1]), "%lld", (long long)ctl_jint(a, "healthy", 0));
        snprintf(c[2], sizeof(c[2]), "%lld", (long long)ctl_jint(a, "unhealthy", 0));
        snprintf(c[3], sizeof(c[3]), "%lld", (long long)ctl_jint(a, "unknown", 0));
        ctl_table_cell(&table, ctl_jstr(n, "node"));
        ctl_table_cellf(&table, "%.12s", ctl_jstr(n, "service_id"));
        ctl_table_cell(&table, a ? ctl_jstr(a, "hostname") : "-");
        ctl_table_cell(&table, a ? ctl_jstr(a, "version") : "-");
        ctl_table_cell(&table, a ? ctl_jstr(a, "last_seen") : "-");
        ctl_table_cell(&table, !a ? "starting" : json_is_true(ctl_jget(a, "stale")) ? "silent" : "syncing");
        for (int k = 0; k < 4; k++)
            ctl_table_cell(&table, a ? c[k] : "-");
    }
    ctl_table_print(&table, stdout);
    if (json_array_size(nodes) == 0)
        printf("(no node runs the agent: eagled checks its own node, and the cluster has no other)\n");
    ctl_table_release(&table);
    json_decref(agents);
    json_decref(nodes);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

static int agent_rm(struct ctl *ctl, int argc, char **argv)
{
    return ctl_remove_named(ctl, argc, argv, agent_rm_usage, "/v1/clusters/", "/agent",
                            "eagle-agent removed from cluster '%s'\n");
}

static int cluster_agent(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"install", agent_install}, {"show", agent_show}, {"get", agent_show},
        {"rm", agent_rm},           {"remove", agent_rm},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), agent_usage);
}

int ctl_cmd_cluster(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", cluster_ls},       {"list", cluster_ls},   {"get", cluster_get},     {"inspect", cluster_get},
        {"nodes", cluster_nodes}, {"add", cluster_add},   {"create", cluster_add},  {"rm", cluster_rm},
        {"remove", cluster_rm},   {"delete", cluster_rm}, {"agent", cluster_agent},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), cluster_usage);
}
