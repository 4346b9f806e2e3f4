//! The typed request builder of one policy set: it sits above both the request readers
//! ([`crate::request`]) and the engine, so neither depends on the other.

use bumpalo::Bump;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::Value;

use crate::engine::{HostDecision, PolicySet};
use crate::error::Error;
use crate::request::builder::TypedValues;
use crate::request::{Field, Scalar};

/// A request built from typed Rust values for one [`PolicySet`], in a caller-owned arena.
///
/// Paths the bundle does not read are ignored (like extra JSON keys); a value of the wrong
/// kind is recorded as a wrong-type attribute error, exactly as the same JSON would be.
/// Setting the same attribute (or the same field of one record) twice makes the request
/// malformed, like a repeated JSON key: [`evaluate`](Self::evaluate) then fails.
///
/// A path is named as the policy source writes it, in canonical form: identifier keys after
/// a `.`, any other key quoted, `["..."]` with `\"` and `\\` escaped, right after the key
/// before it (`metadata.labels["app.kubernetes.io/name"]`, `request.context["aws:SourceIp"]`;
/// a record field that is such a key: `["a.b"]`). A key that is an identifier is never
/// quoted (`labels.team`, not `labels["team"]`). [`ipe_nostd::path::write_path`] builds the
/// canonical text from the keys.
///
/// # Examples
/// ```no_run
/// # fn demo(engine: &ipe_host::PolicyEngine) {
/// use ipe_host::Field;
/// let arena = bumpalo::Bump::new();
/// let set = engine.load();
/// let mut req = set.request(&arena);
/// req.str("resource.type", "Deployment")
///     .str("environment", "production")
///     .records("approvals", [[("role", Field::Str("senior-engineer"))]]);
/// req.str(r#"metadata.labels["app.kubernetes.io/name"]"#, "web");
/// let decision = req.evaluate().expect("no attribute is set twice");
/// # let _ = decision; }
/// ```
pub struct RequestBuilder<'s, 'r> {
    set: &'s PolicySet,
    values: TypedValues<'s, 'r>,
}

impl<'s, 'r> RequestBuilder<'s, 'r> {
    pub(crate) fn new(set: &'s PolicySet, arena: &'r Bump) -> Self {
        RequestBuilder {
            set,
            values: TypedValues::new(set.bundle(), arena),
        }
    }

    /// Sets a string (or enum) attribute.
    pub fn str(&mut self, path: &str, value: &'r str) -> &mut Self {
        self.values.scalar(path, Scalar::Str(value));
        self
    }

    /// Sets an integer attribute; for a `timestamp` or `duration` attribute (issue #14) the
    /// integer is seconds, as in JSON (`str` takes RFC 3339 or duration text).
    pub fn int(&mut self, path: &str, value: i64) -> &mut Self {
        self.values.scalar(path, Scalar::Int(value));
        self
    }

    /// Sets a boolean attribute.
    pub fn bool(&mut self, path: &str, value: bool) -> &mut Self {
        self.values.scalar(path, Scalar::Bool(value));
        self
    }

    /// Sets a list-of-strings (or list-of-enums) attribute.
    pub fn strs<I: IntoIterator<Item = &'r str>>(&mut self, path: &str, items: I) -> &mut Self {
        self.values.strs(path, items);
        self
    }

    /// Sets a list-of-records attribute: one iterator of `(field path, value)` per element.
    pub fn records<'k, I, R>(&mut self, path: &str, items: I) -> &mut Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (&'k str, Field<'r>)>,
    {
        self.values.records(path, items);
        self
    }

    /// Sets a map attribute (`map of <scalar>`, issue 13) from its `(key, value)` entries;
    /// `Field::Str` for string and enum values. A key given twice makes the request malformed.
    pub fn map<I: IntoIterator<Item = (&'r str, Field<'r>)>>(
        &mut self,
        path: &str,
        entries: I,
    ) -> &mut Self {
        self.values.map(path, entries);
        self
    }

    /// Sets a map-of-records attribute (`map of { ... }`, issue 13) from its entries: each a
    /// key and the value's `(field path, value)` pairs, field paths as declared in the record
    /// (`port`, `["a.b"]`). A key given twice, or a field twice in one entry, makes the
    /// request malformed.
    pub fn map_records<'k, I, R>(&mut self, path: &str, entries: I) -> &mut Self
    where
        I: IntoIterator<Item = (&'r str, R)>,
        R: IntoIterator<Item = (&'k str, Field<'r>)>,
    {
        self.values.map_records(path, entries);
        self
    }

    /// Sets the request time `now` (issue #14) to `ms` milliseconds since the Unix epoch
    /// (ignored when the policies do not read `now`). Setting it twice, or also as the
    /// attribute `now`, makes the request malformed like any attribute set twice.
    pub fn now_ms(&mut self, ms: i64) -> &mut Self {
        if let Some(s) = self.set.bundle().now_slot() {
            self.values.set_value(s, Value::Int(ms));
        }
        self
    }

    /// Sets a slot to a raw value (no kind check).
    pub fn set_value(&mut self, slot: SlotId, value: Value<'r>) -> &mut Self {
        self.values.set_value(slot, value);
        self
    }

    /// The slot values so far.
    pub fn values(&self) -> &[Value<'r>] {
        self.values.values()
    }

    /// Evaluates the request against the set it was built for; fails when an attribute or
    /// a record field was set twice (the request is malformed).
    pub fn evaluate(&self) -> Result<HostDecision, Error> {
        Ok(self.set.evaluate_values(self.values.finish()?))
    }

    /// Evaluates the request and renders its decision with these values, so reason templates
    /// show them (`docs/LANGUAGE.md`, "Reasons with values").
    pub fn report(&self) -> Result<crate::Report, Error> {
        let values = self.values.finish()?;
        let d = self.set.evaluate_values(values);
        Ok(self.set.report_values(&d, values))
    }
}
