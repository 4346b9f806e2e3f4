/*
 * decide: IPE from C. Opens a compiled bundle and decides JSON requests, one per line of a
 * file, printing one decision JSON line each (what `ipe eval` prints for the same requests).
 *
 *   decide BUNDLE.ipeb REQUESTS.jsonl    JSON requests, one per line
 *   decide BUNDLE.ipeb --typed           one request built with the typed setters (no JSON)
 *
 * The decision buffer starts small on purpose: a decision that does not fit reports the
 * size it needs and is decided again into a larger buffer.
 *
 * Built and run by ipe-capi's test `tests/c_example.rs`:
 *   cc -I ipe-capi/include decide.c libipe_capi.a -lpthread -ldl -lm -o decide
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipe.h"

/* Prints the status, its name and this thread's last error message; returns 1. */
static int fail(const char *what, IpeStatus status) {
    char message[512];
    if (ipe_last_error(message, sizeof message, NULL) != IPE_STATUS_OK) {
        strcpy(message, "(message too long)");
    }
    fprintf(stderr, "decide: %s: %s: %s\n", what, ipe_status_name((int32_t)status), message);
    return 1;
}

/* Decides one JSON request and prints its decision line; returns 0 or 1. */
static int decide_line(const IpeEngine *engine, const char *json, size_t len) {
    size_t cap = 16; /* deliberately small: the first call reports the needed size */
    char *out = malloc(cap);
    IpeDecision d;
    size_t needed = 0;
    IpeStatus s = ipe_decide_json(engine, json, len, &d, out, cap, &needed);
    if (s == IPE_STATUS_BUFFER_TOO_SMALL) {
        free(out);
        cap = needed;
        out = malloc(cap);
        s = ipe_decide_json(engine, json, len, &d, out, cap, &needed);
    }
    if (s != IPE_STATUS_OK) {
        free(out);
        return fail("decide", s);
    }
    printf("%s\n", out);
    fprintf(stderr, "effect=%s matched=%u violations=%u errors=%u version=%llu\n",
            d.effect == IPE_EFFECT_ALLOW ? "allow" : "deny", d.matched, d.violations,
            d.errors, (unsigned long long)d.version);
    free(out);
    return 0;
}

/* A request set attribute by attribute (the seed schema's scalars; no approvals given). */
static int decide_typed(const IpeEngine *engine) {
    IpeRequest *req = NULL;
    IpeStatus s = ipe_request_new(&req);
    if (s != IPE_STATUS_OK) {
        return fail("request", s);
    }
#define SET_STR(path, value) \
    ipe_request_set_str(req, path, strlen(path), value, strlen(value))
    if ((s = SET_STR("resource.type", "Deployment")) != IPE_STATUS_OK ||
        (s = SET_STR("resource.risk_level", "high")) != IPE_STATUS_OK ||
        (s = SET_STR("environment", "production")) != IPE_STATUS_OK ||
        (s = SET_STR("requester.department", "payments")) != IPE_STATUS_OK) {
        ipe_request_free(req);
        return fail("set", s);
    }
#undef SET_STR
    char out[4096];
    IpeDecision d;
    s = ipe_decide_request(engine, req, &d, out, sizeof out, NULL);
    ipe_request_free(req);
    if (s != IPE_STATUS_OK) {
        return fail("decide typed", s);
    }
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: decide BUNDLE.ipeb (REQUESTS.jsonl | --typed)\n");
        return 2;
    }
    IpeEngine *engine = NULL;
    IpeStatus s = ipe_engine_open_file(argv[1], strlen(argv[1]), &engine);
    if (s != IPE_STATUS_OK) {
        return fail("open", s);
    }
    int rc = 0;
    if (strcmp(argv[2], "--typed") == 0) {
        rc = decide_typed(engine);
    } else {
        FILE *f = fopen(argv[2], "r");
        if (f == NULL) {
            perror(argv[2]);
            ipe_engine_free(engine);
            return 1;
        }
        char *line = NULL;
        size_t line_cap = 0;
        ssize_t n;
        while (rc == 0 && (n = getline(&line, &line_cap, f)) != -1) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
                n--;
            }
            if (n > 0) {
                rc = decide_line(engine, line, (size_t)n);
            }
        }
        free(line);
        fclose(f);
    }
    ipe_engine_free(engine);
    return rc;
}
