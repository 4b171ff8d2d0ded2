/*
 * config.h — eaglectl's config file: {"endpoint": "...", "token": "...",
 * "username": "...", "expires_at": "..."} as written by `eaglectl login`.
 *
 * The file holds a bearer token, so it is written 0600 (its directory 0700),
 * atomically through a temporary file and rename(). Unknown keys are kept.
 */
#ifndef EAGLE_CTL_CONFIG_H
#define EAGLE_CTL_CONFIG_H

#include <jansson.h>

#include "core/err.h"

/* The config file to use: `flag` when given, else $EAGLECTL_CONFIG, else
 * ~/.config/eagle/config.json. A new string the caller frees. */
char *ctl_config_path(const char *flag);

/* Read the file into *out (a new object the caller json_decref()s). A missing file
 * reads as an empty object. Returns -1 when it cannot be read or is not a JSON object. */
int ctl_config_load(const char *path, json_t **out, struct eagle_err *err);

/* Replace the file with `cfg` (not stolen), creating its directory when needed. */
int ctl_config_save(const char *path, json_t *cfg, struct eagle_err *err);

#endif
