/*
 * filter.c: a packet filter's decision loop on IPE's fast path (issue #17).
 *
 *   filter <firewall.ipeb> [rounds]
 *
 * The bundle is examples/firewall (`ipe compile examples/firewall -o firewall.ipeb`). The
 * filter resolves its attributes' slot ids once, then decides every flow of a small table per
 * round: addresses as 4 or 16 bytes, ports and sizes as ints, interface and protocol as
 * borrowed strings, into a caller-owned decision struct (no heap allocation per decision).
 * Between rounds it refreshes its context, as a data plane would between batches.
 *
 * Output: one line per flow of the first round (`flow N: allow|deny <policy or error>`), a
 * cross-check of every flow against the same request as JSON (`ipe_decide_json`), then the
 * totals and each policy's evaluation count, then every flow decided once more in brief
 * (`ipe_brief_context`: the effect and the policy that denied) and checked against its full
 * decision (`briefed N flows: M mismatches`). Exit status 0 when everything agreed.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipe.h"

struct flow {
    const char *iface, *proto, *src;
    int64_t dst_port, size, tcp_flags, rate_pps;
    bool established;
};

static const struct flow FLOWS[] = {
    {"wan", "tcp", "203.0.113.9", 51234, 600, 0x10, 50, true},
    {"lan", "tcp", "10.0.0.7", 22, 60, 0x02, 3, false},
    {"wan", "tcp", "203.0.113.9", 22, 60, 0x02, 3, false},
    {"wan", "tcp", "198.51.100.4", 443, 1200, 0x02, 20, false},
    {"lan", "tcp", "10.0.0.7", 23, 60, 0x02, 1, false},
    {"lan", "udp", "192.168.100.2", 53, 80, 0, 1, false},
    {"wan", "tcp", "198.51.100.4", 80, 9000, 0x10, 20, false},
    {"wan", "tcp", "198.51.100.4", 443, 1200, 0x02, 5000, false},
    {"wan", "tcp", "198.51.100.4", 443, 60, 0x03, 1, false},
    {"wan", "tcp", "127.0.0.1", 443, 60, 0x02, 1, false},
    {"wan", "tcp", "fd00:ad::17", 22, 80, 0x02, 1, false},
    {"wan", "udp", "fe80::1", 53, 80, 0, 1, false},
    {"lan", "icmp", "10.0.0.7", 0, 84, 0, 1, false},
    {"lan", "tcp", "192.168.100.2", 8000, 60, 0x10, 1, false},
};
#define NFLOWS (sizeof FLOWS / sizeof FLOWS[0])

/* The filter's slot ids, resolved once per bundle layout. */
struct slots {
    uint32_t iface, proto, src, dst_port, size, tcp_flags, established, rate_pps;
};

static void report_error(const char *what, IpeStatus s) {
    char msg[512];
    ipe_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "filter: %s: %s: %s\n", what, ipe_status_name((int32_t)s), msg);
}

static int resolve(IpeContext *ctx, struct slots *sl) {
    struct {
        const char *path;
        uint32_t *slot;
    } want[] = {
        {"packet.iface", &sl->iface},         {"packet.proto", &sl->proto},
        {"packet.src", &sl->src},             {"packet.dst_port", &sl->dst_port},
        {"packet.size", &sl->size},           {"packet.tcp_flags", &sl->tcp_flags},
        {"packet.established", &sl->established}, {"flow.rate_pps", &sl->rate_pps},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        IpeStatus s = ipe_context_slot(ctx, want[i].path, strlen(want[i].path), want[i].slot);
        if (s != IPE_STATUS_OK) {
            report_error("ipe_context_slot", s);
            return 1;
        }
    }
    return 0;
}

/* Fills the context with one flow; ICMP has no port (the attribute stays missing). */
static int fill(IpeContext *ctx, const struct slots *sl, const struct flow *f) {
    IpeStatus s = IPE_STATUS_OK;
    unsigned char v6[16];
    struct in_addr v4;
    s |= ipe_context_set_str(ctx, sl->iface, f->iface, strlen(f->iface));
    s |= ipe_context_set_str(ctx, sl->proto, f->proto, strlen(f->proto));
    if (inet_pton(AF_INET, f->src, &v4) == 1) {
        s |= ipe_context_set_ipv4(ctx, sl->src, ntohl(v4.s_addr));
    } else if (inet_pton(AF_INET6, f->src, v6) == 1) {
        s |= ipe_context_set_ipv6(ctx, sl->src, v6);
    }
    if (strcmp(f->proto, "icmp") != 0) {
        s |= ipe_context_set_int(ctx, sl->dst_port, f->dst_port);
        s |= ipe_context_set_int(ctx, sl->tcp_flags, f->tcp_flags);
    }
    s |= ipe_context_set_int(ctx, sl->size, f->size);
    s |= ipe_context_set_bool(ctx, sl->established, f->established);
    s |= ipe_context_set_int(ctx, sl->rate_pps, f->rate_pps);
    if (s != IPE_STATUS_OK) {
        report_error("ipe_context_set_*", s);
        return 1;
    }
    return 0;
}

/* The same flow as a JSON request, for the cross-check. */
static void flow_json(const struct flow *f, char *out, size_t cap) {
    char port[64] = "";
    if (strcmp(f->proto, "icmp") != 0) {
        snprintf(port, sizeof port, ",\"dst_port\":%" PRId64 ",\"tcp_flags\":%" PRId64,
                 f->dst_port, f->tcp_flags);
    }
    snprintf(out, cap,
             "{\"packet\":{\"iface\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\"%s,\"size\":%" PRId64
             ",\"established\":%s},\"flow\":{\"rate_pps\":%" PRId64 "}}",
             f->iface, f->proto, f->src, port, f->size, f->established ? "true" : "false",
             f->rate_pps);
}

/* A policy's name by index (from the engine's stats). */
static void policy_name(const IpeEngine *engine, uint32_t index, char *out, size_t cap) {
    IpePolicyStats st;
    if (ipe_engine_policy_stats(engine, index, &st, out, cap, NULL) != IPE_STATUS_OK) {
        snprintf(out, cap, "#%" PRIu32, index);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: filter <firewall.ipeb> [rounds]\n");
        return 2;
    }
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    IpeEngine *engine = NULL;
    IpeContext *ctx = NULL;
    int rc = 1;
    IpeStatus s = ipe_engine_open_file(argv[1], strlen(argv[1]), &engine);
    if (s != IPE_STATUS_OK) {
        report_error("ipe_engine_open_file", s);
        return 1;
    }
    if ((s = ipe_context_new(engine, &ctx)) != IPE_STATUS_OK) {
        report_error("ipe_context_new", s);
        goto out;
    }
    struct slots sl;
    if (resolve(ctx, &sl)) goto out;

    unsigned long allowed = 0, denied = 0, mismatches = 0;
    IpeContextDecision full[NFLOWS]; /* the first round's decisions, for the brief's check */
    memset(full, 0, sizeof full);
    for (long round = 0; round < rounds; round++) {
        bool changed = false;
        if ((s = ipe_context_refresh(ctx, engine, &changed)) != IPE_STATUS_OK) {
            report_error("ipe_context_refresh", s);
            goto out;
        }
        if (changed && resolve(ctx, &sl)) goto out;
        for (size_t i = 0; i < NFLOWS; i++) {
            IpeContextDecision d;
            if (fill(ctx, &sl, &FLOWS[i])) goto out;
            if ((s = ipe_decide_context(ctx, &d)) != IPE_STATUS_OK) {
                report_error("ipe_decide_context", s);
                goto out;
            }
            if (d.effect == IPE_EFFECT_ALLOW) allowed++;
            else denied++;
            if (round > 0) continue;
            full[i] = d;
            char name[128] = "-";
            if (d.first_violation != IPE_NONE) {
                policy_name(engine, d.first_violation, name, sizeof name);
            } else if (d.first_error != IPE_NONE) {
                policy_name(engine, d.first_error, name, sizeof name);
            }
            printf("flow %zu: %s %s%s\n", i, d.effect == IPE_EFFECT_ALLOW ? "allow" : "deny", name,
                   d.first_error != IPE_NONE && d.first_violation == IPE_NONE ? " (error)" : "");
            /* Cross-check against the JSON path. */
            char json[512];
            IpeDecision j;
            flow_json(&FLOWS[i], json, sizeof json);
            if ((s = ipe_decide_json(engine, json, strlen(json), &j, NULL, 0, NULL)) !=
                IPE_STATUS_OK) {
                report_error("ipe_decide_json", s);
                goto out;
            }
            if ((int)j.effect != (int)d.effect || j.matched != d.matched ||
                j.violations != d.violations || j.errors != d.errors) {
                fprintf(stderr, "filter: flow %zu: the JSON path disagrees: %s\n", i, json);
                mismatches++;
            }
        }
    }
    printf("decided %lu flows: %lu allowed, %lu denied, %lu mismatches\n", allowed + denied,
           allowed, denied, mismatches);
    size_t policies = 0;
    if (ipe_engine_policy_count(engine, &policies) == IPE_STATUS_OK) {
        for (size_t i = 0; i < policies; i++) {
            IpePolicyStats st;
            char name[128];
            if (ipe_engine_policy_stats(engine, i, &st, name, sizeof name, NULL) == IPE_STATUS_OK) {
                printf("policy %s: %" PRIu64 " evaluations, %" PRIu64 " violated\n", name,
                       st.evaluations, st.violated);
            }
        }
    }
    /* In brief, after the counters above (a brief stops at the first policy that denies, so
     * it counts fewer evaluations): the full decision's effect, no policy for an allow, and
     * for a deny one of the violated or erring policies (the one, when there is one). */
    unsigned long brief_mismatches = 0;
    for (size_t i = 0; rounds > 0 && i < NFLOWS; i++) {
        IpeBrief b;
        const IpeContextDecision *d = &full[i];
        if (fill(ctx, &sl, &FLOWS[i])) goto out;
        if ((s = ipe_brief_context(ctx, &b)) != IPE_STATUS_OK) {
            report_error("ipe_brief_context", s);
            goto out;
        }
        uint32_t denying = d->violations + d->errors;
        uint32_t only = d->violations > 0 ? d->first_violation : d->first_error;
        if (b.effect != d->effect || (b.denied_by != IPE_NONE) != (denying > 0) ||
            (denying == 1 && b.denied_by != only) ||
            (b.denied_by != IPE_NONE && b.denied_by >= policies)) {
            fprintf(stderr, "filter: flow %zu: the brief disagrees\n", i);
            brief_mismatches++;
        }
    }
    printf("briefed %zu flows: %lu mismatches\n", rounds > 0 ? NFLOWS : (size_t)0,
           brief_mismatches);
    rc = mismatches == 0 && brief_mismatches == 0 ? 0 : 1;
out:
    ipe_context_free(ctx);
    ipe_engine_free(engine);
    return rc;
}
