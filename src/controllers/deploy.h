/*
 * deploy.h — the controller that drives releases (rolling and canary) through
 * their state machine (model/release.h), one tick every half second: observe
 * the tasks in the engine and their health, decide, act on the engine, record.
 * Everything it knows is in the store, so after a crash the next tick resumes
 * each release where it stood; canary groups no active release owns are removed.
 */
#ifndef EAGLE_DEPLOY_H
#define EAGLE_DEPLOY_H

#include "core/err.h"

int eagle_deploy_start(const char *data_dir, struct eagle_err *err);
void eagle_deploy_stop(void);

#endif
