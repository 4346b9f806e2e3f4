//! What `ipe test` and `ipe explain` share: compiling sources (with data overrides), the
//! engines that decide (host interpreter, host JIT, reference evaluator) and reading a JSON
//! path of a request.

use anyhow::Context;
use ipe_compile::{hir, CompileError, CompileOptions, DataFile, InstanceSource, Report};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// A bundle's sources and compile options, as `ipe eval` takes them.
pub struct Sources {
    /// `.ipe` files or directories.
    pub paths: Vec<PathBuf>,
    /// Template instance files.
    pub instances: Vec<InstanceSource>,
    /// Data files.
    pub data: Vec<DataFile>,
    /// The cost budget.
    pub max_cost: u32,
}

impl Sources {
    /// Reads the instance and data files.
    pub fn read(
        paths: Vec<PathBuf>,
        instances: &[PathBuf],
        data: &[PathBuf],
        max_cost: u32,
    ) -> anyhow::Result<Sources> {
        Ok(Sources {
            paths,
            instances: instances
                .iter()
                .map(|p| InstanceSource::read(p))
                .collect::<Result<_, _>>()?,
            data: data
                .iter()
                .map(|p| DataFile::read(p))
                .collect::<Result<_, _>>()?,
            max_cost,
        })
    }

    /// Compiles the sources; with `overrides`, the data files' top-level keys are merged into
    /// one object and each key of `overrides` replaces (or adds) a constant. Diagnostics are
    /// the error; warnings go to `warn`.
    pub fn compile(
        &self,
        overrides: Option<(&str, &Map<String, Value>)>,
        warn: &mut dyn FnMut(&str),
    ) -> anyhow::Result<hir::Program> {
        self.compile_bundle(overrides, warn).map(|c| c.program)
    }

    /// [`Sources::compile`] with the bundle: the program and the lowering the compiler ran
    /// to prove it compiles (issue #15: lowered once).
    pub fn compile_bundle(
        &self,
        overrides: Option<(&str, &Map<String, Value>)>,
        warn: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Compiled> {
        let data = match overrides {
            None => self.data.clone(),
            Some((name, over)) => {
                let mut merged = Map::new();
                for d in &self.data {
                    let v: Value = serde_json::from_str(&d.text)
                        .with_context(|| format!("reading data file `{}`", d.name))?;
                    let Value::Object(m) = v else {
                        anyhow::bail!("data file `{}` is not a JSON object", d.name);
                    };
                    merged.extend(m);
                }
                merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
                vec![DataFile {
                    name: name.to_owned(),
                    text: Value::Object(merged).to_string(),
                }]
            }
        };
        let options = CompileOptions {
            max_cost: self.max_cost,
            data,
            instances: self.instances.clone(),
        };
        match ipe_compile::compile_bundle_paths_with(&self.paths, &options, warn) {
            Ok((program, compiled)) => Ok(Compiled::from_parts(program, compiled.bytes)),
            Err(CompileError::Diagnostics(d)) => Err(anyhow::anyhow!("{d}")),
            Err(e) => Err(e.into()),
        }
    }
}

/// Which code decides a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The host engine's bytecode interpreter (what `ipe eval` runs).
    Interp,
    /// The host engine with every policy compiled to native code (Cranelift) at load.
    Jit,
    /// The reference evaluator (`ipe-compile`'s `eval.rs`), a direct reading of the spec.
    Reference,
}

impl Engine {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Interp => "interp",
            Engine::Jit => "jit",
            Engine::Reference => "reference",
        }
    }
}

/// A compiled program with the host engines built from it on demand.
pub struct Compiled {
    /// The checked program (the reference evaluator's input).
    pub program: hir::Program,
    /// The verified bundle bytes.
    pub bytes: Vec<u8>,
    interp: Option<ipe_host::PolicyEngine>,
    jit: Option<ipe_host::PolicyEngine>,
}

impl Compiled {
    /// Lowers `program` into a bundle.
    pub fn new(program: hir::Program, max_cost: u32) -> anyhow::Result<Compiled> {
        let bytes = ipe_compile::lower::lower_with_max_cost(&program, max_cost)?.bytes;
        Ok(Compiled::from_parts(program, bytes))
    }

    /// A program with its (already lowered, verified) bundle bytes.
    pub fn from_parts(program: hir::Program, bytes: Vec<u8>) -> Compiled {
        Compiled {
            program,
            bytes,
            interp: None,
            jit: None,
        }
    }

    /// The host engine for `engine` (`Interp` or `Jit`), built on first use.
    pub fn host(
        &mut self,
        engine: Engine,
        max_cost: u32,
    ) -> anyhow::Result<&ipe_host::PolicyEngine> {
        let (slot, tier) = match engine {
            Engine::Jit => (
                &mut self.jit,
                ipe_host::TierMode::JitAll(ipe_host::JitTier::Optimized),
            ),
            _ => (&mut self.interp, ipe_host::TierMode::Interpreter),
        };
        if slot.is_none() {
            let options = ipe_host::EngineOptions {
                tier,
                max_cost,
                ..ipe_host::EngineOptions::interpreter()
            };
            *slot = Some(ipe_host::PolicyEngine::with_options(
                self.bytes.clone(),
                options,
            )?);
        }
        slot.as_ref().context("engine built")
    }

    /// The policies the JIT left to the interpreter (their compilation failed), by name.
    pub fn jit_fallbacks(&mut self, max_cost: u32) -> anyhow::Result<Vec<String>> {
        let set = self.host(Engine::Jit, max_cost)?.load();
        let b = set.bundle();
        Ok((0..b.policy_count())
            .filter_map(|i| ipe_nostd::PolicyId::try_from(i).ok())
            .filter(|&id| {
                !matches!(
                    set.code_tier(id),
                    ipe_host::CodeTier::Baseline | ipe_host::CodeTier::Optimized
                )
            })
            .map(|id| b.policy(id).name.to_owned())
            .collect())
    }

    /// The program and its host interpreter, once [`Compiled::host`] built it.
    pub fn program_and_interp(&self) -> anyhow::Result<(&hir::Program, &ipe_host::PolicyEngine)> {
        Ok((
            &self.program,
            self.interp.as_ref().context("interpreter built")?,
        ))
    }

    /// The decision of `engine` for `request`.
    pub fn decide(
        &mut self,
        engine: Engine,
        request: &Value,
        max_cost: u32,
    ) -> anyhow::Result<Report> {
        match engine {
            Engine::Reference => Ok(ipe_compile::evaluate(&self.program, request)),
            _ => {
                let text = request.to_string();
                let host = self.host(engine, max_cost)?;
                host.load()
                    .report_json(&text)
                    .map_err(|e| anyhow::anyhow!("{}", crate::cli::request_detail(&e)))
            }
        }
    }
}

pub use ipe_explain::lookup;

/// Sets `request`'s `now` (RFC 3339 text or integer epoch seconds, checked as `ipe eval
/// --now` checks it).
pub fn set_now(request: &mut Value, now: &Value) -> Result<(), String> {
    let text = match now {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("`now` must be RFC 3339 text or integer epoch seconds".to_owned()),
    };
    crate::cli::parse_now(&text)?;
    match request.as_object_mut() {
        Some(m) => {
            m.insert("now".to_owned(), now.clone());
            Ok(())
        }
        None => Err("the request is not a JSON object".to_owned()),
    }
}

pub use ipe_explain::sorted;
