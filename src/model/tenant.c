/*
 * tenant.c — see tenant.h.
 */
#include "model/tenant.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"

static const char *quota_keys[] = {"cpus", "memory", "reserved_cpus", "reserved_memory", "replicas", "services",
                                   "volumes", NULL};

static int64_t *quota_field(struct eagle_quota *q, int i)
{
    int64_t *f[] = {&q->cpus, &q->memory, &q->reserved_cpus, &q->reserved_memory, &q->replicas, &q->services,
                    &q->volumes};
    return f[i];
}

static int64_t usage_field(const struct eagle_usage *u, int i)
{
    const int64_t f[] = {u->cpus, u->memory, u->reserved_cpus, u->reserved_memory, u->replicas, u->services,
                         u->volumes};
    return f[i];
}

int eagle_quota_from_json(const json_t *in, struct eagle_quota *q, struct eagle_err *err)
{
    const char *key;
    json_t *v;
    char field[64];

    memset(q, 0, sizeof(*q));
    if (!in || json_is_null(in))
        return 0;
    if (!json_is_object(in))
        return eagle_err_invalid(err, "quotas", "quotas must be an object");
    json_object_foreach((json_t *)in, key, v)
    {
        int i = 0;
        while (quota_keys[i] && strcmp(quota_keys[i], key) != 0)
            i++;
        snprintf(field, sizeof(field), "quotas.%s", key);
        if (!quota_keys[i])
            return eagle_err_invalid(err, field, "unknown quota '%s' (known: cpus, memory, reserved_cpus, "
                                                 "reserved_memory, replicas, services, volumes)",
                                     key);
        int64_t *f = quota_field(q, i);
        if (i == 0 || i == 2) { /* CPUs: a number of cores */
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e6)
                return eagle_err_invalid(err, field, "'%s' must be a number of CPUs from 0 to 1000000", field);
            *f = (int64_t)(json_number_value(v) * 1e9 + 0.5);
        } else if (i == 1 || i == 3) { /* memory: bytes or "8G" */
            if (json_is_integer(v) && json_integer_value(v) >= 0)
                *f = json_integer_value(v);
            else if (!json_is_string(v) || eagle_parse_bytes(json_string_value(v), f) < 0)
                return eagle_err_invalid(err, field, "'%s' must be a byte count or a size such as \"8G\"", field);
        } else {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                return eagle_err_invalid(err, field, "'%s' must be an integer from 0 to 1000000", field);
            *f = json_integer_value(v);
        }
    }
    return 0;
}

json_t *eagle_quota_to_json(const struct eagle_quota *q)
{
    return json_pack("{s:f, s:I, s:f, s:I, s:I, s:I, s:I}", "cpus", q->cpus / 1e9, "memory", (json_int_t)q->memory,
                     "reserved_cpus", q->reserved_cpus / 1e9, "reserved_memory", (json_int_t)q->reserved_memory,
                     "replicas", (json_int_t)q->replicas, "services", (json_int_t)q->services, "volumes",
                     (json_int_t)q->volumes);
}

int eagle_allow_from_json(const json_t *in, struct eagle_allow *a, struct eagle_err *err)
{
    const char *key;
    json_t *v;
    char field[64];

    memset(a, 0, sizeof(*a));
    if (!in || json_is_null(in))
        return 0;
    if (!json_is_object(in))
        return eagle_err_invalid(err, "allow", "allow must be an object");
    json_object_foreach((json_t *)in, key, v)
    {
        snprintf(field, sizeof(field), "allow.%s", key);
        bool *f = strcmp(key, "bind_mounts") == 0    ? &a->bind_mounts
                  : strcmp(key, "host_network") == 0 ? &a->host_network
                  : strcmp(key, "cap_add") == 0      ? &a->cap_add
                                                     : NULL;
        if (!f)
            return eagle_err_invalid(err, field, "unknown exception '%s' (known: bind_mounts, host_network, cap_add)",
                                     key);
        if (!json_is_boolean(v))
            return eagle_err_invalid(err, field, "'%s' must be true or false", field);
        *f = json_is_true(v);
    }
    return 0;
}

json_t *eagle_allow_to_json(const struct eagle_allow *a)
{
    return json_pack("{s:b, s:b, s:b}", "bind_mounts", a->bind_mounts, "host_network", a->host_network, "cap_add",
                     a->cap_add);
}

void eagle_usage_add(struct eagle_usage *u, const struct eagle_spec *s, int64_t global_nodes, json_t *seen)
{
    int64_t tasks = s->global ? (global_nodes > 0 ? global_nodes : 1) : s->replicas;

    u->services++;
    u->replicas += tasks;
    u->cpus += tasks * s->limit_nano_cpus;
    u->memory += tasks * s->limit_memory;
    u->reserved_cpus += tasks * s->reserve_nano_cpus;
    u->reserved_memory += tasks * s->reserve_memory;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct eagle_mount *m = &s->mounts[i];
        if (strcmp(m->type, "volume") == 0 && m->source && !json_object_get(seen, m->source)) {
            json_object_set_new(seen, m->source, json_true());
            u->volumes++;
        }
    }
}

json_t *eagle_usage_to_json(const struct eagle_usage *u)
{
    return json_pack("{s:f, s:I, s:f, s:I, s:I, s:I, s:I}", "cpus", u->cpus / 1e9, "memory", (json_int_t)u->memory,
                     "reserved_cpus", u->reserved_cpus / 1e9, "reserved_memory", (json_int_t)u->reserved_memory,
                     "replicas", (json_int_t)u->replicas, "services", (json_int_t)u->services, "volumes",
                     (json_int_t)u->volumes);
}

static void amount(int i, int64_t v, char *buf, size_t n)
{
    if (i == 0 || i == 2)
        snprintf(buf, n, "%g CPUs", v / 1e9);
    else if (i == 1 || i == 3)
        snprintf(buf, n, "%lld bytes", (long long)v);
    else
        snprintf(buf, n, "%lld", (long long)v);
}

int eagle_quota_check(const char *tenant, const struct eagle_quota *q, const struct eagle_usage *others,
                      const struct eagle_usage *wanted, struct eagle_err *err)
{
    struct eagle_quota copy = *q;
    static const char *const need[] = {"resources.limits.cpus", "resources.limits.memory",
                                       "resources.reservations.cpus", "resources.reservations.memory"};

    /* a quota on CPU or memory counts only what specs declare: so they must declare it */
    for (int i = 0; i < 4; i++)
        if (*quota_field(&copy, i) > 0 && wanted->replicas > 0 && usage_field(wanted, i) == 0)
            return eagle_err_set(err, 422, "quota_exceeded", need[i],
                                 "tenant '%s' has a %s quota, so every service must set %s", tenant, quota_keys[i],
                                 need[i]);

    for (int i = 0; quota_keys[i]; i++) {
        int64_t limit = *quota_field(&copy, i), used = usage_field(others, i), asked = usage_field(wanted, i);
        if (limit > 0 && asked > 0 && used + asked > limit) {
            char l[48], u[48], a[48], field[48];
            amount(i, limit, l, sizeof(l));
            amount(i, used, u, sizeof(u));
            amount(i, asked, a, sizeof(a));
            snprintf(field, sizeof(field), "quotas.%s", quota_keys[i]);
            return eagle_err_set(err, 422, "quota_exceeded", field,
                                 "tenant '%s' is over its %s quota: quota %s, in use %s, requested %s", tenant,
                                 quota_keys[i], l, u, a);
        }
    }
    return 0;
}

static bool is_docker_socket(const char *path)
{
    return strstr(path, "docker.sock") != NULL || strstr(path, "containerd.sock") != NULL ||
           strcmp(path, "/var/run") == 0 || strcmp(path, "/run") == 0 || strcmp(path, "/") == 0;
}

int eagle_spec_check_safety(const struct eagle_spec *s, const struct eagle_allow *a, struct eagle_err *err)
{
    char field[64];

    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct eagle_mount *m = &s->mounts[i];
        if (strcmp(m->type, "bind") != 0)
            continue;
        snprintf(field, sizeof(field), "mounts[%zu].source", i);
        if (m->source && is_docker_socket(m->source))
            return eagle_err_set(err, 403, "forbidden", field,
                                 "mounting '%s' would hand the host to the container; it is never allowed", m->source);
        if (!a->bind_mounts)
            return eagle_err_set(err, 403, "forbidden", field,
                                 "this tenant may not bind-mount host paths ('%s'); use a volume, or ask an admin",
                                 m->source ? m->source : "");
    }
    for (size_t i = 0; s->networks && s->networks[i]; i++) {
        snprintf(field, sizeof(field), "networks[%zu]", i);
        if (strcmp(s->networks[i], "host") == 0 && !a->host_network)
            return eagle_err_set(err, 403, "forbidden", field, "this tenant may not use the host network");
    }
    if (s->cap_add && s->cap_add[0] && !a->cap_add)
        return eagle_err_set(err, 403, "forbidden", "cap_add", "this tenant may not add capabilities ('%s')",
                             s->cap_add[0]);
    return 0;
}
