/*
 * cidr.c — address ranges (see cidr.h).
 */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int parse_one(const char *s, struct eagle_cidr *c)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    int max;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    c->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > max)
            return -1;
        c->bits = (int)b;
    }
    return 0;
}

int eagle_cidrs_parse(const char *list, struct eagle_cidrs *out, struct eagle_err *err)
{
    char *copy = xstrdup(list ? list : ""), *save = NULL, *tok;

    out->v = NULL;
    out->n = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = 0;
        if (!len)
            continue;
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        if (parse_one(tok, &out->v[out->n]) < 0) {
            eagle_err_invalid(err, NULL, "'%s' is not an address range (like 10.0.0.0/8 or fe80::/10)", tok);
            free(copy);
            eagle_cidrs_release(out);
            return -1;
        }
        out->n++;
    }
    free(copy);
    return 0;
}

void eagle_cidrs_release(struct eagle_cidrs *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int in_range(const struct eagle_cidr *c, int family, const unsigned char *a)
{
    if (c->family != family)
        return 0;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((c->addr[full] & mask) != (a[full] & mask))
            return 0;
    }
    return 1;
}

static int match(const struct eagle_cidrs *l, int family, const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0) {
        family = AF_INET;
        a += 12;
    }
    for (size_t i = 0; i < l->n; i++)
        if (in_range(&l->v[i], family, a))
            return 1;
    return 0;
}

int eagle_cidrs_match(const struct eagle_cidrs *l, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return match(l, AF_INET, (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return match(l, AF_INET6, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return 0;
}

int eagle_cidrs_match_text(const struct eagle_cidrs *l, const char *ip)
{
    unsigned char a[16];
    char buf[64];
    size_t n = ip ? strlen(ip) : 0;

    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']' && n - 2 < sizeof(buf)) { /* [v6] as in a URL */
        memcpy(buf, ip + 1, n - 2);
        buf[n - 2] = 0;
        ip = buf;
    }
    if (ip && inet_pton(AF_INET, ip, a) == 1)
        return match(l, AF_INET, a);
    if (ip && inet_pton(AF_INET6, ip, a) == 1)
        return match(l, AF_INET6, a);
    return -1;
}
