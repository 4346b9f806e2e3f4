//! Issue #15's goal ratios measured in pairs: each goal row's engine and its hand-written Rust
//! baseline run back to back, three times over the run.
//!
//! `eval` runs one engine's rows for every workload before the next engine's, so a ratio of
//! its table divides two rows measured minutes apart. This machine's speed moves by up to 2x
//! between such moments (`eval/native/policy/seed:deny` ran at 7.0 ns in one process and 11.6
//! ns in the next, with nothing changed), which made single goal ratios swing both ways. Here
//! the baseline and the engines of one case are neighbouring benchmarks (divan sorts the
//! arguments, `<case>~<letter>_<engine>`, so a case's rows run together), each repetition
//! (`r1`, `r2`, `r3`) is a full pass. The ratio itself still depends on the machine's mode (a
//! slow mode every few seconds slows the engines more than the baseline), so `benches/run.sh`
//! runs this binary in several processes and `benches/report.py` takes the median, over every
//! process and repetition, of each case's engine / baseline within one repetition.

mod common;

use common::Row;
use divan::Bencher;

fn main() {
    divan::main();
}

/// `<case>~<engine>`: the engines of each goal, the baseline (`a_rust`, `f_json_rust`) first
/// (the decision in brief, `b_brief`, sorts right after `a_rust`);
/// the peers (`h_cedar`, `i_regorus`) beside the interpreter (`b_interp`), on the one-policy
/// workloads, the peer goal's worst rows (on the sets the interpreter is 50x to 700,000x
/// faster).
const PAIRS: &[&str] = &[
    "clauses16:allow~b_interp",
    "clauses16:allow~h_cedar",
    "clauses16:allow~i_regorus",
    "clauses16:deny~b_interp",
    "clauses16:deny~h_cedar",
    "clauses16:deny~i_regorus",
    "list50:allow~b_interp",
    "list50:allow~h_cedar",
    "list50:allow~i_regorus",
    "list50:deny~b_interp",
    "list50:deny~h_cedar",
    "list50:deny~i_regorus",
    "seed:allow~a_rust",
    "seed:allow~b_interp",
    "seed:allow~c_host_jit",
    "seed:allow~d_data",
    "seed:allow~e_reader",
    "seed:allow~b_brief",
    "seed:allow~f_json_rust",
    "seed:allow~g_json_host_jit",
    "seed:allow~h_cedar",
    "seed:allow~i_regorus",
    "seed:deny~a_rust",
    "seed:deny~b_interp",
    "seed:deny~c_host_jit",
    "seed:deny~d_data",
    "seed:deny~e_reader",
    "seed:deny~b_brief",
    "seed:deny~f_json_rust",
    "seed:deny~g_json_host_jit",
    "seed:deny~h_cedar",
    "seed:deny~i_regorus",
    "set/10:allow~a_rust",
    "set/10:allow~c_host_jit",
    "set/10:allow~d_data",
    "set/10:allow~e_reader",
    "set/10:allow~b_brief",
    "set/10:deny~a_rust",
    "set/10:deny~c_host_jit",
    "set/10:deny~d_data",
    "set/10:deny~e_reader",
    "set/10:deny~b_brief",
    "set/100:allow~a_rust",
    "set/100:allow~c_host_jit",
    "set/100:allow~d_data",
    "set/100:allow~e_reader",
    "set/100:allow~b_brief",
    "set/100:deny~a_rust",
    "set/100:deny~c_host_jit",
    "set/100:deny~d_data",
    "set/100:deny~e_reader",
    "set/100:deny~b_brief",
    "set/1000:allow~a_rust",
    "set/1000:allow~c_host_jit",
    "set/1000:allow~d_data",
    "set/1000:allow~e_reader",
    "set/1000:allow~b_brief",
    "set/1000:deny~a_rust",
    "set/1000:deny~c_host_jit",
    "set/1000:deny~d_data",
    "set/1000:deny~e_reader",
    "set/1000:deny~b_brief",
    "set/10000:allow~a_rust",
    "set/10000:allow~c_host_jit",
    "set/10000:allow~d_data",
    "set/10000:allow~e_reader",
    "set/10000:allow~b_brief",
    "set/10000:deny~a_rust",
    "set/10000:deny~c_host_jit",
    "set/10000:deny~d_data",
    "set/10000:deny~e_reader",
    "set/10000:deny~b_brief",
    "list50:allow~f_json_rust",
    "list50:allow~g_json_host_jit",
    "list50:deny~f_json_rust",
    "list50:deny~g_json_host_jit",
];

/// Times one `<case>~<engine>` pair member (the same row `eval` times), after checking its
/// decision.
fn run(b: Bencher, pair: &str) {
    let (case, engine) = pair.split_once('~').expect("case~engine");
    let row = match engine {
        "a_rust" => Row::Rust,
        "b_interp" => Row::Interp,
        "c_host_jit" => Row::HostJit,
        "d_data" => Row::HostJitData,
        "e_reader" => Row::HostJitReader,
        "f_json_rust" => Row::RustJson,
        "g_json_host_jit" => Row::HostJitJson,
        "h_cedar" => Row::Cedar,
        "i_regorus" => Row::Regorus,
        "b_brief" => Row::HostJitBrief,
        other => panic!("unknown engine {other}"),
    };
    common::time(b, row, case);
}

#[divan::bench(args = PAIRS)]
fn r1(b: Bencher, pair: &str) {
    run(b, pair);
}

#[divan::bench(args = PAIRS)]
fn r2(b: Bencher, pair: &str) {
    run(b, pair);
}

#[divan::bench(args = PAIRS)]
fn r3(b: Bencher, pair: &str) {
    run(b, pair);
}
