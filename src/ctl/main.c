/*
 * main.c — eaglectl's entry point: global options, then one command.
 *
 * Global options may come before the command word (and, except where a command
 * claims the name, after it; see args.h). Exit status: 0 success, 1 the server
 * or the connection failed, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/args.h"
#include "ctl/ctl.h"

static const char usage[] =
    "Usage: eaglectl [--endpoint URL] [--token TOKEN] [-o table|json] [--config FILE] COMMAND ...\n"
    "\n"
    "The command-line client of Eagle, a container control plane.\n"
    "\n"
    "Commands:\n"
    "  login      log in; saves the endpoint and the token in the config file\n"
    "  logout     revoke the token and forget it\n"
    "  whoami     show who the token belongs to\n"
    "  version    show the client's and the server's versions\n"
    "  cluster    manage clusters: ls, get, nodes, add, rm\n"
    "  service    manage services: ls, get, create, update, scale, rollback, rm, revisions, tasks\n"
    "  deploy     create or update the service described by a spec file\n"
    "  release    roll a service out, rolling or canary: start, ls, get, promote, abort, watch\n"
    "  discovery  where services' instances run and whether they are healthy: ls, get, watch\n"
    "  events     follow the event stream\n"
    "  tenant     manage tenants: ls, get, create, update, rm, usage\n"
    "  member     manage a tenant's members: ls, set, rm\n"
    "  user       manage users: ls, create, rm, passwd\n"
    "  token      manage your API tokens: ls, create, rm\n"
    "  audit      show the audit log\n"
    "  api        send a request to any API path and print the answer\n"
    "\n"
    "Global options:\n"
    "  --endpoint URL     Eagle's API; else $EAGLE_ENDPOINT, the config file, http://127.0.0.1:8420\n"
    "  --token TOKEN      bearer token; else $EAGLE_TOKEN, the config file\n"
    "  -o, --output FMT   table (default) or json (the server's answer as it came)\n"
    "  --config FILE      config file; else $EAGLECTL_CONFIG, ~/.config/eagle/config.json\n"
    "  -h, --help         help; every command has its own ('eaglectl service create --help')\n";

static const struct {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv);
} commands[] = {
    {"login", ctl_cmd_login},      {"logout", ctl_cmd_logout},
    {"whoami", ctl_cmd_whoami},    {"version", ctl_cmd_version},
    {"cluster", ctl_cmd_cluster},  {"clusters", ctl_cmd_cluster},
    {"service", ctl_cmd_service},  {"services", ctl_cmd_service},
    {"svc", ctl_cmd_service},      {"deploy", ctl_cmd_deploy},
    {"api", ctl_cmd_api},          {"release", ctl_cmd_release},
    {"releases", ctl_cmd_release}, {"discovery", ctl_cmd_discovery},
    {"events", ctl_cmd_events},    {"tenant", ctl_cmd_tenant},
    {"tenants", ctl_cmd_tenant},   {"member", ctl_cmd_member},
    {"members", ctl_cmd_member},   {"user", ctl_cmd_user},
    {"users", ctl_cmd_user},       {"token", ctl_cmd_token},
    {"tokens", ctl_cmd_token},     {"audit", ctl_cmd_audit},
};

static int run(struct ctl *ctl, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        int m;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return CTL_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0)
            return ctl_cmd_version(ctl, 1, (char *[]){"version", NULL});
        m = ctl_args_global(ctl, argc, argv, &i);
        if (m < 0) {
            fprintf(stderr, "\n%s", usage);
            return CTL_EXIT_USAGE;
        }
        if (m == 0)
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "eaglectl: missing command\n\n%s", usage);
        return CTL_EXIT_USAGE;
    }
    if (argv[i][0] == '-')
        return ctl_usage_error(usage, "unknown option '%s'", argv[i]);
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 < argc) { /* "eaglectl help service" = "eaglectl service --help" */
            char *sub[] = {argv[i + 1], "--help", NULL};
            for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
                if (strcmp(argv[i + 1], commands[c].name) == 0)
                    return commands[c].run(ctl, 2, sub);
            return ctl_usage_error(usage, "unknown command '%s'", argv[i + 1]);
        }
        fputs(usage, stdout);
        return CTL_EXIT_OK;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(ctl, argc - i, argv + i);
    return ctl_usage_error(usage, "unknown command '%s'", argv[i]);
}

int main(int argc, char **argv)
{
    struct ctl ctl;
    int rc;

    if (ctl_http_global_init() < 0) {
        fprintf(stderr, "eaglectl: cannot initialise libcurl\n");
        return CTL_EXIT_FAIL;
    }
    ctl_init(&ctl);
    rc = run(&ctl, argc, argv);
    ctl_release(&ctl);
    ctl_http_global_cleanup();
    if (fflush(stdout) != 0 && rc == CTL_EXIT_OK) {
        perror("eaglectl: writing output");
        rc = CTL_EXIT_FAIL;
    }
    return rc;
}
