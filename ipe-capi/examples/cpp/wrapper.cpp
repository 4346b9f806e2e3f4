// wrapper.cpp: ipe.hpp, the C++ RAII wrapper, on the firewall bundle (examples/firewall).
//
//   wrapper <firewall.ipeb>
//
// Decides two flows on the fast path (the second also in brief), the same flow as JSON and as
// a name-keyed request, reads a policy's counters, and shows a failure as an ipe::Error.
// Prints one line per step.
#include <cstdio>
#include <iostream>
#include <string>

#include "ipe.hpp"

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: wrapper <firewall.ipeb>\n";
        return 2;
    }
    try {
        ipe::Engine engine = ipe::Engine::open_file(argv[1]);
        ipe::Context ctx(engine);
        const uint32_t iface = ctx.slot("packet.iface"), proto = ctx.slot("packet.proto"),
                       src = ctx.slot("packet.src"), port = ctx.slot("packet.dst_port"),
                       size = ctx.slot("packet.size");
        const uint8_t admin6[16] = {0xfd, 0x00, 0x00, 0xad, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17};
        IpeContextDecision d = ctx.set_str(iface, "wan")
                                   .set_str(proto, "tcp")
                                   .set_ipv6(src, admin6)
                                   .set_int(port, 22)
                                   .set_int(size, 80)
                                   .decide();
        std::cout << "ssh from fd00:ad::17: " << (d.effect == IPE_EFFECT_ALLOW ? "allow" : "deny")
                  << "\n";
        ctx.set_str(iface, "lan").set_str(proto, "tcp").set_ipv4(src, 0x0A000007).set_int(port, 23);
        std::cout << "telnet report: " << ctx.decide_report(&d) << "\n";
        std::cout << "first violation: " << engine.stats(d.first_violation).name << "\n";
        IpeBrief b = ctx.set_str(iface, "lan")
                         .set_str(proto, "tcp")
                         .set_ipv4(src, 0x0A000007)
                         .set_int(port, 23)
                         .brief();
        std::cout << "telnet in brief: " << (b.effect == IPE_EFFECT_ALLOW ? "allow" : "deny")
                  << " " << (b.denied_by == IPE_NONE ? "-" : engine.stats(b.denied_by).name)
                  << "\n";

        const char *json =
            "{\"packet\":{\"iface\":\"lan\",\"proto\":\"tcp\",\"src\":\"10.0.0.7\",\"dst_port\":23}}";
        std::cout << "json: " << engine.decide_json(json) << "\n";
        ipe::Request req;
        req.set_str("packet.iface", "lan")
            .set_str("packet.proto", "tcp")
            .set_str("packet.src", "10.0.0.7")
            .set_int("packet.dst_port", 23);
        std::cout << "request: " << req.decide(engine) << "\n";
        std::cout << "policies: " << engine.policy_count() << ", version " << engine.version()
                  << "\n";
        try {
            ctx.set_int(100000, 1);
            std::cout << "no error\n";
        } catch (const ipe::Error &e) {
            std::cout << "error: " << e.what() << "\n";
        }
        try {
            ipe::Engine::open_bytes({1, 2, 3});
            std::cout << "no error\n";
        } catch (const ipe::Error &e) {
            std::cout << "status: " << ipe_status_name(e.status()) << "\n";
        }
    } catch (const ipe::Error &e) {
        std::cerr << "wrapper: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
