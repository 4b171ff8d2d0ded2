/*
 * test_store.c — the store's domain calls on a real SQLite file: migrations
 * are idempotent, revisions are numbered and optimistic, a refused revision is
 * undone exactly, conflicts map to 409, and rows survive reopening; an
 * agent's node rows are found by their token and go with the agent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/agents.h"
#include "store/store.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/eagle-test-store-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    struct eagle_err err = {0};
    struct eagle_store *st = eagle_store_open(dir, 1, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    eagle_store_close(*state);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *str(json_t *row, const char *k)
{
    return json_string_value(json_object_get(row, k));
}

static int64_t num(json_t *row, const char *k)
{
    return json_integer_value(json_object_get(row, k));
}

static void test_migrate_twice(void **state)
{
    struct eagle_err err = {0};
    struct eagle_store *again = eagle_store_open(dir, 1, &err);
    assert_non_null(again);
    eagle_store_close(again);
}

static void test_revisions(void **state)
{
    struct eagle_store *st = *state;
    struct eagle_err err = {0};
    json_t *row, *rows;

    assert_int_equal(eagle_store_cluster_create(st, "local", "dc1", "unix:///x.sock", 0, "sw", "20.10", &err),
                     0);
    assert_int_equal(eagle_store_cluster_create(st, "local", "dc1", "unix:///y.sock", 0, NULL, NULL, &err),
                     -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.field, "name");

    assert_int_equal(
        eagle_store_service_create(st, "web", "default", "local", "{\"replicas\":1}", "admin", &err), 0);
    assert_int_equal(eagle_store_service_create(st, "web", "default", "local", "{}", "admin", &err), -1);
    assert_int_equal(err.status, 409);

    assert_int_equal(eagle_store_service_get(st, "web", &row, &err), 0);
    assert_int_equal(num(row, "revision"), 1);
    assert_int_equal(num(row, "applied_revision"), 0);
    assert_string_equal(str(row, "status"), "pending");
    json_decref(row);

    assert_int_equal(eagle_store_service_applied(st, "web", 1, "engine-id", &err), 0);
    assert_int_equal(eagle_store_service_new_revision(st, "web", 1, "{\"replicas\":3}", "scale", "bob", &err),
                     0);
    /* a writer that read revision 1 loses */
    assert_int_equal(eagle_store_service_new_revision(st, "web", 1, "{\"replicas\":4}", "scale", "eve", &err),
                     -1);
    assert_int_equal(err.status, 409);

    /* the engine refused revision 2: back to revision 1, applied, running */
    assert_int_equal(eagle_store_service_revert(st, "web", 2, &err), 0);
    assert_int_equal(eagle_store_service_get(st, "web", &row, &err), 0);
    assert_int_equal(num(row, "revision"), 1);
    assert_string_equal(str(row, "spec"), "{\"replicas\":1}");
    assert_string_equal(str(row, "status"), "running");
    assert_string_equal(str(row, "engine_id"), "engine-id");
    json_decref(row);
    assert_int_equal(eagle_store_revision_list(st, "web", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);

    /* unsettled: a recorded but unapplied revision is found after a "crash" */
    assert_int_equal(eagle_store_service_new_revision(st, "web", 1, "{\"replicas\":5}", "scale", "bob", &err),
                     0);
    eagle_store_close(st);
    *state = st = eagle_store_open(dir, 1, &err);
    assert_non_null(st);
    assert_int_equal(eagle_store_service_unsettled(st, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(num(json_array_get(rows, 0), "revision"), 2);
    json_decref(rows);

    /* a cluster with services cannot go */
    assert_int_equal(eagle_store_cluster_delete(st, "local", &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(eagle_store_revision_get(st, "web", 9, &row, &err), -1);
    assert_int_equal(err.status, 404);

    assert_int_equal(eagle_store_service_delete(st, "web", &err), 0);
    assert_int_equal(eagle_store_service_get(st, "web", &row, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(eagle_store_cluster_delete(st, "local", &err), 0);
    assert_int_equal(eagle_store_cluster_delete(st, "local", &err), -1);
    assert_int_equal(err.status, 404);
}

static void test_tokens(void **state)
{
    struct eagle_store *st = *state;
    struct eagle_err err = {0};
    json_t *row;

    assert_int_equal(eagle_store_user_create(st, "admin", "$argon2id$x", "admin", &err), 0);
    assert_int_equal(eagle_store_token_create(st, "aa", "", "", "admin", "session", 0, INT64_MAX, &err), 0);
    assert_int_equal(eagle_store_token_create(st, "old", "t1", "ci", "admin", "api", 1, 1, &err), 0);
    assert_int_equal(eagle_store_token_check(st, "aa", &row, &err), 0);
    assert_string_equal(str(row, "role"), "admin");
    json_decref(row);
    assert_int_equal(eagle_store_token_check(st, "old", &row, &err), -1); /* expired */
    assert_int_equal(err.status, 401);
    assert_int_equal(eagle_store_token_check(st, "nope", &row, &err), -1);
    assert_int_equal(eagle_store_token_revoke(st, "aa", &err), 0);
    assert_int_equal(eagle_store_token_check(st, "aa", &row, &err), -1);
    assert_int_equal(err.status, 401);
}

static void test_tenants(void **state)
{
    struct eagle_store *st = *state;
    struct eagle_err err = {0};
    json_t *rows, *row;
    char *role;

    assert_int_equal(eagle_store_user_create(st, "alice", "h", "user", &err), 0);
    assert_int_equal(eagle_store_cluster_create(st, "local", "dc1", "unix:///x.sock", 0, "", "", &err), 0);
    /* the default tenant exists from the first migration, dated when the store was made */
    assert_int_equal(eagle_store_tenant_get(st, "default", &row, &err), 0);
    assert_true(strncmp(json_string_value(json_object_get(row, "created_at")), "20", 2) == 0);
    json_decref(row);
    assert_int_equal(eagle_store_tenant_create(st, "cdn", "{\"replicas\":4}", "pool-a", "{}", &err), 0);
    assert_int_equal(eagle_store_tenant_create(st, "cdn", "{}", "", "{}", &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(eagle_store_member_set(st, "cdn", "alice", "developer", &err), 0);
    assert_int_equal(eagle_store_member_set(st, "cdn", "alice", "owner", &err), 0); /* upsert */
    assert_int_equal(eagle_store_member_role(st, "cdn", "alice", &role, &err), 0);
    assert_string_equal(role, "owner");
    free(role);
    assert_int_equal(eagle_store_member_role(st, "default", "alice", &role, &err), 0);
    assert_null(role);
    assert_int_equal(eagle_store_tenant_list(st, "alice", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(eagle_store_tenant_list(st, NULL, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);

    assert_int_equal(eagle_store_service_create(st, "web", "cdn", "local", "{}", "alice", &err), 0);
    assert_int_equal(eagle_store_service_list(st, NULL, "cdn", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(eagle_store_service_list(st, NULL, "default", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    assert_int_equal(eagle_store_tenant_delete(st, "cdn", &err), -1); /* it has a service */
    assert_int_equal(err.status, 409);

    assert_int_equal(eagle_store_audit(st, "alice", "cdn", "service.create", "web", "ok", "", "::1", &err),
                     0);
    assert_int_equal(eagle_store_audit(st, "admin", "", "user.create", "alice", "ok", "", "::1", &err), 0);
    assert_int_equal(eagle_store_audit_query(st, "cdn", NULL, NULL, NULL, NULL, 10, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(str(json_array_get(rows, 0), "target"), "web");
    json_decref(rows);
    assert_int_equal(
        eagle_store_audit_query(st, NULL, "admin", NULL, "2000-01-01", "2999-01-01", 10, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(eagle_store_audit_query(st, NULL, NULL, NULL, "2999-01-01", NULL, 10, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);

    /* API tokens: listed without their hash, revoked by id only by their owner */
    assert_int_equal(eagle_store_token_create(st, "h1", "id1", "ci", "alice", "api", 1, INT64_MAX, &err), 0);
    assert_int_equal(eagle_store_token_list(st, "alice", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_null(json_object_get(json_array_get(rows, 0), "hash"));
    json_decref(rows);
    assert_int_equal(eagle_store_token_revoke_id(st, "admin", "id1", &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(eagle_store_token_check(st, "h1", &row, &err), 0);
    assert_int_equal(num(row, "read_only"), 1);
    json_decref(row);
    assert_int_equal(eagle_store_token_revoke_id(st, "alice", "id1", &err), 0);
    assert_int_equal(eagle_store_token_check(st, "h1", &row, &err), -1);
}

static void test_transaction_rollback(void **state)
{
    struct eagle_store *st = *state;
    struct eagle_err err = {0};
    json_t *rows;

    assert_int_equal(eagle_store_begin(st, &err), 0);
    assert_int_equal(eagle_store_audit(st, "admin", "", "x", "y", "ok", "", "127.0.0.1", &err), 0);
    eagle_store_rollback(st);
    assert_int_equal(eagle_store_query(st, "SELECT * FROM audit", NULL, 0, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

static void test_agent_nodes(void **state)
{
    struct eagle_store *st = *state;
    struct eagle_err err = {0};
    json_t *rows, *row;

    assert_int_equal(eagle_store_cluster_create(st, "local", "dc1", "unix:///x.sock", 0, "", "", &err), 0);
    /* a node row needs its cluster's agent row */
    assert_int_equal(eagle_store_agent_node_put(st, "local", "n1", "h1", "s1", "sec1", &err), -1);
    assert_int_equal(
        eagle_store_agent_put(st, "local", "img", "http://x", "/s", "/proc", "n0", "admin", &err), 0);
    assert_int_equal(eagle_store_agent_node_put(st, "local", "n1", "h1", "s1", "sec1", &err), 0);
    assert_int_equal(eagle_store_agent_node_put(st, "local", "n2", "h2", "s2", "sec2", &err), 0);
    /* one token, one node */
    assert_int_equal(eagle_store_agent_node_put(st, "local", "n3", "h1", "s3", "sec3", &err), -1);

    assert_int_equal(eagle_store_agent_node_by_token(st, "h2", &row, &err), 0);
    assert_string_equal(str(row, "node"), "n2");
    assert_string_equal(str(row, "cluster"), "local");
    json_decref(row);
    assert_int_equal(eagle_store_agent_node_by_token(st, "nope", &row, &err), -1);
    assert_int_equal(err.status, 404);

    assert_int_equal(eagle_store_agent_node_list(st, "local", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(str(json_array_get(rows, 0), "service_id"), "s1");
    assert_null(json_object_get(json_array_get(rows, 0), "token_hash")); /* never listed */
    json_decref(rows);

    assert_int_equal(eagle_store_agent_node_delete(st, "local", "n1", &err), 0);
    assert_int_equal(eagle_store_agent_get(st, "local", &row, &err), 0);
    assert_string_equal(str(row, "exclude_node"), "n0");
    json_decref(row);
    /* installing again, or removing, drops the node rows */
    assert_int_equal(eagle_store_agent_put(st, "local", "img2", "http://x", "/s", "/proc", "", "admin", &err),
                     0);
    assert_int_equal(eagle_store_agent_node_by_token(st, "h2", &row, &err), -1);
    assert_int_equal(eagle_store_agent_node_put(st, "local", "n2", "h4", "s4", "sec4", &err), 0);
    assert_int_equal(eagle_store_agent_delete(st, "local", &err), 0);
    assert_int_equal(eagle_store_agent_node_list(st, "local", &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_nodes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
