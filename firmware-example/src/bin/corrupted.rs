//! Boots with corrupted bundles and shows the controller refuses to run policies: it does not
//! crash, denies every command and energises nothing. Exit 0 only when it behaved so.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;
use ipe_firmware_example::board::{self, EXIT_BUNDLE, EXIT_OK, EXIT_WRONG};
use ipe_firmware_example::controller::{Command, Controller, Engine, LoadError};
use ipe_firmware_example::sim::{Plant, Sample};
use ipe_firmware_example::{CORRUPTED_CODE, CORRUPTED_CRC};
use ipe_nostd::{BundleError, Effect};
use panic_probe as _;

/// Loads `bytes`, expects the refusal `expected` and checks that commands the real bundle
/// allows are denied with no actuation.
fn run(name: &str, bytes: &'static [u8], expected: fn(&LoadError) -> bool) -> i32 {
    defmt::info!("booting with {=str}", name);
    // A plant where the real bundle would allow both commands.
    let plant = Plant::new();
    plant.operator_key.set(true);
    plant.pressure.set(Sample::Value(250));
    let mut station = Controller {
        sensors: plant.sensors(),
        actuators: plant.actuators(),
        engine: Engine::load(bytes),
    };
    match station.engine.load_error() {
        Some(e) if expected(&e) => {}
        other => {
            defmt::error!("{=str}: unexpected load result {}", name, other);
            return EXIT_BUNDLE;
        }
    }
    for command in [Command::OpenValve, Command::Heat, Command::Calibrate] {
        let v = station.step(command);
        let quiet = !plant.valve.get() && !plant.heater.get() && plant.fault.get();
        if v.effect != Effect::Deny || !v.matched.is_empty() || !quiet {
            defmt::error!("{=str}: {} was not denied with outputs off", name, command);
            return EXIT_WRONG;
        }
    }
    defmt::info!(
        "{=str}: refused, every command denied, nothing energised",
        name
    );
    EXIT_OK
}

#[entry]
fn main() -> ! {
    let crc = run(
        "corrupted-crc.ipeb (one body byte flipped)",
        CORRUPTED_CRC,
        // Issue #15: the refusal's stable code, as logged (6, 201), checked on the device too.
        |e| matches!(e, LoadError::Bundle(b @ BundleError::ChecksumMismatch { .. }) if b.code() == 6),
    );
    let code = run(
        "corrupted-code.ipeb (bad opcode, CRC fixed up)",
        CORRUPTED_CODE,
        |e| matches!(e, LoadError::Bundle(b @ BundleError::Verify(_)) if b.code() == 201),
    );
    board::exit(if crc != EXIT_OK { crc } else { code })
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
