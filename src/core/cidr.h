/*
 * cidr.h — lists of address ranges ("127.0.0.0/8,::1/128"), and whether an
 * address falls in one. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * matched as the IPv4 address they carry.
 */
#ifndef EAGLE_CIDR_H
#define EAGLE_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/err.h"

struct eagle_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct eagle_cidrs {
    struct eagle_cidr *v;
    size_t n;
};

/* Parse a comma-separated list ("" = empty); a bare address is a /32 or /128.
 * On a bad entry -1 with a 400 naming it. */
int eagle_cidrs_parse(const char *list, struct eagle_cidrs *out, struct eagle_err *err);
void eagle_cidrs_release(struct eagle_cidrs *l);

/* 1 when the address is in one of the ranges. */
int eagle_cidrs_match(const struct eagle_cidrs *l, const struct sockaddr *sa);
/* The same for a numeric address in text; -1 when `ip` is not one. */
int eagle_cidrs_match_text(const struct eagle_cidrs *l, const char *ip);

#endif
