//! The valve station's remote service port under QEMU (issue #14): a vendor tool's TCP
//! connection is accepted only on a port in `[502, 20000..20099]`, inside the maintenance
//! window (Monday to Friday, 08:00 to 17:59 at UTC+1: `weekday(now, ..)`, `hour(now, ..)`)
//! and with a service ticket issued less than 8 hours ago (`now < ticket.issued + 8h`). The
//! device passes its real-time clock as `now` with every request (`Context::set_now`); a
//! clock that is not set leaves `now` missing and the request fails closed.
//!
//! Built only with the example's `time` feature (ipe-nostd's `time` family). Exit 0 only when
//! every scripted decision is right.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;
use ipe_firmware_example::board::{self, EXIT_BUNDLE, EXIT_OK, EXIT_WRONG};
use ipe_firmware_example::MAINTENANCE_BUNDLE;
use ipe_nostd::{evaluate, Bundle, Context, Decision, Effect, PolicyId, Value};
use panic_probe as _;

type Ctx = Context<'static, 8>;
type Verdict = Decision<8>;

const HOUR: i64 = 3_600_000;
/// Tuesday 1 December 2026, 10:00:00 UTC (11:00 at the plant, UTC+1), in ms.
const TUE_1100: i64 = 1_796_119_200_000;
/// Tuesday 07:59:59 at the plant.
const TUE_0759: i64 = 1_796_108_399_000;
/// Tuesday 08:00:00 at the plant.
const TUE_0800: i64 = 1_796_108_400_000;
/// Tuesday 17:59:59 at the plant.
const TUE_1759: i64 = 1_796_144_399_000;
/// Tuesday 18:00:00 at the plant.
const TUE_1800: i64 = 1_796_144_400_000;
/// Saturday 5 December 2026, 11:00 at the plant.
const SAT_1100: i64 = 1_796_464_800_000;

/// One scripted connection attempt: the device clock (`None`: not set), the ticket's issue
/// time, the port, and the decision that must follow.
struct Step {
    /// The step's description, interned by defmt (issue #15: the text stays in the ELF's
    /// `.defmt` section for the host's decoder, out of the device's flash).
    what: fn() -> defmt::Str,
    now: Option<i64>,
    issued: Option<i64>,
    port: i64,
    effect: Effect,
    violated: &'static [&'static str],
    errors: &'static [&'static str],
}

const ALL: &[&str] = &["ServicePorts", "MaintenanceWindow", "TicketExpiry"];

#[rustfmt::skip]
const SCRIPT: &[Step] = &[
    Step { what: || defmt::intern!("allowed: Modbus/TCP on Tuesday 11:00, ticket 2 h old"), now: Some(TUE_1100), issued: Some(TUE_1100 - 2 * HOUR), port: 502,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("allowed: vendor range, first port"), now: Some(TUE_1100), issued: Some(TUE_1100 - 2 * HOUR), port: 20000,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("allowed: vendor range, last port"), now: Some(TUE_1100), issued: Some(TUE_1100 - 2 * HOUR), port: 20099,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("denied: port 20100, past the vendor range"), now: Some(TUE_1100), issued: Some(TUE_1100 - 2 * HOUR), port: 20100,
           effect: Effect::Deny, violated: &["ServicePorts"], errors: &[] },
    Step { what: || defmt::intern!("denied: port 501"), now: Some(TUE_1100), issued: Some(TUE_1100 - 2 * HOUR), port: 501,
           effect: Effect::Deny, violated: &["ServicePorts"], errors: &[] },
    Step { what: || defmt::intern!("denied: Tuesday 07:59:59, before the window"), now: Some(TUE_0759), issued: Some(TUE_0759 - HOUR), port: 502,
           effect: Effect::Deny, violated: &["MaintenanceWindow"], errors: &[] },
    Step { what: || defmt::intern!("allowed: Tuesday 08:00:00, the window opens"), now: Some(TUE_0800), issued: Some(TUE_0800 - HOUR), port: 502,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("allowed: Tuesday 17:59:59, the window's last second"), now: Some(TUE_1759), issued: Some(TUE_1759 - HOUR), port: 502,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("denied: Tuesday 18:00:00, the window closed"), now: Some(TUE_1800), issued: Some(TUE_1800 - HOUR), port: 502,
           effect: Effect::Deny, violated: &["MaintenanceWindow"], errors: &[] },
    Step { what: || defmt::intern!("denied: Saturday 11:00"), now: Some(SAT_1100), issued: Some(SAT_1100 - HOUR), port: 502,
           effect: Effect::Deny, violated: &["MaintenanceWindow"], errors: &[] },
    Step { what: || defmt::intern!("denied: ticket issued exactly 8 h ago"), now: Some(TUE_1100), issued: Some(TUE_1100 - 8 * HOUR), port: 502,
           effect: Effect::Deny, violated: &["TicketExpiry"], errors: &[] },
    Step { what: || defmt::intern!("allowed: ticket 1 ms short of 8 h"), now: Some(TUE_1100), issued: Some(TUE_1100 - 8 * HOUR + 1), port: 502,
           effect: Effect::Allow, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("denied: ticket issued in the future"), now: Some(TUE_1100), issued: Some(TUE_1100 + 60_000), port: 502,
           effect: Effect::Deny, violated: &["TicketExpiry"], errors: &[] },
    Step { what: || defmt::intern!("fail closed: clock not set (no now)"), now: None, issued: Some(TUE_1100), port: 502,
           effect: Effect::Deny, violated: &[], errors: &["MaintenanceWindow", "TicketExpiry"] },
    Step { what: || defmt::intern!("fail closed: no ticket"), now: Some(TUE_1100), issued: None, port: 502,
           effect: Effect::Deny, violated: &[], errors: &["TicketExpiry"] },
];

fn names_match(bundle: &Bundle<'_>, ids: impl Iterator<Item = PolicyId>, want: &[&str]) -> bool {
    let mut n = 0;
    for id in ids {
        if want.get(n) != Some(&bundle.policy(id).name) {
            return false;
        }
        n += 1;
    }
    n == want.len()
}

#[entry]
fn main() -> ! {
    board::paint();
    let bundle = match Bundle::from_bytes(MAINTENANCE_BUNDLE) {
        Ok(b) if Ctx::check_capacity(&b).is_ok() => b,
        _ => {
            defmt::error!("maintenance bundle refused");
            board::exit(EXIT_BUNDLE)
        }
    };
    defmt::info!(
        "maintenance bundle verified: {=usize} bytes, {=usize} policies, {=usize} slots",
        MAINTENANCE_BUNDLE.len(),
        bundle.policy_count(),
        bundle.slot_count()
    );
    let (port, issued) = (bundle.slot("conn.port"), bundle.slot("ticket.issued"));
    let (mut failures, mut eval_stack) = (0u32, 0usize);
    for (i, step) in SCRIPT.iter().enumerate() {
        defmt::info!("step {=usize}: {=istr}", i + 1, (step.what)());
        let mut ctx = Ctx::new();
        if let Some(s) = port {
            ctx.set(s, Value::Int(step.port));
        }
        if let (Some(s), Some(t)) = (issued, step.issued) {
            ctx.set(s, Value::Int(t));
        }
        // The device's real-time clock, passed with the request.
        if let Some(now) = step.now {
            ctx.set_now(&bundle, now);
        }
        let (v, used): (Verdict, usize) = board::measure(|| evaluate(&bundle, &ctx));
        eval_stack = eval_stack.max(used);
        for x in v.violations.iter() {
            defmt::info!("  violated {=str}", bundle.policy(x.policy).name);
        }
        for x in v.errors.iter() {
            defmt::info!("  error    {=str}", bundle.policy(x.policy).name);
        }
        defmt::info!("  connection: {}", v.effect);
        let right = v.effect == step.effect
            && v.truncated == 0
            && names_match(&bundle, v.matched.iter().copied(), ALL)
            && names_match(
                &bundle,
                v.violations.iter().map(|x| x.policy),
                step.violated,
            )
            && names_match(&bundle, v.errors.iter().map(|x| x.policy), step.errors);
        if !right {
            defmt::error!("step {=usize}: unexpected decision", i + 1);
            failures += 1;
        }
    }
    defmt::info!(
        "RAM for evaluation: interpreter stack high-water {=usize} B + Context {=usize} B (+ Decision {=usize} B); firmware stack high-water {=usize} B",
        eval_stack,
        core::mem::size_of::<Ctx>(),
        core::mem::size_of::<Verdict>(),
        board::high_water_mark()
    );
    if failures == 0 {
        defmt::info!("all {=usize} scripted decisions right", SCRIPT.len());
        board::exit(EXIT_OK)
    }
    defmt::error!(
        "{=u32} of {=usize} scripted decisions wrong",
        failures,
        SCRIPT.len()
    );
    board::exit(EXIT_WRONG)
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    defmt::error!(
        "HardFault (or panic): exiting {=i32}",
        board::EXIT_HARDFAULT
    );
    board::exit(board::EXIT_HARDFAULT)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    defmt::error!("unexpected exception {=i16}", irqn);
    board::exit(board::EXIT_EXCEPTION)
}
