/*
 * config.c — see config.h.
 */
#include "ctl/config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define CONFIG_MAX_SIZE (1 << 20)

char *ctl_config_path(const char *flag)
{
    const char *env = getenv("EAGLECTL_CONFIG"), *home = getenv("HOME");

    if (flag && *flag)
        return xstrdup(flag);
    if (env && *env)
        return xstrdup(env);
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : "/";
    }
    return xasprintf("%s/.config/eagle/config.json", home);
}

int ctl_config_load(const char *path, json_t **out, struct eagle_err *err)
{
    json_error_t jerr;
    struct stat st;
    json_t *cfg;
    FILE *f;

    *out = NULL;
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            *out = json_object();
            return 0;
        }
        return eagle_err_set(err, 0, "config", NULL, "cannot read config file %s: %s", path, strerror(errno));
    }
    if (fstat(fileno(f), &st) == 0 && st.st_size > CONFIG_MAX_SIZE) {
        fclose(f);
        return eagle_err_set(err, 0, "config", NULL, "config file %s is larger than 1 MiB", path);
    }
    cfg = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!cfg)
        return eagle_err_set(err, 0, "config", NULL, "config file %s: line %d: %s", path, jerr.line,
                             jerr.text);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return eagle_err_set(err, 0, "config", NULL, "config file %s is not a JSON object", path);
    }
    *out = cfg;
    return 0;
}

/* mkdir -p for the directories above `path`, each new one 0700. */
static int make_parents(const char *path, struct eagle_err *err)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int ret = 0;

    if (!slash || slash == dir)
        goto out;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            ret = eagle_err_set(err, 0, "config", NULL, "cannot create %s: %s", dir, strerror(errno));
            goto out;
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        ret = eagle_err_set(err, 0, "config", NULL, "cannot create %s: %s", dir, strerror(errno));
out:
    free(dir);
    return ret;
}

int ctl_config_save(const char *path, json_t *cfg, struct eagle_err *err)
{
    char *tmp = NULL, *text = NULL;
    size_t len = 0, done = 0;
    int fd = -1, ret = -1;

    if (make_parents(path, err) < 0)
        return -1;
    text = json_dumps(cfg, JSON_INDENT(2));
    if (!text)
        return eagle_err_set(err, 0, "config", NULL, "cannot encode the config");
    len = strlen(text);
    tmp = xasprintf("%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp); /* created 0600 */
    if (fd < 0) {
        eagle_err_set(err, 0, "config", NULL, "cannot write config file %s: %s", path, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    if (fchmod(fd, 0600) < 0)
        goto io_error;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto io_error;
        done += (size_t)n;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) < 0)
        goto io_error;
    if (close(fd) < 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto io_error;
    free(tmp);
    tmp = NULL;
    ret = 0;
    goto out;
io_error:
    eagle_err_set(err, 0, "config", NULL, "cannot write config file %s: %s", path, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    if (text) {
        memset(text, 0, len);
        free(text);
    }
    return ret;
}
