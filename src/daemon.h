/*
 * daemon.h — the whole of eagled as a start/stop pair, so tests and main.c run
 * the same thing (Fluent Bit's runtime tests). The daemon struct is the one
 * place process-wide state lives; what other modules may read of it is below.
 */
#ifndef EAGLE_DAEMON_H
#define EAGLE_DAEMON_H

#include "core/config.h"
#include "core/err.h"

/* Open and migrate the store, create the first admin and the local cluster if
 * needed, start the HTTP server and the controllers. `cfg` must outlive the
 * daemon. Returns -1 and err when something cannot start. */
int eagle_daemon_start(const struct eagle_config *cfg, struct eagle_err *err);
/* Stop everything started; safe to call after a failed start. */
void eagle_daemon_stop(void);

/* Read-only after start: the 32-byte key tokens are hashed with, and settings. */
const unsigned char *eagle_daemon_token_key(void);
const struct eagle_config *eagle_daemon_config(void);

/* This Eagle's id (generated once, kept in the store). Every engine object
 * Eagle creates carries it as the label eagle.instance, so two Eagles pointed
 * at one engine never adopt, change or sweep each other's services. */
const char *eagle_daemon_instance(void);

/* Crash tests: when EAGLE_FAULT names this point, the process kills itself
 * here (SIGKILL, as kill -9 would), so a test can stop eagled between two
 * steps that must survive a crash. Points: "after-record" (a change is in the
 * store, not yet in the engine). */
void eagle_daemon_fault_point(const char *point);

#endif
