/*
 * watcher.h — the controller that keeps the catalog true: it reads every ready
 * cluster's services, tasks and nodes from its manager (which answers for
 * every node) several times a second, installs them in the catalog, and
 * records the events the differences make.
 *
 * Why polling: Swarm emits no events for task state changes on other nodes,
 * so a stream of /events alone would miss a task failing on a worker. A poll
 * at the interval below bounds the lag; unchanged answers cost no index bump.
 * Each manager's /events is followed too, as a wake-up: an event makes a pass
 * at once (watcher.c, "follower").
 */
#ifndef EAGLE_WATCHER_H
#define EAGLE_WATCHER_H

#include "core/err.h"

int eagle_watcher_start(const char *data_dir, int interval_ms, struct eagle_err *err);
void eagle_watcher_stop(void);

#endif
