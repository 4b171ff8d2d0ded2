/*
 * agents.c — the store's calls for eagle-agent installations (see agents.h).
 * Portable SQL, as in store.c.
 */
#include "store/agents.h"

#include "core/util.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define AGENT_COLS "cluster, token_hash, image, url, engine_socket, proc, service_id, created_at, created_by"

int eagle_store_agent_put(struct eagle_store *st, const char *cluster, const char *token_hash,
                          const char *image, const char *url, const char *engine_socket, const char *proc,
                          const char *service_id, const char *username, struct eagle_err *err)
{
    char now[32];
    eagle_now_rfc3339(now, sizeof(now));
    struct eagle_sqlarg del[] = {SQL_TEXT(cluster)};
    struct eagle_sqlarg a[] = {SQL_TEXT(cluster),    SQL_TEXT(token_hash),    SQL_TEXT(image),
                               SQL_TEXT(url),        SQL_TEXT(engine_socket), SQL_TEXT(proc),
                               SQL_TEXT(service_id), SQL_TEXT(now),           SQL_TEXT(username)};
    if (eagle_store_exec(st, "DELETE FROM agents WHERE cluster = ?", del, NARGS(del), NULL, err) < 0)
        return -1;
    return eagle_store_exec(st, "INSERT INTO agents (" AGENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", a,
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
