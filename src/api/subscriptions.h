/*
 * subscriptions.h — /v1/subscriptions: event callbacks. A subscription POSTs
 * its tenant's matching events to a URL, signed and retried in order by the
 * deliverer (controllers/notify.h); these handlers create, list, show and
 * delete subscriptions, read their delivery log and rewind them.
 *
 * Who may do what: viewers of the tenant read, developers write; another
 * tenant's subscriptions answer 404. Node events go only to subscriptions a
 * platform admin made. Handlers run on API workers, as api.h says.
 */
#ifndef EAGLE_API_SUBSCRIPTIONS_H
#define EAGLE_API_SUBSCRIPTIONS_H

#include "api/api.h"

#define EAGLE_SUBSCRIPTIONS_MAX 100 /* per tenant */

int api_subscriptions_list(struct eagle_call *call, struct eagle_err *err);
int api_subscriptions_create(struct eagle_call *call, struct eagle_err *err);
int api_subscriptions_get(struct eagle_call *call, struct eagle_err *err);
int api_subscriptions_delete(struct eagle_call *call, struct eagle_err *err);
int api_subscriptions_deliveries(struct eagle_call *call, struct eagle_err *err);
int api_subscriptions_redeliver(struct eagle_call *call, struct eagle_err *err);

#endif
