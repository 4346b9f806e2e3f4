//! The valve station's device logic, generic over embedded-hal 1.0 traits.
//!
//! One control step: [`Sensors::read`] samples the door switch (debounced with [`DelayNs`]),
//! the operator key switches and the I2C pressure/temperature sensor into [`Readings`];
//! [`Engine::context`] turns them and the command into a request [`Ctx`]; [`Engine::decide`]
//! evaluates the bundle; [`Engine::log`] logs the decision with every policy's name, intent and
//! reason; [`Actuators::apply`] energises the commanded actuator only on `allow`.
//!
//! Fail closed everywhere: a reading that cannot be taken is left missing (the policies then
//! error, which denies); a bundle that fails verification is refused and every request is
//! denied; any output not explicitly allowed is driven to its safe (de-energised) state.

#[cfg(target_os = "none")]
use core::fmt;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::i2c::I2c;
#[cfg(target_os = "none")]
use ipe_nostd::render::write_reason;
use ipe_nostd::{
    evaluate, AttrError, Bundle, BundleError, Context, Decision, Effect, PolicyId, SlotId, Value,
};

/// Context capacity: attribute slots the device can fill (the bundle declares 5).
pub const CONTEXT_SLOTS: usize = 8;
/// Entries per list (matched, violations, errors) a decision keeps (the bundle has 4 policies).
pub const DECISION_ENTRIES: usize = 8;
/// The request context the device builds: every value refers to `'static` text.
pub type Ctx = Context<'static, CONTEXT_SLOTS>;
/// The decision type the device keeps.
pub type Verdict = Decision<DECISION_ENTRIES>;

/// I2C address of the pressure/temperature sensor.
pub const SENSOR_ADDR: u8 = 0x48;
/// Sensor register: line pressure in kPa, big-endian `i16`.
pub const REG_PRESSURE: u8 = 0x01;
/// Sensor register: line temperature in degrees Celsius, big-endian `i16`.
pub const REG_TEMPERATURE: u8 = 0x02;
/// The sensor's "no valid sample yet" value.
pub const NOT_READY: i16 = i16::MAX;
/// Door switch debounce interval.
pub const DEBOUNCE_MS: u32 = 5;

/// A command from the operator panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum Command {
    /// Open the inlet valve.
    OpenValve,
    /// Switch the line heater on.
    Heat,
    /// Sensor calibration: no policy covers it, so the bundle default (deny) applies.
    Calibrate,
}

impl Command {
    /// The `command.action` string the policies test.
    pub const fn as_str(self) -> &'static str {
        match self {
            Command::OpenValve => "open_valve",
            Command::Heat => "heat",
            Command::Calibrate => "calibrate",
        }
    }
}

/// One sample of every input; `None` is a reading that could not be taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readings {
    /// `"closed"` or `"open"`; `None` while the switch bounces or on a pin error.
    pub door: Option<&'static str>,
    /// Line pressure in kPa.
    pub pressure_kpa: Option<i64>,
    /// Line temperature in degrees Celsius.
    pub temperature_c: Option<i64>,
    /// `"viewer"`, `"operator"` or `"supervisor"` from the key switches.
    pub role: Option<&'static str>,
}

/// The station's inputs.
pub struct Sensors<DOOR, OPKEY, SUPKEY, I2C, DELAY> {
    /// Access door switch, high when closed.
    pub door: DOOR,
    /// Operator key switch, high when turned.
    pub operator_key: OPKEY,
    /// Supervisor key switch, high when turned.
    pub supervisor_key: SUPKEY,
    /// Bus of the pressure/temperature sensor at [`SENSOR_ADDR`].
    pub i2c: I2C,
    /// Debounce delay.
    pub delay: DELAY,
}

impl<DOOR, OPKEY, SUPKEY, I2C, DELAY> Sensors<DOOR, OPKEY, SUPKEY, I2C, DELAY>
where
    DOOR: InputPin,
    OPKEY: InputPin,
    SUPKEY: InputPin,
    I2C: I2c,
    DELAY: DelayNs,
{
    /// Samples every input.
    pub fn read(&mut self) -> Readings {
        Readings {
            door: self.read_door(),
            pressure_kpa: self.read_register(REG_PRESSURE),
            temperature_c: self.read_register(REG_TEMPERATURE),
            role: self.read_role(),
        }
    }

    /// The door state if two samples [`DEBOUNCE_MS`] apart agree.
    fn read_door(&mut self) -> Option<&'static str> {
        let first = self.door.is_high().ok()?;
        self.delay.delay_ms(DEBOUNCE_MS);
        let second = self.door.is_high().ok()?;
        (first == second).then_some(if first { "closed" } else { "open" })
    }

    fn read_register(&mut self, reg: u8) -> Option<i64> {
        let mut buf = [0u8; 2];
        self.i2c.write_read(SENSOR_ADDR, &[reg], &mut buf).ok()?;
        let raw = i16::from_be_bytes(buf);
        (raw != NOT_READY).then_some(i64::from(raw))
    }

    fn read_role(&mut self) -> Option<&'static str> {
        if self.supervisor_key.is_high().ok()? {
            Some("supervisor")
        } else if self.operator_key.is_high().ok()? {
            Some("operator")
        } else {
            Some("viewer")
        }
    }
}

/// The station's outputs; each is energised (high) only while allowed.
pub struct Actuators<VALVE, HEATER, FAULT> {
    /// Inlet valve solenoid (high: open).
    pub valve: VALVE,
    /// Line heater contactor (high: on).
    pub heater: HEATER,
    /// Fault lamp (high: the last command was denied).
    pub fault: FAULT,
}

impl<VALVE: OutputPin, HEATER: OutputPin, FAULT: OutputPin> Actuators<VALVE, HEATER, FAULT> {
    /// Drives the outputs for `command` decided `effect`: the commanded actuator on only when
    /// allowed, every other actuator off, the fault lamp on when denied. Returns whether every
    /// output accepted its level.
    pub fn apply(&mut self, command: Command, effect: Effect) -> bool {
        let allowed = effect == Effect::Allow;
        let valve = self
            .valve
            .set_state((allowed && command == Command::OpenValve).into())
            .is_ok();
        let heater = self
            .heater
            .set_state((allowed && command == Command::Heat).into())
            .is_ok();
        let fault = self.fault.set_state((!allowed).into()).is_ok();
        valve && heater && fault
    }
}

/// Slot ids of the attributes the device fills (`None` if the bundle does not declare one).
#[derive(Clone, Copy, Debug)]
struct Slots {
    action: Option<SlotId>,
    door: Option<SlotId>,
    pressure: Option<SlotId>,
    temperature: Option<SlotId>,
    role: Option<SlotId>,
}

/// Why the engine refused its bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum LoadError {
    /// The bundle failed to decode or verify.
    Bundle(BundleError),
    /// The bundle needs this many attribute slots, more than [`CONTEXT_SLOTS`].
    TooManySlots(usize),
    /// The signed bundle was refused: unsigned, bad signature, unknown key, older revision or
    /// not yet valid (issue #18, feature `signed`).
    #[cfg(feature = "signed")]
    Signature(ipe_nostd::signed::SignatureError),
}

/// The policy engine: a verified bundle, or the reason it was refused (then every request is
/// denied).
pub struct Engine<'b> {
    state: Result<(Bundle<'b>, Slots), LoadError>,
}

impl<'b> Engine<'b> {
    /// Verifies `bytes` (the same decoder and verifier as every other IPE host) and resolves
    /// the attribute slots. Never fails: a bad bundle gives an engine that denies everything.
    pub fn load(bytes: &'b [u8]) -> Self {
        let bundle = match Bundle::from_bytes(bytes) {
            Ok(b) => b,
            Err(e) => {
                // Issue #15: the error as its stable code (`E<code>`; `ipe explain-error
                // <code>` on the host names it), no text or structure in flash.
                error!(
                    "policy bundle refused ({=usize} bytes): {} (`ipe explain-error`); failing closed",
                    bytes.len(),
                    e
                );
                return Engine {
                    state: Err(LoadError::Bundle(e)),
                };
            }
        };
        Engine::accept(bundle, bytes.len())
    }

    /// [`load`](Self::load) for a signed bundle (issue #18): the signature, key, revision and
    /// not-before time are checked against `trust` first, then the bundle inside is verified.
    /// Never fails: a refused bundle gives an engine that denies everything.
    #[cfg(feature = "signed")]
    pub fn load_signed(bytes: &'b [u8], trust: &ipe_nostd::signed::Trust<'_>) -> Self {
        use ipe_nostd::signed::SignatureError;
        match Bundle::from_signed(bytes, trust, ipe_nostd::verify::DEFAULT_MAX_COST) {
            Ok((bundle, env)) => {
                info!(
                    "signed bundle accepted: revision {=u64}, key id {=[u8]:02x}",
                    env.revision,
                    env.key_id[..]
                );
                Engine::accept(bundle, bytes.len())
            }
            Err(e) => {
                error!(
                    "signed policy bundle refused ({=usize} bytes): {}; failing closed",
                    bytes.len(),
                    e
                );
                let e = match e {
                    SignatureError::Bundle(b) => LoadError::Bundle(b),
                    e => LoadError::Signature(e),
                };
                Engine { state: Err(e) }
            }
        }
    }

    /// An engine over a verified bundle whose bytes were `len` long, unless it needs more
    /// slots than the context has.
    fn accept(bundle: Bundle<'b>, len: usize) -> Self {
        let _ = len;
        if Ctx::check_capacity(&bundle).is_err() {
            error!(
                "policy bundle needs {=usize} slots; failing closed",
                bundle.slot_count()
            );
            return Engine {
                state: Err(LoadError::TooManySlots(bundle.slot_count())),
            };
        }
        info!(
            "policy bundle verified: {=usize} bytes, {=usize} policies, {=usize} slots",
            len,
            bundle.policy_count(),
            bundle.slot_count()
        );
        let slots = Slots {
            action: bundle.slot("command.action"),
            door: bundle.slot("device.door"),
            pressure: bundle.slot("device.pressure"),
            temperature: bundle.slot("device.temperature"),
            role: bundle.slot("operator.role"),
        };
        Engine {
            state: Ok((bundle, slots)),
        }
    }

    /// Why the bundle was refused, if it was.
    pub fn load_error(&self) -> Option<LoadError> {
        self.state.as_ref().err().copied()
    }

    /// The verified bundle, if any.
    pub fn bundle(&self) -> Option<&Bundle<'b>> {
        self.state.as_ref().ok().map(|(b, _)| b)
    }

    /// The request context for `command` and `readings` (empty when refused).
    pub fn context(&self, command: Command, readings: &Readings) -> Ctx {
        let mut ctx = Ctx::new();
        let Ok((bundle, s)) = &self.state else {
            return ctx;
        };
        let mut put_str = |slot: Option<SlotId>, text: Option<&'static str>| {
            if let (Some(slot), Some(text)) = (slot, text) {
                ctx.set_str(bundle, slot, text);
            }
        };
        put_str(s.action, Some(command.as_str()));
        put_str(s.door, readings.door);
        put_str(s.role, readings.role);
        for (slot, value) in [
            (s.pressure, readings.pressure_kpa),
            (s.temperature, readings.temperature_c),
        ] {
            if let (Some(slot), Some(v)) = (slot, value) {
                ctx.set(slot, Value::Int(v));
            }
        }
        ctx
    }

    /// Evaluates the bundle; a refused bundle denies.
    pub fn decide(&self, ctx: &Ctx) -> Verdict {
        match &self.state {
            Ok((bundle, _)) => evaluate(bundle, ctx),
            Err(_) => Decision::new(Effect::Deny),
        }
    }

    /// The name of policy `id` ("" when refused).
    pub fn policy_name(&self, id: PolicyId) -> &str {
        self.bundle().map_or("", |b| b.policy(id).name)
    }

    /// Logs `verdict` for `command`: the effect, then every matched policy with its intent and
    /// the reason it was satisfied, violated or in error (a violation's reason rendered with
    /// `values`, the request's slot values the verdict was made from). Reasons are logged piece
    /// by piece as they are rendered (issue #15: no buffer and no `core::fmt` in the firmware).
    #[cfg_attr(not(target_os = "none"), allow(unused_variables))]
    pub fn log(&self, command: Command, verdict: &Verdict, values: &[Value<'_>]) {
        let Some(bundle) = self.bundle() else {
            info!(
                "{=str}: {} (no verified policies: fail closed)",
                command.as_str(),
                verdict.effect
            );
            return;
        };
        if verdict.matched.is_empty() && verdict.errors.is_empty() {
            info!(
                "{=str}: {} (no policy applies: bundle default)",
                command.as_str(),
                verdict.effect
            );
            return;
        }
        info!("{=str}: {}", command.as_str(), verdict.effect);
        for &id in &verdict.matched {
            let p = bundle.policy(id);
            if let Some(&v) = verdict.violations.iter().find(|v| v.policy == id) {
                info!(
                    "  violated  {=str} \"{=str}\": {}",
                    p.name,
                    p.intent,
                    Pieces(|w: &mut Piece<'_>| write_reason(w, bundle, values, v))
                );
            } else if let Some(e) = verdict.errors.iter().find(|e| e.policy == id) {
                log_error(bundle, id, e.error);
            } else {
                info!("  satisfied {=str} \"{=str}\"", p.name, p.intent);
            }
        }
        // Errors in a trigger: the policy did not apply, so it is not in `matched`.
        for e in verdict
            .errors
            .iter()
            .filter(|e| !verdict.matched.contains(&e.policy))
        {
            log_error(bundle, e.policy, e.error);
        }
    }
}

/// Logs policy `id`'s attribute error `error` with the policy's name and intent (issue #15:
/// its words as defmt format strings, ipe-nostd's `defmt::Format` of `ErrorText`, so they stay
/// out of flash).
#[cfg_attr(not(target_os = "none"), allow(unused_variables))]
fn log_error(bundle: &Bundle<'_>, id: PolicyId, error: AttrError) {
    let p = bundle.policy(id);
    info!(
        "  error     {=str} \"{=str}\": {}",
        p.name,
        p.intent,
        bundle.error_text(error)
    );
}

/// A reason or error text written by its closure and logged by defmt piece by piece, each
/// `write_str` a `{=str}` (issue #15: no buffer, and no `core::fmt` in the firmware, which
/// `defmt::Display2Format` linked).
#[cfg(target_os = "none")]
struct Pieces<F>(F);

#[cfg(target_os = "none")]
impl<F: Fn(&mut Piece<'_>) -> fmt::Result> defmt::Format for Pieces<F> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let _ = (self.0)(&mut Piece(f));
    }
}

/// The [`fmt::Write`] that [`Pieces`] renders into: every piece goes to the defmt log.
#[cfg(target_os = "none")]
struct Piece<'f>(defmt::Formatter<'f>);

#[cfg(target_os = "none")]
impl fmt::Write for Piece<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        defmt::write!(self.0, "{=str}", s);
        Ok(())
    }
}

/// The whole station: inputs, outputs and the policy engine.
pub struct Controller<'b, S, A> {
    /// Inputs.
    pub sensors: S,
    /// Outputs.
    pub actuators: A,
    /// Policies.
    pub engine: Engine<'b>,
}

impl<'b, DOOR, OPKEY, SUPKEY, I2C, DELAY, VALVE, HEATER, FAULT>
    Controller<'b, Sensors<DOOR, OPKEY, SUPKEY, I2C, DELAY>, Actuators<VALVE, HEATER, FAULT>>
where
    DOOR: InputPin,
    OPKEY: InputPin,
    SUPKEY: InputPin,
    I2C: I2c,
    DELAY: DelayNs,
    VALVE: OutputPin,
    HEATER: OutputPin,
    FAULT: OutputPin,
{
    /// One control step for `command`: read, decide, log, actuate.
    pub fn step(&mut self, command: Command) -> Verdict {
        self.step_with(command, |engine, ctx| engine.decide(ctx))
    }

    /// [`Controller::step`] with the evaluation wrapped by `decide` (the firmware wraps it in
    /// the stack painter to measure the interpreter's stack use).
    pub fn step_with(
        &mut self,
        command: Command,
        decide: impl FnOnce(&Engine<'b>, &Ctx) -> Verdict,
    ) -> Verdict {
        let readings = self.sensors.read();
        let ctx = self.engine.context(command, &readings);
        let verdict = decide(&self.engine, &ctx);
        self.engine.log(command, &verdict, ctx.values());
        if !self.actuators.apply(command, verdict.effect) {
            error!("an output did not accept its level");
        }
        verdict
    }
}
