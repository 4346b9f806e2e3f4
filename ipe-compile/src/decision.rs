//! The decision for one request, shared by every backend, and its JSON form.
//!
//! It is `ipe-nostd`'s rendered decision ([`ipe_nostd::report`]): the reference evaluator
//! produces the same type the interpreter, the host engine and the JIT are rendered into, so
//! their JSON is compared byte for byte.

pub use ipe_nostd::report::{
    ErrorReport as PolicyError, Report as Decision, ViolationReport as Violation,
};
