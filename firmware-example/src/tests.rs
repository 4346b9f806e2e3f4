//! Host tests of the controller against embedded-hal-mock: each test scripts the exact pin,
//! bus and delay transactions a control step must perform.

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as Delay};
use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as PinTx};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2cTx};
use embedded_hal_mock::eh1::MockError;
use ipe_nostd::Effect;
use std::io;

use crate::controller::{
    Actuators, Command, Controller, Engine, LoadError, Readings, Sensors, Verdict, DEBOUNCE_MS,
    REG_PRESSURE, REG_TEMPERATURE, SENSOR_ADDR,
};
use crate::{BUNDLE, CORRUPTED_CODE, CORRUPTED_CRC};

type Station =
    Controller<'static, Sensors<Pin, Pin, Pin, I2cMock, CheckedDelay>, Actuators<Pin, Pin, Pin>>;

/// Expected input transactions for one step.
struct Inputs {
    door: Vec<PinTx>,
    operator: Vec<PinTx>,
    supervisor: Vec<PinTx>,
    bus: Vec<I2cTx>,
}

fn get(high: bool) -> PinTx {
    PinTx::get(if high { State::High } else { State::Low })
}

fn set(high: bool) -> PinTx {
    PinTx::set(if high { State::High } else { State::Low })
}

fn sample(reg: u8, v: i16) -> I2cTx {
    I2cTx::write_read(SENSOR_ADDR, vec![reg], v.to_be_bytes().to_vec())
}

/// Door closed and steady, operator key, the given pressure and 20 degrees.
fn inputs(pressure: i16) -> Inputs {
    Inputs {
        door: vec![get(true), get(true)],
        operator: vec![get(true)],
        supervisor: vec![get(false)],
        bus: vec![sample(REG_PRESSURE, pressure), sample(REG_TEMPERATURE, 20)],
    }
}

/// Runs one step of `command` over `bundle` and checks every transaction, including the output
/// levels `(valve, heater, fault)`.
fn step(
    bundle: &'static [u8],
    command: Command,
    i: Inputs,
    outputs: (bool, bool, bool),
) -> (Verdict, Station) {
    let mut station = Controller {
        sensors: Sensors {
            door: Pin::new(&i.door),
            operator_key: Pin::new(&i.operator),
            supervisor_key: Pin::new(&i.supervisor),
            i2c: I2cMock::new(&i.bus),
            delay: CheckedDelay::new(&[Delay::delay_ms(DEBOUNCE_MS)]),
        },
        actuators: Actuators {
            valve: Pin::new(&[set(outputs.0)]),
            heater: Pin::new(&[set(outputs.1)]),
            fault: Pin::new(&[set(outputs.2)]),
        },
        engine: Engine::load(bundle),
    };
    let verdict = station.step(command);
    let s = &mut station;
    s.sensors.door.done();
    s.sensors.operator_key.done();
    s.sensors.supervisor_key.done();
    s.sensors.i2c.done();
    s.sensors.delay.done();
    s.actuators.valve.done();
    s.actuators.heater.done();
    s.actuators.fault.done();
    (verdict, station)
}

fn names(station: &Station, ids: impl Iterator<Item = u16>) -> Vec<&str> {
    ids.map(|id| station.engine.policy_name(id)).collect()
}

#[test]
fn allowed_open_energises_the_valve_only() {
    let (v, s) = step(
        BUNDLE,
        Command::OpenValve,
        inputs(250),
        (true, false, false),
    );
    assert_eq!(v.effect, Effect::Allow);
    assert_eq!(
        names(&s, v.matched.iter().copied()),
        ["OperatorRole", "DoorInterlock", "PressureLimit"]
    );
}

#[test]
fn over_pressure_is_denied_with_the_failed_clause() {
    let (v, s) = step(
        BUNDLE,
        Command::OpenValve,
        inputs(350),
        (false, false, true),
    );
    assert_eq!(v.effect, Effect::Deny);
    assert_eq!(
        names(&s, v.violations.iter().map(|x| x.policy)),
        ["PressureLimit"]
    );
    let bundle = s.engine.bundle().unwrap();
    assert_eq!(
        bundle.reason(v.violations[0]).to_string(),
        "requirement not met: (device.pressure <= 300 or operator.role == \"supervisor\")"
    );
}

/// The device renders a default reason with the values the failed clause read, from the
/// request's slot values (issue 13); without them it shows the clause alone (above).
#[test]
fn issue13_device_default_reason_shows_the_values_read() {
    let (v, s) = step(
        BUNDLE,
        Command::OpenValve,
        inputs(350),
        (false, false, true),
    );
    let readings = Readings {
        door: Some("closed"),
        pressure_kpa: Some(350),
        temperature_c: Some(20),
        role: Some("operator"),
    };
    let ctx = s.engine.context(Command::OpenValve, &readings);
    let bundle = s.engine.bundle().unwrap();
    assert_eq!(
        bundle
            .reason_with(ctx.values(), v.violations[0])
            .to_string(),
        "requirement not met: (device.pressure <= 300 or operator.role == \"supervisor\") \
         (found device.pressure = 350, operator.role = \"operator\")"
    );
}

#[test]
fn open_door_is_denied_with_its_reason() {
    let mut i = inputs(250);
    i.door = vec![get(false), get(false)];
    let (v, s) = step(BUNDLE, Command::OpenValve, i, (false, false, true));
    assert_eq!(
        names(&s, v.violations.iter().map(|x| x.policy)),
        ["DoorInterlock"]
    );
    assert_eq!(
        s.engine
            .bundle()
            .unwrap()
            .reason(v.violations[0])
            .to_string(),
        "access door is open"
    );
}

#[test]
fn unknown_command_gets_the_default_deny() {
    let (v, _) = step(
        BUNDLE,
        Command::Calibrate,
        inputs(250),
        (false, false, true),
    );
    assert_eq!(v.effect, Effect::Deny);
    assert!(v.matched.is_empty() && v.violations.is_empty() && v.errors.is_empty());
}

#[test]
fn sensor_nack_fails_closed() {
    let mut i = inputs(250);
    i.bus[0] = I2cTx::write_read(SENSOR_ADDR, vec![REG_PRESSURE], vec![0, 0])
        .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
    let (v, s) = step(BUNDLE, Command::OpenValve, i, (false, false, true));
    assert_eq!(v.effect, Effect::Deny);
    assert_eq!(
        names(&s, v.errors.iter().map(|x| x.policy)),
        ["PressureLimit"]
    );
    let text = s
        .engine
        .bundle()
        .unwrap()
        .error_text(v.errors[0].error)
        .to_string();
    assert_eq!(text, "missing attribute `device.pressure`");
}

#[test]
fn bouncing_door_fails_closed() {
    let mut i = inputs(250);
    i.door = vec![get(true), get(false)];
    let (v, s) = step(BUNDLE, Command::OpenValve, i, (false, false, true));
    assert_eq!(
        names(&s, v.errors.iter().map(|x| x.policy)),
        ["DoorInterlock"]
    );
}

#[test]
fn key_switch_error_fails_closed() {
    let mut i = inputs(250);
    i.supervisor = vec![get(false).with_error(MockError::Io(io::ErrorKind::NotConnected))];
    i.operator = vec![];
    let (v, s) = step(BUNDLE, Command::Heat, i, (false, false, true));
    assert_eq!(
        names(&s, v.errors.iter().map(|x| x.policy)),
        ["OperatorRole"]
    );
}

#[test]
fn corrupted_bundles_are_refused_and_deny_everything() {
    for (bytes, crc) in [(CORRUPTED_CRC, true), (CORRUPTED_CODE, false)] {
        for command in [Command::OpenValve, Command::Heat] {
            let (v, s) = step(bytes, command, inputs(250), (false, false, true));
            assert_eq!(v.effect, Effect::Deny);
            assert!(v.matched.is_empty());
            match s.engine.load_error() {
                Some(LoadError::Bundle(ipe_nostd::BundleError::ChecksumMismatch { .. })) => {
                    assert!(crc)
                }
                Some(LoadError::Bundle(ipe_nostd::BundleError::Verify(_))) => assert!(!crc),
                other => panic!("unexpected load result {other:?}"),
            }
        }
    }
}

/// Issue #15: the firmware logs error texts and reasons written through `write_str` alone
/// (`write_error_text`, `write_reason`); they are the texts `Display` gives.
#[test]
fn log_texts_render_like_display() {
    let mut i = inputs(250);
    i.bus[0] = I2cTx::write_read(SENSOR_ADDR, vec![REG_PRESSURE], vec![0, 0])
        .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
    let (v, s) = step(BUNDLE, Command::OpenValve, i, (false, false, true));
    let bundle = s.engine.bundle().unwrap();
    let mut text = String::new();
    ipe_nostd::decision::write_error_text(&mut text, bundle, v.errors[0].error).unwrap();
    assert_eq!(text, "missing attribute `device.pressure`");

    let (v, s) = step(BUNDLE, Command::OpenValve, inputs(350), (false, false, true));
    let bundle = s.engine.bundle().unwrap();
    let mut text = String::new();
    ipe_nostd::render::write_reason(&mut text, bundle, &[], v.violations[0]).unwrap();
    assert_eq!(text, bundle.reason(v.violations[0]).to_string());
    assert!(text.starts_with("requirement not met: "), "{text}");
}
