//! A simulated valve station for the QEMU runs: the plant's state lives in [`Cell`]s and the
//! pins and the I2C sensor read and write it through embedded-hal traits, so the firmware drives
//! the same [`crate::controller`] code it would drive on a board.

use core::cell::Cell;
use core::convert::Infallible;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{self, ErrorType, InputPin, OutputPin};
use embedded_hal::i2c::{self, I2c, Operation, SevenBitAddress};

use crate::controller::{
    Actuators, Sensors, NOT_READY, REG_PRESSURE, REG_TEMPERATURE, SENSOR_ADDR,
};

/// What the sensor answers for one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// A valid sample.
    Value(i16),
    /// The sensor answers [`NOT_READY`].
    NotReady,
    /// The sensor does not acknowledge (bus error).
    Nack,
}

/// The plant: inputs the script sets, outputs the controller drives.
#[derive(Debug)]
pub struct Plant {
    /// Door closed.
    pub door_closed: Cell<bool>,
    /// Door switch bouncing: every read returns the opposite of the previous one.
    pub door_bouncing: Cell<bool>,
    /// Operator key turned.
    pub operator_key: Cell<bool>,
    /// Supervisor key turned.
    pub supervisor_key: Cell<bool>,
    /// Pressure register.
    pub pressure: Cell<Sample>,
    /// Temperature register.
    pub temperature: Cell<Sample>,
    /// Valve solenoid level.
    pub valve: Cell<bool>,
    /// Heater contactor level.
    pub heater: Cell<bool>,
    /// Fault lamp level.
    pub fault: Cell<bool>,
}

impl Plant {
    /// A plant at rest: door closed, no key, 100 kPa and 20 degrees, outputs off.
    pub const fn new() -> Self {
        Plant {
            door_closed: Cell::new(true),
            door_bouncing: Cell::new(false),
            operator_key: Cell::new(false),
            supervisor_key: Cell::new(false),
            pressure: Cell::new(Sample::Value(100)),
            temperature: Cell::new(Sample::Value(20)),
            valve: Cell::new(false),
            heater: Cell::new(false),
            fault: Cell::new(false),
        }
    }

    /// Puts every input back to the [`Plant::new`] state, keeping the outputs.
    pub fn reset_inputs(&self) {
        let rest = Plant::new();
        self.door_closed.set(rest.door_closed.get());
        self.door_bouncing.set(rest.door_bouncing.get());
        self.operator_key.set(rest.operator_key.get());
        self.supervisor_key.set(rest.supervisor_key.get());
        self.pressure.set(rest.pressure.get());
        self.temperature.set(rest.temperature.get());
    }

    /// The station's inputs wired to this plant.
    pub fn sensors(&self) -> Sensors<Input<'_>, Input<'_>, Input<'_>, Bus<'_>, NoDelay> {
        Sensors {
            door: Input(&self.door_closed, Some(&self.door_bouncing)),
            operator_key: Input(&self.operator_key, None),
            supervisor_key: Input(&self.supervisor_key, None),
            i2c: Bus(self),
            delay: NoDelay,
        }
    }

    /// The station's outputs wired to this plant.
    pub fn actuators(&self) -> Actuators<Output<'_>, Output<'_>, Output<'_>> {
        Actuators {
            valve: Output(&self.valve),
            heater: Output(&self.heater),
            fault: Output(&self.fault),
        }
    }
}

impl Default for Plant {
    fn default() -> Self {
        Self::new()
    }
}

/// An input pin reading a plant level; with a bounce flag, reads toggle while it is set.
pub struct Input<'p>(&'p Cell<bool>, Option<&'p Cell<bool>>);

impl ErrorType for Input<'_> {
    type Error = Infallible;
}

impl InputPin for Input<'_> {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        let level = self.0.get();
        if self.1.is_some_and(Cell::get) {
            self.0.set(!level);
        }
        Ok(level)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|h| !h)
    }
}

/// An output pin setting a plant level.
pub struct Output<'p>(&'p Cell<bool>);

impl digital::ErrorType for Output<'_> {
    type Error = Infallible;
}

impl OutputPin for Output<'_> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

/// The I2C bus with the plant's pressure/temperature sensor on it.
pub struct Bus<'p>(&'p Plant);

impl i2c::ErrorType for Bus<'_> {
    type Error = i2c::ErrorKind;
}

impl I2c<SevenBitAddress> for Bus<'_> {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), i2c::ErrorKind> {
        let nack = i2c::ErrorKind::NoAcknowledge(i2c::NoAcknowledgeSource::Address);
        if address != SENSOR_ADDR {
            return Err(nack);
        }
        let mut register = None;
        for op in operations {
            match op {
                Operation::Write([reg]) => register = Some(*reg),
                Operation::Write(_) => return Err(i2c::ErrorKind::Other),
                Operation::Read(buf) => {
                    let sample = match register {
                        Some(REG_PRESSURE) => self.0.pressure.get(),
                        Some(REG_TEMPERATURE) => self.0.temperature.get(),
                        _ => return Err(i2c::ErrorKind::Other),
                    };
                    let raw = match sample {
                        Sample::Value(v) => v,
                        Sample::NotReady => NOT_READY,
                        Sample::Nack => return Err(nack),
                    };
                    for (b, r) in buf.iter_mut().zip(raw.to_be_bytes()) {
                        *b = r;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A delay that returns at once (simulated time).
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}
