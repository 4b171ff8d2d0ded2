/*
 * test_catalog.c — the catalog's writer: a pass's answers (instances,
 * healthy, the engine's object, labels, canary groups), what an unchanged pass
 * keeps (the same blobs, no index move, no events), what a change moves (only
 * the services it touches), health and node changes, a task failing, removal,
 * and a pass that fails half way (the last view stays). Includes catalog.c to
 * reach its statics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.c"

static json_t *services, *tasks, *nodes, *events;

static json_t *service(const char *id, int version, const char *name, const char *canary_of, int replicas)
{
    json_t *labels = json_pack("{s:s}", "eagle.tenant", "acme");
    if (canary_of)
        json_object_set_new(labels, "eagle.canary-of", json_string(canary_of));
    json_t *mode = replicas >= 0 ? json_pack("{s:{s:i}}", "Replicated", "Replicas", replicas)
                                 : json_pack("{s:{}}", "Global");
    return json_pack("{s:s, s:{s:i}, s:{s:s, s:o, s:o}}", "ID", id, "Version", "Index", version, "Spec",
                     "Name", name, "Labels", labels, "Mode", mode);
}

static json_t *task(const char *id, const char *service_id, int slot, const char *node, const char *state,
                    const char *desired)
{
    json_t *t =
        json_pack("{s:s, s:s, s:i, s:s, s:{s:s, s:s}}", "ID", id, "ServiceID", service_id, "Slot", slot,
                  "DesiredState", desired, "Status", "State", state, "Timestamp", "2026-11-25T10:00:00Z");
    if (node)
        json_object_set_new(t, "NodeID", json_string(node));
    return t;
}

static json_t *task_at(size_t i)
{
    return json_array_get(tasks, i);
}

static json_t *node(const char *id, const char *hostname)
{
    return json_pack("{s:s, s:{s:s}, s:{s:s, s:s}, s:{s:s}}", "ID", id, "Description", "Hostname", hostname,
                     "Status", "State", "ready", "Addr", "10.0.0.1", "Spec", "Availability", "active");
}

static int setup(void **state)
{
    eagle_catalog_init();
    services = json_pack("[o, o, o]", service("S1", 10, "web", NULL, 2), service("S2", 11, "web-c", "web", 1),
                         service("S3", 12, "api", NULL, -1));
    tasks = json_pack("[o, o, o, o]", task("T1", "S1", 1, "N1", "running", "running"),
                      task("T2", "S1", 2, NULL, "pending", "running"),
                      task("T3", "S2", 1, "N1", "running", "running"),
                      task("T9", "S1", 1, "N1", "shutdown", "shutdown"));
    /* T1 publishes one port, listed once per address family by Swarm; on an overlay network */
    json_object_set_new(
        task_at(0), "NetworksAttachments",
        json_pack("[{s:{s:{s:s}}, s:[s]}]", "Network", "Spec", "Name", "onet", "Addresses", "10.0.1.3/24"));
    json_t *port = json_pack("{s:s, s:i, s:i, s:s}", "Protocol", "tcp", "TargetPort", 80, "PublishedPort",
                             8080, "PublishMode", "host");
    json_object_set_new(json_object_get(task_at(0), "Status"), "PortStatus",
                        json_pack("{s:[O, o]}", "Ports", port, port));
    json_object_set_new(task_at(2), "Spec",
                        json_pack("{s:{s:{s:s, s:s}}}", "ContainerSpec", "Labels", "eagle.canary", "true",
                                  "eagle.revision", "4"));
    nodes = json_pack("[o]", node("N1", "host1"));
    events = json_array();
    return 0;
}

static int teardown(void **state)
{
    json_decref(services);
    json_decref(tasks);
    json_decref(nodes);
    json_decref(events);
    eagle_catalog_shutdown();
    return 0;
}

static size_t pass(void)
{
    json_array_clear(events);
    return eagle_catalog_replace_cluster("local", "dc1", services, tasks, nodes, events);
}

/* The entry for name (released by the caller) and its answer parsed. */
static json_t *answer(const char *name, struct eagle_catalog_entry *e, int healthy)
{
    assert_int_equal(eagle_catalog_get(name, e), 0);
    struct eagle_blob *b = healthy ? e->healthy : e->all;
    json_t *a = json_loadb(b->data, b->len, 0, NULL);
    assert_non_null(a);
    return a;
}

static const char *instance_field(const json_t *a, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(a, "instances"), i), key));
}

static void test_first_pass(void **state)
{
    struct eagle_catalog_entry e;

    assert_int_equal(pass(), 2);                  /* web (with its canary group) and api */
    assert_int_equal(json_array_size(events), 0); /* the first view is a baseline */
    assert_int_equal(eagle_catalog_get("web-c", &e), -1);

    json_t *a = answer("web", &e, 0);
    assert_string_equal(json_string_value(json_object_get(a, "tenant")), "acme");
    assert_string_equal(json_string_value(json_object_get(a, "mode")), "replicated");
    assert_int_equal(json_integer_value(json_object_get(a, "replicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(a, "modify_index")), e.modify_index);
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 3); /* not the shut down T9 */
    assert_string_equal(instance_field(a, 0, "task_id"), "T1");
    assert_string_equal(instance_field(a, 0, "node"), "host1");
    assert_string_equal(instance_field(a, 0, "host_addr"), "10.0.0.1");
    assert_string_equal(instance_field(a, 0, "started_at"), "2026-11-25T10:00:00Z");
    json_t *i0 = json_array_get(json_object_get(a, "instances"), 0);
    assert_int_equal(json_array_size(json_object_get(i0, "ports")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(i0, "addresses"), 0), "address")),
        "10.0.1.3/24");
    assert_true(json_is_true(json_object_get(i0, "healthy")));
    assert_null(instance_field(a, 1, "node"));
    assert_true(
        json_is_false(json_object_get(json_array_get(json_object_get(a, "instances"), 1), "healthy")));
    json_t *i2 = json_array_get(json_object_get(a, "instances"), 2);
    assert_string_equal(instance_field(a, 2, "task_id"), "T3");
    assert_true(json_is_true(json_object_get(i2, "canary")));
    assert_int_equal(json_integer_value(json_object_get(i2, "revision")), 4);
    json_decref(a);

    /* the docker format is the engine's own object (web's, not its canary group's) */
    json_t *docker = json_loadb(e.docker->data, e.docker->len, 0, NULL);
    assert_true(json_equal(docker, json_array_get(services, 0)));
    json_decref(docker);
    assert_string_equal(e.labels->data, "{\"eagle.tenant\":\"acme\"}");
    eagle_catalog_entry_release(&e);

    a = answer("web", &e, 1);
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 2);
    json_decref(a);
    eagle_catalog_entry_release(&e);

    a = answer("api", &e, 0);
    assert_string_equal(json_string_value(json_object_get(a, "mode")), "global");
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 0);
    json_decref(a);
    eagle_catalog_entry_release(&e);
}

static void test_unchanged_pass(void **state)
{
    struct eagle_catalog_entry e1, e2;

    pass();
    uint64_t index = eagle_catalog_index();
    assert_int_equal(eagle_catalog_get("web", &e1), 0);
    assert_int_equal(pass(), 0);
    assert_int_equal(json_array_size(events), 0);
    assert_int_equal(eagle_catalog_index(), index);
    assert_int_equal(eagle_catalog_get("web", &e2), 0);
    assert_ptr_equal(e1.all, e2.all); /* the same blobs, not copies */
    assert_ptr_equal(e1.docker, e2.docker);
    assert_int_equal(e1.modify_index, e2.modify_index);
    eagle_catalog_entry_release(&e1);
    eagle_catalog_entry_release(&e2);

    /* the same arrays rebuilt (new text, same bytes) change nothing either */
    json_t *copy = json_deep_copy(tasks);
    json_decref(tasks);
    tasks = copy;
    assert_int_equal(pass(), 0);
}

static void test_task_change(void **state)
{
    struct eagle_catalog_entry web1, api1, web2, api2;

    pass();
    assert_int_equal(eagle_catalog_get("web", &web1), 0);
    assert_int_equal(eagle_catalog_get("api", &api1), 0);
    /* T2 starts */
    json_object_set_new(json_object_get(task_at(1), "Status"), "State", json_string("running"));
    json_object_set_new(task_at(1), "NodeID", json_string("N1"));
    assert_int_equal(pass(), 1);
    assert_int_equal(json_array_size(events), 1);
    json_t *ev = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "action")), "state");
    assert_string_equal(json_string_value(json_object_get(ev, "task")), "T2");
    assert_string_equal(json_string_value(json_object_get(ev, "from")), "pending");
    assert_string_equal(json_string_value(json_object_get(ev, "to")), "running");
    assert_string_equal(json_string_value(json_object_get(ev, "service")), "web");
    assert_string_equal(json_string_value(json_object_get(ev, "tenant")), "acme");
    assert_int_equal(eagle_catalog_get("web", &web2), 0);
    assert_int_equal(eagle_catalog_get("api", &api2), 0);
    assert_true(web2.modify_index > web1.modify_index);
    assert_int_equal(web2.modify_index, eagle_catalog_index());
    assert_ptr_equal(api1.all, api2.all); /* untouched */
    assert_int_equal(api1.modify_index, api2.modify_index);
    eagle_catalog_entry_release(&web2);
    json_t *a = answer("web", &web2, 1);
    eagle_catalog_entry_release(&web2);
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 3);
    json_decref(a);
    eagle_catalog_entry_release(&web1);
    eagle_catalog_entry_release(&api1);
    eagle_catalog_entry_release(&api2);

    /* T1 fails on its node (Swarm sends no event for that: a pass sees it) */
    json_object_set_new(json_object_get(task_at(0), "Status"), "State", json_string("failed"));
    json_object_set_new(task_at(0), "DesiredState", json_string("shutdown"));
    assert_int_equal(pass(), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "to")), "failed");
    a = answer("web", &web1, 0);
    eagle_catalog_entry_release(&web1);
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 2);
    assert_string_equal(instance_field(a, 0, "task_id"), "T2");
    json_decref(a);

    /* a task goes, another comes */
    json_array_remove(tasks, 3);
    json_array_append_new(tasks, task("T4", "S3", 0, "N1", "running", "running"));
    assert_int_equal(pass(), 1);
    assert_int_equal(json_array_size(events), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "action")), "create");
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 1), "action")), "remove");
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 1), "task")), "T9");
}

static void test_health(void **state)
{
    struct eagle_catalog_entry e;
    const char *seq[] = {"unhealthy", "healthy", "unhealthy"};

    pass();
    for (size_t i = 0; i < 3; i++) {
        eagle_catalog_set_health("T1", seq[i], "HTTP 500");
        assert_int_equal(pass(), 1);
        json_t *a = answer("web", &e, 0);
        assert_string_equal(instance_field(a, 0, "health"), seq[i]);
        assert_string_equal(instance_field(a, 0, "health_reason"), "HTTP 500");
        json_decref(a);
        eagle_catalog_entry_release(&e);
        a = answer("web", &e, 1);
        assert_int_equal(json_array_size(json_object_get(a, "instances")),
                         strcmp(seq[i], "unhealthy") ? 2 : 1);
        json_decref(a);
        eagle_catalog_entry_release(&e);
        assert_int_equal(pass(), 0);
    }
}

static void test_service_and_node_changes(void **state)
{
    struct eagle_catalog_entry e;

    pass();
    /* Swarm's object moves (say UpdateStatus) with Eagle's answer the same: it is a change */
    json_object_set_new(json_object_get(json_array_get(services, 2), "Version"), "Index", json_integer(13));
    assert_int_equal(pass(), 1);
    assert_int_equal(json_array_size(events), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "action")), "update");
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "service")), "api");

    /* a node renamed: its instances show the new name */
    json_object_set_new(json_object_get(json_array_get(nodes, 0), "Description"), "Hostname",
                        json_string("host9"));
    assert_int_equal(pass(), 1);
    json_t *a = answer("web", &e, 0);
    assert_string_equal(instance_field(a, 0, "node"), "host9");
    json_decref(a);
    eagle_catalog_entry_release(&e);
    /* a node drained: an event, no answer changes, the index moves */
    uint64_t index = eagle_catalog_index();
    json_object_set_new(json_object_get(json_array_get(nodes, 0), "Spec"), "Availability",
                        json_string("drain"));
    assert_int_equal(pass(), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "to")), "ready/drain");
    assert_int_equal(eagle_catalog_index(), index + 1);

    /* the canary group goes, then web: web's answer is its own service's, then nothing */
    json_array_remove(services, 1);
    assert_int_equal(pass(), 1);
    a = answer("web", &e, 0);
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 2);
    json_decref(a);
    eagle_catalog_entry_release(&e);
    json_array_remove(services, 0);
    assert_int_equal(pass(), 1);
    assert_int_equal(eagle_catalog_get("web", &e), -1);
    assert_int_equal(eagle_catalog_get("api", &e), 0);
    eagle_catalog_entry_release(&e);

    eagle_catalog_remove_cluster("local", events);
    assert_int_equal(eagle_catalog_get("api", &e), -1);
}

static void test_failed_pass_keeps_view(void **state)
{
    struct eagle_err err;
    struct eagle_catalog_entry e;
    const char *x = "{\"ID\":\"S1\",\"Spec\":{\"Name\":\"x\"}}", *broken = "{\"ID\":\"T1\",";
    int rc1, rc2;

    /* (results are checked after abort(): a failed assertion must not leave the writer lock held) */

    /* a first pass that fails leaves no state: the next one is still the baseline */
    struct eagle_catalog_pass *p = eagle_catalog_pass_begin("local", "dc1");
    rc1 = eagle_catalog_pass_service(p, x, strlen(x), &err);
    eagle_catalog_pass_abort(p);
    assert_int_equal(rc1, 0);
    assert_int_equal(eagle_catalog_get("x", &e), -1);
    assert_int_equal(pass(), 2);
    assert_int_equal(json_array_size(events), 0);

    uint64_t index = eagle_catalog_index();
    char *s0 = json_dumps(json_array_get(services, 0), JSON_COMPACT);
    p = eagle_catalog_pass_begin("local", "dc1");
    rc1 = eagle_catalog_pass_service(p, s0, strlen(s0), &err);
    rc2 = eagle_catalog_pass_task(p, broken, strlen(broken), &err);
    eagle_catalog_pass_abort(p);
    free(s0);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, -1);
    assert_int_equal(err.status, 502);
    assert_int_equal(eagle_catalog_index(), index);
    assert_int_equal(eagle_catalog_get("api", &e), 0);
    eagle_catalog_entry_release(&e);
    assert_int_equal(pass(), 0); /* the kept records are whole again */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_and_node_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_pass_keeps_view, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
