//! The example bundles of `examples/`, compiled once per process.

use std::sync::OnceLock;

/// One compiled example bundle.
pub struct Example {
    /// Directory name under `examples/`.
    pub name: &'static str,
    /// The checked program (for the reference evaluator).
    pub program: ipe_compile::hir::Program,
    /// The bundle bytes.
    pub bytes: Vec<u8>,
}

/// Sources of each example bundle, in bundle order (sorted file names).
pub const SOURCES: &[(&str, &[(&str, &str)])] = &[
    (
        "seed",
        &[
            (
                "policy.ipe",
                include_str!("../../../examples/seed/policy.ipe"),
            ),
            (
                "schema.ipe",
                include_str!("../../../examples/seed/schema.ipe"),
            ),
        ],
    ),
    (
        "policies",
        &[
            (
                "actuators.ipe",
                include_str!("../../../examples/policies/actuators.ipe"),
            ),
            (
                "deployments.ipe",
                include_str!("../../../examples/policies/deployments.ipe"),
            ),
            (
                "network.ipe",
                include_str!("../../../examples/policies/network.ipe"),
            ),
            (
                "schema.ipe",
                include_str!("../../../examples/policies/schema.ipe"),
            ),
            (
                "secrets.ipe",
                include_str!("../../../examples/policies/secrets.ipe"),
            ),
        ],
    ),
];

/// Example requests, one JSON object per line.
pub const REQUESTS: &[&str] = &[
    include_str!("../../../examples/seed/requests.jsonl"),
    include_str!("../../../examples/policies/requests.jsonl"),
];

/// The compiled examples.
pub fn all() -> &'static [Example] {
    static ALL: OnceLock<Vec<Example>> = OnceLock::new();
    ALL.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(name, files)| {
                let (program, bytes) =
                    crate::build(files).unwrap_or_else(|| panic!("example {name} compiles"));
                Example {
                    name,
                    program,
                    bytes,
                }
            })
            .collect()
    })
}
