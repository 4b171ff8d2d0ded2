/*
 * prompt.c — see prompt.h.
 *
 * The saved terminal state is the one piece of file-scope mutable state in
 * eaglectl: a signal handler has nothing else to reach it through. It is set
 * only while echo is off.
 */
#include "ctl/prompt.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"

static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static const int restore_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

static void on_signal(int sig)
{
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

void ctl_secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

char *ctl_read_secret_line(FILE *f, struct eagle_err *err)
{
    char *line = xmalloc(CTL_SECRET_MAX + 1);
    size_t n = 0;
    int c;

    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n == CTL_SECRET_MAX) {
            explicit_bzero(line, n);
            free(line);
            eagle_err_set(err, 0, "usage", NULL, "the password is longer than %d bytes", CTL_SECRET_MAX);
            return NULL;
        }
        line[n++] = (char)c;
    }
    if (c == EOF && n == 0) {
        free(line);
        eagle_err_set(err, 0, "usage", NULL, "no password given on stdin");
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = 0;
    return line;
}

char *ctl_prompt_secret(const char *prompt, struct eagle_err *err)
{
    struct sigaction sa, old[sizeof(restore_signals) / sizeof(restore_signals[0])];
    struct termios quiet;
    char *line;

    if (tcgetattr(STDIN_FILENO, &saved_termios) < 0) {
        eagle_err_set(err, 0, "usage", NULL, "cannot read the terminal: %s", strerror(errno));
        return NULL;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(restore_signals) / sizeof(restore_signals[0]); i++)
        sigaction(restore_signals[i], &sa, &old[i]);

    fputs(prompt, stderr);
    fflush(stderr);
    quiet = saved_termios;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    echo_off = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);

    line = ctl_read_secret_line(stdin, err);

    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    echo_off = 0;
    for (size_t i = 0; i < sizeof(restore_signals) / sizeof(restore_signals[0]); i++)
        sigaction(restore_signals[i], &old[i], NULL);
    fputc('\n', stderr);
    return line;
}
