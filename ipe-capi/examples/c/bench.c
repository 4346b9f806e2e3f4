/*
 * bench.c: per-call cost of IPE's three C decision paths on one bundle (issue #17).
 *
 *   cc -O2 -I ipe-capi/include ipe-capi/examples/c/bench.c target/release/libipe_capi.a \
 *      -lpthread -ldl -lm -o bench
 *   ./bench firewall.ipeb [iterations]
 *
 * The bundle is examples/firewall. Two flows alternate (an https packet that is allowed, a
 * telnet packet that is denied), decided N times each way:
 *   json          ipe_decide_json, the decision struct only (parse + evaluate)
 *   json+render   ipe_decide_json with the decision JSON rendered into a buffer
 *   request       the name-keyed request: ipe_request_clear, ipe_request_set_* by path,
 *                 ipe_decide_request (struct only)
 *   context       the fast path: ipe_context_set_* by slot id, ipe_decide_context
 * Each line: the path, ns per decision (wall clock, CLOCK_MONOTONIC), and the denials seen
 * (every path must see the same number). Timings are printed, never checked.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipe.h"

struct flow {
    const char *iface, *proto, *src, *json;
    uint32_t src4;
    int64_t port, size, rate;
};

static const struct flow FLOWS[2] = {
    {"wan", "tcp", "198.51.100.4",
     "{\"packet\":{\"iface\":\"wan\",\"proto\":\"tcp\",\"src\":\"198.51.100.4\",\"dst_port\":443,"
     "\"size\":1200},\"flow\":{\"rate_pps\":20}}",
     0xC6336404u, 443, 1200, 20},
    {"lan", "tcp", "10.0.0.7",
     "{\"packet\":{\"iface\":\"lan\",\"proto\":\"tcp\",\"src\":\"10.0.0.7\",\"dst_port\":23,"
     "\"size\":60},\"flow\":{\"rate_pps\":3}}",
     0x0A000007u, 23, 60, 3},
};

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int fail(const char *what, IpeStatus s) {
    char msg[512];
    ipe_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "bench: %s: %s: %s\n", what, ipe_status_name((int32_t)s), msg);
    return 1;
}

#define SET(path) path, sizeof path - 1

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench <firewall.ipeb> [iterations]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
    if (n < 2) n = 2;
    IpeEngine *engine = NULL;
    IpeRequest *req = NULL;
    IpeContext *ctx = NULL;
    IpeStatus s = ipe_engine_open_file(argv[1], strlen(argv[1]), &engine);
    if (s != IPE_STATUS_OK) return fail("open", s);
    if ((s = ipe_request_new(&req)) != IPE_STATUS_OK) return fail("request", s);
    if ((s = ipe_context_new(engine, &ctx)) != IPE_STATUS_OK) return fail("context", s);
    size_t json_len[2] = {strlen(FLOWS[0].json), strlen(FLOWS[1].json)};
    static char out[8192];
    int rc = 0;

    /* json, json+render */
    for (int render = 0; render < 2 && rc == 0; render++) {
        long denies = 0;
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            const struct flow *f = &FLOWS[i & 1];
            IpeDecision d;
            s = ipe_decide_json(engine, f->json, json_len[i & 1], &d, render ? out : NULL,
                                sizeof out, NULL);
            if (s != IPE_STATUS_OK) { rc = fail("ipe_decide_json", s); break; }
            denies += d.effect == IPE_EFFECT_DENY;
        }
        double t1 = now_ns();
        printf("%-12s %8.1f ns/decision  (%ld denied of %ld)\n", render ? "json+render" : "json",
               (t1 - t0) / (double)n, denies, n);
    }

    /* request: by path */
    if (rc == 0) {
        long denies = 0;
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            const struct flow *f = &FLOWS[i & 1];
            IpeDecision d;
            s = ipe_request_clear(req);
            s |= ipe_request_set_str(req, SET("packet.iface"), f->iface, strlen(f->iface));
            s |= ipe_request_set_str(req, SET("packet.proto"), f->proto, strlen(f->proto));
            s |= ipe_request_set_str(req, SET("packet.src"), f->src, strlen(f->src));
            s |= ipe_request_set_int(req, SET("packet.dst_port"), f->port);
            s |= ipe_request_set_int(req, SET("packet.size"), f->size);
            s |= ipe_request_set_int(req, SET("flow.rate_pps"), f->rate);
            s |= ipe_decide_request(engine, req, &d, NULL, 0, NULL);
            if (s != IPE_STATUS_OK) { rc = fail("ipe_decide_request", s); break; }
            denies += d.effect == IPE_EFFECT_DENY;
        }
        double t1 = now_ns();
        printf("%-12s %8.1f ns/decision  (%ld denied of %ld)\n", "request", (t1 - t0) / (double)n,
               denies, n);
    }

    /* context: by slot */
    if (rc == 0) {
        uint32_t iface, proto, src, port, size, rate;
        s = ipe_context_slot(ctx, SET("packet.iface"), &iface);
        s |= ipe_context_slot(ctx, SET("packet.proto"), &proto);
        s |= ipe_context_slot(ctx, SET("packet.src"), &src);
        s |= ipe_context_slot(ctx, SET("packet.dst_port"), &port);
        s |= ipe_context_slot(ctx, SET("packet.size"), &size);
        s |= ipe_context_slot(ctx, SET("flow.rate_pps"), &rate);
        if (s != IPE_STATUS_OK) return fail("ipe_context_slot", s);
        long denies = 0;
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            const struct flow *f = &FLOWS[i & 1];
            IpeContextDecision d;
            s = ipe_context_set_str(ctx, iface, f->iface, strlen(f->iface));
            s |= ipe_context_set_str(ctx, proto, f->proto, strlen(f->proto));
            s |= ipe_context_set_ipv4(ctx, src, f->src4);
            s |= ipe_context_set_int(ctx, port, f->port);
            s |= ipe_context_set_int(ctx, size, f->size);
            s |= ipe_context_set_int(ctx, rate, f->rate);
            s |= ipe_decide_context(ctx, &d);
            if (s != IPE_STATUS_OK) { rc = fail("ipe_decide_context", s); break; }
            denies += d.effect == IPE_EFFECT_DENY;
        }
        double t1 = now_ns();
        printf("%-12s %8.1f ns/decision  (%ld denied of %ld)\n", "context", (t1 - t0) / (double)n,
               denies, n);
    }

    ipe_context_free(ctx);
    ipe_request_free(req);
    ipe_engine_free(engine);
    return rc;
}
