/*
 * specflags.c — see specflags.h.
 */
#include "ctl/specflags.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int ctl_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static bool one_of(const char *s, const char *const *options)
{
    for (; *options; options++)
        if (strcmp(s, *options) == 0)
            return true;
    return false;
}

static const char *const protocols[] = {"tcp", "udp", "sctp", NULL};
static const char *const port_modes[] = {"ingress", "host", NULL};

static json_t *make_port(long long published, long long target, const char *protocol, const char *mode)
{
    json_t *port = json_object();

    json_object_set_new(port, "target", json_integer(target));
    json_object_set_new(port, "published", json_integer(published));
    if (protocol)
        json_object_set_new(port, "protocol", json_string(protocol));
    if (mode)
        json_object_set_new(port, "mode", json_string(mode));
    return port;
}

/* published=P,target=T,protocol=tcp,mode=host (Docker's long form). */
static json_t *parse_publish_long(const char *s, struct eagle_err *err)
{
    char *copy = xstrdup(s), *save = NULL, *item;
    long long published = 0, target = -1;
    char protocol[8] = "", mode[8] = "";
    json_t *port = NULL;

    for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const char *key = item, *value;

        if (!eq)
            goto bad;
        *eq = 0;
        value = eq + 1;
        if (strcmp(key, "published") == 0) {
            if (ctl_parse_int(value, 0, 65535, &published) < 0)
                goto bad;
        } else if (strcmp(key, "target") == 0) {
            if (ctl_parse_int(value, 1, 65535, &target) < 0)
                goto bad;
        } else if (strcmp(key, "protocol") == 0 && one_of(value, protocols)) {
            snprintf(protocol, sizeof(protocol), "%s", value);
        } else if (strcmp(key, "mode") == 0 && one_of(value, port_modes)) {
            snprintf(mode, sizeof(mode), "%s", value);
        } else {
            goto bad;
        }
    }
    if (target < 0)
        goto bad;
    port = make_port(published, target, protocol[0] ? protocol : NULL, mode[0] ? mode : NULL);
    free(copy);
    return port;
bad:
    free(copy);
    eagle_err_invalid(err, "publish",
                      "--publish '%s': expected published=P,target=T[,protocol=tcp|udp][,mode=host|ingress]",
                      s);
    return NULL;
}

json_t *ctl_spec_parse_publish(const char *s, struct eagle_err *err)
{
    char *copy, *parts[4], *p, *slash;
    const char *protocol = NULL, *mode = NULL;
    long long published = 0, target;
    json_t *port = NULL;
    size_t n = 0;

    if (strchr(s, '='))
        return parse_publish_long(s, err);
    copy = xstrdup(s);
    /* strtok_r would merge empty fields ("8080::80"); split by hand. */
    for (p = copy, parts[n++] = p; (p = strchr(p, ':')); p++) {
        *p = 0;
        if (n == sizeof(parts) / sizeof(parts[0]))
            goto bad;
        parts[n++] = p + 1;
    }
    if (n == 3 || (n == 2 && one_of(parts[1], port_modes))) {
        mode = parts[n - 1];
        if (!one_of(mode, port_modes))
            goto bad;
        n--;
    }
    if (n > 2)
        goto bad;
    slash = strchr(parts[n - 1], '/');
    if (slash) {
        *slash = 0;
        protocol = slash + 1;
        if (!one_of(protocol, protocols))
            goto bad;
    }
    if (ctl_parse_int(parts[n - 1], 1, 65535, &target) < 0)
        goto bad;
    if (n == 2 && ctl_parse_int(parts[0], 0, 65535, &published) < 0)
        goto bad;
    port = make_port(published, target, protocol, mode);
    free(copy);
    return port;
bad:
    free(copy);
    eagle_err_invalid(err, "publish", "--publish '%s': expected PUBLISHED:TARGET[/tcp|udp][:host|ingress]",
                      s);
    return NULL;
}

/* K=V pairs into an object; `env` lets a bare K take its value from the environment. */
static json_t *parse_pairs(const struct ctl_list *list, const char *flag, bool env, struct eagle_err *err)
{
    json_t *obj = json_object();

    for (size_t i = 0; i < list->n; i++) {
        const char *item = list->items[i], *eq = strchr(item, '='), *value;
        char *key;
        json_t *v;

        if (eq == item || !*item) {
            eagle_err_invalid(err, flag, "--%s '%s': expected KEY=VALUE", flag, item);
            goto fail;
        }
        key = eq ? xasprintf("%.*s", (int)(eq - item), item) : xstrdup(item);
        value = eq ? eq + 1 : env ? getenv(key) : "";
        if (!value) {
            eagle_err_invalid(err, flag, "--%s '%s': expected KEY=VALUE (and %s is not set here)", flag, item,
                              key);
            free(key);
            goto fail;
        }
        v = json_string(value);
        if (!v || json_object_set_new(obj, key, v) < 0) {
            eagle_err_invalid(err, flag, "--%s '%s': not valid UTF-8", flag, item);
            free(key);
            goto fail;
        }
        free(key);
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static int set_string(json_t *obj, const char *key, const char *value, struct eagle_err *err)
{
    json_t *s = json_string(value);

    if (!s)
        return eagle_err_invalid(err, key, "--%s: not valid UTF-8", key);
    json_object_set_new(obj, key, s);
    return 0;
}

json_t *ctl_spec_from_flags(const struct ctl_spec_flags *f, struct eagle_err *err)
{
    json_t *spec = json_object(), *v;

    if (set_string(spec, "name", f->name, err) < 0)
        goto fail;
    if (f->cluster && set_string(spec, "cluster", f->cluster, err) < 0)
        goto fail;
    if (set_string(spec, "image", f->image, err) < 0)
        goto fail;

    if (f->n_command > 0) {
        json_t *command = json_array(), *args = json_array();
        json_object_set_new(spec, "command", command);
        for (int i = 0; i < f->n_command; i++) {
            json_t *word = json_string(f->command[i]);
            if (!word) {
                json_decref(args);
                eagle_err_invalid(err, "command", "the command is not valid UTF-8");
                goto fail;
            }
            json_array_append_new(i == 0 ? command : args, word);
        }
        if (json_array_size(args))
            json_object_set_new(spec, "args", args);
        else
            json_decref(args);
    }

    if (f->env.n) {
        if (!(v = parse_pairs(&f->env, "env", true, err)))
            goto fail;
        json_object_set_new(spec, "env", v);
    }

    if (f->global && f->replicas) {
        eagle_err_invalid(err, "replicas", "--replicas and --global exclude each other");
        goto fail;
    }
    if (f->global) {
        json_object_set_new(spec, "mode", json_string("global"));
    } else if (f->replicas) {
        long long n;
        if (ctl_parse_int(f->replicas, -1000000, 1000000, &n) < 0) {
            eagle_err_invalid(err, "replicas", "--replicas '%s': expected a whole number", f->replicas);
            goto fail;
        }
        json_object_set_new(spec, "replicas", json_integer(n));
    }

    if (f->cpus || f->memory) {
        json_t *limits = json_object();
        json_object_set_new(spec, "resources", json_pack("{s:o}", "limits", limits));
        if (f->cpus) {
            char *end;
            double cpus;

            errno = 0;
            cpus = strtod(f->cpus, &end);
            if (errno || end == f->cpus || *end || !isfinite(cpus) || cpus <= 0) {
                eagle_err_invalid(err, "cpus", "--cpus '%s': expected a positive number such as 0.5",
                                  f->cpus);
                goto fail;
            }
            json_object_set_new(limits, "cpus", json_real(cpus));
        }
        if (f->memory) {
            int64_t bytes;
            if (eagle_parse_bytes(f->memory, &bytes) < 0 || bytes <= 0) {
                eagle_err_invalid(err, "memory", "--memory '%s': expected a size such as 256M or 1G",
                                  f->memory);
                goto fail;
            }
            json_object_set_new(limits, "memory", json_string(f->memory));
        }
    }

    if (f->publish.n) {
        json_t *ports = json_array();
        json_object_set_new(spec, "ports", ports);
        for (size_t i = 0; i < f->publish.n; i++) {
            json_t *port = ctl_spec_parse_publish(f->publish.items[i], err);
            if (!port)
                goto fail;
            json_array_append_new(ports, port);
        }
    }

    if (f->labels.n) {
        if (!(v = parse_pairs(&f->labels, "label", false, err)))
            goto fail;
        json_object_set_new(spec, "labels", v);
    }

    if (f->constraints.n) {
        json_t *list = json_array();
        json_object_set_new(spec, "placement", json_pack("{s:o}", "constraints", list));
        for (size_t i = 0; i < f->constraints.n; i++) {
            json_t *c = json_string(f->constraints.items[i]);
            if (!c) {
                eagle_err_invalid(err, "constraint", "--constraint: not valid UTF-8");
                goto fail;
            }
            json_array_append_new(list, c);
        }
    }
    return spec;
fail:
    json_decref(spec);
    return NULL;
}
