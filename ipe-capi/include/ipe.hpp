// ipe.hpp: a small C++17 RAII wrapper over IPE's C ABI (ipe.h). Handles are owned by
// std::unique_ptr with the matching free function; a failed call throws ipe::Error carrying
// the status and the thread's message. Link as for ipe.h (libipe_capi.a or .so).
//
//   ipe::Engine engine = ipe::Engine::open_file("firewall.ipeb");
//   ipe::Context ctx(engine);                       // one per thread
//   uint32_t port = ctx.slot("packet.dst_port");    // resolve once
//   ctx.set_int(port, 22);
//   IpeContextDecision d = ctx.decide();            // no heap allocation
//   IpeBrief b = ctx.set_int(port, 23).brief();     // allow/deny and the deciding policy
//
// Thread safety is the C ABI's: an Engine is shared by any number of threads (swap and
// reload included); a Context or Request is used by one thread at a time.
#ifndef IPE_HPP
#define IPE_HPP

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ipe.h"

namespace ipe {

/// A failed call: its status and the message ipe_last_error gave.
class Error : public std::runtime_error {
public:
    Error(IpeStatus status, const std::string &message)
        : std::runtime_error(std::string(ipe_status_name(static_cast<int32_t>(status))) + ": " +
                             message),
          status_(status) {}
    /// The status the call returned.
    IpeStatus status() const noexcept { return status_; }

private:
    IpeStatus status_;
};

/// This thread's last error message.
inline std::string last_error() {
    size_t needed = 0;
    ipe_last_error(nullptr, 0, &needed);
    std::string msg(needed, '\0');
    if (needed == 0 || ipe_last_error(msg.data(), msg.size(), nullptr) != IPE_STATUS_OK) {
        return std::string();
    }
    msg.resize(needed - 1);
    return msg;
}

/// Throws ipe::Error unless `status` is IPE_STATUS_OK.
inline void check(IpeStatus status) {
    if (status != IPE_STATUS_OK) throw Error(status, last_error());
}

namespace detail {
struct EngineFree {
    void operator()(IpeEngine *e) const noexcept { ipe_engine_free(e); }
};
struct ContextFree {
    void operator()(IpeContext *c) const noexcept { ipe_context_free(c); }
};
struct RequestFree {
    void operator()(IpeRequest *r) const noexcept { ipe_request_free(r); }
};

/// Calls `render(buffer, capacity, &needed)` until the text fits; returns it.
template <class F>
std::string render(F &&call) {
    std::string out(1024, '\0');
    for (;;) {
        size_t needed = 0;
        IpeStatus s = call(out.data(), out.size(), &needed);
        if (s == IPE_STATUS_BUFFER_TOO_SMALL && needed > out.size()) {
            out.resize(needed);
            continue;
        }
        check(s);
        out.resize(needed - 1);
        return out;
    }
}
}  // namespace detail

/// One policy's counters and name.
struct PolicyStats {
    std::string name;
    IpePolicyStats counters;
};

/// A live policy set, shared by threads; swapped or reloaded atomically.
class Engine {
public:
    /// Opens a bundle file (read into memory).
    static Engine open_file(std::string_view path) {
        IpeEngine *e = nullptr;
        check(ipe_engine_open_file(path.data(), path.size(), &e));
        return Engine(e);
    }
    /// Opens bundle bytes (copied).
    static Engine open_bytes(const std::vector<uint8_t> &bytes) {
        IpeEngine *e = nullptr;
        check(ipe_engine_open_bytes(bytes.data(), bytes.size(), &e));
        return Engine(e);
    }
    /// Opens a signed bundle file trusted if signed by one of `keys` (32-byte Ed25519
    /// public keys) with a revision of at least `min_revision`.
    static Engine open_file_trusted(std::string_view path,
                                    const std::vector<std::array<uint8_t, 32>> &keys,
                                    uint64_t min_revision) {
        IpeEngine *e = nullptr;
        check(ipe_engine_open_file_trusted(path.data(), path.size(),
                                           keys.empty() ? nullptr : keys.front().data(),
                                           keys.size(), min_revision, &e));
        return Engine(e);
    }

    /// Publishes new bundle bytes; returns the new version.
    uint64_t swap(const std::vector<uint8_t> &bytes) const {
        uint64_t v = 0;
        check(ipe_engine_swap_bytes(get(), bytes.data(), bytes.size(), &v));
        return v;
    }
    /// Reads the bundle file again; returns the new version.
    uint64_t reload() const {
        uint64_t v = 0;
        check(ipe_engine_reload(get(), &v));
        return v;
    }
    /// The live version.
    uint64_t version() const {
        uint64_t v = 0;
        check(ipe_engine_info(get(), &v, nullptr));
        return v;
    }
    /// Number of policies of the live version.
    size_t policy_count() const {
        size_t n = 0;
        check(ipe_engine_policy_count(get(), &n));
        return n;
    }
    /// Policy `index`'s name and counters.
    PolicyStats stats(size_t index) const {
        PolicyStats st{};
        st.name = detail::render([&](char *out, size_t cap, size_t *needed) {
            return ipe_engine_policy_stats(get(), index, &st.counters, out, cap, needed);
        });
        return st;
    }
    /// Decides a JSON request; returns the decision JSON (and the struct when asked).
    std::string decide_json(std::string_view json, IpeDecision *decision = nullptr) const {
        IpeDecision d{};
        std::string out = detail::render([&](char *buf, size_t cap, size_t *needed) {
            return ipe_decide_json(get(), json.data(), json.size(), &d, buf, cap, needed);
        });
        if (decision) *decision = d;
        return out;
    }

    /// The C handle (for calls this wrapper does not cover).
    const IpeEngine *get() const noexcept { return handle_.get(); }

private:
    explicit Engine(IpeEngine *e) : handle_(e) {}
    std::unique_ptr<IpeEngine, detail::EngineFree> handle_;
};

/// A per-thread fast-path context pinned to one version of an Engine.
class Context {
public:
    explicit Context(const Engine &engine) {
        IpeContext *c = nullptr;
        check(ipe_context_new(engine.get(), &c));
        handle_.reset(c);
    }
    /// The slot id of an attribute path (IPE_NONE when the bundle does not read it).
    uint32_t slot(std::string_view path) {
        uint32_t s = IPE_NONE;
        check(ipe_context_slot(get(), path.data(), path.size(), &s));
        return s;
    }
    /// Re-pins to the engine's live version; true when slot ids must be resolved again.
    bool refresh(const Engine &engine) {
        bool changed = false;
        check(ipe_context_refresh(get(), engine.get(), &changed));
        return changed;
    }
    Context &set_int(uint32_t slot, int64_t v) {
        check(ipe_context_set_int(get(), slot, v));
        return *this;
    }
    Context &set_bool(uint32_t slot, bool v) {
        check(ipe_context_set_bool(get(), slot, v));
        return *this;
    }
    /// Borrowed: `v` must stay valid until the next decide() returns.
    Context &set_str(uint32_t slot, std::string_view v) {
        check(ipe_context_set_str(get(), slot, v.data(), v.size()));
        return *this;
    }
    /// Borrowed, as set_str: the array and the strings.
    Context &set_strs(uint32_t slot, const std::vector<IpeStr> &items) {
        check(ipe_context_set_strs(get(), slot, items.data(), items.size()));
        return *this;
    }
    /// An IPv4 address in host byte order (192.168.0.1 is 0xC0A80001).
    Context &set_ipv4(uint32_t slot, uint32_t addr) {
        check(ipe_context_set_ipv4(get(), slot, addr));
        return *this;
    }
    /// An IPv6 address, 16 bytes in network order.
    Context &set_ipv6(uint32_t slot, const uint8_t (&addr)[16]) {
        check(ipe_context_set_ipv6(get(), slot, addr));
        return *this;
    }
    /// A timestamp (ms since the Unix epoch) or a duration (ms).
    Context &set_time_ms(uint32_t slot, int64_t ms) {
        check(ipe_context_set_time_ms(get(), slot, ms));
        return *this;
    }
    /// Decides the values set since the last decision (then empties the context).
    IpeContextDecision decide() {
        IpeContextDecision d{};
        check(ipe_decide_context(get(), &d));
        return d;
    }
    /// Decides in brief: the effect and the policy that denied (IPE_NONE for an allow, or a
    /// deny no policy made); then empties the context, as decide().
    IpeBrief brief() {
        IpeBrief b{};
        check(ipe_brief_context(get(), &b));
        return b;
    }
    /// decide(), also rendering the decision JSON. Only for a buffer-sized report: a report
    /// larger than 64 KiB throws (the context is emptied by the first attempt).
    std::string decide_report(IpeContextDecision *decision = nullptr) {
        IpeContextDecision d{};
        std::string out(64 * 1024, '\0');
        size_t needed = 0;
        check(ipe_decide_context_report(get(), &d, out.data(), out.size(), &needed));
        out.resize(needed - 1);
        if (decision) *decision = d;
        return out;
    }

    IpeContext *get() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<IpeContext, detail::ContextFree> handle_;
};

/// A name-keyed typed request (copies its values), decided against any Engine.
class Request {
public:
    Request() {
        IpeRequest *r = nullptr;
        check(ipe_request_new(&r));
        handle_.reset(r);
    }
    Request &set_str(std::string_view path, std::string_view v) {
        check(ipe_request_set_str(get(), path.data(), path.size(), v.data(), v.size()));
        return *this;
    }
    Request &set_int(std::string_view path, int64_t v) {
        check(ipe_request_set_int(get(), path.data(), path.size(), v));
        return *this;
    }
    Request &set_bool(std::string_view path, bool v) {
        check(ipe_request_set_bool(get(), path.data(), path.size(), v));
        return *this;
    }
    void clear() { check(ipe_request_clear(get())); }
    /// Decides against the engine's live version; returns the decision JSON.
    std::string decide(const Engine &engine, IpeDecision *decision = nullptr) const {
        IpeDecision d{};
        std::string out = detail::render([&](char *buf, size_t cap, size_t *needed) {
            return ipe_decide_request(engine.get(), get(), &d, buf, cap, needed);
        });
        if (decision) *decision = d;
        return out;
    }

    IpeRequest *get() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<IpeRequest, detail::RequestFree> handle_;
};

}  // namespace ipe

#endif  // IPE_HPP
