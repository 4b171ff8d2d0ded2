/*
 * main.c — eagled: parse the configuration, start the daemon, wait for
 * SIGTERM or SIGINT, stop it cleanly.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "core/config.h"
#include "core/log.h"
#include "daemon.h"

int main(int argc, char **argv)
{
    struct eagle_config cfg;
    struct eagle_err err = {0};
    sigset_t set;
    int sig = 0, rc;

    /* Memory: fixed thresholds instead of glibc's sliding ones, which ratchet up after
     * the first big free and then keep big blocks in the heap. Blocks of 1 MiB and more are
     * mmapped (returned at free); below that the heap serves them, and free space is not
     * handed back per request (the whole-catalog answer is 0.2-2 MB, built per request) but
     * by the watcher's malloc_trim() after each pass. Few arenas: the threads mostly wait,
     * and every arena keeps its own free memory. */
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_ARENA_MAX, 4);
    rc = eagle_config_load(&cfg, argc, argv, &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "eagled: %s\n", err.msg);
        eagle_config_release(&cfg);
        return rc < 0 ? 2 : 0;
    }
    /* Block the stop signals in every thread; this one waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (eagle_daemon_start(&cfg, &err) < 0) {
        log_error("daemon", "cannot start: %s", err.msg);
        eagle_daemon_stop();
        eagle_config_release(&cfg);
        return 1;
    }
    log_info("daemon", "eagled %s ready on http://%s (data in '%s')", EAGLE_VERSION, cfg.listen, cfg.data);
    sigwait(&set, &sig);
    log_info("daemon", "signal %d: stopping", sig);
    eagle_daemon_stop();
    eagle_config_release(&cfg);
    log_info("daemon", "stopped");
    return 0;
}
