//! IPE's test support, shared by every differential test of the workspace and by the fuzz
//! oracles (`fuzz/ipe-fuzz`):
//! - [`gen`]: random well-typed bundles and requests (proptest strategies);
//! - [`corpus`]: the shared corpus under `tests/corpus/`, and [`corpus_tests!`], one
//!   `#[test]` per corpus file;
//! - [`examples`]: the bundles under `examples/` and the compiler inputs each needs;
//! - [`backend`]: every engine behind the [`Backend`](backend::Backend) trait, and the one
//!   loop that runs a request on several and compares ([`backend::compare`]).
//!
//! # Features
//! | feature | what it adds |
//! |---|---|
//! | `jit` | `backend::Jit`: the JIT's compiled sets (enables `ipe-host/jit`) |

pub mod backend;
pub mod corpus;
pub mod examples;
pub mod gen;

pub use gen::*;
