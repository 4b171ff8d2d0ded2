/*
 * routes.c — the API's route table: the one list of what the server answers.
 * tests/unit/test_router.c checks it against docs/openapi.json both ways.
 */
#include "http/router.h"

const struct eagle_route eagle_routes[] = {
    {"GET", "/v1/health", api_health, ROUTE_PUBLIC | ROUTE_LOOP},
    {"GET", "/v1/openapi.json", api_openapi, ROUTE_PUBLIC | ROUTE_LOOP},
    {"POST", "/v1/auth/login", api_login, ROUTE_PUBLIC},
    {"POST", "/v1/auth/logout", api_logout, 0},
    {"GET", "/v1/me", api_me, 0},
    {"GET", "/v1/clusters", api_clusters_list, 0},
    {"POST", "/v1/clusters", api_clusters_create, 0},
    {"GET", "/v1/clusters/{name}", api_clusters_get, 0},
    {"DELETE", "/v1/clusters/{name}", api_clusters_delete, 0},
    {"GET", "/v1/clusters/{name}/nodes", api_clusters_nodes, 0},
    {"GET", "/v1/services", api_services_list, 0},
    {"POST", "/v1/services", api_services_create, 0},
    {"GET", "/v1/services/{name}", api_services_get, 0},
    {"PUT", "/v1/services/{name}", api_services_update, 0},
    {"DELETE", "/v1/services/{name}", api_services_delete, 0},
    {"POST", "/v1/services/{name}/scale", api_services_scale, 0},
    {"POST", "/v1/services/{name}/rollback", api_services_rollback, 0},
    {"GET", "/v1/services/{name}/revisions", api_services_revisions, 0},
    {"GET", "/v1/services/{name}/revisions/{revision}", api_services_revision_get, 0},
    {"GET", "/v1/services/{name}/tasks", api_services_tasks, 0},
    {"GET", "/v1/tokens", api_tokens_list, 0},
    {"POST", "/v1/tokens", api_tokens_create, 0},
    {"DELETE", "/v1/tokens/{id}", api_tokens_delete, 0},
    {"GET", "/v1/users", api_users_list, 0},
    {"POST", "/v1/users", api_users_create, 0},
    {"GET", "/v1/users/{name}", api_users_get, 0},
    {"DELETE", "/v1/users/{name}", api_users_delete, 0},
    {"PUT", "/v1/users/{name}/password", api_users_password, 0},
    {"GET", "/v1/tenants", api_tenants_list, 0},
    {"POST", "/v1/tenants", api_tenants_create, 0},
    {"GET", "/v1/tenants/{name}", api_tenants_get, 0},
    {"PUT", "/v1/tenants/{name}", api_tenants_update, 0},
    {"DELETE", "/v1/tenants/{name}", api_tenants_delete, 0},
    {"GET", "/v1/tenants/{name}/usage", api_tenants_usage, 0},
    {"GET", "/v1/tenants/{name}/members", api_members_list, 0},
    {"PUT", "/v1/tenants/{name}/members/{user}", api_members_set, 0},
    {"DELETE", "/v1/tenants/{name}/members/{user}", api_members_delete, 0},
    {"GET", "/v1/audit", api_audit_list, 0},
};
const size_t eagle_n_routes = sizeof(eagle_routes) / sizeof(eagle_routes[0]);
