/*
 * spec.c — validate a service spec, write its normalised JSON, and map it to
 * and from the Docker Engine API's ServiceSpec (API 1.41). See spec.h.
 *
 * Rules:
 *  - eagle_spec_from_json() is the one place a spec is validated. The other way
 *    in, eagle_spec_from_engine(), translates the engine's JSON into Eagle's shape
 *    and goes through it too, so every struct eagle_spec obeys the same rules.
 *  - Every array, map and string taken from the input is checked against a cap
 *    before anything is allocated for it.
 *  - null is the same as absent for every optional field (the normalised form
 *    writes null for unset objects, and must read back).
 *  - Errors name the field by its JSON path: "ports[1].target", "env.FOO",
 *    "resources.limits.memory".
 *  - Numbers survive a round trip exactly: durations are capped at 1000h and
 *    written in the largest unit that divides them (so the double arithmetic in
 *    eagle_parse_duration() is exact), and cpus at 1e6 (so nano / 1e9 * 1e9
 *    rounds back to the same nano cpus).
 */
#include "model/spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define STR_MAX 4096       /* names, paths, labels, constraints */
#define TEXT_MAX 32768     /* env values, command and healthcheck words */
#define IMAGE_NAME_MAX 255 /* Docker's limit on the repository part */
#define REPLICAS_MAX 1000
#define COUNT_MAX 2147483647LL /* attempts, retries, parallelism */
#define CPUS_MAX 1e6
#define DURATION_MAX_NS (1000LL * 3600 * 1000000000) /* 1000h, below 2^53 ns */
#define HEALTH_MIN_NS 1000000LL                      /* Docker refuses healthcheck times under 1ms */
#define PATH_LEN ((int)sizeof(((struct eagle_err *)0)->field)) /* a path is at most an error field */

/* ---- field paths ---- */

/* A path too long for PATH_LEN (a hostile map key) ends in "..." rather than being cut silently. */
static const char *mark_cut(char *buf, int n)
{
    if (n >= PATH_LEN)
        memcpy(buf + PATH_LEN - 4, "...", 4);
    return buf;
}

/* "parent.key", or "key" at the top level, into buf (PATH_LEN bytes). */
static const char *join(char *buf, const char *parent, const char *key)
{
    if (parent[0])
        return mark_cut(buf, snprintf(buf, PATH_LEN, "%s.%s", parent, key));
    return mark_cut(buf, snprintf(buf, PATH_LEN, "%s", key));
}

static const char *join_idx(char *buf, const char *parent, size_t i)
{
    return mark_cut(buf, snprintf(buf, PATH_LEN, "%s[%zu]", parent, i));
}

/* ---- names and image references ---- */

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool word_char(char c)
{
    return alnum(c) || c == '_';
}

bool eagle_name_valid(const char *s)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    /* A DNS label, as Swarm requires of service names: no trailing '-' either. */
    if (n == 0 || n > EAGLE_NAME_MAX || !lower_alnum(s[0]) || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* path-component := [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !lower_alnum(s[0]))
        return false;
    while (i < n) {
        size_t j = i + 1;

        if (lower_alnum(s[i])) {
            i++;
            continue;
        }
        if (s[i] == '_' && j < n && s[j] == '_')
            j++;
        else if (s[i] == '-')
            while (j < n && s[j] == '-')
                j++;
        else if (s[i] != '.' && s[i] != '_')
            return false;
        if (j >= n || !lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* domain := component ('.' component)* [':' port], component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
static bool domain_valid(const char *s, size_t n)
{
    size_t host = n, start = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':') {
            host = i;
            break;
        }
    }
    if (host < n) {
        size_t digits = n - host - 1;
        if (digits == 0 || digits > 5)
            return false;
        for (size_t i = host + 1; i < n; i++)
            if (s[i] < '0' || s[i] > '9')
                return false;
    }
    for (size_t i = 0; i <= host; i++) {
        if (i < host && s[i] != '.') {
            if (!alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        if (i == start || !alnum(s[start]) || !alnum(s[i - 1]))
            return false;
        start = i + 1;
    }
    return true;
}

static bool tag_valid(const char *s, size_t n)
{
    if (n == 0 || n > 128 || !word_char(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!word_char(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static bool digest_valid(const char *s)
{
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64)
        return false;
    for (s += 7; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

bool eagle_image_ref_valid(const char *s)
{
    const char *at;
    size_t len, end, slash = 0, start;
    bool have_slash = false;

    if (!s)
        return false;
    len = strlen(s);
    if (len == 0 || len > STR_MAX)
        return false;
    at = strchr(s, '@');
    end = at ? (size_t)(at - s) : len;
    if (at && !digest_valid(at + 1))
        return false;
    /* The tag is after the last ':' that follows the last '/'. */
    for (size_t i = 0; i < end; i++) {
        if (s[i] == '/') {
            slash = i;
            have_slash = true;
        }
    }
    for (size_t i = have_slash ? slash + 1 : 0; i < end; i++) {
        if (s[i] == ':') {
            if (!tag_valid(s + i + 1, end - i - 1))
                return false;
            end = i;
            break;
        }
    }
    if (end == 0 || end > IMAGE_NAME_MAX)
        return false;
    /* An optional registry host before the first '/'. */
    start = 0;
    for (size_t i = 0; i < end; i++) {
        if (s[i] == '/') {
            if (!domain_valid(s, i) && !path_component_valid(s, i))
                return false;
            start = i + 1;
            break;
        }
    }
    for (size_t i = start; i <= end; i++) {
        if (i == end || s[i] == '/') {
            if (!path_component_valid(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* ---- reading JSON members ---- */

/* The member `key` of `obj`, or NULL when it is absent or null. */
static const json_t *member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static int check_keys(const json_t *obj, const char *path, const char *const *allowed, struct eagle_err *err)
{
    const char *key;
    json_t *v;
    char f[PATH_LEN];

    json_object_foreach((json_t *)obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return eagle_err_invalid(err, join(f, path, key), "unknown field '%s'", f);
    }
    return 0;
}

/* A JSON object member that must itself be an object with only `allowed` keys; *out NULL when absent. */
static int get_obj(const json_t *obj, const char *parent, const char *key, const char *const *allowed,
                   const json_t **out, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN];

    *out = NULL;
    if (!v)
        return 0;
    join(f, parent, key);
    if (!json_is_object(v))
        return eagle_err_invalid(err, f, "'%s' must be an object", f);
    if (check_keys(v, f, allowed, err))
        return -1;
    *out = v;
    return 0;
}

static int check_str(const json_t *v, const char *path, size_t max, struct eagle_err *err)
{
    size_t n;

    if (!json_is_string(v))
        return eagle_err_invalid(err, path, "'%s' must be a string", path);
    n = json_string_length(v);
    if (n > max)
        return eagle_err_invalid(err, path, "'%s' is longer than %zu bytes", path, max);
    if (strlen(json_string_value(v)) != n)
        return eagle_err_invalid(err, path, "'%s' must not contain NUL bytes", path);
    return 0;
}

/* A string member; *out is a new copy, or NULL when absent. */
static int get_str(const json_t *obj, const char *parent, const char *key, size_t max, char **out,
                   struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN];

    *out = NULL;
    if (!v)
        return 0;
    if (check_str(v, join(f, parent, key), max, err))
        return -1;
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_int(const json_t *obj, const char *parent, const char *key, int64_t min, int64_t max,
                   int64_t def, int64_t *out, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN];

    *out = def;
    if (!v)
        return 0;
    join(f, parent, key);
    if (!json_is_integer(v))
        return eagle_err_invalid(err, f, "'%s' must be an integer", f);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return eagle_err_invalid(err, f, "'%s' must be between %" PRId64 " and %" PRId64, f, min, max);
    *out = json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *obj, const char *parent, const char *key, bool *out, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN];

    *out = false;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return eagle_err_invalid(err, join(f, parent, key), "'%s' must be true or false", f);
    *out = json_is_true(v);
    return 0;
}

/* One of `values` into out (a small fixed buffer); the first value is the default. */
static int get_enum(const json_t *obj, const char *parent, const char *key, const char *const *values,
                    char *out, size_t n, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    const char *s;
    char f[PATH_LEN];

    snprintf(out, n, "%s", values[0]);
    if (!v)
        return 0;
    join(f, parent, key);
    if (!json_is_string(v))
        return eagle_err_invalid(err, f, "'%s' must be a string", f);
    s = json_string_value(v);
    for (const char *const *p = values; *p; p++) {
        if (strcmp(*p, s) == 0 && strlen(*p) == json_string_length(v)) {
            snprintf(out, n, "%s", *p);
            return 0;
        }
    }
    if (values[1] && values[2] && values[3])
        return eagle_err_invalid(err, f, "'%s' must be one of %s, %s, %s or %s", f, values[0], values[1],
                                 values[2], values[3]);
    if (values[1] && values[2])
        return eagle_err_invalid(err, f, "'%s' must be %s, %s or %s", f, values[0], values[1], values[2]);
    return eagle_err_invalid(err, f, "'%s' must be %s or %s", f, values[0], values[1]);
}

static int get_duration(const json_t *obj, const char *parent, const char *key, int64_t def, int64_t *out,
                        struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN];
    int64_t ns;

    *out = def;
    if (!v)
        return 0;
    join(f, parent, key);
    if (!json_is_string(v))
        return eagle_err_invalid(
            err, f, "'%s' must be a duration string such as \"5s\" (numbers are not accepted)", f);
    if (json_string_length(v) > 64 || eagle_parse_duration(json_string_value(v), &ns) != 0)
        return eagle_err_invalid(err, f, "'%s' is not a duration such as \"500ms\", \"5s\", \"1m\" or \"1h\"",
                                 f);
    if (ns > DURATION_MAX_NS)
        return eagle_err_invalid(err, f, "'%s' must be at most 1000h", f);
    *out = ns;
    return 0;
}

/* "cpus": a number of CPUs (0 = no limit), kept as nano CPUs. */
static int get_cpus(const json_t *obj, const char *parent, int64_t *out, struct eagle_err *err)
{
    const json_t *v = member(obj, "cpus");
    char f[PATH_LEN];
    double cpus;

    *out = 0;
    if (!v)
        return 0;
    join(f, parent, "cpus");
    if (!json_is_number(v))
        return eagle_err_invalid(err, f, "'%s' must be a number", f);
    cpus = json_number_value(v);
    if (!(cpus >= 0 && cpus <= CPUS_MAX))
        return eagle_err_invalid(err, f, "'%s' must be between 0 and %g", f, CPUS_MAX);
    *out = (int64_t)(cpus * 1e9 + 0.5); /* rounded; cpus >= 0 here (and no libm in the link) */
    if (cpus > 0 && *out == 0)
        return eagle_err_invalid(err, f, "'%s' must be at least 0.000000001", f);
    return 0;
}

/* "memory": a size string ("256M") or a byte count (0 = no limit). */
static int get_memory(const json_t *obj, const char *parent, int64_t *out, struct eagle_err *err)
{
    const json_t *v = member(obj, "memory");
    char f[PATH_LEN];

    *out = 0;
    if (!v)
        return 0;
    join(f, parent, "memory");
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return eagle_err_invalid(err, f, "'%s' must not be negative", f);
        *out = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return eagle_err_invalid(err, f, "'%s' must be a size such as \"256M\" or a number of bytes", f);
    if (json_string_length(v) > 64 || eagle_parse_bytes(json_string_value(v), out) != 0)
        return eagle_err_invalid(err, f, "'%s' is not a size such as \"64M\", \"1G\" or \"512Ki\"", f);
    return 0;
}

static void free_list(char **l)
{
    if (!l)
        return;
    for (char **p = l; *p; p++)
        free(*p);
    free(l);
}

static void free_kv(struct eagle_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* An array of strings into a NULL-terminated list; NULL when absent or empty. */
static int get_list(const json_t *obj, const char *parent, const char *key, size_t max, bool nonempty,
                    char ***out, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    char f[PATH_LEN], fi[PATH_LEN];
    size_t n;
    char **l;

    *out = NULL;
    if (!v)
        return 0;
    join(f, parent, key);
    if (!json_is_array(v))
        return eagle_err_invalid(err, f, "'%s' must be an array of strings", f);
    n = json_array_size(v);
    if (n > EAGLE_SPEC_LIST_MAX)
        return eagle_err_invalid(err, f, "'%s' has more than %d items", f, EAGLE_SPEC_LIST_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        if (check_str(item, join_idx(fi, f, i), max, err))
            return -1;
        if (nonempty && json_string_length(item) == 0)
            return eagle_err_invalid(err, fi, "'%s' must not be empty", fi);
    }
    if (n == 0)
        return 0;
    l = xcalloc(n + 1, sizeof(*l));
    for (size_t i = 0; i < n; i++)
        l[i] = xstrdup(json_string_value(json_array_get(v, i)));
    *out = l;
    return 0;
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct eagle_kv *)a)->key, ((const struct eagle_kv *)b)->key);
}

/* Why `key` is not acceptable in this map, or NULL. */
typedef const char *(*key_check_fn)(const char *key);

static const char *env_key_problem(const char *key)
{
    if (!key[0])
        return "an environment variable name must not be empty";
    if (strchr(key, '='))
        return "an environment variable name must not contain '='";
    return NULL;
}

static const char *label_key_problem(const char *key)
{
    if (!key[0])
        return "a label key must not be empty";
    if (strncmp(key, "eagle.", 6) == 0)
        return "label keys starting with \"eagle.\" are reserved";
    return NULL;
}

/* An object of strings into key/value pairs sorted by key. */
static int get_map(const json_t *obj, const char *key, size_t max, key_check_fn check, struct eagle_kv **out,
                   size_t *n_out, struct eagle_err *err)
{
    const json_t *v = member(obj, key);
    const char *k, *problem;
    json_t *val;
    char f[PATH_LEN];
    size_t n = 0;
    struct eagle_kv *kv;

    *out = NULL;
    *n_out = 0;
    if (!v)
        return 0;
    if (!json_is_object(v))
        return eagle_err_invalid(err, key, "'%s' must be an object of strings", key);
    if (json_object_size(v) > EAGLE_SPEC_LIST_MAX)
        return eagle_err_invalid(err, key, "'%s' has more than %d entries", key, EAGLE_SPEC_LIST_MAX);
    json_object_foreach((json_t *)v, k, val)
    {
        join(f, key, k);
        if (strlen(k) > STR_MAX)
            return eagle_err_invalid(err, f, "'%s': key is longer than %d bytes", key, STR_MAX);
        if ((problem = check(k)))
            return eagle_err_invalid(err, f, "'%s': %s", f, problem);
        if (check_str(val, f, max, err))
            return -1;
    }
    if (json_object_size(v) == 0)
        return 0;
    kv = xcalloc(json_object_size(v), sizeof(*kv));
    json_object_foreach((json_t *)v, k, val)
    {
        kv[n].key = xstrdup(k);
        kv[n].value = xstrdup(json_string_value(val));
        n++;
    }
    qsort(kv, n, sizeof(*kv), kv_cmp);
    *out = kv;
    *n_out = n;
    return 0;
}

/* ---- the spec's parts ---- */

static int parse_resources(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"limits", "reservations", NULL};
    static const char *const inner[] = {"cpus", "memory", NULL};
    const json_t *res, *lim, *rsv;

    if (get_obj(in, "", "resources", keys, &res, err))
        return -1;
    if (!res)
        return 0;
    if (get_obj(res, "resources", "limits", inner, &lim, err) ||
        get_obj(res, "resources", "reservations", inner, &rsv, err))
        return -1;
    if (lim && (get_cpus(lim, "resources.limits", &s->limit_nano_cpus, err) ||
                get_memory(lim, "resources.limits", &s->limit_memory, err)))
        return -1;
    if (rsv && (get_cpus(rsv, "resources.reservations", &s->reserve_nano_cpus, err) ||
                get_memory(rsv, "resources.reservations", &s->reserve_memory, err)))
        return -1;
    if (s->limit_nano_cpus && s->reserve_nano_cpus > s->limit_nano_cpus)
        return eagle_err_invalid(err, "resources.reservations.cpus",
                                 "'resources.reservations.cpus' must not exceed 'resources.limits.cpus'");
    if (s->limit_memory && s->reserve_memory > s->limit_memory)
        return eagle_err_invalid(err, "resources.reservations.memory",
                                 "'resources.reservations.memory' must not exceed 'resources.limits.memory'");
    return 0;
}

static int parse_ports(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"target", "published", "protocol", "mode", NULL};
    static const char *const protocols[] = {"tcp", "udp", "sctp", NULL};
    static const char *const modes[] = {"ingress", "host", NULL};
    const json_t *v = member(in, "ports");
    char f[PATH_LEN];
    size_t n;

    if (!v)
        return 0;
    if (!json_is_array(v))
        return eagle_err_invalid(err, "ports", "'ports' must be an array");
    n = json_array_size(v);
    if (n > EAGLE_SPEC_LIST_MAX)
        return eagle_err_invalid(err, "ports", "'ports' has more than %d items", EAGLE_SPEC_LIST_MAX);
    if (n == 0)
        return 0;
    s->ports = xcalloc(n, sizeof(*s->ports));
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(v, i);
        struct eagle_port *port = &s->ports[i];
        int64_t target, published;

        join_idx(f, "ports", i);
        if (!json_is_object(p))
            return eagle_err_invalid(err, f, "'%s' must be an object", f);
        if (check_keys(p, f, keys, err))
            return -1;
        s->n_ports = i + 1;
        if (!member(p, "target")) {
            char ft[PATH_LEN];
            return eagle_err_invalid(err, join(ft, f, "target"), "'%s' is required", ft);
        }
        if (get_int(p, f, "target", 1, 65535, 0, &target, err) ||
            get_int(p, f, "published", 0, 65535, 0, &published, err) ||
            get_enum(p, f, "protocol", protocols, port->protocol, sizeof(port->protocol), err) ||
            get_enum(p, f, "mode", modes, port->mode, sizeof(port->mode), err))
            return -1;
        port->target = (int)target;
        port->published = (int)published;
        for (size_t j = 0; port->published && j < i; j++) {
            if (s->ports[j].published == port->published &&
                strcmp(s->ports[j].protocol, port->protocol) == 0) {
                char fp[PATH_LEN];
                return eagle_err_invalid(err, join(fp, f, "published"), "'%s': port %d/%s is published twice",
                                         fp, port->published, port->protocol);
            }
        }
    }
    return 0;
}

static int parse_placement(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"constraints", "preferences", "max_replicas_per_node", NULL};
    const json_t *pl;
    char f[PATH_LEN];

    if (get_obj(in, "", "placement", keys, &pl, err))
        return -1;
    if (!pl)
        return 0;
    if (get_list(pl, "placement", "constraints", STR_MAX, true, &s->constraints, err) ||
        get_list(pl, "placement", "preferences", STR_MAX, true, &s->preferences, err) ||
        get_int(pl, "placement", "max_replicas_per_node", 0, COUNT_MAX, 0, &s->max_replicas_per_node, err))
        return -1;
    for (size_t i = 0; s->constraints && s->constraints[i]; i++) {
        if (!strstr(s->constraints[i], "==") && !strstr(s->constraints[i], "!="))
            return eagle_err_invalid(err, join_idx(f, "placement.constraints", i),
                                     "'%s' must be of the form \"key==value\" or \"key!=value\"", f);
    }
    if (s->global && s->max_replicas_per_node)
        return eagle_err_invalid(err, "placement.max_replicas_per_node",
                                 "'placement.max_replicas_per_node' is not allowed with mode global");
    return 0;
}

static int parse_restart(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"condition", "delay", "max_attempts", "window", NULL};
    static const char *const conditions[] = {"any", "on-failure", "none", NULL};
    const char *p = "restart_policy";
    const json_t *rp;

    if (get_obj(in, "", p, keys, &rp, err))
        return -1;
    if (!rp)
        return 0;
    s->restart_policy.set = true;
    /* Defaults are Swarm's, so naming one field does not change the others. */
    if (get_enum(rp, p, "condition", conditions, s->restart_policy.condition,
                 sizeof(s->restart_policy.condition), err) ||
        get_duration(rp, p, "delay", 5000000000LL, &s->restart_policy.delay_ns, err) ||
        get_int(rp, p, "max_attempts", 0, COUNT_MAX, 0, &s->restart_policy.max_attempts, err) ||
        get_duration(rp, p, "window", 0, &s->restart_policy.window_ns, err))
        return -1;
    return 0;
}

static int parse_update(const json_t *in, const char *key, bool rollback, struct eagle_update_policy *u,
                        struct eagle_err *err)
{
    static const char *const keys[] = {
        "parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order", NULL};
    static const char *const update_actions[] = {"pause", "continue", "rollback", NULL};
    static const char *const rollback_actions[] = {"pause", "continue", NULL};
    static const char *const orders[] = {"stop-first", "start-first", NULL};
    const json_t *o, *ratio;
    char f[PATH_LEN];

    if (get_obj(in, "", key, keys, &o, err))
        return -1;
    if (!o)
        return 0;
    u->set = true;
    if (get_int(o, key, "parallelism", 0, COUNT_MAX, 1, &u->parallelism, err) ||
        get_duration(o, key, "delay", 0, &u->delay_ns, err) ||
        get_enum(o, key, "failure_action", rollback ? rollback_actions : update_actions, u->failure_action,
                 sizeof(u->failure_action), err) ||
        get_duration(o, key, "monitor", 5000000000LL, &u->monitor_ns, err) ||
        get_enum(o, key, "order", orders, u->order, sizeof(u->order), err))
        return -1;
    u->max_failure_ratio = 0;
    if ((ratio = member(o, "max_failure_ratio"))) {
        join(f, key, "max_failure_ratio");
        if (!json_is_number(ratio))
            return eagle_err_invalid(err, f, "'%s' must be a number", f);
        u->max_failure_ratio = json_number_value(ratio);
        if (!(u->max_failure_ratio >= 0 && u->max_failure_ratio <= 1))
            return eagle_err_invalid(err, f, "'%s' must be between 0 and 1", f);
    }
    return 0;
}

static bool volume_name_valid(const char *s)
{
    /* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
    if (!alnum(s[0]) || !s[1])
        return false;
    for (s++; *s; s++)
        if (!alnum(*s) && *s != '_' && *s != '.' && *s != '-')
            return false;
    return true;
}

static int parse_mounts(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"type", "source", "target", "read_only", NULL};
    static const char *const types[] = {"volume", "bind", "tmpfs", NULL};
    const json_t *v = member(in, "mounts");
    char f[PATH_LEN], fs[PATH_LEN], ft[PATH_LEN];
    size_t n;

    if (!v)
        return 0;
    if (!json_is_array(v))
        return eagle_err_invalid(err, "mounts", "'mounts' must be an array");
    n = json_array_size(v);
    if (n > EAGLE_SPEC_LIST_MAX)
        return eagle_err_invalid(err, "mounts", "'mounts' has more than %d items", EAGLE_SPEC_LIST_MAX);
    if (n == 0)
        return 0;
    s->mounts = xcalloc(n, sizeof(*s->mounts));
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(v, i);
        struct eagle_mount *m = &s->mounts[i];

        join_idx(f, "mounts", i);
        join(fs, f, "source");
        join(ft, f, "target");
        if (!json_is_object(o))
            return eagle_err_invalid(err, f, "'%s' must be an object", f);
        if (check_keys(o, f, keys, err))
            return -1;
        s->n_mounts = i + 1;
        if (get_enum(o, f, "type", types, m->type, sizeof(m->type), err) ||
            get_str(o, f, "source", STR_MAX, &m->source, err) ||
            get_str(o, f, "target", STR_MAX, &m->target, err) ||
            get_bool(o, f, "read_only", &m->read_only, err))
            return -1;
        if (m->source && !m->source[0]) {
            free(m->source);
            m->source = NULL;
        }
        if (!m->target)
            return eagle_err_invalid(err, ft, "'%s' is required", ft);
        if (m->target[0] != '/' || !m->target[1])
            return eagle_err_invalid(err, ft, "'%s' must be an absolute path other than \"/\"", ft);
        if (strcmp(m->type, "bind") == 0 && (!m->source || m->source[0] != '/'))
            return eagle_err_invalid(err, fs, "'%s' must be an absolute host path for a bind mount", fs);
        if (strcmp(m->type, "tmpfs") == 0 && m->source)
            return eagle_err_invalid(err, fs, "'%s' is not allowed for a tmpfs mount", fs);
        if (strcmp(m->type, "volume") == 0 && m->source && !volume_name_valid(m->source))
            return eagle_err_invalid(err, fs, "'%s' must be a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", fs);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->mounts[j].target, m->target) == 0)
                return eagle_err_invalid(err, ft, "'%s': %s is mounted twice", ft, m->target);
    }
    return 0;
}

/* "health_check": {"type": "http", "port": 8080, "path": "/health", "method": "GET", "host": "x",
 *  "status": "200-399", "body": "ok", "interval": "1s", "timeout": "1s", "healthy_threshold": 2,
 *  "unhealthy_threshold": 3, "start_period": "0s"} */
static int parse_health_check(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"type", "port", "path", "method", "host", "status", "body", "interval",
                                       "timeout", "healthy_threshold", "unhealthy_threshold", "start_period", NULL};
    static const char *const types[] = {"tcp", "http", NULL};
    static const char *const methods[] = {"GET", "HEAD", NULL};
    const char *p = "health_check";
    struct eagle_spec_health *h = &s->health_check;
    const json_t *hc;
    char *status = NULL;

    if (get_obj(in, "", p, keys, &hc, err))
        return -1;
    if (!hc)
        return 0;
    h->set = true;
    if (!member(hc, "type"))
        return eagle_err_invalid(err, "health_check.type", "'health_check.type' is required: \"tcp\" or \"http\"");
    if (get_enum(hc, p, "type", types, h->type, sizeof(h->type), err) ||
        get_int(hc, p, "port", 1, 65535, 0, &h->port, err))
        return -1;
    if (!h->port)
        return eagle_err_invalid(err, "health_check.port", "'health_check.port' is required (1-65535)");
    /* limits: those of the checker (health/checker.h) */
    if (get_enum(hc, p, "method", methods, h->method, sizeof(h->method), err) ||
        get_str(hc, p, "path", 1023, &h->path, err) || get_str(hc, p, "host", 253, &h->host, err) ||
        get_str(hc, p, "body", 127, &h->body, err) || get_str(hc, p, "status", 16, &status, err) ||
        get_duration(hc, p, "interval", 5000000000LL, &h->interval_ns, err) ||
        get_duration(hc, p, "timeout", 2000000000LL, &h->timeout_ns, err) ||
        get_duration(hc, p, "start_period", 0, &h->start_period_ns, err) ||
        get_int(hc, p, "healthy_threshold", 1, 100, 1, &h->healthy_threshold, err) ||
        get_int(hc, p, "unhealthy_threshold", 1, 100, 3, &h->unhealthy_threshold, err)) {
        free(status);
        return -1;
    }
    if (!h->path)
        h->path = xstrdup("/");
    if (h->path[0] != '/' || strpbrk(h->path, " \r\n")) {
        free(status);
        return eagle_err_invalid(err, "health_check.path", "'health_check.path' must start with '/' and have no spaces");
    }
    if (h->host && strpbrk(h->host, " \r\n/")) {
        free(status);
        return eagle_err_invalid(err, "health_check.host", "'health_check.host' is not a host name");
    }
    h->status_min = 200;
    h->status_max = 399;
    if (status) {
        int a, b, n = 0;
        if (sscanf(status, "%d-%d%n", &a, &b, &n) == 2 && status[n] == 0 && a >= 100 && b <= 599 && a <= b) {
            h->status_min = a;
            h->status_max = b;
        } else if (sscanf(status, "%d%n", &a, &n) == 1 && status[n] == 0 && a >= 100 && a <= 599) {
            h->status_min = h->status_max = a;
        } else {
            free(status);
            return eagle_err_invalid(err, "health_check.status",
                                     "'health_check.status' must be a status or a range such as \"200-399\"");
        }
        free(status);
    }
    if (h->interval_ns < 100000000LL || h->interval_ns > 86400000000000LL)
        return eagle_err_invalid(err, "health_check.interval", "'health_check.interval' must be from 100ms to 24h");
    if (h->timeout_ns < 10000000LL || h->timeout_ns > 600000000000LL)
        return eagle_err_invalid(err, "health_check.timeout", "'health_check.timeout' must be from 10ms to 10m");
    if (h->start_period_ns > 86400000000000LL)
        return eagle_err_invalid(err, "health_check.start_period", "'health_check.start_period' must be at most 24h");
    if (strcmp(h->type, "tcp") == 0 && (member(hc, "path") || member(hc, "body") || member(hc, "status")))
        return eagle_err_invalid(err, "health_check.type", "path, status and body apply to \"http\" checks only");
    return 0;
}

static int parse_healthcheck(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"test", "interval", "timeout", "retries", "start_period", NULL};
    const char *p = "healthcheck";
    const json_t *hc;
    char **t;

    if (get_obj(in, "", p, keys, &hc, err))
        return -1;
    if (!hc)
        return 0;
    s->healthcheck.set = true;
    if (get_list(hc, p, "test", TEXT_MAX, false, &s->healthcheck.test, err) ||
        get_duration(hc, p, "interval", 0, &s->healthcheck.interval_ns, err) ||
        get_duration(hc, p, "timeout", 0, &s->healthcheck.timeout_ns, err) ||
        get_int(hc, p, "retries", 0, COUNT_MAX, 0, &s->healthcheck.retries, err) ||
        get_duration(hc, p, "start_period", 0, &s->healthcheck.start_period_ns, err))
        return -1;
    /* Empty test: inherit the image's. Otherwise Docker's forms: NONE, CMD args..., CMD-SHELL command. */
    if ((t = s->healthcheck.test)) {
        bool ok = (strcmp(t[0], "NONE") == 0 && !t[1]) || (strcmp(t[0], "CMD") == 0 && t[1]) ||
                  (strcmp(t[0], "CMD-SHELL") == 0 && t[1] && !t[2]);
        if (!ok)
            return eagle_err_invalid(err, "healthcheck.test",
                                     "'healthcheck.test' must be [\"NONE\"], [\"CMD\", args...] or "
                                     "[\"CMD-SHELL\", command]");
    }
    if (s->healthcheck.interval_ns && s->healthcheck.interval_ns < HEALTH_MIN_NS)
        return eagle_err_invalid(err, "healthcheck.interval",
                                 "'healthcheck.interval' must be 0 or at least 1ms");
    if (s->healthcheck.timeout_ns && s->healthcheck.timeout_ns < HEALTH_MIN_NS)
        return eagle_err_invalid(err, "healthcheck.timeout",
                                 "'healthcheck.timeout' must be 0 or at least 1ms");
    if (s->healthcheck.start_period_ns && s->healthcheck.start_period_ns < HEALTH_MIN_NS)
        return eagle_err_invalid(err, "healthcheck.start_period",
                                 "'healthcheck.start_period' must be 0 or at least 1ms");
    return 0;
}

static int parse_spec(const json_t *in, struct eagle_spec *s, struct eagle_err *err)
{
    static const char *const keys[] = {"name",
                                       "tenant",
                                       "cluster",
                                       "cap_add",
                                       "image",
                                       "command",
                                       "args",
                                       "env",
                                       "mode",
                                       "replicas",
                                       "resources",
                                       "ports",
                                       "labels",
                                       "placement",
                                       "restart_policy",
                                       "update_config",
                                       "rollback_config",
                                       "networks",
                                       "mounts",
                                       "healthcheck",
                                       "health_check",
                                       NULL};
    static const char *const modes[] = {"replicated", "global", NULL};
    char mode[12];

    if (!json_is_object(in))
        return eagle_err_invalid(err, NULL, "a spec must be a JSON object");
    if (check_keys(in, "", keys, err))
        return -1;

    if (get_str(in, "", "name", EAGLE_NAME_MAX, &s->name, err))
        return -1;
    if (!s->name)
        return eagle_err_invalid(err, "name", "'name' is required");
    if (!eagle_name_valid(s->name))
        return eagle_err_invalid(err, "name",
                                 "'name' must be lowercase letters, digits and '-', start with a letter or "
                                 "digit and not end with '-'");
    if (get_str(in, "", "tenant", EAGLE_NAME_MAX, &s->tenant, err))
        return -1;
    if (s->tenant && !eagle_name_valid(s->tenant))
        return eagle_err_invalid(err, "tenant", "'tenant' is not a valid tenant name");
    if (get_str(in, "", "cluster", EAGLE_NAME_MAX, &s->cluster, err))
        return -1;
    if (s->cluster && !eagle_name_valid(s->cluster))
        return eagle_err_invalid(err, "cluster", "'cluster' is not a valid cluster name");
    if (get_list(in, "", "cap_add", 64, true, &s->cap_add, err))
        return -1;
    for (size_t i = 0; s->cap_add && s->cap_add[i]; i++) {
        const char *c = s->cap_add[i];
        size_t n = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
        if (n == 0 || c[n] != 0) {
            char f[PATH_LEN];
            return eagle_err_invalid(err, join_idx(f, "cap_add", i),
                                     "'%s' must be a capability name such as CAP_NET_ADMIN, not '%.64s'", f, c);
        }
    }
    if (get_str(in, "", "image", STR_MAX, &s->image, err))
        return -1;
    if (!s->image)
        return eagle_err_invalid(err, "image", "'image' is required");
    if (!eagle_image_ref_valid(s->image))
        return eagle_err_invalid(err, "image", "'image' is not a valid image reference: '%.200s'", s->image);

    if (get_list(in, "", "command", TEXT_MAX, false, &s->command, err) ||
        get_list(in, "", "args", TEXT_MAX, false, &s->args, err) ||
        get_map(in, "env", TEXT_MAX, env_key_problem, &s->env, &s->n_env, err))
        return -1;

    if (get_enum(in, "", "mode", modes, mode, sizeof(mode), err))
        return -1;
    s->global = strcmp(mode, "global") == 0;
    if (s->global && member(in, "replicas"))
        return eagle_err_invalid(err, "replicas", "'replicas' is not allowed with mode global");
    if (get_int(in, "", "replicas", 0, REPLICAS_MAX, s->global ? 0 : 1, &s->replicas, err))
        return -1;

    if (parse_resources(in, s, err) || parse_ports(in, s, err) ||
        get_map(in, "labels", STR_MAX, label_key_problem, &s->labels, &s->n_labels, err) ||
        parse_placement(in, s, err) || parse_restart(in, s, err) ||
        parse_update(in, "update_config", false, &s->update_config, err) ||
        parse_update(in, "rollback_config", true, &s->rollback_config, err) ||
        get_list(in, "", "networks", STR_MAX, true, &s->networks, err) || parse_mounts(in, s, err) ||
        parse_healthcheck(in, s, err) || parse_health_check(in, s, err))
        return -1;
    for (size_t i = 0; s->networks && s->networks[i]; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->networks[i], s->networks[j]) == 0) {
                char f[PATH_LEN];
                return eagle_err_invalid(err, join_idx(f, "networks", i),
                                         "'%s': network '%s' is listed twice", f, s->networks[i]);
            }
        }
    }
    return 0;
}

int eagle_spec_from_json(const json_t *in, struct eagle_spec *spec, struct eagle_err *err)
{
    memset(spec, 0, sizeof(*spec));
    if (parse_spec(in, spec, err) != 0) {
        eagle_spec_release(spec);
        return -1;
    }
    return 0;
}

void eagle_spec_release(struct eagle_spec *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->tenant);
    free(s->cluster);
    free_list(s->cap_add);
    free(s->image);
    free_list(s->command);
    free_list(s->args);
    free_kv(s->env, s->n_env);
    free(s->ports);
    free_kv(s->labels, s->n_labels);
    free_list(s->constraints);
    free_list(s->preferences);
    free_list(s->networks);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free(s->mounts[i].source);
        free(s->mounts[i].target);
    }
    free(s->mounts);
    free_list(s->healthcheck.test);
    free(s->health_check.path);
    free(s->health_check.host);
    free(s->health_check.body);
    memset(s, 0, sizeof(*s));
}

/* ---- copying ---- */

static char **copy_list(char *const *l)
{
    size_t n = 0;
    char **c;

    if (!l)
        return NULL;
    while (l[n])
        n++;
    c = xcalloc(n + 1, sizeof(*c));
    for (size_t i = 0; i < n; i++)
        c[i] = xstrdup(l[i]);
    return c;
}

static struct eagle_kv *copy_kv(const struct eagle_kv *kv, size_t n)
{
    struct eagle_kv *c;

    if (!kv || !n)
        return NULL;
    c = xcalloc(n, sizeof(*c));
    for (size_t i = 0; i < n; i++) {
        c[i].key = xstrdup(kv[i].key);
        c[i].value = xstrdup(kv[i].value);
    }
    return c;
}

void eagle_spec_copy(struct eagle_spec *dst, const struct eagle_spec *src)
{
    *dst = *src; /* the scalars and fixed buffers; every pointer is replaced below */
    dst->name = xstrdup(src->name);
    dst->tenant = xstrdup(src->tenant);
    dst->cluster = xstrdup(src->cluster);
    dst->cap_add = copy_list(src->cap_add);
    dst->image = xstrdup(src->image);
    dst->command = copy_list(src->command);
    dst->args = copy_list(src->args);
    dst->env = copy_kv(src->env, src->n_env);
    dst->n_env = dst->env ? src->n_env : 0;
    dst->ports = NULL;
    if (src->n_ports) {
        dst->ports = xcalloc(src->n_ports, sizeof(*dst->ports));
        memcpy(dst->ports, src->ports, src->n_ports * sizeof(*dst->ports));
    }
    dst->labels = copy_kv(src->labels, src->n_labels);
    dst->n_labels = dst->labels ? src->n_labels : 0;
    dst->constraints = copy_list(src->constraints);
    dst->preferences = copy_list(src->preferences);
    dst->networks = copy_list(src->networks);
    dst->mounts = NULL;
    if (src->n_mounts) {
        dst->mounts = xcalloc(src->n_mounts, sizeof(*dst->mounts));
        for (size_t i = 0; i < src->n_mounts; i++) {
            dst->mounts[i] = src->mounts[i];
            dst->mounts[i].source = xstrdup(src->mounts[i].source);
            dst->mounts[i].target = xstrdup(src->mounts[i].target);
        }
    }
    dst->healthcheck.test = copy_list(src->healthcheck.test);
    dst->health_check.path = xstrdup(src->health_check.path);
    dst->health_check.host = xstrdup(src->health_check.host);
    dst->health_check.body = xstrdup(src->health_check.body);
}

/* ---- writing JSON ---- */

/* A duration in the largest unit that divides it exactly ("90s", "1h", "1500ms"). */
static json_t *duration_json(int64_t ns)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"h", 3600000000000LL}, {"m", 60000000000LL}, {"s", 1000000000LL},
                 {"ms", 1000000LL},      {"us", 1000LL},       {"ns", 1}};
    char buf[40];

    if (ns == 0)
        return json_string("0s");
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ns % units[i].ns == 0) {
            snprintf(buf, sizeof(buf), "%" PRId64 "%s", ns / units[i].ns, units[i].unit);
            break;
        }
    }
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *list_json(char *const *l)
{
    json_t *a = json_array();

    for (size_t i = 0; l && l[i]; i++)
        json_array_append_new(a, json_string(l[i]));
    return a;
}

static json_t *kv_json(const struct eagle_kv *kv, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

static json_t *update_json(const struct eagle_update_policy *u)
{
    if (!u->set)
        return json_null();
    return json_pack("{s:I, s:o, s:s, s:o, s:f, s:s}", "parallelism", (json_int_t)u->parallelism, "delay",
                     duration_json(u->delay_ns), "failure_action", u->failure_action, "monitor",
                     duration_json(u->monitor_ns), "max_failure_ratio", u->max_failure_ratio, "order",
                     u->order);
}

json_t *eagle_spec_to_json(const struct eagle_spec *s)
{
    json_t *o = json_object(), *ports = json_array(), *mounts = json_array();

    json_object_set_new(o, "name", str_or_null(s->name));
    json_object_set_new(o, "tenant", str_or_null(s->tenant));
    json_object_set_new(o, "cluster", str_or_null(s->cluster));
    json_object_set_new(o, "cap_add", list_json(s->cap_add));
    json_object_set_new(o, "image", str_or_null(s->image));
    json_object_set_new(o, "command", s->command ? list_json(s->command) : json_null());
    json_object_set_new(o, "args", s->args ? list_json(s->args) : json_null());
    json_object_set_new(o, "env", kv_json(s->env, s->n_env));
    json_object_set_new(o, "mode", json_string(s->global ? "global" : "replicated"));
    json_object_set_new(o, "replicas", s->global ? json_null() : json_integer(s->replicas));
    json_object_set_new(o, "resources",
                        json_pack("{s:{s:f, s:I}, s:{s:f, s:I}}", "limits", "cpus", s->limit_nano_cpus / 1e9,
                                  "memory", (json_int_t)s->limit_memory, "reservations", "cpus",
                                  s->reserve_nano_cpus / 1e9, "memory", (json_int_t)s->reserve_memory));
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct eagle_port *p = &s->ports[i];
        json_array_append_new(ports, json_pack("{s:i, s:i, s:s, s:s}", "target", p->target, "published",
                                               p->published, "protocol", p->protocol, "mode", p->mode));
    }
    json_object_set_new(o, "ports", ports);
    json_object_set_new(o, "labels", kv_json(s->labels, s->n_labels));
    json_object_set_new(o, "placement",
                        json_pack("{s:o, s:o, s:I}", "constraints", list_json(s->constraints), "preferences",
                                  list_json(s->preferences), "max_replicas_per_node",
                                  (json_int_t)s->max_replicas_per_node));
    if (s->restart_policy.set)
        json_object_set_new(o, "restart_policy",
                            json_pack("{s:s, s:o, s:I, s:o}", "condition", s->restart_policy.condition,
                                      "delay", duration_json(s->restart_policy.delay_ns), "max_attempts",
                                      (json_int_t)s->restart_policy.max_attempts, "window",
                                      duration_json(s->restart_policy.window_ns)));
    else
        json_object_set_new(o, "restart_policy", json_null());
    json_object_set_new(o, "update_config", update_json(&s->update_config));
    json_object_set_new(o, "rollback_config", update_json(&s->rollback_config));
    json_object_set_new(o, "networks", list_json(s->networks));
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct eagle_mount *m = &s->mounts[i];
        json_array_append_new(mounts, json_pack("{s:s, s:o, s:o, s:b}", "type", m->type, "source",
                                                str_or_null(m->source), "target", str_or_null(m->target),
                                                "read_only", m->read_only));
    }
    json_object_set_new(o, "mounts", mounts);
    if (s->healthcheck.set)
        json_object_set_new(o, "healthcheck",
                            json_pack("{s:o, s:o, s:o, s:I, s:o}", "test",
                                      s->healthcheck.test ? list_json(s->healthcheck.test) : json_null(),
                                      "interval", duration_json(s->healthcheck.interval_ns), "timeout",
                                      duration_json(s->healthcheck.timeout_ns), "retries",
                                      (json_int_t)s->healthcheck.retries, "start_period",
                                      duration_json(s->healthcheck.start_period_ns)));
    else
        json_object_set_new(o, "healthcheck", json_null());
    const struct eagle_spec_health *h = &s->health_check;
    if (h->set) {
        json_t *hc = json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:o}", "type", h->type, "port", (json_int_t)h->port,
                               "interval", duration_json(h->interval_ns), "timeout", duration_json(h->timeout_ns),
                               "healthy_threshold", (json_int_t)h->healthy_threshold, "unhealthy_threshold",
                               (json_int_t)h->unhealthy_threshold, "start_period",
                               duration_json(h->start_period_ns));
        if (strcmp(h->type, "http") == 0) {
            json_object_set_new(hc, "method", json_string(h->method));
            json_object_set_new(hc, "path", json_string(h->path ? h->path : "/"));
            json_object_set_new(hc, "host", str_or_null(h->host));
            json_object_set_new(hc, "status", h->status_min == h->status_max
                                                  ? json_sprintf("%lld", (long long)h->status_min)
                                                  : json_sprintf("%lld-%lld", (long long)h->status_min,
                                                                 (long long)h->status_max));
            json_object_set_new(hc, "body", str_or_null(h->body));
        }
        json_object_set_new(o, "health_check", hc);
    } else {
        json_object_set_new(o, "health_check", json_null());
    }
    return o;
}

/* ---- the Engine API ServiceSpec ---- */

static json_t *engine_update(const struct eagle_update_policy *u)
{
    return json_pack("{s:I, s:I, s:s, s:I, s:f, s:s}", "Parallelism", (json_int_t)u->parallelism, "Delay",
                     (json_int_t)u->delay_ns, "FailureAction", u->failure_action, "Monitor",
                     (json_int_t)u->monitor_ns, "MaxFailureRatio", u->max_failure_ratio, "Order", u->order);
}

static json_t *engine_resources(int64_t nano_cpus, int64_t memory)
{
    json_t *o = json_object();

    if (nano_cpus)
        json_object_set_new(o, "NanoCPUs", json_integer(nano_cpus));
    if (memory)
        json_object_set_new(o, "MemoryBytes", json_integer(memory));
    return o;
}

json_t *eagle_spec_to_engine(const struct eagle_spec *s, const json_t *eagle_labels)
{
    json_t *spec = json_object(), *task = json_object(), *cs = json_object(),
           *labels = kv_json(s->labels, s->n_labels);
    json_t *endpoint = json_pack("{s:s}", "Mode", "vip");

    if (eagle_labels && json_is_object(eagle_labels)) {
        json_t *extra =
            json_deep_copy(eagle_labels); /* the caller's value is left untouched, refcounts too */
        json_object_update(labels, extra);
        json_decref(extra);
    }
    json_object_set_new(spec, "Name", str_or_null(s->name));
    json_object_set_new(spec, "Labels", labels);

    json_object_set_new(cs, "Image", str_or_null(s->image));
    if (s->command)
        json_object_set_new(cs, "Command", list_json(s->command));
    if (s->args)
        json_object_set_new(cs, "Args", list_json(s->args));
    if (s->n_env) {
        json_t *env = json_array();
        for (size_t i = 0; i < s->n_env; i++)
            json_array_append_new(env, json_sprintf("%s=%s", s->env[i].key, s->env[i].value));
        json_object_set_new(cs, "Env", env);
    }
    if (eagle_labels && json_is_object(eagle_labels))
        json_object_set_new(cs, "Labels", json_deep_copy(eagle_labels));
    if (s->cap_add)
        json_object_set_new(cs, "CapabilityAdd", list_json(s->cap_add));
    if (s->n_mounts) {
        json_t *mounts = json_array();
        for (size_t i = 0; i < s->n_mounts; i++) {
            const struct eagle_mount *m = &s->mounts[i];
            json_t *mo = json_pack("{s:s, s:s, s:b}", "Type", m->type, "Target", m->target ? m->target : "",
                                   "ReadOnly", m->read_only);
            if (m->source)
                json_object_set_new(mo, "Source", json_string(m->source));
            json_array_append_new(mounts, mo);
        }
        json_object_set_new(cs, "Mounts", mounts);
    }
    if (s->healthcheck.set) {
        json_t *hc = json_object();
        if (s->healthcheck.test)
            json_object_set_new(hc, "Test", list_json(s->healthcheck.test));
        if (s->healthcheck.interval_ns)
            json_object_set_new(hc, "Interval", json_integer(s->healthcheck.interval_ns));
        if (s->healthcheck.timeout_ns)
            json_object_set_new(hc, "Timeout", json_integer(s->healthcheck.timeout_ns));
        if (s->healthcheck.retries)
            json_object_set_new(hc, "Retries", json_integer(s->healthcheck.retries));
        if (s->healthcheck.start_period_ns)
            json_object_set_new(hc, "StartPeriod", json_integer(s->healthcheck.start_period_ns));
        json_object_set_new(cs, "Healthcheck", hc);
    }
    json_object_set_new(task, "ContainerSpec", cs);

    if (s->limit_nano_cpus || s->limit_memory || s->reserve_nano_cpus || s->reserve_memory) {
        json_t *res = json_object();
        if (s->limit_nano_cpus || s->limit_memory)
            json_object_set_new(res, "Limits", engine_resources(s->limit_nano_cpus, s->limit_memory));
        if (s->reserve_nano_cpus || s->reserve_memory)
            json_object_set_new(res, "Reservations",
                                engine_resources(s->reserve_nano_cpus, s->reserve_memory));
        json_object_set_new(task, "Resources", res);
    }
    if (s->restart_policy.set)
        json_object_set_new(task, "RestartPolicy",
                            json_pack("{s:s, s:I, s:I, s:I}", "Condition", s->restart_policy.condition,
                                      "Delay", (json_int_t)s->restart_policy.delay_ns, "MaxAttempts",
                                      (json_int_t)s->restart_policy.max_attempts, "Window",
                                      (json_int_t)s->restart_policy.window_ns));
    if (s->constraints || s->preferences || s->max_replicas_per_node) {
        json_t *pl = json_object();
        if (s->constraints)
            json_object_set_new(pl, "Constraints", list_json(s->constraints));
        if (s->preferences) {
            json_t *prefs = json_array();
            for (size_t i = 0; s->preferences[i]; i++)
                json_array_append_new(
                    prefs, json_pack("{s:{s:s}}", "Spread", "SpreadDescriptor", s->preferences[i]));
            json_object_set_new(pl, "Preferences", prefs);
        }
        if (s->max_replicas_per_node)
            json_object_set_new(pl, "MaxReplicas", json_integer(s->max_replicas_per_node));
        json_object_set_new(task, "Placement", pl);
    }
    if (s->networks) {
        json_t *nets = json_array();
        for (size_t i = 0; s->networks[i]; i++)
            json_array_append_new(nets, json_pack("{s:s}", "Target", s->networks[i]));
        json_object_set_new(task, "Networks", nets);
    }
    json_object_set_new(spec, "TaskTemplate", task);

    if (s->global)
        json_object_set_new(spec, "Mode", json_pack("{s:{}}", "Global"));
    else
        json_object_set_new(spec, "Mode",
                            json_pack("{s:{s:I}}", "Replicated", "Replicas", (json_int_t)s->replicas));
    if (s->update_config.set)
        json_object_set_new(spec, "UpdateConfig", engine_update(&s->update_config));
    if (s->rollback_config.set)
        json_object_set_new(spec, "RollbackConfig", engine_update(&s->rollback_config));
    if (s->n_ports) {
        json_t *ports = json_array();
        for (size_t i = 0; i < s->n_ports; i++) {
            const struct eagle_port *p = &s->ports[i];
            json_t *po = json_pack("{s:s, s:i, s:s}", "Protocol", p->protocol, "TargetPort", p->target,
                                   "PublishMode", p->mode);
            if (p->published)
                json_object_set_new(po, "PublishedPort", json_integer(p->published));
            json_array_append_new(ports, po);
        }
        json_object_set_new(endpoint, "Ports", ports);
    }
    json_object_set_new(spec, "EndpointSpec", endpoint);
    return spec;
}

/* ---- reading the Engine API ServiceSpec ---- */

/*
 * The engine's spec is turned into Eagle's JSON shape and then validated by
 * parse_spec(), so an adopted spec obeys the same rules as a submitted one.
 * Missing or oddly typed engine fields are left out (Eagle's defaults apply);
 * values are copied as they are, so a bad one is reported under Eagle's name.
 */

static void copy_to(json_t *dst, const char *dkey, const json_t *src, const char *skey)
{
    const json_t *v = member(src, skey);
    if (v)
        json_object_set_new(dst, dkey, json_deep_copy(v));
}

/* Engine durations are integer nanoseconds; Eagle's are strings. */
static void duration_to(json_t *dst, const char *dkey, const json_t *src, const char *skey)
{
    const json_t *v = member(src, skey);

    if (v && json_is_integer(v))
        json_object_set_new(dst, dkey, duration_json(json_integer_value(v)));
    else if (v)
        json_object_set_new(dst, dkey, json_deep_copy(v));
}

static json_t *engine_update_to_eagle(const json_t *u)
{
    json_t *o = json_object();

    copy_to(o, "parallelism", u, "Parallelism");
    duration_to(o, "delay", u, "Delay");
    copy_to(o, "failure_action", u, "FailureAction");
    duration_to(o, "monitor", u, "Monitor");
    copy_to(o, "max_failure_ratio", u, "MaxFailureRatio");
    copy_to(o, "order", u, "Order");
    return o;
}

static json_t *engine_limits_to_eagle(const json_t *r)
{
    json_t *o = json_object();
    const json_t *v;

    if ((v = member(r, "NanoCPUs")) && json_is_integer(v))
        json_object_set_new(o, "cpus", json_real((double)json_integer_value(v) / 1e9));
    copy_to(o, "memory", r, "MemoryBytes");
    return o;
}

/* [{"Target": "net"}, ...] → ["net", ...] */
static json_t *engine_networks_to_eagle(const json_t *nets)
{
    json_t *a = json_array();
    size_t i;
    const json_t *n;

    json_array_foreach(nets, i, n)
    {
        const json_t *t = member(n, "Target");
        if (t)
            json_array_append_new(a, json_deep_copy(t));
    }
    return a;
}

static int engine_to_eagle(const json_t *e, json_t *o, struct eagle_err *err)
{
    const json_t *task = member(e, "TaskTemplate"), *cs = member(task, "ContainerSpec");
    const json_t *mode = member(e, "Mode"), *v, *item;
    const char *key;
    size_t i;

    copy_to(o, "name", e, "Name");
    copy_to(o, "image", cs, "Image");
    copy_to(o, "command", cs, "Command");
    copy_to(o, "args", cs, "Args");
    if ((v = member(cs, "Env")) && json_is_array(v)) {
        json_t *env = json_object();
        json_array_foreach(v, i, item)
        {
            const char *kv = json_string_value(item), *eq = kv ? strchr(kv, '=') : NULL;
            char *k;
            if (!eq || eq == kv) /* "K" alone (unset) or no name: nothing Eagle can express */
                continue;
            k = xstrdup(kv);
            k[eq - kv] = 0;
            json_object_set_new(env, k, json_string(eq + 1));
            free(k);
        }
        json_object_set_new(o, "env", env);
    }

    if (member(mode, "Global")) {
        json_object_set_new(o, "mode", json_string("global"));
    } else if (member(mode, "ReplicatedJob") || member(mode, "GlobalJob")) {
        return eagle_err_invalid(err, "mode", "job services are not supported");
    } else if ((v = member(mode, "Replicated"))) {
        copy_to(o, "replicas", v, "Replicas");
    }

    if ((v = member(task, "Resources")) && json_is_object(v)) {
        json_t *res = json_object();
        if ((item = member(v, "Limits")) && json_is_object(item))
            json_object_set_new(res, "limits", engine_limits_to_eagle(item));
        if ((item = member(v, "Reservations")) && json_is_object(item))
            json_object_set_new(res, "reservations", engine_limits_to_eagle(item));
        json_object_set_new(o, "resources", res);
    }

    if ((v = member(member(e, "EndpointSpec"), "Ports")) && json_is_array(v)) {
        json_t *ports = json_array();
        json_array_foreach(v, i, item)
        {
            json_t *p = json_object();
            copy_to(p, "target", item, "TargetPort");
            copy_to(p, "published", item, "PublishedPort");
            copy_to(p, "protocol", item, "Protocol");
            copy_to(p, "mode", item, "PublishMode");
            json_array_append_new(ports, p);
        }
        json_object_set_new(o, "ports", ports);
    }

    if ((v = member(e, "Labels")) && json_is_object(v)) {
        json_t *labels = json_object();
        json_object_foreach((json_t *)v, key, item)
        {
            if (strncmp(key, "eagle.", 6) != 0)
                json_object_set_new(labels, key, json_deep_copy(item));
        }
        json_object_set_new(o, "labels", labels);
    }

    if ((v = member(task, "Placement")) && json_is_object(v)) {
        json_t *pl = json_object(), *prefs = json_array();
        copy_to(pl, "constraints", v, "Constraints");
        if ((item = member(v, "Preferences")) && json_is_array(item)) {
            const json_t *pref;
            json_array_foreach(item, i, pref)
            {
                const json_t *d = member(member(pref, "Spread"), "SpreadDescriptor");
                if (d)
                    json_array_append_new(prefs, json_deep_copy(d));
            }
        }
        json_object_set_new(pl, "preferences", prefs);
        copy_to(pl, "max_replicas_per_node", v, "MaxReplicas");
        json_object_set_new(o, "placement", pl);
    }

    if ((v = member(task, "RestartPolicy")) && json_is_object(v)) {
        json_t *rp = json_object();
        copy_to(rp, "condition", v, "Condition");
        duration_to(rp, "delay", v, "Delay");
        copy_to(rp, "max_attempts", v, "MaxAttempts");
        duration_to(rp, "window", v, "Window");
        json_object_set_new(o, "restart_policy", rp);
    }
    if ((v = member(e, "UpdateConfig")) && json_is_object(v))
        json_object_set_new(o, "update_config", engine_update_to_eagle(v));
    if ((v = member(e, "RollbackConfig")) && json_is_object(v))
        json_object_set_new(o, "rollback_config", engine_update_to_eagle(v));

    /* TaskTemplate.Networks; Spec.Networks is the deprecated place older clients used. */
    if (((v = member(task, "Networks")) && json_is_array(v)) ||
        ((v = member(e, "Networks")) && json_is_array(v)))
        json_object_set_new(o, "networks", engine_networks_to_eagle(v));

    if ((v = member(cs, "CapabilityAdd")) && json_is_array(v))
        json_object_set_new(o, "cap_add", json_deep_copy(v));
    if ((v = member(cs, "Mounts")) && json_is_array(v)) {
        json_t *mounts = json_array();
        json_array_foreach(v, i, item)
        {
            json_t *m = json_object();
            copy_to(m, "type", item, "Type");
            copy_to(m, "source", item, "Source");
            copy_to(m, "target", item, "Target");
            copy_to(m, "read_only", item, "ReadOnly");
            json_array_append_new(mounts, m);
        }
        json_object_set_new(o, "mounts", mounts);
    }

    if ((v = member(cs, "Healthcheck")) && json_is_object(v)) {
        json_t *hc = json_object();
        copy_to(hc, "test", v, "Test");
        duration_to(hc, "interval", v, "Interval");
        duration_to(hc, "timeout", v, "Timeout");
        copy_to(hc, "retries", v, "Retries");
        duration_to(hc, "start_period", v, "StartPeriod");
        json_object_set_new(o, "healthcheck", hc);
    }
    return 0;
}

int eagle_spec_from_engine(const json_t *engine_spec, struct eagle_spec *spec, struct eagle_err *err)
{
    json_t *o;
    int rc;

    memset(spec, 0, sizeof(*spec));
    if (!json_is_object(engine_spec))
        return eagle_err_invalid(err, NULL, "the engine's service spec is not a JSON object");
    o = json_object();
    rc = engine_to_eagle(engine_spec, o, err);
    if (rc == 0)
        rc = eagle_spec_from_json(o, spec, err);
    json_decref(o);
    if (rc != 0)
        return eagle_err_wrap(err, "the engine's service spec");
    return 0;
}
