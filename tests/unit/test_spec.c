/*
 * test_spec.c — unit tests for model/spec: parsing and validation (with the field
 * each bad input is blamed on), the normalised JSON, the Engine API mapping and
 * the round trips between them, and the caps on sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/spec.h"

#define FULL_SPEC                                                                                            \
    "{\"name\": \"web\", \"cluster\": \"local\", \"image\": \"127.0.0.1:5000/web:1\","                       \
    " \"command\": [\"/bin/httpd\"], \"args\": [\"-f\", \"-p\", \"8080\"],"                                  \
    " \"env\": {\"K\": \"V\", \"A\": \"x=y\"}, \"mode\": \"replicated\", \"replicas\": 2,"                   \
    " \"resources\": {\"limits\": {\"cpus\": 0.5, \"memory\": \"256M\"},"                                    \
    "               \"reservations\": {\"cpus\": 0.1, \"memory\": 67108864}},"                               \
    " \"ports\": [{\"target\": 8080, \"published\": 18080, \"protocol\": \"tcp\", \"mode\": \"host\"},"      \
    "           {\"target\": 53, \"protocol\": \"udp\"}],"                                                   \
    " \"labels\": {\"team\": \"cdn\"},"                                                                      \
    " \"placement\": {\"constraints\": [\"node.role==worker\"], \"preferences\": [\"node.labels.zone\"],"    \
    "               \"max_replicas_per_node\": 3},"                                                          \
    " \"restart_policy\": {\"condition\": \"on-failure\", \"delay\": \"5s\", \"max_attempts\": 3,"           \
    "                    \"window\": \"2m\"},"                                                               \
    " \"update_config\": {\"parallelism\": 2, \"delay\": \"1500ms\", \"failure_action\": \"rollback\","      \
    "                   \"monitor\": \"5s\", \"max_failure_ratio\": 0.25, \"order\": \"start-first\"},"      \
    " \"rollback_config\": {\"parallelism\": 1, \"delay\": \"0s\", \"failure_action\": \"continue\","        \
    "                     \"monitor\": \"10s\", \"max_failure_ratio\": 0, \"order\": \"stop-first\"},"       \
    " \"networks\": [\"backend\"],"                                                                          \
    " \"mounts\": [{\"type\": \"volume\", \"source\": \"data\", \"target\": \"/data\", \"read_only\": "      \
    "false},"                                                                                                \
    "            {\"type\": \"bind\", \"source\": \"/etc/ssl\", \"target\": \"/ssl\", \"read_only\": true}," \
    "            {\"type\": \"tmpfs\", \"target\": \"/tmp\"}],"                                              \
    " \"healthcheck\": {\"test\": [\"CMD\", \"wget\", \"-q\", \"-O-\", \"http://127.0.0.1:8080/\"],"         \
    "                 \"interval\": \"10s\", \"timeout\": \"5s\", \"retries\": 3, \"start_period\": "        \
    "\"1m\"}}"

static json_t *parse_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON at %d: %s\n%s", jerr.position, jerr.text, text);
    return j;
}

static void load_spec(const char *text, struct eagle_spec *s)
{
    struct eagle_err err = {0};
    json_t *j = parse_json(text);
    int rc = eagle_spec_from_json(j, s, &err);

    json_decref(j);
    if (rc != 0)
        fail_msg("spec rejected (field '%s'): %s", err.field, err.msg);
}

/* The value at a path such as "TaskTemplate.ContainerSpec.Mounts[1].Source". */
static json_t *at(json_t *j, const char *path)
{
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save)) {
        char *br = strchr(tok, '[');
        if (br)
            *br = 0;
        if (*tok)
            j = json_object_get(j, tok);
        while (br && j) {
            j = json_array_get(j, strtoul(br + 1, &br, 10));
            br = strchr(br, '[');
        }
    }
    return j;
}

static void assert_str_at(json_t *j, const char *path, const char *want)
{
    json_t *v = at(j, path);
    if (!json_is_string(v))
        fail_msg("%s: not a string", path);
    if (strcmp(json_string_value(v), want) != 0)
        fail_msg("%s: '%s', want '%s'", path, json_string_value(v), want);
}

static void assert_int_at(json_t *j, const char *path, long long want)
{
    json_t *v = at(j, path);
    if (!json_is_integer(v))
        fail_msg("%s: not an integer", path);
    if (json_integer_value(v) != want)
        fail_msg("%s: %lld, want %lld", path, (long long)json_integer_value(v), want);
}

static void assert_real_at(json_t *j, const char *path, double want)
{
    json_t *v = at(j, path);
    if (!json_is_number(v))
        fail_msg("%s: not a number", path);
    if (json_number_value(v) != want)
        fail_msg("%s: %g, want %g", path, json_number_value(v), want);
}

static void assert_json_eq(json_t *a, json_t *b)
{
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
        print_error("got:  %s\nwant: %s\n", sa, sb);
        free(sa);
        free(sb);
        fail();
    }
}

/* Two specs are equal when their normalised forms are. */
static void assert_spec_eq(const struct eagle_spec *a, const struct eagle_spec *b)
{
    json_t *ja = eagle_spec_to_json(a), *jb = eagle_spec_to_json(b);
    assert_json_eq(ja, jb);
    json_decref(ja);
    json_decref(jb);
}

/* ---- valid specs ---- */

static void test_minimal(void **state)
{
    struct eagle_spec s;
    json_t *j, *want;

    load_spec("{\"name\":\"web\",\"image\":\"busybox\",\"replicas\":2,\"env\":{\"K\":\"V\"}}", &s);
    assert_string_equal(s.name, "web");
    assert_string_equal(s.image, "busybox");
    assert_null(s.cluster);
    assert_null(s.command);
    assert_false(s.global);
    assert_int_equal(s.replicas, 2);
    assert_int_equal(s.n_env, 1);
    assert_string_equal(s.env[0].key, "K");
    assert_string_equal(s.env[0].value, "V");
    assert_int_equal(s.n_ports, 0);
    assert_false(s.restart_policy.set);
    assert_false(s.update_config.set);
    assert_false(s.healthcheck.set);

    /* The normalised form has every field, with its default. */
    j = eagle_spec_to_json(&s);
    want = parse_json("{\"name\": \"web\", \"tenant\": null, \"cap_add\": [], \"cluster\": null, \"image\": \"busybox\", \"command\": null,"
                      " \"args\": null, \"env\": {\"K\": \"V\"}, \"mode\": \"replicated\", \"replicas\": 2,"
                      " \"resources\": {\"limits\": {\"cpus\": 0.0, \"memory\": 0},"
                      "               \"reservations\": {\"cpus\": 0.0, \"memory\": 0}},"
                      " \"ports\": [], \"labels\": {},"
                      " \"placement\": {\"constraints\": [], \"preferences\": [],"
                      "               \"max_replicas_per_node\": 0},"
                      " \"restart_policy\": null, \"update_config\": null, \"rollback_config\": null,"
                      " \"networks\": [], \"mounts\": [], \"healthcheck\": null, \"health_check\": null}");
    assert_json_eq(j, want);
    json_decref(want);
    json_decref(j);
    eagle_spec_release(&s);
}

static void test_defaults(void **state)
{
    struct eagle_spec s;

    load_spec(
        "{\"name\":\"a\",\"image\":\"busybox\",\"ports\":[{\"target\":80}],\"restart_policy\":{},"
        "\"update_config\":{},\"rollback_config\":{},\"healthcheck\":{},\"mounts\":[{\"target\":\"/v\"}]}",
        &s);
    assert_int_equal(s.replicas, 1);
    assert_string_equal(s.ports[0].protocol, "tcp");
    assert_string_equal(s.ports[0].mode, "ingress");
    assert_int_equal(s.ports[0].published, 0);
    /* Swarm's own defaults, so that naming one field leaves the others as Swarm would. */
    assert_true(s.restart_policy.set);
    assert_string_equal(s.restart_policy.condition, "any");
    assert_int_equal(s.restart_policy.delay_ns, 5000000000LL);
    assert_true(s.update_config.set);
    assert_int_equal(s.update_config.parallelism, 1);
    assert_string_equal(s.update_config.failure_action, "pause");
    assert_int_equal(s.update_config.monitor_ns, 5000000000LL);
    assert_string_equal(s.update_config.order, "stop-first");
    assert_true(s.rollback_config.set);
    assert_true(s.healthcheck.set);
    assert_null(s.healthcheck.test);
    assert_string_equal(s.mounts[0].type, "volume");
    assert_null(s.mounts[0].source);
    assert_false(s.mounts[0].read_only);
    eagle_spec_release(&s);
}

static void test_full(void **state)
{
    struct eagle_spec s;

    load_spec(FULL_SPEC, &s);
    assert_string_equal(s.cluster, "local");
    assert_string_equal(s.command[0], "/bin/httpd");
    assert_null(s.command[1]);
    assert_string_equal(s.args[2], "8080");
    assert_null(s.args[3]);
    /* Maps are sorted by key. */
    assert_int_equal(s.n_env, 2);
    assert_string_equal(s.env[0].key, "A");
    assert_string_equal(s.env[0].value, "x=y");
    assert_int_equal(s.limit_nano_cpus, 500000000);
    assert_int_equal(s.limit_memory, 256 * 1024 * 1024);
    assert_int_equal(s.reserve_nano_cpus, 100000000);
    assert_int_equal(s.reserve_memory, 64 * 1024 * 1024);
    assert_int_equal(s.n_ports, 2);
    assert_int_equal(s.ports[0].published, 18080);
    assert_string_equal(s.ports[0].mode, "host");
    assert_string_equal(s.ports[1].protocol, "udp");
    assert_string_equal(s.labels[0].key, "team");
    assert_string_equal(s.constraints[0], "node.role==worker");
    assert_string_equal(s.preferences[0], "node.labels.zone");
    assert_int_equal(s.max_replicas_per_node, 3);
    assert_string_equal(s.restart_policy.condition, "on-failure");
    assert_int_equal(s.restart_policy.window_ns, 120000000000LL);
    assert_int_equal(s.update_config.delay_ns, 1500000000LL);
    assert_true(s.update_config.max_failure_ratio == 0.25);
    assert_string_equal(s.rollback_config.failure_action, "continue");
    assert_int_equal(s.rollback_config.monitor_ns, 10000000000LL);
    assert_string_equal(s.networks[0], "backend");
    assert_int_equal(s.n_mounts, 3);
    assert_true(s.mounts[1].read_only);
    assert_null(s.mounts[2].source);
    assert_string_equal(s.healthcheck.test[4], "http://127.0.0.1:8080/");
    assert_int_equal(s.healthcheck.start_period_ns, 60000000000LL);
    eagle_spec_release(&s);
}

static void test_round_trip(void **state)
{
    static const char *const specs[] = {
        FULL_SPEC,
        ("{\"name\":\"g\",\"image\":\"busybox@sha256:"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"mode\":\"global\"}"),
        ("{\"name\":\"d\",\"image\":\"busybox\",\"replicas\":0,\"restart_policy\":{\"delay\":\"0.3s\"},"
         "\"update_config\":{\"delay\":\"90s\",\"monitor\":\"1.5m\"},\"healthcheck\":{\"test\":[\"NONE\"]},"
         "\"resources\":{\"limits\":{\"cpus\":3,\"memory\":\"1.5Gi\"}}}"),
        ("{\"name\":\"e\",\"image\":\"busybox\",\"command\":[],\"healthcheck\":{\"interval\":\"999999us\","
         "\"timeout\":\"1000h\",\"start_period\":\"1234567891ns\"},\"resources\":{\"limits\":{\"cpus\":"
         "0.123456789}}}"),
    };

    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct eagle_spec a, b;
        struct eagle_err err = {0};
        json_t *ja, *jb;

        load_spec(specs[i], &a);
        ja = eagle_spec_to_json(&a);
        assert_int_equal(eagle_spec_from_json(ja, &b, &err), 0);
        jb = eagle_spec_to_json(&b);
        assert_json_eq(jb, ja);
        json_decref(ja);
        json_decref(jb);
        eagle_spec_release(&a);
        eagle_spec_release(&b);
    }
}

static void test_normalised_values(void **state)
{
    struct eagle_spec s;
    json_t *j;

    load_spec(
        "{\"name\":\"d\",\"image\":\"busybox\",\"mode\":\"global\",\"restart_policy\":{\"delay\":\"3600s\","
        "\"window\":\"1.5m\"},\"update_config\":{\"delay\":\"1500ms\"},\"command\":[],"
        "\"resources\":{\"limits\":{\"cpus\":2,\"memory\":\"1k\"}},\"mounts\":[{\"type\":\"volume\","
        "\"source\":\"\",\"target\":\"/x\"}]}",
        &s);
    j = eagle_spec_to_json(&s);
    assert_str_at(j, "restart_policy.delay", "1h");
    assert_str_at(j, "restart_policy.window", "90s");
    assert_str_at(j, "update_config.delay", "1500ms");
    assert_str_at(j, "update_config.monitor", "5s");
    assert_real_at(j, "resources.limits.cpus", 2.0);
    assert_int_at(j, "resources.limits.memory", 1024);
    assert_true(json_is_null(at(j, "replicas")));
    assert_str_at(j, "mode", "global");
    assert_true(json_is_null(at(j, "command"))); /* [] is the same as absent */
    assert_true(json_is_null(at(j, "mounts[0].source")));
    json_decref(j);
    eagle_spec_release(&s);
}

/* ---- bad input: each gives 400 invalid_argument naming the field ---- */

struct bad_case {
    const char *json;
    const char *field;
};

#define BASE "\"name\":\"web\",\"image\":\"busybox\""

static const struct bad_case bad_cases[] = {
    /* the document */
    {"[]", ""},
    {"\"web\"", ""},
    /* unknown fields, at every level */
    {"{" BASE ",\"replica\":2}", "replica"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpux\":1}}}", "resources.limits.cpux"},
    {"{" BASE ",\"resources\":{\"limit\":{}}}", "resources.limit"},
    {"{" BASE ",\"ports\":[{\"target\":80},{\"target\":81,\"host\":1}]}", "ports[1].host"},
    {"{" BASE ",\"placement\":{\"constraint\":[]}}", "placement.constraint"},
    {"{" BASE ",\"restart_policy\":{\"attempts\":1}}", "restart_policy.attempts"},
    {"{" BASE ",\"update_config\":{\"Order\":\"stop-first\"}}", "update_config.Order"},
    {"{" BASE ",\"rollback_config\":{\"x\":1}}", "rollback_config.x"},
    {"{" BASE ",\"mounts\":[{\"target\":\"/a\",\"readonly\":true}]}", "mounts[0].readonly"},
    {"{" BASE ",\"healthcheck\":{\"cmd\":[]}}", "healthcheck.cmd"},
    /* name */
    {"{\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"\",\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"Web\",\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"-web\",\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"web-\",\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"web_1\",\"image\":\"busybox\"}", "name"},
    {"{\"name\":\"a234567890123456789012345678901234567890123456789012345678901234\",\"image\":\"busybox\"}",
     "name"},
    {"{\"name\":7,\"image\":\"busybox\"}", "name"},
    {"{" BASE ",\"cluster\":\"DC1\"}", "cluster"},
    {"{" BASE ",\"cluster\":1}", "cluster"},
    {"{" BASE ",\"tenant\":\"Team A\"}", "tenant"},
    {"{" BASE ",\"health_check\":{\"port\":80}}", "health_check.type"},
    {"{" BASE ",\"health_check\":{\"type\":\"udp\",\"port\":80}}", "health_check.type"},
    {"{" BASE ",\"health_check\":{\"type\":\"tcp\"}}", "health_check.port"},
    {"{" BASE ",\"health_check\":{\"type\":\"http\",\"port\":80,\"status\":\"2xx\"}}", "health_check.status"},
    {"{" BASE ",\"health_check\":{\"type\":\"http\",\"port\":80,\"path\":\"no-slash\"}}", "health_check.path"},
    {"{" BASE ",\"health_check\":{\"type\":\"tcp\",\"port\":80,\"bogus\":1}}", "health_check.bogus"},
    {"{" BASE ",\"cap_add\":[\"cap_net_admin\"]}", "cap_add[0]"},
    {"{" BASE ",\"cap_add\":\"CAP_SYS_ADMIN\"}", "cap_add"},
    /* image */
    {"{\"name\":\"web\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"BusyBox\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"busybox:\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"busybox:-1\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"busybox@sha256:abc\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"host:port/x\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"a//b\"}", "image"},
    {"{\"name\":\"web\",\"image\":\"a b\"}", "image"},
    {"{\"name\":\"web\",\"image\":[\"busybox\"]}", "image"},
    /* command, args, env */
    {"{" BASE ",\"command\":\"/bin/sh\"}", "command"},
    {"{" BASE ",\"command\":[\"/bin/sh\",1]}", "command[1]"},
    {"{" BASE ",\"args\":{}}", "args"},
    {"{" BASE ",\"env\":[\"K=V\"]}", "env"},
    {"{" BASE ",\"env\":{\"FOO\":1}}", "env.FOO"},
    {"{" BASE ",\"env\":{\"A\":\"1\",\"FOO\":null}}", "env.FOO"},
    {"{" BASE ",\"env\":{\"A=B\":\"1\"}}", "env.A=B"},
    {"{" BASE ",\"env\":{\"\":\"1\"}}", "env."},
    /* mode and replicas */
    {"{" BASE ",\"mode\":\"replicated-job\"}", "mode"},
    {"{" BASE ",\"mode\":\"global\",\"replicas\":2}", "replicas"},
    {"{" BASE ",\"replicas\":-1}", "replicas"},
    {"{" BASE ",\"replicas\":1001}", "replicas"},
    {"{" BASE ",\"replicas\":2.0}", "replicas"},
    {"{" BASE ",\"replicas\":\"2\"}", "replicas"},
    /* resources */
    {"{" BASE ",\"resources\":[]}", "resources"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpus\":\"1\"}}}", "resources.limits.cpus"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpus\":-0.5}}}", "resources.limits.cpus"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpus\":1e-12}}}", "resources.limits.cpus"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpus\":1e7}}}", "resources.limits.cpus"},
    {"{" BASE ",\"resources\":{\"limits\":{\"memory\":\"lots\"}}}", "resources.limits.memory"},
    {"{" BASE ",\"resources\":{\"limits\":{\"memory\":-1}}}", "resources.limits.memory"},
    {"{" BASE ",\"resources\":{\"limits\":{\"memory\":1.5}}}", "resources.limits.memory"},
    {"{" BASE ",\"resources\":{\"reservations\":{\"memory\":\"12X\"}}}", "resources.reservations.memory"},
    {"{" BASE ",\"resources\":{\"limits\":{\"cpus\":0.5},\"reservations\":{\"cpus\":1}}}",
     "resources.reservations.cpus"},
    {"{" BASE ",\"resources\":{\"limits\":{\"memory\":\"64M\"},\"reservations\":{\"memory\":\"1G\"}}}",
     "resources.reservations.memory"},
    /* ports */
    {"{" BASE ",\"ports\":{}}", "ports"},
    {"{" BASE ",\"ports\":[80]}", "ports[0]"},
    {"{" BASE ",\"ports\":[{\"published\":80}]}", "ports[0].target"},
    {"{" BASE ",\"ports\":[{\"target\":80},{\"target\":0}]}", "ports[1].target"},
    {"{" BASE ",\"ports\":[{\"target\":65536}]}", "ports[0].target"},
    {"{" BASE ",\"ports\":[{\"target\":\"80\"}]}", "ports[0].target"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"published\":-1}]}", "ports[0].published"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"published\":70000}]}", "ports[0].published"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"protocol\":\"http\"}]}", "ports[0].protocol"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"protocol\":\"TCP\"}]}", "ports[0].protocol"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"mode\":\"vip\"}]}", "ports[0].mode"},
    {"{" BASE ",\"ports\":[{\"target\":80,\"published\":8080},{\"target\":81,\"published\":8080}]}",
     "ports[1].published"},
    /* labels */
    {"{" BASE ",\"labels\":{\"eagle.service\":\"x\"}}", "labels.eagle.service"},
    {"{" BASE ",\"labels\":{\"team\":true}}", "labels.team"},
    {"{" BASE ",\"labels\":[]}", "labels"},
    /* placement */
    {"{" BASE ",\"placement\":{\"constraints\":\"node.role==worker\"}}", "placement.constraints"},
    {"{" BASE ",\"placement\":{\"constraints\":[\"node.role=worker\"]}}", "placement.constraints[0]"},
    {"{" BASE ",\"placement\":{\"preferences\":[\"\"]}}", "placement.preferences[0]"},
    {"{" BASE ",\"placement\":{\"max_replicas_per_node\":-1}}", "placement.max_replicas_per_node"},
    {"{" BASE ",\"mode\":\"global\",\"placement\":{\"max_replicas_per_node\":1}}",
     "placement.max_replicas_per_node"},
    /* restart policy */
    {"{" BASE ",\"restart_policy\":{\"condition\":\"always\"}}", "restart_policy.condition"},
    {"{" BASE ",\"restart_policy\":{\"delay\":5}}", "restart_policy.delay"},
    {"{" BASE ",\"restart_policy\":{\"delay\":\"5 s\"}}", "restart_policy.delay"},
    {"{" BASE ",\"restart_policy\":{\"delay\":\"-5s\"}}", "restart_policy.delay"},
    {"{" BASE ",\"restart_policy\":{\"window\":\"1001h\"}}", "restart_policy.window"},
    {"{" BASE ",\"restart_policy\":{\"max_attempts\":-1}}", "restart_policy.max_attempts"},
    {"{" BASE ",\"restart_policy\":true}", "restart_policy"},
    /* update and rollback */
    {"{" BASE ",\"update_config\":{\"failure_action\":\"stop\"}}", "update_config.failure_action"},
    {"{" BASE ",\"rollback_config\":{\"failure_action\":\"rollback\"}}", "rollback_config.failure_action"},
    {"{" BASE ",\"update_config\":{\"order\":\"first\"}}", "update_config.order"},
    {"{" BASE ",\"update_config\":{\"max_failure_ratio\":1.5}}", "update_config.max_failure_ratio"},
    {"{" BASE ",\"update_config\":{\"max_failure_ratio\":-0.1}}", "update_config.max_failure_ratio"},
    {"{" BASE ",\"update_config\":{\"max_failure_ratio\":\"0.1\"}}", "update_config.max_failure_ratio"},
    {"{" BASE ",\"update_config\":{\"parallelism\":-1}}", "update_config.parallelism"},
    {"{" BASE ",\"rollback_config\":{\"monitor\":\"soon\"}}", "rollback_config.monitor"},
    /* networks */
    {"{" BASE ",\"networks\":\"backend\"}", "networks"},
    {"{" BASE ",\"networks\":[\"a\",\"\"]}", "networks[1]"},
    {"{" BASE ",\"networks\":[\"a\",\"a\"]}", "networks[1]"},
    /* mounts */
    {"{" BASE ",\"mounts\":[\"/data\"]}", "mounts[0]"},
    {"{" BASE ",\"mounts\":[{\"source\":\"data\"}]}", "mounts[0].target"},
    {"{" BASE ",\"mounts\":[{\"target\":\"/a\"},{\"target\":\"data\"}]}", "mounts[1].target"},
    {"{" BASE ",\"mounts\":[{\"target\":\"/\"}]}", "mounts[0].target"},
    {"{" BASE ",\"mounts\":[{\"type\":\"npipe\",\"target\":\"/a\"}]}", "mounts[0].type"},
    {"{" BASE ",\"mounts\":[{\"type\":\"bind\",\"target\":\"/a\"}]}", "mounts[0].source"},
    {"{" BASE ",\"mounts\":[{\"type\":\"bind\",\"source\":\"etc\",\"target\":\"/a\"}]}", "mounts[0].source"},
    {"{" BASE ",\"mounts\":[{\"type\":\"tmpfs\",\"source\":\"x\",\"target\":\"/a\"}]}", "mounts[0].source"},
    {"{" BASE ",\"mounts\":[{\"source\":\"a/b\",\"target\":\"/a\"}]}", "mounts[0].source"},
    {"{" BASE ",\"mounts\":[{\"target\":\"/a\",\"read_only\":\"yes\"}]}", "mounts[0].read_only"},
    {"{" BASE ",\"mounts\":[{\"target\":\"/a\"},{\"target\":\"/a\"}]}", "mounts[1].target"},
    /* healthcheck */
    {"{" BASE ",\"healthcheck\":{\"test\":\"curl x\"}}", "healthcheck.test"},
    {"{" BASE ",\"healthcheck\":{\"test\":[\"curl\",\"x\"]}}", "healthcheck.test"},
    {"{" BASE ",\"healthcheck\":{\"test\":[\"CMD\"]}}", "healthcheck.test"},
    {"{" BASE ",\"healthcheck\":{\"test\":[\"NONE\",\"x\"]}}", "healthcheck.test"},
    {"{" BASE ",\"healthcheck\":{\"test\":[\"CMD-SHELL\",\"a\",\"b\"]}}", "healthcheck.test"},
    {"{" BASE ",\"healthcheck\":{\"interval\":10}}", "healthcheck.interval"},
    {"{" BASE ",\"healthcheck\":{\"interval\":\"10us\"}}", "healthcheck.interval"},
    {"{" BASE ",\"healthcheck\":{\"timeout\":\"x\"}}", "healthcheck.timeout"},
    {"{" BASE ",\"healthcheck\":{\"retries\":-3}}", "healthcheck.retries"},
    {"{" BASE ",\"healthcheck\":{\"start_period\":\"1ns\"}}", "healthcheck.start_period"},
};

static void test_bad_input(void **state)
{
    int failures = 0;

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct eagle_spec s;
        struct eagle_err err = {0};
        json_t *j = parse_json(c->json);
        int rc = eagle_spec_from_json(j, &s, &err);

        json_decref(j);
        if (rc == 0) {
            print_error("case %zu accepted: %s\n", i, c->json);
            eagle_spec_release(&s);
            failures++;
            continue;
        }
        if (err.status != 400 || strcmp(err.code, "invalid_argument") != 0 ||
            strcmp(err.field, c->field) != 0 || !err.msg[0]) {
            print_error("case %zu: status %d code '%s' field '%s' (want '%s'): %s\n  %s\n", i, err.status,
                        err.code, err.field, c->field, err.msg, c->json);
            failures++;
        }
        /* A failed parse leaves the struct released (zeroed). */
        assert_null(s.name);
        assert_null(s.image);
        assert_null(s.env);
        assert_null(s.ports);
        assert_null(s.mounts);
    }
    assert_int_equal(failures, 0);
}

static void test_messages(void **state)
{
    struct eagle_spec s;
    struct eagle_err err = {0};
    json_t *j = parse_json("{" BASE ",\"resources\":{\"limits\":{\"cpux\":1}}}");

    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_non_null(strstr(err.msg, "unknown field 'resources.limits.cpux'"));
    json_decref(j);

    j = parse_json("{" BASE ",\"restart_policy\":{\"delay\":5000000000}}");
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_non_null(strstr(err.msg, "string"));
    json_decref(j);
}

static void test_names(void **state)
{
    static const char *const good[] = {"a",
                                       "web",
                                       "web-1",
                                       "1web",
                                       "a-b-c",
                                       "0",
                                       "a23456789012345678901234567890123456789012345678901234567890123"};
    static const char *const bad[] = {
        "",    "-a",  "a-",
        "A",   "a_b", "a.b",
        "a b", "wéb", "a234567890123456789012345678901234567890123456789012345678901234"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!eagle_name_valid(good[i]))
            fail_msg("'%s' should be valid", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (eagle_name_valid(bad[i]))
            fail_msg("'%s' should be invalid", bad[i]);
    assert_false(eagle_name_valid(NULL));
}

static void test_image_refs(void **state)
{
    static const char *const good[] = {
        "busybox",
        "busybox:latest",
        "busybox:1.36.1-musl",
        "library/busybox",
        "docker.io/library/busybox:1",
        "127.0.0.1:5000/web:1",
        "localhost:5000/web",
        "localhost/web",
        "registry.example.com/team/app/web:v1_2",
        "my-registry.example.com:443/a__b/c.d/e---f:TAG",
        "Registry.Example.COM/app",
        "a_b/c",
        "localhost:5000",
        "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "x:_tag",
    };
    static const char *const bad[] = {
        "",
        "BusyBox",
        "busybox:",
        "busybox:.x",
        "busybox:a/b",
        ":tag",
        "/busybox",
        "busybox/",
        "a//b",
        "a/B",
        "-a",
        "a-",
        "a..b",
        "a___b",
        "a_-b",
        "a b",
        "-host.com/x",
        "host-.com/x",
        "host..com/x",
        "host:/x",
        "host:123456/x",
        "host:80a/x",
        "busybox@sha256:0123",
        "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "busybox@md5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "busybox@",
        "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefa",
        "a:b:c",
    };
    char tag[200], longname[300];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!eagle_image_ref_valid(good[i]))
            fail_msg("'%s' should be valid", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (eagle_image_ref_valid(bad[i]))
            fail_msg("'%s' should be invalid", bad[i]);
    assert_false(eagle_image_ref_valid(NULL));

    /* A tag is at most 128 characters; the name at most 255. */
    memset(tag, 'a', sizeof(tag));
    memcpy(tag, "x:", 2);
    tag[2 + 128] = 0;
    assert_true(eagle_image_ref_valid(tag));
    tag[2 + 128] = 'a';
    tag[2 + 129] = 0;
    assert_false(eagle_image_ref_valid(tag));
    memset(longname, 'a', sizeof(longname));
    longname[255] = 0;
    assert_true(eagle_image_ref_valid(longname));
    longname[255] = 'a';
    longname[256] = 0;
    assert_false(eagle_image_ref_valid(longname));
}

/* ---- caps ---- */

/* {"name":"web","image":"busybox", key: n valid items}; constraints and preferences go in placement. */
static json_t *spec_with(const char *key, size_t n, bool map)
{
    json_t *j = parse_json("{" BASE "}"), *v = map ? json_object() : json_array();

    for (size_t i = 0; i < n; i++) {
        char item[32];

        snprintf(item, sizeof(item), "k%zu", i);
        if (map)
            json_object_set_new(v, item, json_string("v"));
        else if (strcmp(key, "ports") == 0)
            json_array_append_new(v, json_pack("{s:i}", "target", (int)i + 1));
        else if (strcmp(key, "mounts") == 0)
            json_array_append_new(
                v, json_pack("{s:s, s:o}", "type", "tmpfs", "target", json_sprintf("/m%zu", i)));
        else if (strcmp(key, "constraints") == 0)
            json_array_append_new(v, json_sprintf("node.labels.k%zu==v", i));
        else
            json_array_append_new(v, json_string(item));
    }
    if (strcmp(key, "constraints") == 0 || strcmp(key, "preferences") == 0)
        json_object_set_new(j, "placement", json_pack("{s:o}", key, v));
    else
        json_object_set_new(j, key, v);
    return j;
}

static void test_caps(void **state)
{
    static const struct {
        const char *key;
        bool map;
        const char *field;
    } lists[] = {{"command", false, "command"},
                 {"args", false, "args"},
                 {"env", true, "env"},
                 {"labels", true, "labels"},
                 {"ports", false, "ports"},
                 {"networks", false, "networks"},
                 {"mounts", false, "mounts"},
                 {"constraints", false, "placement.constraints"},
                 {"preferences", false, "placement.preferences"}};
    struct eagle_spec s;
    struct eagle_err err = {0};
    char *big;
    json_t *j;

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        j = spec_with(lists[i].key, EAGLE_SPEC_LIST_MAX, lists[i].map);
        if (eagle_spec_from_json(j, &s, &err) != 0)
            fail_msg("%s: %d items rejected: %s", lists[i].key, EAGLE_SPEC_LIST_MAX, err.msg);
        eagle_spec_release(&s);
        json_decref(j);

        j = spec_with(lists[i].key, EAGLE_SPEC_LIST_MAX + 1, lists[i].map);
        assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
        assert_string_equal(err.field, lists[i].field);
        json_decref(j);
    }

    /* Strings: 4096 bytes for a label value, 32 KiB for an env value or a command word. */
    big = malloc(40000);
    memset(big, 'x', 40000);
    big[4096] = 0;
    j = parse_json("{" BASE "}");
    json_object_set_new(j, "labels", json_pack("{s:s}", "a", big));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), 0);
    eagle_spec_release(&s);
    big[4096] = 'x';
    big[4097] = 0;
    json_object_set_new(j, "labels", json_pack("{s:s}", "a", big));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_string_equal(err.field, "labels.a");
    json_object_del(j, "labels");
    big[4097] = 'x';
    big[32769] = 0;
    json_object_set_new(j, "env", json_pack("{s:s}", "A", big));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_string_equal(err.field, "env.A");
    json_object_del(j, "env");
    json_object_set_new(j, "command", json_pack("[s, s]", "sh", big));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_string_equal(err.field, "command[1]");
    json_object_del(j, "command");

    /* A hostile map key gives a truncated field path, not an overflow. */
    big[4000] = 0; /* ... and 4000 bytes is within the key cap */
    json_object_set_new(j, "labels", json_pack("{s:i}", big, 1));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_true(strncmp(err.field, "labels.xxx", 10) == 0);
    assert_true(strlen(err.field) < sizeof(err.field));
    json_object_del(j, "labels");

    /* Embedded NUL bytes are refused. */
    json_object_set_new(j, "args", json_pack("[s#]", "a\0b", (int)3));
    assert_int_equal(eagle_spec_from_json(j, &s, &err), -1);
    assert_string_equal(err.field, "args[0]");
    json_decref(j);
    free(big);
}

/* ---- the Engine API mapping ---- */

static void test_engine_fields(void **state)
{
    struct eagle_spec s;
    json_t *labels = json_pack("{s:s, s:s}", "eagle.service", "web", "eagle.revision", "3");
    json_t *e, *l;

    load_spec(FULL_SPEC, &s);
    e = eagle_spec_to_engine(&s, labels);

    assert_str_at(e, "Name", "web");
    l = json_object_get(e, "Labels");
    assert_int_equal(json_object_size(l), 3);
    assert_string_equal(json_string_value(json_object_get(l, "team")), "cdn");
    assert_string_equal(json_string_value(json_object_get(l, "eagle.service")), "web");
    assert_string_equal(json_string_value(json_object_get(l, "eagle.revision")), "3");

    assert_str_at(e, "TaskTemplate.ContainerSpec.Image", "127.0.0.1:5000/web:1");
    assert_str_at(e, "TaskTemplate.ContainerSpec.Command[0]", "/bin/httpd");
    assert_int_equal(json_array_size(at(e, "TaskTemplate.ContainerSpec.Args")), 3);
    assert_str_at(e, "TaskTemplate.ContainerSpec.Args[1]", "-p");
    assert_int_equal(json_array_size(at(e, "TaskTemplate.ContainerSpec.Env")), 2);
    assert_str_at(e, "TaskTemplate.ContainerSpec.Env[0]", "A=x=y");
    assert_str_at(e, "TaskTemplate.ContainerSpec.Env[1]", "K=V");
    l = at(e, "TaskTemplate.ContainerSpec.Labels");
    assert_int_equal(json_object_size(l), 2);
    assert_string_equal(json_string_value(json_object_get(l, "eagle.revision")), "3");

    assert_int_equal(json_array_size(at(e, "TaskTemplate.ContainerSpec.Mounts")), 3);
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[0].Type", "volume");
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[0].Source", "data");
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[0].Target", "/data");
    assert_true(json_is_false(at(e, "TaskTemplate.ContainerSpec.Mounts[0].ReadOnly")));
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[1].Type", "bind");
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[1].Source", "/etc/ssl");
    assert_true(json_is_true(at(e, "TaskTemplate.ContainerSpec.Mounts[1].ReadOnly")));
    assert_str_at(e, "TaskTemplate.ContainerSpec.Mounts[2].Type", "tmpfs");
    assert_null(at(e, "TaskTemplate.ContainerSpec.Mounts[2].Source"));

    assert_int_equal(json_array_size(at(e, "TaskTemplate.ContainerSpec.Healthcheck.Test")), 5);
    assert_str_at(e, "TaskTemplate.ContainerSpec.Healthcheck.Test[0]", "CMD");
    assert_int_at(e, "TaskTemplate.ContainerSpec.Healthcheck.Interval", 10000000000LL);
    assert_int_at(e, "TaskTemplate.ContainerSpec.Healthcheck.Timeout", 5000000000LL);
    assert_int_at(e, "TaskTemplate.ContainerSpec.Healthcheck.Retries", 3);
    assert_int_at(e, "TaskTemplate.ContainerSpec.Healthcheck.StartPeriod", 60000000000LL);

    assert_int_at(e, "TaskTemplate.Resources.Limits.NanoCPUs", 500000000);
    assert_int_at(e, "TaskTemplate.Resources.Limits.MemoryBytes", 268435456);
    assert_int_at(e, "TaskTemplate.Resources.Reservations.NanoCPUs", 100000000);
    assert_int_at(e, "TaskTemplate.Resources.Reservations.MemoryBytes", 67108864);

    assert_str_at(e, "TaskTemplate.RestartPolicy.Condition", "on-failure");
    assert_int_at(e, "TaskTemplate.RestartPolicy.Delay", 5000000000LL);
    assert_int_at(e, "TaskTemplate.RestartPolicy.MaxAttempts", 3);
    assert_int_at(e, "TaskTemplate.RestartPolicy.Window", 120000000000LL);

    assert_str_at(e, "TaskTemplate.Placement.Constraints[0]", "node.role==worker");
    assert_str_at(e, "TaskTemplate.Placement.Preferences[0].Spread.SpreadDescriptor", "node.labels.zone");
    assert_int_at(e, "TaskTemplate.Placement.MaxReplicas", 3);
    assert_int_equal(json_array_size(at(e, "TaskTemplate.Networks")), 1);
    assert_str_at(e, "TaskTemplate.Networks[0].Target", "backend");

    assert_int_at(e, "Mode.Replicated.Replicas", 2);
    assert_null(at(e, "Mode.Global"));

    assert_int_at(e, "UpdateConfig.Parallelism", 2);
    assert_int_at(e, "UpdateConfig.Delay", 1500000000LL);
    assert_str_at(e, "UpdateConfig.FailureAction", "rollback");
    assert_int_at(e, "UpdateConfig.Monitor", 5000000000LL);
    assert_real_at(e, "UpdateConfig.MaxFailureRatio", 0.25);
    assert_str_at(e, "UpdateConfig.Order", "start-first");
    assert_int_at(e, "RollbackConfig.Parallelism", 1);
    assert_int_at(e, "RollbackConfig.Delay", 0);
    assert_str_at(e, "RollbackConfig.FailureAction", "continue");
    assert_int_at(e, "RollbackConfig.Monitor", 10000000000LL);
    assert_real_at(e, "RollbackConfig.MaxFailureRatio", 0);
    assert_str_at(e, "RollbackConfig.Order", "stop-first");

    assert_str_at(e, "EndpointSpec.Mode", "vip");
    assert_int_equal(json_array_size(at(e, "EndpointSpec.Ports")), 2);
    assert_str_at(e, "EndpointSpec.Ports[0].Protocol", "tcp");
    assert_int_at(e, "EndpointSpec.Ports[0].TargetPort", 8080);
    assert_int_at(e, "EndpointSpec.Ports[0].PublishedPort", 18080);
    assert_str_at(e, "EndpointSpec.Ports[0].PublishMode", "host");
    assert_str_at(e, "EndpointSpec.Ports[1].Protocol", "udp");
    assert_int_at(e, "EndpointSpec.Ports[1].TargetPort", 53);
    assert_null(at(e, "EndpointSpec.Ports[1].PublishedPort")); /* 0: Swarm picks one */
    assert_str_at(e, "EndpointSpec.Ports[1].PublishMode", "ingress");

    json_decref(e);
    eagle_spec_release(&s);
    json_decref(labels);
}

static void test_engine_minimal(void **state)
{
    struct eagle_spec s;
    json_t *e, *task;

    load_spec("{\"name\":\"g\",\"image\":\"busybox\",\"mode\":\"global\"}", &s);
    e = eagle_spec_to_engine(&s, NULL);
    /* What is unset is left out. */
    assert_true(json_is_object(at(e, "Mode.Global")));
    assert_null(at(e, "Mode.Replicated"));
    assert_null(at(e, "UpdateConfig"));
    assert_null(at(e, "RollbackConfig"));
    assert_null(at(e, "EndpointSpec.Ports"));
    assert_int_equal(json_object_size(at(e, "Labels")), 0);
    task = at(e, "TaskTemplate");
    assert_int_equal(json_object_size(task), 1);
    assert_int_equal(json_object_size(at(task, "ContainerSpec")), 1);
    assert_str_at(task, "ContainerSpec.Image", "busybox");
    json_decref(e);
    eagle_spec_release(&s);
}

static void test_engine_round_trip(void **state)
{
    static const char *const specs[] = {
        FULL_SPEC,
        "{\"name\":\"g\",\"image\":\"busybox\",\"mode\":\"global\",\"healthcheck\":{}}",
        ("{\"name\":\"z\",\"image\":\"busybox\",\"replicas\":0,\"restart_policy\":{\"delay\":\"0s\"},"
         "\"resources\":{\"reservations\":{\"cpus\":0.123456789}}}"),
    };
    json_t *labels = json_pack("{s:s}", "eagle.service", "web");

    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct eagle_spec a, b;
        struct eagle_err err = {0};
        json_t *e;

        load_spec(specs[i], &a);
        e = eagle_spec_to_engine(&a, labels);
        if (eagle_spec_from_engine(e, &b, &err) != 0)
            fail_msg("from_engine: %s (field %s)", err.msg, err.field);
        /* The engine knows nothing of the cluster. */
        assert_null(b.cluster);
        b.cluster = a.cluster ? strdup(a.cluster) : NULL;
        assert_spec_eq(&b, &a);
        json_decref(e);
        eagle_spec_release(&a);
        eagle_spec_release(&b);
    }
    json_decref(labels);
}

/* A Spec as GET /services/{id} shows it: extra fields, eagle labels, Networks in the old place. */
static void test_from_engine_real(void **state)
{
    struct eagle_spec s;
    struct eagle_err err = {0};
    json_t *e = parse_json(
        "{\"Name\": \"web\", \"Labels\": {\"eagle.service\": \"web\", \"eagle.revision\": \"2\", \"team\": "
        "\"cdn\"},"
        " \"TaskTemplate\": {\"ContainerSpec\": {\"Image\": \"busybox:1.36@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
        "   \"Labels\": {\"eagle.service\": \"web\"}, \"Env\": [\"B=2\", \"A=1\", \"NOVALUE\", \"=x\"],"
        "   \"Init\": false, \"StopGracePeriod\": 10000000000, \"DNSConfig\": {}, \"Isolation\": "
        "\"default\"},"
        "  \"Resources\": {\"Limits\": {}, \"Reservations\": {}},"
        "  \"RestartPolicy\": {\"Condition\": \"any\", \"MaxAttempts\": 0},"
        "  \"Placement\": {\"Platforms\": [{\"Architecture\": \"amd64\", \"OS\": \"linux\"}]},"
        "  \"ForceUpdate\": 0, \"Runtime\": \"container\"},"
        " \"Mode\": {\"Replicated\": {\"Replicas\": 3}},"
        " \"UpdateConfig\": {\"Parallelism\": 1, \"FailureAction\": \"pause\", \"MaxFailureRatio\": 0,"
        "   \"Order\": \"stop-first\"},"
        " \"Networks\": [{\"Target\": \"backend\", \"Aliases\": [\"w\"]}],"
        " \"EndpointSpec\": {\"Mode\": \"vip\", \"Ports\": [{\"Protocol\": \"tcp\", \"TargetPort\": 80,"
        "   \"PublishedPort\": 8080, \"PublishMode\": \"ingress\"}]}}");

    if (eagle_spec_from_engine(e, &s, &err) != 0)
        fail_msg("%s (field %s)", err.msg, err.field);
    assert_string_equal(s.name, "web");
    assert_int_equal(s.n_labels, 1);
    assert_string_equal(s.labels[0].key, "team");
    assert_int_equal(s.n_env, 2);
    assert_string_equal(s.env[0].key, "A");
    assert_int_equal(s.replicas, 3);
    assert_int_equal(s.limit_nano_cpus, 0);
    assert_true(s.restart_policy.set);
    assert_int_equal(s.restart_policy.delay_ns, 5000000000LL); /* absent: Swarm's default */
    assert_true(s.update_config.set);
    assert_int_equal(s.update_config.delay_ns, 0);
    assert_int_equal(s.update_config.monitor_ns, 5000000000LL);
    assert_false(s.rollback_config.set);
    assert_null(s.constraints);
    assert_string_equal(s.networks[0], "backend");
    assert_int_equal(s.n_ports, 1);
    assert_int_equal(s.ports[0].published, 8080);
    assert_false(s.healthcheck.set);
    eagle_spec_release(&s);
    json_decref(e);

    /* Tolerates a bare spec; refuses what Eagle cannot express. */
    e = parse_json("{\"Name\": \"x\", \"TaskTemplate\": {\"ContainerSpec\": {\"Image\": \"busybox\"}}}");
    assert_int_equal(eagle_spec_from_engine(e, &s, &err), 0);
    assert_int_equal(s.replicas, 1);
    eagle_spec_release(&s);
    json_decref(e);

    e = parse_json("{\"Name\": \"x\", \"TaskTemplate\": {\"ContainerSpec\": {\"Image\": \"busybox\"}},"
                   " \"Mode\": {\"ReplicatedJob\": {}}}");
    assert_int_equal(eagle_spec_from_engine(e, &s, &err), -1);
    assert_string_equal(err.field, "mode");
    json_decref(e);

    e = parse_json("{\"Name\": \"x\", \"TaskTemplate\": {\"ContainerSpec\": {\"Image\": \"busybox\"},"
                   " \"RestartPolicy\": {\"Delay\": -1}}}");
    assert_int_equal(eagle_spec_from_engine(e, &s, &err), -1);
    assert_string_equal(err.field, "restart_policy.delay");
    assert_non_null(strstr(err.msg, "engine"));
    json_decref(e);

    e = parse_json("[]");
    assert_int_equal(eagle_spec_from_engine(e, &s, &err), -1);
    json_decref(e);
}

/* ---- copy and release ---- */

static void test_copy(void **state)
{
    struct eagle_spec a, b, zero;

    load_spec(FULL_SPEC, &a);
    eagle_spec_copy(&b, &a);
    assert_spec_eq(&b, &a);
    assert_ptr_not_equal(a.name, b.name);
    assert_ptr_not_equal(a.env, b.env);
    assert_ptr_not_equal(a.mounts[0].source, b.mounts[0].source);
    eagle_spec_release(&a);
    /* b stands on its own. */
    assert_string_equal(b.mounts[1].source, "/etc/ssl");
    assert_string_equal(b.healthcheck.test[0], "CMD");
    eagle_spec_release(&b);

    memset(&zero, 0, sizeof(zero));
    eagle_spec_copy(&a, &zero);
    eagle_spec_release(&a);
    eagle_spec_release(&zero);
    eagle_spec_release(NULL);
}

static void test_health_check_round_trip(void **state)
{
    struct eagle_spec a, b;
    struct eagle_err err;
    json_t *in = parse_json("{\"name\": \"web\", \"image\": \"busybox\", \"health_check\": {\"type\": \"http\","
                            " \"port\": 8080, \"path\": \"/health\", \"status\": \"200-299\", \"body\": \"ok\","
                            " \"interval\": \"1s\", \"timeout\": \"500ms\", \"unhealthy_threshold\": 2}}");
    assert_int_equal(eagle_spec_from_json(in, &a, &err), 0);
    assert_string_equal(a.health_check.type, "http");
    assert_int_equal(a.health_check.status_min, 200);
    assert_int_equal(a.health_check.status_max, 299);
    assert_int_equal(a.health_check.timeout_ns, 500000000LL);
    assert_int_equal(a.health_check.healthy_threshold, 1);
    json_t *j1 = eagle_spec_to_json(&a);
    assert_int_equal(eagle_spec_from_json(j1, &b, &err), 0);
    json_t *j2 = eagle_spec_to_json(&b);
    assert_json_eq(j1, j2);
    /* Eagle's own check never reaches the engine */
    json_t *e = eagle_spec_to_engine(&a, NULL);
    char *text = json_dumps(e, 0);
    assert_null(strstr(text, "health"));
    free(text);
    json_decref(e);
    json_decref(in);
    json_decref(j1);
    json_decref(j2);
    eagle_spec_release(&a);
    eagle_spec_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_normalised_values),
        cmocka_unit_test(test_health_check_round_trip),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_image_refs),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_engine_fields),
        cmocka_unit_test(test_engine_minimal),
        cmocka_unit_test(test_engine_round_trip),
        cmocka_unit_test(test_from_engine_real),
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
