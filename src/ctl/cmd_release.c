/*
 * cmd_release.c — `eaglectl release ...`: rolling and canary releases of a
 * service, and following one live.
 *
 * `release watch` polls the release every 500 ms. On a terminal it redraws one
 * line (carriage return, then clear to the end of the line), cut to the
 * terminal's width so that it never wraps; elsewhere it prints a line each time
 * the progress changes. It exits 0 when the release succeeds and 1 when it ends
 * otherwise (rolled back, aborted, failed), after printing the final message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/specflags.h"

#define WATCH_INTERVAL_MS 500
#define BAR_WIDTH 20
#define RETRY_MAX_S 10 /* a watch rides out a server restart, retrying up to every 10 s */

static const char release_usage[] =
    "Usage: eaglectl release COMMAND\n"
    "\n"
    "Roll a service to a new spec, all at once (rolling, gated on health) or by steps\n"
    "(canary: a few tasks of the new revision first, then more, then promote).\n"
    "\n"
    "Commands:\n"
    "  start SERVICE --strategy rolling|canary (--image IMG | --revision R | -f SPEC) [...]\n"
    "                       start a release\n"
    "  ls SERVICE           list a service's releases\n"
    "  get ID               show a release\n"
    "  promote ID           promote a canary that waits for it\n"
    "  abort ID             stop a release and go back to the previous revision\n"
    "  watch ID             follow a release until it ends\n"
    "\n"
    "Run 'eaglectl release COMMAND --help' for more.\n";

static const char start_usage[] =
    "Usage: eaglectl release start SERVICE [--strategy rolling|canary]\n"
    "                              (--image IMG | --revision R | -f SPEC) [options]\n"
    "\n"
    "Start a release of SERVICE towards a new spec: the current one with another image,\n"
    "an earlier revision's, or a whole JSON spec (\"-\" = stdin).\n"
    "\n"
    "Options:\n"
    "  --strategy S          rolling (default) or canary\n"
    "  --image IMG           the current spec with this image\n"
    "  --revision R          the spec of earlier revision R\n"
    "  -f, --file SPEC       a whole spec (a JSON file)\n"
    "  --min-healthy D       how long each step must stay healthy (10s canary, 5s rolling)\n"
    "  --deadline D          a step not healthy by then rolls back (default 5m)\n"
    "  --watch               follow the release until it ends (see 'release watch')\n"
    "canary:\n"
    "  --steps LIST          tasks of the new revision per step, counts or percentages:\n"
    "                        1,25%,50%,100% (default: 1)\n"
    "  --auto-promote        promote after the last step instead of waiting for 'promote'\n"
    "rolling:\n"
    "  --parallelism N       tasks updated at once (0 = all; default 1)\n"
    "  --delay D             pause between batches (default 0s)\n"
    "  --order O             start-first (default) or stop-first\n";

static const char ls_usage[] =
    "Usage: eaglectl release ls SERVICE\n"
    "\n"
    "List a service's releases: ID STRATEGY STATE STEP REVISIONS HEALTHY CREATED BY MESSAGE.\n";

static const char get_usage[] = "Usage: eaglectl release get ID\n"
                                "\n"
                                "Show a release as \"key: value\" lines ('-o json' for the whole of it).\n";

static const char promote_usage[] =
    "Usage: eaglectl release promote ID\n"
    "\n"
    "Promote a canary release: every task moves to the new revision. A canary\n"
    "without --auto-promote waits for this after its last step.\n";

static const char abort_usage[] = "Usage: eaglectl release abort ID\n"
                                  "\n"
                                  "Abort a release: the service goes back to the revision it had before.\n";

static const char watch_usage[] =
    "Usage: eaglectl release watch ID\n"
    "\n"
    "Follow a release until it ends: on a terminal one line redrawn in place, with a\n"
    "progress bar; otherwise a line each time the progress changes ('-o json': the\n"
    "release on one line). Exits 0 when the release succeeds, 1 when it is rolled\n"
    "back, aborted or failed.\n";

/* "/v1/releases/<id><suffix>", the id escaped. */
static char *release_path(const char *id, const char *suffix)
{
    char *esc = ctl_http_escape(id);
    char *path = xasprintf("/v1/releases/%s%s", esc, suffix);

    free(esc);
    return path;
}

/* "/v1/services/<name>/releases", the name escaped. */
static char *service_releases_path(const char *name)
{
    char *esc = ctl_http_escape(name);
    char *path = xasprintf("/v1/services/%s/releases", esc);

    free(esc);
    return path;
}

/* --steps "1,25%,100%" as [1, "25%", "100%"]; NULL when an item is neither. */
static json_t *parse_steps(const char *s)
{
    char *copy = xstrdup(s), *p = copy;
    json_t *steps = json_array();

    for (;;) {
        char *comma = strchr(p, ','), *pc;
        long long n;

        if (comma)
            *comma = 0;
        pc = strchr(p, '%');
        if (pc && pc[1] == 0) {
            *pc = 0;
            if (ctl_parse_int(p, 1, 100, &n) < 0)
                goto bad;
            json_array_append_new(steps, json_sprintf("%lld%%", n));
        } else if (ctl_parse_int(p, 1, 1000000, &n) == 0) {
            json_array_append_new(steps, json_integer(n));
        } else {
            goto bad;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    free(copy);
    return steps;
bad:
    free(copy);
    json_decref(steps);
    return NULL;
}

static bool is_duration(const char *s)
{
    int64_t ns;

    return eagle_parse_duration(s, &ns) == 0;
}

static bool terminal_state(const char *state)
{
    return strcmp(state, "succeeded") == 0 || strcmp(state, "rolled_back") == 0 ||
           strcmp(state, "aborted") == 0 || strcmp(state, "failed") == 0;
}

static bool is_canary(json_t *r)
{
    return strcmp(ctl_jstr(r, "strategy"), "canary") == 0;
}

static long long steps_total(json_t *r)
{
    json_int_t n = ctl_jint(r, "progress.steps_total", 0);

    return n > 0 ? n : (long long)json_array_size(ctl_jget(r, "plan.canary.steps"));
}

/* How far along, from 0 to 1: a canary's steps and its promotion, a rolling
 * release's healthy tasks. */
static double progress_fraction(json_t *r)
{
    const char *state = ctl_jstr(r, "state");
    double healthy = (double)ctl_jint(r, "progress.tasks_healthy", 0);
    double want = (double)ctl_jint(r, "progress.tasks_total", 0);
    double within = want > 0 ? (healthy < want ? healthy / want : 1.0) : 0.0;
    long long steps = steps_total(r), step = ctl_jint(r, "step", 1);

    if (strcmp(state, "succeeded") == 0)
        return 1.0;
    if (!is_canary(r))
        return within;
    if (steps < 1)
        return 0.0;
    if (strcmp(state, "waiting_promotion") == 0 || strcmp(state, "promoting") == 0)
        return (double)steps / (double)(steps + 1);
    if (strcmp(state, "pending") == 0)
        return 0.0;
    return ((double)(step - 1) + within) / (double)(steps + 1);
}

/* "[#########-----------] step 2/4  canary 2/2 healthy of 8  running  <message>",
 * the bar only when asked for. A new string, sanitised. */
static char *progress_line(json_t *r, bool bar)
{
    int filled = (int)(progress_fraction(r) * BAR_WIDTH + 0.5);
    struct ctl_buf b = {0};
    char *line, *clean;

    if (filled == BAR_WIDTH && strcmp(ctl_jstr(r, "state"), "succeeded") != 0)
        filled = BAR_WIDTH - 1; /* a full bar means done */
    if (is_canary(r))
        ctl_buf_addf(&b, "  ", "step %lld/%lld", (long long)ctl_jint(r, "step", 1), steps_total(r));
    if (json_is_integer(ctl_jget(r, "progress.tasks_total"))) {
        ctl_buf_addf(&b, "  ", "%s %lld/%lld healthy", is_canary(r) ? "canary" : "rolling",
                     (long long)ctl_jint(r, "progress.tasks_healthy", 0),
                     (long long)ctl_jint(r, "progress.tasks_total", 0));
        if (is_canary(r) && json_is_integer(ctl_jget(r, "spec.replicas")))
            ctl_buf_addf(&b, " ", "of %lld", (long long)ctl_jint(r, "spec.replicas", 0));
    }
    ctl_buf_add(&b, "  ", ctl_jstr(r, "state"));
    if (*ctl_jstr(r, "message"))
        ctl_buf_add(&b, "  ", ctl_jstr(r, "message"));
    line = ctl_buf_take(&b);
    if (bar) {
        char cells[BAR_WIDTH + 1];
        char *with_bar;

        for (int i = 0; i < BAR_WIDTH; i++)
            cells[i] = i < filled ? '#' : '-';
        cells[BAR_WIDTH] = 0;
        with_bar = xasprintf("[%s] %s", cells, line);
        free(line);
        line = with_bar;
    }
    clean = ctl_sanitize(line);
    free(line);
    return clean;
}

/* Cut `s` to at most `cols` characters (UTF-8 code points), in place. */
static void cut_to_width(char *s, size_t cols)
{
    size_t w = 0;

    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) == 0x80)
            continue;
        if (w++ == cols) {
            *p = 0;
            return;
        }
    }
}

static size_t terminal_width(void)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* Follow release `id` until it ends; see the file's comment. */
static int watch(struct ctl *ctl, const char *id)
{
    bool tty = ctl->output == CTL_OUTPUT_TABLE && isatty(STDOUT_FILENO), first = true, drawn = false;
    char *path = release_path(id, ""), *last = NULL;
    unsigned backoff = 1;
    int rc = CTL_EXIT_FAIL;

    for (;;) {
        struct ctl_http_reply reply;
        struct eagle_err err = {0};
        const char *state;
        char *line;

        if (ctl_request(ctl, "GET", path, NULL, true, &reply, &err) < 0) {
            if (drawn) {
                putchar('\n');
                drawn = false;
            }
            ctl_print_err(ctl, &err);
            if (first || (err.status != 0 && err.status < 500))
                break;
            fprintf(stderr, "eaglectl: retrying in %u s\n", backoff);
            sleep(backoff);
            backoff = backoff * 2 > RETRY_MAX_S ? RETRY_MAX_S : backoff * 2;
            continue;
        }
        first = false;
        backoff = 1;
        state = ctl_jstr(reply.json, "state");
        line = progress_line(reply.json, ctl->output == CTL_OUTPUT_TABLE);
        if (tty) {
            cut_to_width(line, terminal_width() - 1);
            printf("\r%s\033[K", line);
            drawn = true;
        } else if (!last || strcmp(last, line) != 0) {
            if (ctl->output == CTL_OUTPUT_JSON) {
                ctl_print_json_line(stdout, reply.body, reply.len);
            } else {
                char now[32];
                eagle_now_rfc3339(now, sizeof(now));
                printf("%s  %s\n", now, line);
            }
        }
        fflush(stdout);
        free(last);
        last = line;
        if (terminal_state(state)) {
            char *message = ctl_sanitize(ctl_jstr(reply.json, "message"));

            if (drawn)
                putchar('\n');
            if (ctl->output == CTL_OUTPUT_TABLE)
                printf("release %s %s (%s)\n", id, state, message);
            free(message);
            rc = strcmp(state, "succeeded") == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
            ctl_http_reply_release(&reply);
            break;
        }
        ctl_http_reply_release(&reply);
        sleep_ms(WATCH_INTERVAL_MS);
    }
    free(last);
    free(path);
    return rc;
}

static int release_watch(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args args;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, watch_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    rc = watch(ctl, args.pos[0]);
    ctl_args_release(&args);
    return rc;
}

/* What `release start` was given; pointers into argv. */
struct start_flags {
    const char *strategy, *image, *revision, *file, *steps, *min_healthy, *deadline, *parallelism, *delay,
        *order;
    bool auto_promote, watch;
};

/* The settings of the strategy ("canary" or "rolling" in the body) into `plan`.
 * Returns 0, or an exit status after a usage error. */
static int build_plan(const struct start_flags *f, bool canary, json_t *plan)
{
    long long n;

    if (f->min_healthy) {
        if (!is_duration(f->min_healthy))
            return ctl_usage_error(start_usage, "--min-healthy '%s': expected a duration such as 10s",
                                   f->min_healthy);
        json_object_set_new(plan, "min_healthy_time", json_string(f->min_healthy));
    }
    if (f->deadline) {
        if (!is_duration(f->deadline))
            return ctl_usage_error(start_usage, "--deadline '%s': expected a duration such as 2m",
                                   f->deadline);
        json_object_set_new(plan, "healthy_deadline", json_string(f->deadline));
    }
    if (canary) {
        if (f->parallelism || f->delay || f->order)
            return ctl_usage_error(start_usage,
                                   "--parallelism, --delay and --order are for rolling releases");
        if (f->steps) {
            json_t *steps = parse_steps(f->steps);
            if (!steps)
                return ctl_usage_error(start_usage,
                                       "--steps '%s': expected counts or percentages such as "
                                       "1,25%%,50%%,100%%",
                                       f->steps);
            json_object_set_new(plan, "steps", steps);
        }
        if (f->auto_promote)
            json_object_set_new(plan, "auto_promote", json_true());
        return 0;
    }
    if (f->steps || f->auto_promote)
        return ctl_usage_error(start_usage, "--steps and --auto-promote are for canary releases (--strategy "
                                            "canary)");
    if (f->parallelism) {
        if (ctl_parse_int(f->parallelism, 0, 1000, &n) < 0)
            return ctl_usage_error(start_usage, "--parallelism '%s': expected a whole number from 0 to 1000",
                                   f->parallelism);
        json_object_set_new(plan, "parallelism", json_integer(n));
    }
    if (f->delay) {
        if (!is_duration(f->delay))
            return ctl_usage_error(start_usage, "--delay '%s': expected a duration such as 5s", f->delay);
        json_object_set_new(plan, "delay", json_string(f->delay));
    }
    if (f->order) {
        if (strcmp(f->order, "start-first") != 0 && strcmp(f->order, "stop-first") != 0)
            return ctl_usage_error(start_usage, "--order '%s': expected start-first or stop-first", f->order);
        json_object_set_new(plan, "order", json_string(f->order));
    }
    return 0;
}

/* The target: {"image": ...}, {"revision": R} or {"spec": {...}} into `body`. */
static int set_target(const struct start_flags *f, const char *service, json_t *body)
{
    struct eagle_err err = {0};
    json_t *v;
    long long n;

    if (!!f->image + !!f->revision + !!f->file != 1)
        return ctl_usage_error(start_usage, "give one of --image, --revision or -f SPEC");
    if (f->image) {
        if (!(v = json_string(f->image)))
            return ctl_usage_error(start_usage, "--image: not valid UTF-8");
        json_object_set_new(body, "image", v);
    } else if (f->revision) {
        if (ctl_parse_int(f->revision, 1, (long long)1 << 53, &n) < 0)
            return ctl_usage_error(start_usage, "--revision '%s': expected a positive whole number",
                                   f->revision);
        json_object_set_new(body, "revision", json_integer(n));
    } else {
        const char *name;

        if (!(v = ctl_read_json_object(f->file, &err))) {
            fprintf(stderr, "eaglectl: %s\n", err.msg);
            return CTL_EXIT_FAIL;
        }
        name = ctl_jstr(v, "name");
        if (*name && strcmp(name, service) != 0) {
            fprintf(stderr, "eaglectl: the spec in %s names another service than '%s'\n",
                    strcmp(f->file, "-") == 0 ? "stdin" : f->file, service);
            json_decref(v);
            return CTL_EXIT_FAIL;
        }
        json_object_set_new(body, "spec", v);
    }
    return 0;
}

static int release_start(struct ctl *ctl, int argc, char **argv)
{
    struct start_flags f = {0};
    struct ctl_opt opts[] = {
        {"strategy", 0, CTL_OPT_STR, &f.strategy},
        {"image", 0, CTL_OPT_STR, &f.image},
        {"revision", 'r', CTL_OPT_STR, &f.revision},
        {"file", 'f', CTL_OPT_STR, &f.file},
        {"steps", 0, CTL_OPT_STR, &f.steps},
        {"min-healthy", 0, CTL_OPT_STR, &f.min_healthy},
        {"deadline", 0, CTL_OPT_STR, &f.deadline},
        {"auto-promote", 0, CTL_OPT_BOOL, &f.auto_promote},
        {"parallelism", 0, CTL_OPT_STR, &f.parallelism},
        {"delay", 0, CTL_OPT_STR, &f.delay},
        {"order", 0, CTL_OPT_STR, &f.order},
        {"watch", 'w', CTL_OPT_BOOL, &f.watch},
        {NULL, 0, 0, NULL},
    };
    json_t *body = NULL, *plan = json_object();
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path = NULL, *id = NULL;
    bool canary;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, opts, start_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        goto out_plan;
    if (!f.strategy)
        f.strategy = "rolling";
    if (strcmp(f.strategy, "rolling") != 0 && strcmp(f.strategy, "canary") != 0) {
        rc = ctl_usage_error(start_usage, "--strategy '%s': expected rolling or canary", f.strategy);
        goto out;
    }
    canary = strcmp(f.strategy, "canary") == 0;
    if ((rc = build_plan(&f, canary, plan)) != 0)
        goto out;
    body = json_pack("{s:s}", "strategy", f.strategy);
    if ((rc = set_target(&f, args.pos[0], body)) != 0)
        goto out;
    if (json_object_size(plan))
        json_object_set(body, f.strategy, plan);

    rc = CTL_EXIT_FAIL;
    path = service_releases_path(args.pos[0]);
    if (ctl_call(ctl, "POST", path, body, &reply) < 0)
        goto out;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        printf("release %s of service '%s' started (%s, revision %lld -> %lld)\n", ctl_jstr(reply.json, "id"),
               ctl_jstr(reply.json, "service"), ctl_jstr(reply.json, "strategy"),
               (long long)ctl_jint(reply.json, "from_revision", 0),
               (long long)ctl_jint(reply.json, "to_revision", 0));
    fflush(stdout);
    id = xstrdup(ctl_jstr(reply.json, "id"));
    ctl_http_reply_release(&reply);
    rc = f.watch && *id ? watch(ctl, id) : CTL_EXIT_OK;
out:
    free(id);
    free(path);
    json_decref(body);
    ctl_args_release(&args);
out_plan:
    json_decref(plan);
    return rc;
}

/* "2/4" for a canary's step, "" for a rolling release. */
static char *step_of(json_t *r)
{
    if (!is_canary(r))
        return xstrdup("");
    return xasprintf("%lld/%lld", (long long)ctl_jint(r, "step", 1), steps_total(r));
}

static char *healthy_of(json_t *r)
{
    if (!json_is_integer(ctl_jget(r, "progress.tasks_total")))
        return xstrdup("");
    return xasprintf("%lld/%lld", (long long)ctl_jint(r, "progress.tasks_healthy", 0),
                     (long long)ctl_jint(r, "progress.tasks_total", 0));
}

static int release_ls(struct ctl *ctl, int argc, char **argv)
{
    static const char *const headers[] = {"ID",      "STRATEGY", "STATE", "STEP",    "REVISIONS",
                                          "HEALTHY", "CREATED",  "BY",    "MESSAGE", NULL};
    struct ctl_http_reply reply;
    struct ctl_table table;
    struct ctl_args args;
    char *path;
    size_t i;
    json_t *r;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, ls_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = service_releases_path(args.pos[0]);
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
        char *step = step_of(r), *healthy = healthy_of(r), *age = ctl_format_age(ctl_jstr(r, "created_at"));

        ctl_table_cell(&table, ctl_jstr(r, "id"));
        ctl_table_cell(&table, ctl_jstr(r, "strategy"));
        ctl_table_cell(&table, ctl_jstr(r, "state"));
        ctl_table_cell(&table, step);
        ctl_table_cellf(&table, "%lld->%lld", (long long)ctl_jint(r, "from_revision", 0),
                        (long long)ctl_jint(r, "to_revision", 0));
        ctl_table_cell(&table, healthy);
        ctl_table_cell(&table, age);
        ctl_table_cell(&table, ctl_jstr(r, "created_by"));
        ctl_table_cell(&table, ctl_jstr(r, "message"));
        free(step);
        free(healthy);
        free(age);
    }
    ctl_table_print(&table, stdout);
    ctl_table_release(&table);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* A duration in ms as "10s", "2m", "1500ms". */
static char *format_ms(json_int_t ms)
{
    if (ms % 60000 == 0 && ms > 0)
        return xasprintf("%lldm", (long long)(ms / 60000));
    if (ms % 1000 == 0)
        return xasprintf("%llds", (long long)(ms / 1000));
    return xasprintf("%lldms", (long long)ms);
}

/* "steps=1,25%,100% min_healthy=10s deadline=5m auto_promote=false" */
static char *plan_summary(json_t *r)
{
    json_t *plan = ctl_jget(r, is_canary(r) ? "plan.canary" : "plan.rolling"), *step;
    char *min = format_ms(ctl_jint(plan, "min_healthy_ms", 0));
    char *deadline = format_ms(ctl_jint(plan, "healthy_deadline_ms", 0));
    struct ctl_buf b = {0}, steps = {0};
    size_t i;

    if (is_canary(r)) {
        json_array_foreach(ctl_jget(plan, "steps"), i, step)
        {
            if (json_is_string(step))
                ctl_buf_add(&steps, ",", json_string_value(step));
            else
                ctl_buf_addf(&steps, ",", "%lld", (long long)json_integer_value(step));
        }
        char *list = ctl_buf_take(&steps);
        ctl_buf_addf(&b, " ", "steps=%s min_healthy=%s deadline=%s auto_promote=%s", list, min, deadline,
                     json_is_true(ctl_jget(plan, "auto_promote")) ? "true" : "false");
        free(list);
    } else {
        char *delay = format_ms(ctl_jint(plan, "delay_ms", 0));
        ctl_buf_addf(&b, " ", "parallelism=%lld delay=%s order=%s min_healthy=%s deadline=%s",
                     (long long)ctl_jint(plan, "parallelism", 0), delay, ctl_jstr(plan, "order"), min,
                     deadline);
        free(delay);
    }
    free(min);
    free(deadline);
    return ctl_buf_take(&b);
}

static void print_release(json_t *r)
{
    char *plan = plan_summary(r), *step = step_of(r), *healthy = healthy_of(r);

    ctl_kv("id", ctl_jstr(r, "id"));
    ctl_kv("service", ctl_jstr(r, "service"));
    ctl_kv("tenant", ctl_jstr(r, "tenant"));
    ctl_kv("strategy", ctl_jstr(r, "strategy"));
    ctl_kv("state", ctl_jstr(r, "state"));
    if (*step)
        ctl_kv("step", step);
    ctl_kvf("revisions", "%lld -> %lld", (long long)ctl_jint(r, "from_revision", 0),
            (long long)ctl_jint(r, "to_revision", 0));
    if (*healthy)
        ctl_kv("healthy", healthy);
    ctl_kv("image", ctl_jstr(r, "spec.image"));
    ctl_kv("plan", plan);
    ctl_kv("message", ctl_jstr(r, "message"));
    if (json_is_true(ctl_jget(r, "promote_requested")))
        ctl_kv("promote_requested", "true");
    if (json_is_true(ctl_jget(r, "abort_requested")))
        ctl_kv("abort_requested", "true");
    ctl_kv("created_at", ctl_jstr(r, "created_at"));
    ctl_kv("created_by", ctl_jstr(r, "created_by"));
    ctl_kv("updated_at", ctl_jstr(r, "updated_at"));
    free(plan);
    free(step);
    free(healthy);
}

static int release_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, get_usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    path = release_path(args.pos[0], "");
    ctl_args_release(&args);
    rc = ctl_call(ctl, "GET", path, NULL, &reply);
    free(path);
    if (rc < 0)
        return CTL_EXIT_FAIL;
    if (ctl->output == CTL_OUTPUT_JSON)
        ctl_print_reply(&reply);
    else
        print_release(reply.json);
    ctl_http_reply_release(&reply);
    return CTL_EXIT_OK;
}

/* promote or abort: POST /v1/releases/{id}/<what>. */
static int request(struct ctl *ctl, int argc, char **argv, const char *what, const char *usage)
{
    struct ctl_http_reply reply;
    struct ctl_args args;
    char *suffix, *path;
    int rc;

    if ((rc = ctl_args_parse(ctl, argc, argv, NULL, usage, 1, 1, false, &args)) != CTL_CONTINUE)
        return rc;
    suffix = xasprintf("/%s", what);
    path = release_path(args.pos[0], suffix);
    free(suffix);
    rc = ctl_call(ctl, "POST", path, NULL, &reply) < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    free(path);
    if (rc == CTL_EXIT_OK) {
        if (ctl->output == CTL_OUTPUT_JSON)
            ctl_print_reply(&reply);
        else
            printf("release %s: %s requested (state %s)\n", ctl_jstr(reply.json, "id"), what,
                   ctl_jstr(reply.json, "state"));
        ctl_http_reply_release(&reply);
    }
    ctl_args_release(&args);
    return rc;
}

static int release_promote(struct ctl *ctl, int argc, char **argv)
{
    return request(ctl, argc, argv, "promote", promote_usage);
}

static int release_abort(struct ctl *ctl, int argc, char **argv)
{
    return request(ctl, argc, argv, "abort", abort_usage);
}

int ctl_cmd_release(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_subcommand subs[] = {
        {"start", release_start}, {"ls", release_ls},       {"list", release_ls},
        {"get", release_get},     {"inspect", release_get}, {"promote", release_promote},
        {"abort", release_abort}, {"watch", release_watch},
    };

    return ctl_args_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), release_usage);
}
