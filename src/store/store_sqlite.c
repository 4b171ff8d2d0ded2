/*
 * store_sqlite.c — the SQLite backend of the store (WAL, one connection per thread).
 *
 * Writers wait on each other through busy_timeout; BEGIN IMMEDIATE takes the write
 * lock up front so a transaction never fails half-way on SQLITE_BUSY.
 */
#include <sqlite3.h>
#include <string.h>

#include "core/util.h"
#include "store/store.h"

static int fail(sqlite3 *db, int rc, const char *sql, struct eagle_err *err)
{
    if ((rc & 0xff) == SQLITE_CONSTRAINT &&
        (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY))
        return eagle_err_set(err, 409, "conflict", NULL, "already exists (%s)", sqlite3_errmsg(db));
    return eagle_err_set(err, 500, "store_error", NULL, "sqlite: %s (in: %.80s)", sqlite3_errmsg(db), sql);
}

static int sq_open(const char *location, void **conn, struct eagle_err *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(location, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        eagle_err_set(err, 500, "store_error", NULL, "cannot open '%s': %s", location,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_extended_result_codes(db, 1);
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL,
                      NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(db, rc, "PRAGMA", err);
        sqlite3_close(db);
        return -1;
    }
    *conn = db;
    return 0;
}

static void sq_close(void *conn)
{
    sqlite3_close(conn);
}

static int prepare(sqlite3 *db, const char *sql, const struct eagle_sqlarg *args, int nargs, sqlite3_stmt **out,
                   struct eagle_err *err)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return fail(db, rc, sql, err);
    for (int i = 0; i < nargs; i++) {
        switch (args[i].type) {
        case EAGLE_SQL_NULL:
            rc = sqlite3_bind_null(stmt, i + 1);
            break;
        case EAGLE_SQL_TEXT:
            rc = sqlite3_bind_text(stmt, i + 1, args[i].s, -1, SQLITE_TRANSIENT);
            break;
        case EAGLE_SQL_INT:
            rc = sqlite3_bind_int64(stmt, i + 1, args[i].i);
            break;
        }
        if (rc != SQLITE_OK) {
            fail(db, rc, sql, err);
            sqlite3_finalize(stmt);
            return -1;
        }
    }
    *out = stmt;
    return 0;
}

static int sq_exec(void *conn, const char *sql, const struct eagle_sqlarg *args, int nargs, int64_t *changes,
                   struct eagle_err *err)
{
    sqlite3 *db = conn;
    sqlite3_stmt *stmt;
    int rc;

    if (nargs == 0 && !changes) { /* may be several statements (migrations) */
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : fail(db, rc, sql, err);
    }
    if (prepare(db, sql, args, nargs, &stmt, err) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        fail(db, sqlite3_extended_errcode(db), sql, err);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    if (changes)
        *changes = sqlite3_changes64(db);
    return 0;
}

static int sq_query(void *conn, const char *sql, const struct eagle_sqlarg *args, int nargs, json_t **rows,
                    struct eagle_err *err)
{
    sqlite3 *db = conn;
    sqlite3_stmt *stmt;
    json_t *arr;
    int rc;

    if (prepare(db, sql, args, nargs, &stmt, err) < 0)
        return -1;
    arr = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row = json_object();
        int n = sqlite3_column_count(stmt);
        for (int c = 0; c < n; c++) {
            const char *name = sqlite3_column_name(stmt, c);
            json_t *v;
            switch (sqlite3_column_type(stmt, c)) {
            case SQLITE_INTEGER:
                v = json_integer(sqlite3_column_int64(stmt, c));
                break;
            case SQLITE_FLOAT:
                v = json_real(sqlite3_column_double(stmt, c));
                break;
            case SQLITE_NULL:
                v = json_null();
                break;
            default:
                v = json_stringn((const char *)sqlite3_column_text(stmt, c), (size_t)sqlite3_column_bytes(stmt, c));
                if (!v)
                    v = json_null();
                break;
            }
            json_object_set_new(row, name, v);
        }
        json_array_append_new(arr, row);
    }
    if (rc != SQLITE_DONE) {
        fail(db, sqlite3_extended_errcode(db), sql, err);
        sqlite3_finalize(stmt);
        json_decref(arr);
        return -1;
    }
    sqlite3_finalize(stmt);
    *rows = arr;
    return 0;
}

static int sq_begin(void *conn, struct eagle_err *err)
{
    return sq_exec(conn, "BEGIN IMMEDIATE", NULL, 0, NULL, err);
}

const struct eagle_store_driver eagle_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .begin = sq_begin,
};
