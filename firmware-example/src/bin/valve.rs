//! The valve station under QEMU: a scripted sequence of commands and plant states whose
//! decisions the firmware checks itself. Exit 0 only when every decision and output is right.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;
use ipe_firmware_example::board::{self, EXIT_BUNDLE, EXIT_OK, EXIT_WRONG};
use ipe_firmware_example::controller::{Command, Controller, Ctx, Engine, Verdict};
use ipe_firmware_example::sim::{Plant, Sample};
use ipe_nostd::Effect;
use panic_probe as _;

/// One scripted step: the plant state (changes from [`base`]), the command, and what must
/// happen.
struct Step {
    /// The step's description, interned by defmt (issue #15: the text stays in the ELF's
    /// `.defmt` section for the host's decoder, out of the device's flash).
    what: fn() -> defmt::Str,
    /// The plant's inputs for the step (issue #15: data, not a closure per step).
    inputs: Inputs,
    command: Command,
    effect: Effect,
    /// Names of the matched, violated and erring policies, in bundle order.
    matched: &'static [&'static str],
    violated: &'static [&'static str],
    errors: &'static [&'static str],
}

/// A step's inputs.
#[derive(Clone, Copy)]
struct Inputs {
    door_closed: bool,
    door_bouncing: bool,
    operator_key: bool,
    supervisor_key: bool,
    pressure: Sample,
    temperature: Sample,
}

/// The plant before each step: door closed, operator key, 250 kPa, 20 degrees.
const BASE: Inputs = Inputs {
    door_closed: true,
    door_bouncing: false,
    operator_key: true,
    supervisor_key: false,
    pressure: Sample::Value(250),
    temperature: Sample::Value(20),
};

/// Sets the plant's inputs to `i`.
fn set(p: &Plant, i: &Inputs) {
    p.door_closed.set(i.door_closed);
    p.door_bouncing.set(i.door_bouncing);
    p.operator_key.set(i.operator_key);
    p.supervisor_key.set(i.supervisor_key);
    p.pressure.set(i.pressure);
    p.temperature.set(i.temperature);
}

const OPEN: &[&str] = &["OperatorRole", "DoorInterlock", "PressureLimit"];

#[rustfmt::skip]
const SCRIPT: &[Step] = &[
    Step { what: || defmt::intern!("allowed: open at 250 kPa, door closed, operator"), inputs: BASE,
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("denied: door open"), inputs: Inputs { door_closed: false, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: &["DoorInterlock"], errors: &[] },
    Step { what: || defmt::intern!("denied: 350 kPa needs a supervisor"), inputs: Inputs { pressure: Sample::Value(350), ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: &["PressureLimit"], errors: &[] },
    Step { what: || defmt::intern!("allowed: 350 kPa with the supervisor key"), inputs: Inputs { pressure: Sample::Value(350), supervisor_key: true, ..BASE },
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: &[], errors: &[] },
    Step { what: || defmt::intern!("denied: heating at 95 degrees"), inputs: Inputs { temperature: Sample::Value(95), ..BASE },
           command: Command::Heat, effect: Effect::Deny, matched: &["OverTemperature", "OperatorRole"], violated: &["OverTemperature"], errors: &[] },
    Step { what: || defmt::intern!("denied: a viewer cannot heat"), inputs: Inputs { operator_key: false, ..BASE },
           command: Command::Heat, effect: Effect::Deny, matched: &["OverTemperature", "OperatorRole"], violated: &["OperatorRole"], errors: &[] },
    Step { what: || defmt::intern!("allowed: heat at 60 degrees, operator"), inputs: Inputs { temperature: Sample::Value(60), ..BASE },
           command: Command::Heat, effect: Effect::Allow, matched: &["OverTemperature", "OperatorRole"], violated: &[], errors: &[] },
    Step { what: || defmt::intern!("not applicable: calibrate (bundle default deny)"), inputs: BASE,
           command: Command::Calibrate, effect: Effect::Deny, matched: &[], violated: &[], errors: &[] },
    Step { what: || defmt::intern!("missing reading: pressure sensor NACK -> fail closed"), inputs: Inputs { pressure: Sample::Nack, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: &[], errors: &["PressureLimit"] },
    Step { what: || defmt::intern!("missing reading: sensor not ready -> fail closed"), inputs: Inputs { pressure: Sample::NotReady, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: &[], errors: &["PressureLimit"] },
    Step { what: || defmt::intern!("missing reading: door switch bouncing -> fail closed"), inputs: Inputs { door_bouncing: true, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: &[], errors: &["DoorInterlock"] },
    Step { what: || defmt::intern!("allowed again: 120 kPa, door steady"), inputs: Inputs { pressure: Sample::Value(120), ..BASE },
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: &[], errors: &[] },
];

fn names_match(engine: &Engine<'_>, ids: impl Iterator<Item = u16>, want: &[&str]) -> bool {
    let mut n = 0;
    for id in ids {
        if want.get(n) != Some(&engine.policy_name(id)) {
            return false;
        }
        n += 1;
    }
    n == want.len()
}

fn check(step: &Step, engine: &Engine<'_>, v: &Verdict, plant: &Plant) -> bool {
    let allowed = step.effect == Effect::Allow;
    v.effect == step.effect
        && v.truncated == 0
        && names_match(engine, v.matched.iter().copied(), step.matched)
        && names_match(engine, v.violations.iter().map(|x| x.policy), step.violated)
        && names_match(engine, v.errors.iter().map(|x| x.policy), step.errors)
        && plant.valve.get() == (allowed && step.command == Command::OpenValve)
        && plant.heater.get() == (allowed && step.command == Command::Heat)
        && plant.fault.get() != allowed
}

#[entry]
fn main() -> ! {
    board::paint();
    let plant = Plant::new();
    let mut station = Controller {
        sensors: plant.sensors(),
        actuators: plant.actuators(),
        // Issue #18: with feature `signed`, the same script runs on the signed bundle.
        #[cfg(not(feature = "signed"))]
        engine: Engine::load(ipe_firmware_example::BUNDLE),
        #[cfg(feature = "signed")]
        engine: ipe_firmware_example::signed::load(ipe_firmware_example::signed::SIGNED),
    };
    if station.engine.load_error().is_some() {
        board::exit(EXIT_BUNDLE);
    }
    let (mut failures, mut eval_stack) = (0u32, 0usize);
    for (i, step) in SCRIPT.iter().enumerate() {
        defmt::info!("step {=usize}: {=istr}", i + 1, (step.what)());
        set(&plant, &step.inputs);
        let verdict = station.step_with(step.command, |engine, ctx| {
            let (v, used) = board::measure(|| engine.decide(ctx));
            eval_stack = eval_stack.max(used);
            v
        });
        if !check(step, &station.engine, &verdict, &plant) {
            defmt::error!("step {=usize}: unexpected decision or outputs", i + 1);
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
