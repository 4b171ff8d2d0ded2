/*
 * meta.c — answers from memory, on the event loop: health and the API's
 * OpenAPI description (docs/openapi.json, compiled into the binary).
 */
#include "api/api.h"
#include "http/router.h"

extern const unsigned char eagle_openapi_json[];
extern const unsigned int eagle_openapi_json_len;

int api_health(struct eagle_call *call, struct eagle_err *err)
{
    call->out = json_pack("{s:s, s:s}", "status", "ok", "version", EAGLE_VERSION);
    return 0;
}

int api_openapi(struct eagle_call *call, struct eagle_err *err)
{
    call->raw = (const char *)eagle_openapi_json;
    call->raw_len = eagle_openapi_json_len;
    call->raw_type = "application/json";
    return 0;
}
