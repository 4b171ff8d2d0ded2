/*
 * agents.c — the store's calls for eagle-agent installations (see agents.h).
 * Portable SQL, as in store.c.
 */
#include "store/agents.h"

#include "core/util.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define AGENT_COLS "cluster, image, url, engine_socket, proc, exclude_node, created_at, created_by"
#define NODE_COLS "cluster, node, service_id, secret_name, created_at"

int eagle_store_agent_put(struct eagle_store *st, const char *cluster, const char *image, const char *url,
                          const char *engine_socket, const char *proc, const char *exclude_node,
                          const char *username, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg del[] = {SQL_TEXT(cluster)};
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster),       SQL_TEXT(image),   SQL_TEXT(url),
                               SQL_TEXT(engine_socket), SQL_TEXT(proc),    SQL_TEXT(exclude_node),
                               SQL_TEXT(now),           SQL_TEXT(username)};
    if (eagle_store_exec(st, "DELETE FROM agents WHERE cluster = ?", del, NARGS(del), NULL, err) < 0)
        return -1;
    return eagle_store_exec(
        st, "INSERT INTO agents (token_hash, " AGENT_COLS ") VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?)", a,
        NARGS(a), NULL, err);
}

int eagle_store_agent_get(struct eagle_store *st, const char *cluster, json_t **row, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster)};
    if (eagle_store_query_one(st, "agent", "SELECT " AGENT_COLS " FROM agents WHERE cluster = ?", a, NARGS(a),
                              row, err) < 0)
        return err && err->status == 404
                   ? eagle_err_notfound(err, "cluster '%s' has no agent installed", cluster)
                   : -1;
    return 0;
}

int eagle_store_agent_list(struct eagle_store *st, json_t **rows, struct eagle_err *err)
{
    return eagle_store_query(st, "SELECT " AGENT_COLS " FROM agents ORDER BY cluster", NULL, 0, rows, err);
}

int eagle_store_agent_delete(struct eagle_store *st, const char *cluster, struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster)};
    int64_t changes = 0;
    if (eagle_store_exec(st, "DELETE FROM agents WHERE cluster = ?", a, NARGS(a), &changes, err) < 0)
        return -1;
    if (changes == 0)
        return eagle_err_notfound(err, "cluster '%s' has no agent installed", cluster);
    return 0;
}

int eagle_store_agent_node_put(struct eagle_store *st, const char *cluster, const char *node,
                               const char *token_hash, const char *service_id, const char *secret_name,
                               struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster),    SQL_TEXT(node),        SQL_TEXT(token_hash),
                               SQL_TEXT(service_id), SQL_TEXT(secret_name), SQL_TEXT(now)};
    return eagle_store_exec(st,
                            "INSERT INTO agent_nodes (cluster, node, token_hash, service_id, "
                            "secret_name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            a, NARGS(a), NULL, err);
}

int eagle_store_agent_node_list(struct eagle_store *st, const char *cluster, json_t **rows,
                                struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster)};
    return eagle_store_query(st, "SELECT " NODE_COLS " FROM agent_nodes WHERE cluster = ? ORDER BY node", a,
                             NARGS(a), rows, err);
}

int eagle_store_agent_node_delete(struct eagle_store *st, const char *cluster, const char *node,
                                  struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster), SQL_TEXT(node)};
    return eagle_store_exec(st, "DELETE FROM agent_nodes WHERE cluster = ? AND node = ?", a, NARGS(a), NULL,
                            err);
}

int eagle_store_agent_node_by_token(struct eagle_store *st, const char *token_hash, json_t **row,
                                    struct eagle_err *err)
{
    struct eagle_sqlarg a[] = {SQL_TEXT(token_hash)};
    return eagle_store_query_one(st, "agent token",
                                 "SELECT " NODE_COLS ", token_hash FROM agent_nodes WHERE token_hash = ?", a,
                                 NARGS(a), row, err);
}
