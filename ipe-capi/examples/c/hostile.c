/*
 * hostile: IPE's C ABI fed bad input from C (malformed bundle bytes, malformed JSON, null
 * pointers, too-small buffers, invalid UTF-8): every call returns a status, nothing crashes.
 * Built and run (also under AddressSanitizer and UBSan) by ipe-capi's `tests/c_example.rs`.
 *
 *   hostile BUNDLE.ipeb
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipe.h"

static int failed = 0;
static int passed = 0;

#define EXPECT(call, want)                                                               \
    do {                                                                                 \
        IpeStatus got_ = (call);                                                         \
        if (got_ != (want)) {                                                            \
            fprintf(stderr, "line %d: %s: got %s, want %s\n", __LINE__, #call,          \
                    ipe_status_name((int32_t)got_), ipe_status_name((int32_t)(want)));   \
            failed++;                                                                    \
        } else {                                                                         \
            passed++;                                                                    \
        }                                                                                \
    } while (0)

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hostile BUNDLE.ipeb\n");
        return 2;
    }
    size_t len = 0;
    unsigned char *bytes = read_file(argv[1], &len);
    if (bytes == NULL) {
        perror(argv[1]);
        return 2;
    }
    IpeEngine *engine = NULL;

    /* Malformed bundles: garbage, truncated at every 97th length, one flipped byte. */
    const unsigned char garbage[] = "not a bundle";
    EXPECT(ipe_engine_open_bytes(garbage, sizeof garbage, &engine), IPE_STATUS_BAD_BUNDLE);
    for (size_t cut = 0; cut < len; cut += 97) {
        EXPECT(ipe_engine_open_bytes(bytes, cut, &engine), IPE_STATUS_BAD_BUNDLE);
    }
    unsigned char *flipped = malloc(len);
    memcpy(flipped, bytes, len);
    flipped[len / 2] ^= 0x55;
    EXPECT(ipe_engine_open_bytes(flipped, len, &engine), IPE_STATUS_BAD_BUNDLE);
    free(flipped);
    if (engine != NULL) {
        fprintf(stderr, "an engine was returned on failure\n");
        failed++;
    }
    EXPECT(ipe_engine_open_file("/nonexistent", 12, &engine), IPE_STATUS_IO);

    /* Null pointers. */
    EXPECT(ipe_engine_open_bytes(NULL, 10, &engine), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_open_bytes(bytes, len, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_open_file(NULL, 10, &engine), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_decide_json(NULL, "{}", 2, NULL, NULL, 0, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_swap_bytes(NULL, bytes, len, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_reload(NULL, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_request_new(NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_request_set_int(NULL, "a", 1, 1), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_last_error(NULL, 10, NULL), IPE_STATUS_NULL_ARGUMENT);
    ipe_engine_free(NULL);
    ipe_request_free(NULL);

    EXPECT(ipe_engine_open_bytes(bytes, len, &engine), IPE_STATUS_OK);
    EXPECT(ipe_decide_json(engine, NULL, 2, NULL, NULL, 0, NULL), IPE_STATUS_NULL_ARGUMENT);

    /* Malformed JSON, and text that is not UTF-8. */
    const char *bad[] = {"", "{", "[]", "1", "{\"a\":1,\"a\":2}", "{}}", "{\"a\":tru}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(ipe_decide_json(engine, bad[i], strlen(bad[i]), NULL, NULL, 0, NULL),
               IPE_STATUS_BAD_REQUEST);
    }
    const char not_utf8[] = {'{', '"', (char)0xff, '"', ':', '1', '}'};
    EXPECT(ipe_decide_json(engine, not_utf8, sizeof not_utf8, NULL, NULL, 0, NULL),
           IPE_STATUS_BAD_REQUEST);

    /* Too-small buffers: the needed size is reported; exactly that size works. */
    const char *req = "{\"environment\":\"production\"}";
    char small[8];
    size_t needed = 0;
    IpeDecision d;
    EXPECT(ipe_decide_json(engine, req, strlen(req), &d, small, sizeof small, &needed),
           IPE_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ipe_decide_json(engine, req, strlen(req), &d, small, 0, &needed),
           IPE_STATUS_BUFFER_TOO_SMALL);
    char *exact = malloc(needed);
    size_t again = 0;
    EXPECT(ipe_decide_json(engine, req, strlen(req), &d, exact, needed, &again), IPE_STATUS_OK);
    if (again != needed || strlen(exact) + 1 != needed) {
        fprintf(stderr, "needed %zu, then %zu, wrote %zu\n", needed, again, strlen(exact));
        failed++;
    }
    free(exact);
    char tiny[2];
    EXPECT(ipe_last_error(tiny, sizeof tiny, &needed), IPE_STATUS_BUFFER_TOO_SMALL);

    /* Typed requests: a path that is not UTF-8, a list without items, a path set twice. */
    IpeRequest *r = NULL;
    EXPECT(ipe_request_new(&r), IPE_STATUS_OK);
    EXPECT(ipe_request_set_str(r, not_utf8, sizeof not_utf8, "x", 1), IPE_STATUS_INVALID_UTF8);
    EXPECT(ipe_request_set_strs(r, "tags", 4, NULL, 3), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_request_set_str(r, "environment", 11, "production", 10), IPE_STATUS_OK);
    EXPECT(ipe_request_set_str(r, "environment", 11, "staging", 7), IPE_STATUS_OK);
    EXPECT(ipe_decide_request(engine, r, &d, NULL, 0, NULL), IPE_STATUS_BAD_REQUEST);
    EXPECT(ipe_request_clear(r), IPE_STATUS_OK);
    EXPECT(ipe_decide_request(engine, r, &d, NULL, 0, NULL), IPE_STATUS_OK);
    ipe_request_free(r);

    /* A failed swap keeps the live version; no file to reload. */
    uint64_t version = 0;
    EXPECT(ipe_engine_swap_bytes(engine, garbage, sizeof garbage, &version),
           IPE_STATUS_BAD_BUNDLE);
    EXPECT(ipe_engine_reload(engine, &version), IPE_STATUS_NO_SOURCE);
    EXPECT(ipe_engine_info(engine, &version, NULL), IPE_STATUS_OK);
    if (version != 1) {
        fprintf(stderr, "version %llu after failed swaps\n", (unsigned long long)version);
        failed++;
    }

    /* The fast path: null handles, slot ids outside the version, borrowed bytes that are not
     * UTF-8, setters that cannot apply to their slot, a slot set twice, small buffers. */
    IpeContext *c = NULL;
    IpeContextDecision cd;
    IpeBrief brief;
    uint32_t env = IPE_NONE;
    EXPECT(ipe_context_new(NULL, &c), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_new(engine, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_new(engine, &c), IPE_STATUS_OK);
    EXPECT(ipe_context_slot(c, not_utf8, sizeof not_utf8, &env), IPE_STATUS_INVALID_UTF8);
    EXPECT(ipe_context_slot(c, "environment", 11, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_slot(c, "environment", 11, &env), IPE_STATUS_OK);
    EXPECT(ipe_context_set_int(c, 0xFFFFFFFEu, 1), IPE_STATUS_BAD_SLOT);
    EXPECT(ipe_context_set_int(c, IPE_NONE, 1), IPE_STATUS_OK);
    EXPECT(ipe_context_set_str(c, env, NULL, 5), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_set_strs(c, env, NULL, 2), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_set_ipv6(c, env, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_set_ipv4(c, env, 1), IPE_STATUS_BAD_REQUEST);
    EXPECT(ipe_context_set_time_ms(c, env, 0), IPE_STATUS_BAD_REQUEST);
    EXPECT(ipe_context_set_str(c, env, not_utf8, sizeof not_utf8), IPE_STATUS_OK);
    EXPECT(ipe_context_set_str(c, env, "production", 10), IPE_STATUS_BAD_REQUEST);
    EXPECT(ipe_decide_context(c, &cd), IPE_STATUS_INVALID_UTF8);
    EXPECT(ipe_decide_context(c, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_decide_context(NULL, &cd), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_set_str(c, env, not_utf8, sizeof not_utf8), IPE_STATUS_OK);
    EXPECT(ipe_brief_context(c, &brief), IPE_STATUS_INVALID_UTF8);
    EXPECT(ipe_context_set_str(c, env, "production", 10), IPE_STATUS_OK);
    EXPECT(ipe_brief_context(c, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_brief_context(NULL, &brief), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_set_str(c, env, "production", 10), IPE_STATUS_OK);
    EXPECT(ipe_decide_context_report(c, &cd, small, sizeof small, &needed),
           IPE_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ipe_decide_context(c, &cd), IPE_STATUS_OK);
    EXPECT(ipe_context_refresh(c, NULL, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_context_refresh(c, engine, NULL), IPE_STATUS_OK);
    ipe_context_free(c);
    ipe_context_free(NULL);

    /* Stats and trust: an index out of range, no stats struct, no key, an unsigned bundle. */
    IpePolicyStats st;
    const unsigned char zero_key[32] = {0};
    IpeEngine *trusted = NULL;
    EXPECT(ipe_engine_policy_stats(engine, 99, &st, NULL, 0, NULL), IPE_STATUS_BAD_SLOT);
    EXPECT(ipe_engine_policy_stats(engine, 0, NULL, NULL, 0, NULL), IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_open_bytes_trusted(bytes, len, NULL, 0, 0, &trusted), IPE_STATUS_UNTRUSTED);
    EXPECT(ipe_engine_open_bytes_trusted(bytes, len, NULL, 1, 0, &trusted),
           IPE_STATUS_NULL_ARGUMENT);
    EXPECT(ipe_engine_open_bytes_trusted(bytes, len, zero_key, 1, 0, &trusted),
           IPE_STATUS_UNTRUSTED);
    EXPECT(ipe_engine_open_file_trusted("/nonexistent", 12, zero_key, 1, 0, &trusted),
           IPE_STATUS_IO);

    ipe_engine_free(engine);
    free(bytes);
    printf("hostile: %d checks ok, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
