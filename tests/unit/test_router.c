/*
 * test_router.c — route matching, and the published OpenAPI description
 * (docs/openapi.json) against the server's route table, in both directions:
 * every route is documented with its method, and nothing documented is missing
 * from the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "http/router.h"



static void test_match_captures(void **state)
{
    char scratch[256];
    const char *params[EAGLE_MAX_PARAMS] = {0};
    int known;
    const struct eagle_route *r =
        eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/services/web/revisions/3", scratch, sizeof(scratch), params, &known);

    assert_non_null(r);
    assert_ptr_equal(r->fn, api_services_revision_get);
    assert_string_equal(params[0], "web");
    assert_string_equal(params[1], "3");

    r = eagle_route_match(eagle_routes, eagle_n_routes, "POST", "/v1/services/my%2Dsvc/scale", scratch, sizeof(scratch), params, &known);
    assert_non_null(r);
    assert_string_equal(params[0], "my-svc");
    /* a trailing slash is tolerated */
    r = eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/services/", scratch, sizeof(scratch), params, &known);
    assert_ptr_equal(r->fn, api_services_list);
}

static void test_no_match(void **state)
{
    char scratch[256];
    const char *params[EAGLE_MAX_PARAMS] = {0};
    int known = 0;

    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "PATCH", "/v1/services/web", scratch, sizeof(scratch), params, &known));
    assert_int_equal(known, 1); /* 405, not 404 */
    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/nothing", scratch, sizeof(scratch), params, &known));
    assert_int_equal(known, 0);
    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/services//tasks", scratch, sizeof(scratch), params, &known));
    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/services/a/b/tasks", scratch, sizeof(scratch), params, &known));
    /* an encoded NUL or a capture longer than the scratch space never matches */
    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "GET", "/v1/services/a%00b", scratch, sizeof(scratch), params, &known));
    char longpath[600] = "/v1/services/";
    memset(longpath + strlen(longpath), 'a', 400);
    assert_null(eagle_route_match(eagle_routes, eagle_n_routes, "GET", longpath, scratch, 64, params, &known));
    /* HEAD is answered like GET */
    assert_non_null(eagle_route_match(eagle_routes, eagle_n_routes, "HEAD", "/v1/health", scratch, sizeof(scratch), params, &known));
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void test_openapi_matches_routes(void **state)
{
    json_error_t jerr;
    json_t *doc = json_load_file("docs/openapi.json", 0, &jerr), *paths, *ops, *op;
    const char *path, *method;
    size_t documented = 0;

    if (!doc)
        fail_msg("docs/openapi.json: %s (line %d)", jerr.text, jerr.line);
    paths = json_object_get(doc, "paths");
    assert_true(json_is_object(paths));
    /* every route is documented */
    for (size_t i = 0; i < eagle_n_routes; i++) {
        char m[16];
        snprintf(m, sizeof(m), "%s", eagle_routes[i].method);
        lower(m);
        op = json_object_get(json_object_get(paths, eagle_routes[i].pattern), m);
        if (!op)
            fail_msg("route %s %s is not in docs/openapi.json", eagle_routes[i].method, eagle_routes[i].pattern);
        if (!json_object_get(op, "responses"))
            fail_msg("%s %s has no responses in docs/openapi.json", eagle_routes[i].method, eagle_routes[i].pattern);
        /* public routes say so; the others need the bearer token */
        json_t *sec = json_object_get(op, "security");
        int is_public = sec && json_is_array(sec) && json_array_size(sec) == 0;
        if (is_public != !!(eagle_routes[i].flags & ROUTE_PUBLIC))
            fail_msg("%s %s: security in docs/openapi.json disagrees with the server", eagle_routes[i].method,
                     eagle_routes[i].pattern);
    }
    /* everything documented exists */
    json_object_foreach(paths, path, ops)
    {
        json_object_foreach(ops, method, op)
        {
            if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0 ||
                strcmp(method, "description") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < eagle_n_routes && !found; i++) {
                char m[16];
                snprintf(m, sizeof(m), "%s", eagle_routes[i].method);
                lower(m);
                found = strcmp(eagle_routes[i].pattern, path) == 0 && strcmp(m, method) == 0;
            }
            if (!found)
                fail_msg("docs/openapi.json documents %s %s, which the server does not answer", method, path);
            documented++;
        }
    }
    assert_int_equal(documented, eagle_n_routes);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_captures),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_openapi_matches_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
