/*
 * release.h — a release moves a service from one revision to another, rolling
 * or canary (gray). This module is the release's rules as pure functions: the
 * plan (parsed and validated from JSON) and the state machine's decision for
 * one observation. The deploy controller observes, asks eagle_release_decide(),
 * records the decision in the store and carries out its actions; because a
 * decision depends only on the stored state and what is observed now, a
 * restart at any moment resumes the release where it stood.
 *
 * States: pending → running → (waiting_promotion →) promoting → succeeded;
 * running/waiting → rolling_back → rolled_back (a failed health gate
 * or deadline); any active state → aborting → aborted (on request).
 */
#ifndef EAGLE_RELEASE_H
#define EAGLE_RELEASE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define EAGLE_RELEASE_MAX_STEPS 10

enum eagle_release_state {
    REL_PENDING,
    REL_RUNNING,
    REL_WAITING_PROMOTION,
    REL_PROMOTING,
    REL_SUCCEEDED,
    REL_ROLLING_BACK,
    REL_ROLLED_BACK,
    REL_ABORTING,
    REL_ABORTED,
    REL_FAILED,
};

struct eagle_release_plan {
    bool canary;                                /* strategy: canary, else rolling */
    int n_steps;                                /* canary: 1..EAGLE_RELEASE_MAX_STEPS */
    struct { int tasks; int percent; } steps[EAGLE_RELEASE_MAX_STEPS]; /* one of the two is set */
    int64_t min_healthy_ms;                     /* each step held healthy this long */
    int64_t healthy_deadline_ms;                /* a step not healthy by then rolls back */
    bool auto_promote;                          /* canary: promote after the last step */
    /* rolling (Swarm's update config, used for the update) */
    int64_t parallelism;
    int64_t delay_ms;
    char order[12]; /* "stop-first" or "start-first" */
};

const char *eagle_release_state_name(enum eagle_release_state s);
int eagle_release_state_parse(const char *s); /* -1 when unknown */
bool eagle_release_state_active(enum eagle_release_state s);

/* {"strategy": "canary", "canary": {"steps": [1, "25%", "50%", "100%"], "min_healthy_time": "10s",
 *  "healthy_deadline": "2m", "auto_promote": true}} or {"strategy": "rolling", "rolling":
 *  {"parallelism": 1, "delay": "0s", "order": "start-first", "min_healthy_time": "5s",
 *  "healthy_deadline": "2m"}}; the body's other keys are the caller's business. */
int eagle_release_plan_from_json(const json_t *body, struct eagle_release_plan *plan, struct eagle_err *err);
json_t *eagle_release_plan_to_json(const struct eagle_release_plan *plan);

/* Canary tasks for step `step` of a service with `total` replicas (at least 1, at most total). */
int eagle_release_step_tasks(const struct eagle_release_plan *plan, int step, int total);

/* What the controller observed. */
struct eagle_release_view {
    enum eagle_release_state state;
    int step;
    int64_t now_ms, step_started_ms, healthy_since_ms;
    bool promote_requested, abort_requested;
    int total;         /* the service's desired replicas */
    int new_ready;     /* tasks of the new revision running and (if checked) healthy */
    int new_failed;    /* tasks of the new revision failed, rejected or unhealthy */
    int old_running;   /* tasks of other revisions still running (rolling) */
    bool applied;      /* the engine has what the current state asks for */
};

enum {
    REL_ACT_RECORD_NEW = 1 << 0,    /* record the target spec as the service's next revision */
    REL_ACT_RECORD_REVERT = 1 << 1, /* record the previous spec again (rolling back a rolling release) */
    REL_ACT_APPLY_MAIN = 1 << 2,    /* apply the service's recorded revision (full replicas) */
    REL_ACT_SCALE = 1 << 3,         /* canary: canary_tasks in the canary group, main_tasks in the service */
    REL_ACT_DELETE_CANARY = 1 << 4, /* remove the canary group */
};

struct eagle_release_decision {
    enum eagle_release_state state;
    int step;
    int64_t step_started_ms, healthy_since_ms;
    int actions;
    int canary_tasks, main_tasks;
    char message[256];
};

void eagle_release_decide(const struct eagle_release_plan *plan, const struct eagle_release_view *v,
                          struct eagle_release_decision *d);

#endif
