//! The decision for one request, shared by every backend, and its JSON form.
//!
//! It is the host's rendered decision: the reference evaluator produces the same type the
//! interpreter and the JIT are rendered into, so their JSON is compared byte for byte.

pub use ipe_host::report::{
    ErrorReport as PolicyError, Report as Decision, ViolationReport as Violation,
};
