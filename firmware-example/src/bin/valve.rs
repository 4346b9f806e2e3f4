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
    /// The matched, violated and erring policies: a set of [`NAMES`] (bit `i` is `NAMES[i]`;
    /// issue #15: a byte per list instead of a slice of names).
    matched: u8,
    violated: u8,
    errors: u8,
}

/// A step's inputs: the switches (a set of the `DOOR_CLOSED`... bits) and the sensor's answers.
#[derive(Clone, Copy)]
struct Inputs {
    switches: u8,
    pressure: Sample,
    temperature: Sample,
}

const DOOR_CLOSED: u8 = 1;
const DOOR_BOUNCING: u8 = 2;
const OPERATOR_KEY: u8 = 4;
const SUPERVISOR_KEY: u8 = 8;

/// The plant before each step: door closed, operator key, 250 kPa, 20 degrees.
const BASE: Inputs = Inputs {
    switches: DOOR_CLOSED | OPERATOR_KEY,
    pressure: Sample::Value(250),
    temperature: Sample::Value(20),
};

/// Sets the plant's inputs to `i`.
fn set(p: &Plant, i: &Inputs) {
    let on = |bit: u8| i.switches & bit != 0;
    p.door_closed.set(on(DOOR_CLOSED));
    p.door_bouncing.set(on(DOOR_BOUNCING));
    p.operator_key.set(on(OPERATOR_KEY));
    p.supervisor_key.set(on(SUPERVISOR_KEY));
    p.pressure.set(i.pressure);
    p.temperature.set(i.temperature);
}

/// The bundle's policies, in bundle order: a decision's lists name them in this order.
const NAMES: [&str; 4] = [
    "OverTemperature",
    "OperatorRole",
    "DoorInterlock",
    "PressureLimit",
];
const OVER_TEMPERATURE: u8 = 1;
const OPERATOR_ROLE: u8 = 2;
const DOOR_INTERLOCK: u8 = 4;
const PRESSURE_LIMIT: u8 = 8;
const NONE: u8 = 0;
const OPEN: u8 = OPERATOR_ROLE | DOOR_INTERLOCK | PRESSURE_LIMIT;
const HEAT: u8 = OVER_TEMPERATURE | OPERATOR_ROLE;

#[rustfmt::skip]
const SCRIPT: &[Step] = &[
    Step { what: || defmt::intern!("allowed: open at 250 kPa, door closed, operator"), inputs: BASE,
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: NONE, errors: NONE },
    Step { what: || defmt::intern!("denied: door open"), inputs: Inputs { switches: OPERATOR_KEY, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: DOOR_INTERLOCK, errors: NONE },
    Step { what: || defmt::intern!("denied: 350 kPa needs a supervisor"), inputs: Inputs { pressure: Sample::Value(350), ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: PRESSURE_LIMIT, errors: NONE },
    Step { what: || defmt::intern!("allowed: 350 kPa with the supervisor key"), inputs: Inputs { switches: DOOR_CLOSED | OPERATOR_KEY | SUPERVISOR_KEY, pressure: Sample::Value(350), ..BASE },
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: NONE, errors: NONE },
    Step { what: || defmt::intern!("denied: heating at 95 degrees"), inputs: Inputs { temperature: Sample::Value(95), ..BASE },
           command: Command::Heat, effect: Effect::Deny, matched: HEAT, violated: OVER_TEMPERATURE, errors: NONE },
    Step { what: || defmt::intern!("denied: a viewer cannot heat"), inputs: Inputs { switches: DOOR_CLOSED, ..BASE },
           command: Command::Heat, effect: Effect::Deny, matched: HEAT, violated: OPERATOR_ROLE, errors: NONE },
    Step { what: || defmt::intern!("allowed: heat at 60 degrees, operator"), inputs: Inputs { temperature: Sample::Value(60), ..BASE },
           command: Command::Heat, effect: Effect::Allow, matched: HEAT, violated: NONE, errors: NONE },
    Step { what: || defmt::intern!("not applicable: calibrate (bundle default deny)"), inputs: BASE,
           command: Command::Calibrate, effect: Effect::Deny, matched: NONE, violated: NONE, errors: NONE },
    Step { what: || defmt::intern!("missing reading: pressure sensor NACK -> fail closed"), inputs: Inputs { pressure: Sample::Nack, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: NONE, errors: PRESSURE_LIMIT },
    Step { what: || defmt::intern!("missing reading: sensor not ready -> fail closed"), inputs: Inputs { pressure: Sample::NotReady, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: NONE, errors: PRESSURE_LIMIT },
    Step { what: || defmt::intern!("missing reading: door switch bouncing -> fail closed"), inputs: Inputs { switches: DOOR_CLOSED | DOOR_BOUNCING | OPERATOR_KEY, ..BASE },
           command: Command::OpenValve, effect: Effect::Deny, matched: OPEN, violated: NONE, errors: DOOR_INTERLOCK },
    Step { what: || defmt::intern!("allowed again: 120 kPa, door steady"), inputs: Inputs { pressure: Sample::Value(120), ..BASE },
           command: Command::OpenValve, effect: Effect::Allow, matched: OPEN, violated: NONE, errors: NONE },
];

/// Whether `ids` are the policies of set `want`, in bundle order, by name.
fn names_match(engine: &Engine<'_>, ids: impl Iterator<Item = u16>, mut want: u8) -> bool {
    for id in ids {
        // The first policy left in `want` (none: 8, past `NAMES`).
        let next = want.trailing_zeros() as usize;
        if NAMES.get(next) != Some(&engine.policy_name(id)) {
            return false;
        }
        want &= want.wrapping_sub(1);
    }
    want == 0
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
