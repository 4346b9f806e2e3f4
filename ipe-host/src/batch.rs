//! Batch evaluation of JSON-lines request streams.

use std::io::BufRead;

use crate::engine::{HostDecision, PolicyEngine, PolicySet};
use crate::error::{Error, ErrorKind, RequestError};

/// Counts of one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// The version every request of the batch was evaluated against.
    pub version: u64,
    /// Requests evaluated.
    pub requests: u64,
    /// Allowed.
    pub allowed: u64,
    /// Denied.
    pub denied: u64,
    /// Lines that were not a JSON object.
    pub malformed: u64,
}

impl PolicySet {
    /// Evaluates every non-blank line of `input` as one JSON request, calling `each` with the
    /// 1-based line number and the decision (or why the line was rejected: a line that is not
    /// UTF-8 is rejected alone). The line buffer and the request arena are reused, so a steady
    /// stream allocates nothing per line.
    ///
    /// Fails only when `input` cannot be read.
    pub fn evaluate_lines<R: BufRead>(
        &self,
        mut input: R,
        mut each: impl FnMut(usize, Result<&HostDecision, &Error>),
    ) -> Result<BatchSummary, Error> {
        let mut line = Vec::new();
        let mut summary = BatchSummary {
            version: self.version(),
            ..BatchSummary::default()
        };
        let mut number = 0usize;
        loop {
            line.clear();
            let n = input
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::from(ErrorKind::Read(e)))?;
            if n == 0 {
                return Ok(summary);
            }
            number += 1;
            let decided = match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => self.evaluate_json(text.trim()),
                Err(e) => Err(RequestError::InvalidUtf8 {
                    column: e.valid_up_to() + 1,
                }
                .into()),
            };
            match decided {
                Ok(d) => {
                    summary.requests += 1;
                    if d.effect == ipe_nostd::Effect::Allow {
                        summary.allowed += 1;
                    } else {
                        summary.denied += 1;
                    }
                    each(number, Ok(&d));
                }
                Err(e) => {
                    summary.malformed += 1;
                    each(number, Err(&e));
                }
            }
        }
    }
}

impl PolicyEngine {
    /// [`PolicySet::evaluate_lines`] against the version live when the batch starts (a swap
    /// during the batch applies to the next one).
    pub fn evaluate_lines<R: BufRead>(
        &self,
        input: R,
        each: impl FnMut(usize, Result<&HostDecision, &Error>),
    ) -> Result<BatchSummary, Error> {
        self.load_full().evaluate_lines(input, each)
    }
}
