/*
 * specflags.h — a service spec (docs/api.md) built from `service create`'s flags.
 *
 * Only the shape of each flag is checked here (K=V, numbers, port syntax); the
 * server validates the spec itself and names the field at fault.
 */
#ifndef EAGLE_CTL_SPECFLAGS_H
#define EAGLE_CTL_SPECFLAGS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "ctl/args.h"

struct ctl_spec_flags {
    const char *name, *image, *cluster;
    const char *replicas; /* as given; NULL when absent */
    const char *cpus, *memory;
    bool global;
    struct ctl_list env, labels, publish, constraints;
    char **command; /* the words after "--": command[0] is the command, the rest its args */
    int n_command;
};

/* A new spec object, or NULL with err filled (err->field names the flag). */
json_t *ctl_spec_from_flags(const struct ctl_spec_flags *f, struct eagle_err *err);

/* One --publish value: PUBLISHED:TARGET[/tcp|udp|sctp][:host|ingress], TARGET[/proto],
 * or published=P,target=T,protocol=tcp,mode=host. A new port object, or NULL. */
json_t *ctl_spec_parse_publish(const char *s, struct eagle_err *err);

/* A whole decimal integer within [min, max]; -1 otherwise. */
int ctl_parse_int(const char *s, long long min, long long max, long long *out);

#endif
