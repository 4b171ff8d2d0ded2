/*
 * release.c — see release.h. Nothing here does I/O.
 */
#include "model/release.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *names[] = {"pending",     "running",     "waiting_promotion", "promoting", "succeeded",
                              "rolling_back", "rolled_back", "aborting",          "aborted",   "failed"};

const char *eagle_release_state_name(enum eagle_release_state s)
{
    return names[s];
}

int eagle_release_state_parse(const char *s)
{
    for (int i = 0; s && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

bool eagle_release_state_active(enum eagle_release_state s)
{
    return s != REL_SUCCEEDED && s != REL_ROLLED_BACK && s != REL_ABORTED && s != REL_FAILED;
}

static int get_duration_ms(const json_t *o, const char *parent, const char *key, int64_t def, int64_t max,
                           int64_t *out, struct eagle_err *err)
{
    json_t *v = json_object_get(o, key);
    int64_t ns;
    char field[64];

    *out = def;
    if (!v)
        return 0;
    snprintf(field, sizeof(field), "%s.%s", parent, key);
    if (!json_is_string(v) || eagle_parse_duration(json_string_value(v), &ns) < 0 || ns / 1000000 > max)
        return eagle_err_invalid(err, field, "'%s' must be a duration such as \"30s\" (at most %lld s)", field,
                                 (long long)(max / 1000));
    *out = ns / 1000000;
    return 0;
}

static int check_keys(const json_t *o, const char *parent, const char *const *keys, struct eagle_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        int ok = 0;
        for (int i = 0; keys[i] && !ok; i++)
            ok = strcmp(keys[i], k) == 0;
        if (!ok) {
            char field[96];
            snprintf(field, sizeof(field), "%s.%s", parent, k);
            return eagle_err_invalid(err, field, "unknown field '%s'", field);
        }
    }
    return 0;
}

int eagle_release_plan_from_json(const json_t *body, struct eagle_release_plan *p, struct eagle_err *err)
{
    static const char *const canary_keys[] = {"steps", "min_healthy_time", "healthy_deadline", "auto_promote", NULL};
    static const char *const rolling_keys[] = {"parallelism", "delay", "order", "min_healthy_time",
                                               "healthy_deadline", NULL};
    const char *strategy = json_string_value(json_object_get(body, "strategy"));
    json_t *o, *v;
    size_t i;

    memset(p, 0, sizeof(*p));
    if (!strategy || (strcmp(strategy, "rolling") && strcmp(strategy, "canary")))
        return eagle_err_invalid(err, "strategy", "strategy must be \"rolling\" or \"canary\"");
    p->canary = strcmp(strategy, "canary") == 0;
    if (p->canary && json_object_get(body, "rolling"))
        return eagle_err_invalid(err, "rolling", "'rolling' settings do not apply to a canary release");
    if (!p->canary && json_object_get(body, "canary"))
        return eagle_err_invalid(err, "canary", "'canary' settings do not apply to a rolling release");
    o = json_object_get(body, p->canary ? "canary" : "rolling");
    if (o && !json_is_object(o))
        return eagle_err_invalid(err, p->canary ? "canary" : "rolling", "must be an object");
    if (o && check_keys(o, p->canary ? "canary" : "rolling", p->canary ? canary_keys : rolling_keys, err) < 0)
        return -1;
    const char *parent = p->canary ? "canary" : "rolling";
    if (get_duration_ms(o, parent, "min_healthy_time", p->canary ? 10000 : 5000, 3600 * 1000, &p->min_healthy_ms,
                        err) < 0 ||
        get_duration_ms(o, parent, "healthy_deadline", 5 * 60 * 1000, 24 * 3600 * 1000, &p->healthy_deadline_ms,
                        err) < 0)
        return -1;
    if (p->healthy_deadline_ms <= p->min_healthy_ms)
        return eagle_err_invalid(err, "healthy_deadline", "healthy_deadline must be longer than min_healthy_time");
    if (!p->canary) {
        v = json_object_get(o, "parallelism");
        p->parallelism = 1;
        if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000))
            return eagle_err_invalid(err, "rolling.parallelism", "parallelism must be an integer from 0 to 1000");
        if (v)
            p->parallelism = json_integer_value(v);
        if (get_duration_ms(o, parent, "delay", 0, 3600 * 1000, &p->delay_ms, err) < 0)
            return -1;
        v = json_object_get(o, "order");
        snprintf(p->order, sizeof(p->order), "start-first");
        if (v) {
            const char *s = json_string_value(v);
            if (!s || (strcmp(s, "start-first") && strcmp(s, "stop-first")))
                return eagle_err_invalid(err, "rolling.order", "order must be \"start-first\" or \"stop-first\"");
            snprintf(p->order, sizeof(p->order), "%s", s);
        }
        return 0;
    }
    v = json_object_get(o, "auto_promote");
    if (v && !json_is_boolean(v))
        return eagle_err_invalid(err, "canary.auto_promote", "auto_promote must be true or false");
    p->auto_promote = v ? json_is_true(v) : false;
    v = json_object_get(o, "steps");
    if (!v) {
        p->n_steps = 1;
        p->steps[0].tasks = 1;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > EAGLE_RELEASE_MAX_STEPS)
        return eagle_err_invalid(err, "canary.steps", "steps must be a list of 1 to %d steps such as [1, \"25%%\", "
                                                      "\"100%%\"]",
                                 EAGLE_RELEASE_MAX_STEPS);
    json_t *s;
    json_array_foreach(v, i, s)
    {
        char field[32];
        snprintf(field, sizeof(field), "canary.steps[%zu]", i);
        if (json_is_integer(s) && json_integer_value(s) >= 1 && json_integer_value(s) <= 1000) {
            p->steps[i].tasks = (int)json_integer_value(s);
        } else if (json_is_string(s)) {
            char *end;
            long pc = strtol(json_string_value(s), &end, 10);
            if (end == json_string_value(s) || strcmp(end, "%") != 0 || pc < 1 || pc > 100)
                return eagle_err_invalid(err, field, "'%s' must be a task count or a percentage such as \"25%%\"",
                                         field);
            p->steps[i].percent = (int)pc;
        } else {
            return eagle_err_invalid(err, field, "'%s' must be a task count or a percentage such as \"25%%\"", field);
        }
    }
    p->n_steps = (int)json_array_size(v);
    return 0;
}

json_t *eagle_release_plan_to_json(const struct eagle_release_plan *p)
{
    char buf[32];
    if (!p->canary)
        return json_pack("{s:s, s:{s:I, s:I, s:s, s:I, s:I}}", "strategy", "rolling", "rolling", "parallelism",
                         (json_int_t)p->parallelism, "delay_ms", (json_int_t)p->delay_ms, "order", p->order,
                         "min_healthy_ms", (json_int_t)p->min_healthy_ms, "healthy_deadline_ms",
                         (json_int_t)p->healthy_deadline_ms);
    json_t *steps = json_array();
    for (int i = 0; i < p->n_steps; i++) {
        if (p->steps[i].percent) {
            snprintf(buf, sizeof(buf), "%d%%", p->steps[i].percent);
            json_array_append_new(steps, json_string(buf));
        } else {
            json_array_append_new(steps, json_integer(p->steps[i].tasks));
        }
    }
    return json_pack("{s:s, s:{s:o, s:I, s:I, s:b}}", "strategy", "canary", "canary", "steps", steps,
                     "min_healthy_ms", (json_int_t)p->min_healthy_ms, "healthy_deadline_ms",
                     (json_int_t)p->healthy_deadline_ms, "auto_promote", p->auto_promote);
}

int eagle_release_step_tasks(const struct eagle_release_plan *p, int step, int total)
{
    int n;
    if (step < 0 || step >= p->n_steps)
        step = p->n_steps - 1;
    if (p->steps[step].percent)
        n = (total * p->steps[step].percent + 99) / 100;
    else
        n = p->steps[step].tasks;
    if (n > total)
        n = total;
    return n < 1 ? 1 : n;
}

static void go(struct eagle_release_decision *d, enum eagle_release_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void go(struct eagle_release_decision *d, enum eagle_release_state s, const char *fmt, ...)
{
    va_list ap;
    d->state = s;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
}

void eagle_release_decide(const struct eagle_release_plan *p, const struct eagle_release_view *v,
                          struct eagle_release_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->state = v->state;
    d->step = v->step;
    d->step_started_ms = v->step_started_ms;
    d->healthy_since_ms = v->healthy_since_ms;

    if (v->abort_requested && eagle_release_state_active(v->state) && v->state != REL_ABORTING &&
        v->state != REL_ROLLING_BACK) {
        go(d, REL_ABORTING, "aborted on request");
        return;
    }
    switch (v->state) {
    case REL_PENDING:
        d->step = 0;
        d->step_started_ms = v->now_ms;
        d->healthy_since_ms = 0;
        if (p->canary) {
            d->actions = REL_ACT_SCALE;
            d->canary_tasks = eagle_release_step_tasks(p, 0, v->total);
            d->main_tasks = v->total - d->canary_tasks;
            go(d, REL_RUNNING, "canary step 1 of %d: %d task(s) of the new revision", p->n_steps, d->canary_tasks);
        } else {
            d->actions = REL_ACT_RECORD_NEW | REL_ACT_APPLY_MAIN;
            go(d, REL_RUNNING, "rolling update started");
        }
        return;
    case REL_RUNNING: {
        int want = p->canary ? eagle_release_step_tasks(p, v->step, v->total) : v->total;
        if (p->canary) { /* keep the engine where this step wants it (idempotent) */
            d->actions = REL_ACT_SCALE;
            d->canary_tasks = want;
            d->main_tasks = v->total - want;
        } else if (!v->applied) {
            d->actions = REL_ACT_APPLY_MAIN;
        }
        if (v->new_failed > 0) {
            go(d, REL_ROLLING_BACK, "%d task(s) of the new revision failed or are unhealthy", v->new_failed);
            return;
        }
        bool ready = v->new_ready >= want && (p->canary || v->old_running == 0);
        if (!ready) {
            d->healthy_since_ms = 0;
            if (v->now_ms - v->step_started_ms > p->healthy_deadline_ms)
                go(d, REL_ROLLING_BACK, "not healthy within %lld s (%d of %d tasks ready)",
                   (long long)(p->healthy_deadline_ms / 1000), v->new_ready, want);
            return;
        }
        if (!v->healthy_since_ms) {
            d->healthy_since_ms = v->now_ms;
            if (p->min_healthy_ms > 0)
                return;
        }
        if (v->now_ms - d->healthy_since_ms < p->min_healthy_ms)
            return;
        if (!p->canary) {
            go(d, REL_SUCCEEDED, "all %d task(s) of the new revision healthy", v->total);
            return;
        }
        if (v->step + 1 < p->n_steps) {
            d->step = v->step + 1;
            d->step_started_ms = v->now_ms;
            d->healthy_since_ms = 0;
            d->canary_tasks = eagle_release_step_tasks(p, d->step, v->total);
            d->main_tasks = v->total - d->canary_tasks;
            go(d, REL_RUNNING, "canary step %d of %d: %d task(s) of the new revision", d->step + 1, p->n_steps,
               d->canary_tasks);
            return;
        }
        if (p->auto_promote)
            go(d, REL_PROMOTING, "every step healthy: promoting");
        else
            go(d, REL_WAITING_PROMOTION, "every step healthy: waiting for promote");
        return;
    }
    case REL_WAITING_PROMOTION:
        d->actions = REL_ACT_SCALE;
        d->canary_tasks = eagle_release_step_tasks(p, p->n_steps - 1, v->total);
        d->main_tasks = v->total - d->canary_tasks;
        if (v->new_failed > 0)
            go(d, REL_ROLLING_BACK, "%d canary task(s) failed or are unhealthy while waiting", v->new_failed);
        else if (v->promote_requested)
            go(d, REL_PROMOTING, "promoted on request");
        return;
    case REL_PROMOTING:
        /* record and apply the new revision for every task, then drop the canary group */
        d->actions = REL_ACT_RECORD_NEW | REL_ACT_APPLY_MAIN | REL_ACT_DELETE_CANARY;
        go(d, REL_SUCCEEDED, "promoted: every task runs the new revision");
        return;
    case REL_ROLLING_BACK:
        d->actions = p->canary ? REL_ACT_DELETE_CANARY | REL_ACT_APPLY_MAIN : REL_ACT_RECORD_REVERT | REL_ACT_APPLY_MAIN;
        go(d, REL_ROLLED_BACK, "rolled back to the previous revision");
        return;
    case REL_ABORTING:
        d->actions = p->canary ? REL_ACT_DELETE_CANARY | REL_ACT_APPLY_MAIN : REL_ACT_RECORD_REVERT | REL_ACT_APPLY_MAIN;
        go(d, REL_ABORTED, "aborted: back to the previous revision");
        return;
    default:
        return;
    }
}
