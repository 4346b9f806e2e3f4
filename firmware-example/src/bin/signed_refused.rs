//! Issue #18: boots with signed bundles the device must refuse (tampered with a fixed-up
//! CRC, an older revision, an unknown key, not yet valid, unsigned) and shows each is refused
//! with its typed error, every command is denied and nothing is energised; then boots the
//! good signed bundle and checks it allows. Exit 0 only when it behaved so.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;
use ipe_firmware_example::board::{self, EXIT_BUNDLE, EXIT_OK, EXIT_WRONG};
use ipe_firmware_example::controller::{Command, Controller, LoadError};
use ipe_firmware_example::signed::{self, MIN_REVISION};
use ipe_firmware_example::sim::{Plant, Sample};
use ipe_nostd::signed::SignatureError;
use ipe_nostd::Effect;
use panic_probe as _;

/// Loads `bytes` as the device does, expects `expected` (`None`: accepted) and checks the
/// commands: denied with outputs off when refused, the valve opened when accepted.
fn run(name: &str, bytes: &'static [u8], expected: fn(Option<LoadError>) -> bool) -> i32 {
    defmt::info!("booting with {=str}", name);
    // A plant where the real bundle allows opening the valve.
    let plant = Plant::new();
    plant.operator_key.set(true);
    plant.pressure.set(Sample::Value(250));
    let mut station = Controller {
        sensors: plant.sensors(),
        actuators: plant.actuators(),
        engine: signed::load(bytes),
    };
    let error = station.engine.load_error();
    if !expected(error) {
        defmt::error!("{=str}: unexpected load result {}", name, error);
        return EXIT_BUNDLE;
    }
    let v = station.step(Command::OpenValve);
    let refused = error.is_some();
    let right = if refused {
        v.effect == Effect::Deny && v.matched.is_empty() && !plant.valve.get() && plant.fault.get()
    } else {
        v.effect == Effect::Allow && plant.valve.get()
    };
    if !right {
        defmt::error!("{=str}: wrong decision or outputs", name);
        return EXIT_WRONG;
    }
    defmt::info!(
        "{=str}: {=str}",
        name,
        if refused {
            "refused, denied, nothing energised"
        } else {
            "accepted, valve opened"
        }
    );
    EXIT_OK
}

#[entry]
fn main() -> ! {
    let results = [
        run(
            "signed-tampered.ipeb (text changed, CRC fixed up)",
            signed::SIGNED_TAMPERED,
            |e| e == Some(LoadError::Signature(SignatureError::BadSignature)),
        ),
        run(
            "signed-old.ipeb (older revision)",
            signed::SIGNED_OLD,
            |e| {
                e == Some(LoadError::Signature(SignatureError::Rollback {
                    revision: MIN_REVISION - 1,
                    minimum: MIN_REVISION,
                }))
            },
        ),
        run(
            "signed-unknown.ipeb (untrusted key)",
            signed::SIGNED_UNKNOWN,
            |e| matches!(e, Some(LoadError::Signature(SignatureError::UnknownKey(_)))),
        ),
        run(
            "signed-future.ipeb (not yet valid)",
            signed::SIGNED_FUTURE,
            |e| {
                matches!(
                    e,
                    Some(LoadError::Signature(SignatureError::NotYetValid { .. }))
                )
            },
        ),
        run(
            "policies.ipeb (unsigned)",
            ipe_firmware_example::BUNDLE,
            |e| e == Some(LoadError::Signature(SignatureError::Unsigned)),
        ),
        run("signed.ipeb (good)", signed::SIGNED, |e| e.is_none()),
    ];
    let failed = results.iter().copied().find(|&c| c != EXIT_OK);
    board::exit(failed.unwrap_or(EXIT_OK))
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
