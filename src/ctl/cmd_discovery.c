/*
 * cmd_discovery.c — `eaglectl discovery ...` and `eaglectl events`: where the
 * instances of services run and whether they are healthy, and the stream of
 * what happens.
 *
 * `discovery watch` is a blocking-query loop (it always sends back the last
 * X-Eagle-Index); `events` reads the server-sent event stream and reconnects
 * with Last-Event-ID when it drops. Both run until interrupted (Ctrl-C) and
 * flush every line, so they can feed a pipe. They give up at once on what
 * waiting cannot mend (a usage error, a refused token, an unknown tenant) and
 * when the server cannot be reached at the start; once running, they ride out
 * a restart of eagled, retrying with a short backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/specflags.h"
#include "ctl/sse.h"

#define WATCH_WAIT "5m"             /* what a blocking query asks the server to wait */
#define WATCH_TIMEOUT (5 * 60 + 30) /* seconds: above the wait, as the API asks */
#define BACKOFF_MIN 1               /* seconds before retrying, doubled on each failure */
#define BACKOFF_MAX 10

static const char discovery_usage[] =
    "Usage: eaglectl discovery COMMAND\n"
    "\n"
    "Where the instances of services run and whether they are healthy, from Eagle's\n"
    "catalog (what a proxy or a scheduler sends traffic to).\n"
    "\n"
    "Commands:\n"
    "  ls [--healthy] [--tenant T] [--datacenter D] [--label K[=V]]\n"
    "                                   list services with their instance counts\n"
    "  get NAME [--healthy] [--format docker]\n"
    "                                   show a service and its instances\n"
    "  watch NAME [--healthy]           print a line each time a service changes (Ctrl-C stops)\n"
    "\n"
    "Run 'eaglectl discovery COMMAND --help' for more.\n";

static const char ls_usage[] =
    "Usage: eaglectl discovery ls [--healthy] [--tenant T] [--datacenter D] [--label K[=V]]\n"
    "\n"
    "List the services in the catalog: NAME TENANT CLUSTER DATACENTER REVISION REPLICAS\n"
    "INSTANCES HEALTHY.\n"
    "\n"
    "Options:\n"
    "  --healthy         count only the instances that are healthy\n"
    "  --tenant T        only tenant T's services\n"
    "  --datacenter D    only the services in data centre D\n"
    "  --label K[=V]     only the services with label K (equal to V); eagle.* labels count\n";

static const char get_usage[] =
    "Usage: eaglectl discovery get NAME [--healthy] [--format docker]\n"
    "\n"
    "Show a service from the catalog and its instances: TASK SLOT NODE HOST STATE DESIRED\n"
    "HEALTHY REVISION CANARY PORTS (published->target, reachable at HOST) ADDRESSES.\n"
    "\n"
    "Options:\n"
    "  --healthy          only the instances that are healthy\n"
    "  --format docker    print the engine's own service object (JSON) instead\n";

static const char watch_usage[] =
    "Usage: eaglectl discovery watch NAME [--healthy]\n"
    "\n"
    "Follow a service with blocking queries: print a line with the time, the number\n"
    "of instances (by state), how many are healthy, the revision and the canary\n"
    "instances if any; then again each time one of these changes, until interrupted\n"
    "(Ctrl-C). With '-o json', each new answer of the server on one line.\n"
    "\n"
    "Options:\n"
    "  --healthy   only the instances that are healthy\n";

static const char events_usage[] =
    "Usage: eaglectl events [--type T[,T...]] [--service S] [--tenant T] [--since-id N]\n"
    "\n"
    "Follow Eagle's event stream, one line per event: ID TIME TYPE ACTION SERVICE DETAILS\n"
    "(with '-o json', each event as the server sent it, one per line). Reconnects\n"
    "after the last event seen when the connection drops; Ctrl-C stops.\n"
    "\n"
    "Options:\n"
    "  --type T,...    only these types: service, task, node, release, build, health\n"
    "  --service S     only the events of service S\n"
    "  --tenant T      only the events of tenant T\n"
    "  --since-id N    start with the events after id N (0: every event still kept)\n";

/* Append "&name=value" (escaped; a bare "&name" when value is "") to a query. */
static void add_query(struct ctl_buf *q, const char *name, const char *value)
{
    char *esc;

    if (!value)
        return;
    if (!*value) {
        ctl_buf_add(q, "&", name);
        return;
    }
    esc = ctl_http_escape(value);
    ctl_buf_addf(q, "&", "%s=%s", name, esc);
    free(esc);
}

/* "<base>?<query>", or just base when the query is empty. */
static char *with_query(const char *base, struct ctl_buf *q)
{
    char *query = ctl_buf_take(q);
    char *path = xasprintf("%s%s%s", base, *query ? "?" : "", query);

    free(query);
    return path;
}

static size_t count_healthy(json_t *instances)
{
    size_t i, n = 0;
    json_t *in;

    json_array_foreach(instances, i, in)
    {
        if (json_is_true(ctl_jget(in, "healthy")))
            n++;
    }
    return n;
}

static size_t count_canary(json_t *instances)
{
    size_t i, n = 0;
    json_t *in;

    json_array_foreach(instances, i, in)
    {
        if (json_is_true(ctl_jget(in, "canary")))
            n++;
    }
    return n;
}

/* A number at `key`, or "" when it is null or absent (a new string). */
static char *int_or_empty(json_t *obj, const char *key)
{
    json_t *v = ctl_jget(obj, key);

    return json_is_integer(v) ? xasprintf("%lld", (long long)json_integer_value(v)) : xstrdup("");
}

static char *discovery_replicas(json_t *s)
{
    if (strcmp(ctl_jstr(s, "mode"), "global") == 0)
        return xstrdup("global");
    return int_or_empty(s, "replicas");
}

static int discovery_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"NAME",     "TENANT",    "CLUSTER", "DATACENTER", "REVISION",
                                          "REPLICAS", "INSTANCES", "HEALTHY", NULL};
    const char *tenant = NULL, *datacenter = NULL, *label = NULL;
    bool healthy = false;
    struct ctl_opt opts[] = {
        {"healthy", 0, CTL_OPT_BOOL, &healthy},
        {"tenant", 0, CTL_OPT_STR, &tenant},
        {"datacenter", 0, CTL_OPT_STR, &datacenter},
        {"label", 'l', CTL_OPT_STR, &label},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct ctl_buf q = {0};
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *s;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, ls_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (healthy)
        add_query(&q, "healthy", "");
    add_query(&q, "tenant", tenant);
    add_query(&q, "datacenter", datacenter);
    add_query(&q, "label", label);
    path = with_query("/v1/discovery/services", &q);
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
    json_array_foreach(ctl_jget(reply.json, "services"), i, s)
    {
        json_t *instances = ctl_jget(s, "instances");
        char *revision = int_or_empty(s, "revision"), *replicas = discovery_replicas(s);

        ctl_table_cell(&table, ctl_jstr(s, "name"));
        ctl_table_cell(&table, ctl_jstr(s, "tenant"));
        ctl_table_cell(&table, ctl_jstr(s, "cluster"));
        ctl_table_cell(&table, ctl_jstr(s, "datacenter"));
        ctl_table_cell(&table, revision);
        ctl_table_cell(&table, replicas);
        ctl_table_cellf(&table, "%zu", json_array_size(instances));
        ctl_table_cellf(&table, "%zu", count_healthy(instances));
        free(revision);
        free(replicas);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* "8080->8080/tcp,9090->90/udp": an instance's host-mode ports, each once (the
 * engine may report a port twice, once per address family). */
static char *instance_ports(json_t *ports)
{
    struct ctl_buf b = {0};
    size_t i;
    json_t *p;

    json_array_foreach(ports, i, p)
    {
        const char *protocol = ctl_jstr(p, "protocol");
        char *item = xasprintf("%lld->%lld/%s", (long long)ctl_jint(p, "published", 0),
                               (long long)ctl_jint(p, "target", 0), *protocol ? protocol : "tcp");
        bool seen = false;

        for (const char *at = b.s; at && !seen && (at = strstr(at, item)); at += strlen(item))
            seen = (at == b.s || at[-1] == ',') && (at[strlen(item)] == ',' || !at[strlen(item)]);
        if (!seen)
            ctl_buf_add(&b, ",", item);
        free(item);
    }
    return ctl_buf_take(&b);
}

static char *instance_addresses(json_t *addresses)
{
    struct ctl_buf b = {0};
    size_t i;
    json_t *a;

    json_array_foreach(addresses, i, a) ctl_buf_add(&b, ",", ctl_jstr(a, "address"));
    return ctl_buf_take(&b);
}

static char *join_labels(json_t *labels)
{
    struct ctl_buf b = {0};
    const char *key;
    json_t *v;

    json_object_foreach(labels, key, v)
        ctl_buf_addf(&b, ",", "%s=%s", key, json_is_string(v) ? json_string_value(v) : "");
    return ctl_buf_take(&b);
}

static void print_discovery_service(json_t *s)
{
    static const char *const headers[] = {"TASK",    "SLOT",     "NODE",   "HOST",  "STATE",     "DESIRED",
                                          "HEALTHY", "REVISION", "CANARY", "PORTS", "ADDRESSES", NULL};
    json_t *instances = ctl_jget(s, "instances"), *in;
    char *revision = int_or_empty(s, "revision"), *replicas = discovery_replicas(s);
    char *labels = join_labels(ctl_jget(s, "labels"));
    struct ctl_table table;
    size_t i;

    ctl_kv("name", ctl_jstr(s, "name"));
    ctl_kv("tenant", ctl_jstr(s, "tenant"));
    ctl_kv("cluster", ctl_jstr(s, "cluster"));
    ctl_kv("datacenter", ctl_jstr(s, "datacenter"));
    ctl_kv("mode", ctl_jstr(s, "mode"));
    ctl_kv("replicas", replicas);
    ctl_kv("revision", revision);
    ctl_kv("labels", labels);
    ctl_kvf("instances", "%zu (%zu healthy)", json_array_size(instances), count_healthy(instances));
    ctl_kvf("modify_index", "%lld", (long long)ctl_jint(s, "modify_index", 0));
    free(revision);
    free(replicas);
    free(labels);
    if (!json_array_size(instances))
        return;

    putchar('\n');
    ctl_table_init(&table, headers);
    json_array_foreach(instances, i, in)
    {
        char *task = ctl_short_id(ctl_jstr(in, "task_id"), 12), *slot = int_or_empty(in, "slot");
        char *node_id = ctl_short_id(ctl_jstr(in, "node_id"), 12), *rev = int_or_empty(in, "revision");
        char *ports = instance_ports(ctl_jget(in, "ports")),
             *addresses = instance_addresses(ctl_jget(in, "addresses"));

        ctl_table_cell(&table, task);
        ctl_table_cell(&table, slot);
        ctl_table_cell(&table, *ctl_jstr(in, "node") ? ctl_jstr(in, "node") : node_id);
        ctl_table_cell(&table, ctl_jstr(in, "host_addr"));
        ctl_table_cell(&table, ctl_jstr(in, "state"));
        ctl_table_cell(&table, ctl_jstr(in, "desired_state"));
        ctl_table_cell(&table, json_is_true(ctl_jget(in, "healthy")) ? "yes" : "no");
        ctl_table_cell(&table, rev);
        ctl_table_cell(&table, json_is_true(ctl_jget(in, "canary")) ? "yes" : "no");
        ctl_table_cell(&table, ports);
        ctl_table_cell(&table, addresses);
        free(task);
        free(slot);
        free(node_id);
        free(rev);
        free(ports);
        free(addresses);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
}

/* "/v1/discovery/services/<name>", the name escaped. */
static char *discovery_path(const char *name)
{
    char *esc = ctl_http_escape(name);
    char *path = xasprintf("/v1/discovery/services/%s", esc);

    free(esc);
    return path;
}

static int discovery_get(struct ctl *ctl, int argc, char **argv)
{
    const char *format = NULL;
    bool healthy = false;
    struct ctl_opt opts[] = {
        {"healthy", 0, CTL_OPT_BOOL, &healthy},
        {"format", 0, CTL_OPT_STR, &format},
        {NULL, 0, 0, NULL},
    };
    struct ctl_http_reply reply;
    struct ctl_buf q = {0};
    struct ctl_args args;
    char *base, *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, get_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    if (format && strcmp(format, "docker") != 0 && strcmp(format, "eagle") != 0) {
        ctl_args_release(&args);
        return ctl_usage_error(get_usage, "--format '%s': expected docker or eagle", format);
    }
    if (format && strcmp(format, "eagle") == 0)
        format = NULL;
    if (healthy)
        add_query(&q, "healthy", "");
    add_query(&q, "format", format);
    base = discovery_path(args.pos[0]);
    path = with_query(base, &q);
    free(base);
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON || format) /* Docker's object has no table form */
        ctl_print_reply(&reply);
    else
        print_discovery_service(reply.json);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* Can waiting mend this error? No answer, or the server's trouble: yes. */
static bool transient(const struct eagle_err *err)
{
    return err->status == 0 || err->status >= 500;
}

/* "running 3, ready 1": how many instances are in each state, in order of first sight. */
static char *count_states(json_t *instances)
{
    json_t *counts = json_object(), *in, *n;
    struct ctl_buf b = {0};
    const char *state;
    size_t i;

    json_array_foreach(instances, i, in)
    {
        state = *ctl_jstr(in, "state") ? ctl_jstr(in, "state") : "unknown";
        n = json_object_get(counts, state);
        json_object_set_new(counts, state, json_integer(n ? json_integer_value(n) + 1 : 1));
    }
    json_object_foreach(counts, state, n)
        ctl_buf_addf(&b, ", ", "%s %lld", state, (long long)json_integer_value(n));
    json_decref(counts);
    return ctl_buf_take(&b);
}

/* "instances 4 (running 3, ready 1)  healthy 3  revision 4  canary 1" (a new string). */
static char *watch_summary(json_t *s)
{
    json_t *instances = ctl_jget(s, "instances");
    char *revision = int_or_empty(s, "revision"), *states = count_states(instances);
    size_t canary = count_canary(instances);
    struct ctl_buf b = {0};

    ctl_buf_addf(&b, "", "instances %zu", json_array_size(instances));
    if (*states)
        ctl_buf_addf(&b, " ", "(%s)", states);
    ctl_buf_addf(&b, "  ", "healthy %zu  revision %s", count_healthy(instances), *revision ? revision : "-");
    if (canary)
        ctl_buf_addf(&b, "  ", "canary %zu", canary);
    free(revision);
    free(states);
    return ctl_buf_take(&b);
}

static void print_watch_line(const char *name, const char *what)
{
    char now[32];

    eagle_now_rfc3339(now, sizeof(now));
    printf("%s  %s  %s\n", now, name, what);
}

static int discovery_watch(struct ctl *ctl, int argc, char **argv)
{
    bool healthy = false;
    struct ctl_opt opts[] = {{"healthy", 0, CTL_OPT_BOOL, &healthy}, {NULL, 0, 0, NULL}};
    bool first = true, absent = false;
    unsigned backoff = BACKOFF_MIN;
    struct ctl_args args;
    uint64_t index = 0;
    char *base, *name, *last = NULL;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, watch_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    name = ctl_sanitize(args.pos[0]);
    base = discovery_path(args.pos[0]);
    ctl_args_release(&args);
    ctl->timeout = WATCH_TIMEOUT;
    for (;;) {
        struct ctl_http_reply reply;
        struct eagle_err err = {0};
        char *path = xasprintf("%s?index=%llu&wait=%s%s", base, (unsigned long long)index, WATCH_WAIT,
                               healthy ? "&healthy" : "");

        rc = ctl_request(ctl, "GET", path, NULL, true, &reply, &err);
        free(path);
        if (rc == 0 || err.status == 404) {
            if (backoff > BACKOFF_MIN)
                fprintf(stderr, "eaglectl: reconnected to %s\n", ctl->endpoint);
            backoff = BACKOFF_MIN;
        }
        if (rc == 0) {
            char *summary = watch_summary(reply.json);

            if (ctl->output == CTL_OUTPUT_JSON &&
                (first || absent || !reply.has_index || reply.index != index))
                ctl_print_json_line(stdout, reply.body, reply.len);
            else if (ctl->output == CTL_OUTPUT_TABLE && (!last || strcmp(last, summary) != 0))
                print_watch_line(name, summary);
            fflush(stdout);
            free(last);
            last = summary;
            absent = false;
        } else if (err.status == 404) {
            if (first || !absent) {
                if (ctl->output == CTL_OUTPUT_JSON)
                    ctl_print_err(ctl, &err);
                else
                    print_watch_line(name, "not in the catalog");
                fflush(stdout);
            }
            free(last);
            last = NULL;
            absent = true;
        } else if (!first && transient(&err)) {
            ctl_print_err(ctl, &err);
            fprintf(stderr, "eaglectl: retrying in %u s\n", backoff);
            sleep(backoff);
            backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
            continue;
        } else {
            ctl_print_err(ctl, &err);
            break;
        }
        first = false;
        if (reply.has_index) {
            index = reply.index;
        } else { /* nothing to block on (a proxy ate the header?): poll instead */
            index = 0;
            sleep(BACKOFF_MIN);
        }
        ctl_http_reply_release(&reply);
    }
    free(base);
    free(name);
    free(last);
    return CTL_EXIT_FAIL;
}

int ctl_cmd_discovery(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"ls", discovery_ls},       {"list", discovery_ls},     {"get", discovery_get},
        {"inspect", discovery_get}, {"watch", discovery_watch},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), discovery_usage);
}

/* What `events` keeps between frames and across reconnections. */
struct events_run {
    struct ctl *ctl;
    struct ctl_sse sse;
    char last_id[32]; /* the id of the last event handled; "" before the first */
    bool too_long;
    bool reconnecting; /* say so when the stream answers again */
};

/* One value of an event's details: strings as they are (quoted when they hold
 * spaces; task and node ids cut to 12), others as JSON. A new string or NULL. */
static char *detail_value(const char *key, json_t *v)
{
    const char *s;

    if (json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    s = json_string_value(v);
    if (strcmp(key, "task") == 0 || strcmp(key, "node") == 0)
        return ctl_short_id(s, 12);
    if (strchr(s, ' '))
        return xasprintf("\"%s\"", s);
    return xstrdup(s);
}

/* "cluster=bj1 tenant=cdn task=3afyq22jxwq1 running -> failed": every field but
 * those in their own columns, then the transition. */
static char *event_details(json_t *e)
{
    static const char *const own[] = {"id", "time", "type", "action", "service", "from", "to", NULL};
    const char *from = ctl_jstr(e, "from"), *to = ctl_jstr(e, "to"), *key;
    struct ctl_buf b = {0};
    json_t *v;

    json_object_foreach(e, key, v)
    {
        bool skip = false;
        char *value;

        for (size_t i = 0; own[i] && !skip; i++)
            skip = strcmp(own[i], key) == 0;
        if (skip || !(value = detail_value(key, v)))
            continue;
        ctl_buf_addf(&b, " ", "%s=%s", key, value);
        free(value);
    }
    if (*from || *to)
        ctl_buf_addf(&b, " ", "%s%s->%s%s", from, *from ? " " : "", *to ? " " : "", to);
    return ctl_buf_take(&b);
}

static void print_event(json_t *e, const char *id)
{
    char *details = event_details(e), *line;
    json_t *jid = ctl_jget(e, "id");
    char idbuf[32];

    if (json_is_integer(jid))
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(jid));
    else
        snprintf(idbuf, sizeof(idbuf), "%s", id ? id : "-");
    line = xasprintf("%-6s %-20s  %-7s  %-10s  %-16s  %s", idbuf, ctl_jstr(e, "time"), ctl_jstr(e, "type"),
                     ctl_jstr(e, "action"), *ctl_jstr(e, "service") ? ctl_jstr(e, "service") : "-", details);
    free(details);
    details = ctl_sanitize(line);
    printf("%s\n", details);
    free(details);
    free(line);
}

static int on_event(const char *event, const char *id, const char *data, void *userdata)
{
    struct events_run *run = userdata;
    json_t *e;

    if (strcmp(event, "reset") == 0) { /* events were dropped before we could read them */
        e = json_loads(data, 0, NULL);
        char *why = ctl_sanitize(*ctl_jstr(e, "error") ? ctl_jstr(e, "error") : data);
        fprintf(stderr, "eaglectl: warning: %s\n", why);
        free(why);
        json_decref(e);
        return 0;
    }
    if (run->ctl->output == CTL_OUTPUT_JSON) {
        ctl_print_json_line(stdout, data, strlen(data));
    } else if ((e = json_loads(data, 0, NULL))) {
        print_event(e, id);
        json_decref(e);
    } else {
        char *text = ctl_sanitize(data);
        printf("%-6s %s\n", id ? id : "-", text);
        free(text);
    }
    fflush(stdout);
    if (id && *id && strspn(id, "0123456789") == strlen(id))
        snprintf(run->last_id, sizeof(run->last_id), "%s", id);
    return 0;
}

static int on_stream_data(const char *data, size_t len, void *userdata)
{
    struct events_run *run = userdata;

    if (run->reconnecting) {
        fprintf(stderr, "eaglectl: reconnected to %s\n", run->ctl->endpoint);
        run->reconnecting = false;
    }
    return ctl_sse_feed(&run->sse, data, len, &run->too_long);
}

int ctl_cmd_events(struct ctl *ctl, int argc, char **argv)
{
    const char *types = NULL, *service = NULL, *tenant = NULL, *since = NULL;
    struct ctl_opt opts[] = {
        {"type", 't', CTL_OPT_STR, &types},
        {"service", 's', CTL_OPT_STR, &service},
        {"tenant", 0, CTL_OPT_STR, &tenant},
        {"since-id", 0, CTL_OPT_STR, &since},
        {NULL, 0, 0, NULL},
    };
    struct events_run run;
    struct ctl_buf q = {0};
    struct ctl_args args;
    bool connected = false;
    unsigned backoff = BACKOFF_MIN;
    long long n;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, events_usage, 0, 0, false, &args)) != CTL_CONTINUE)
        return rc;
    ctl_args_release(&args);
    if (since && ctl_parse_int(since, 0, (long long)1 << 62, &n) < 0)
        return ctl_usage_error(events_usage, "--since-id '%s': expected an event id (a whole number)", since);
    memset(&run, 0, sizeof(run));
    run.ctl = ctl;
    if (since)
        snprintf(run.last_id, sizeof(run.last_id), "%lld", n);
    add_query(&q, "type", types);
    add_query(&q, "service", service);
    add_query(&q, "tenant", tenant);
    path = with_query("/v1/events", &q);

    for (;;) {
        struct eagle_err err = {0};
        char *resume = run.last_id[0] ? xasprintf("Last-Event-ID: %s", run.last_id) : NULL;
        const char *headers[] = {resume, NULL};

        ctl_sse_init(&run.sse, on_event, &run);
        rc = ctl_stream(ctl, path, headers, on_stream_data, &run, &err);
        ctl_sse_release(&run.sse);
        free(resume);
        if (rc == 1) { /* stopped: the stream is not what it should be */
            fprintf(stderr, "eaglectl: the event stream sent a line longer than %u KiB\n",
                    CTL_SSE_MAX_LINE >> 10);
            break;
        }
        if (rc < 0 && !(connected && transient(&err))) {
            ctl_print_err(ctl, &err);
            break;
        }
        if (rc == 0) {
            connected = true;
            backoff = BACKOFF_MIN;
        }
        ctl_print_err(NULL, &err);
        if (run.last_id[0])
            fprintf(stderr, "eaglectl: reconnecting in %u s, after event %s\n", backoff, run.last_id);
        else
            fprintf(stderr, "eaglectl: reconnecting in %u s\n", backoff);
        run.reconnecting = true;
        sleep(backoff);
        if (rc < 0)
            backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    free(path);
    return CTL_EXIT_FAIL;
}
