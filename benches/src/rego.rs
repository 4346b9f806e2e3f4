//! regorus over a workload's Rego modules (bytecode VM or interpreter).

use crate::Workload;
use std::sync::Arc;

/// Instructions an RVM run may execute (regorus's default is 25,000).
pub const RVM_MAX_INSTRUCTIONS: usize = 100_000_000;

/// Entry point of every Rego module.
pub const REGO_ENTRY: &str = "data.ipe.allow";

/// Parses Rego modules into a fresh engine.
pub fn rego_parse(rego: &[String]) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    for (i, m) in rego.iter().enumerate() {
        engine
            .add_policy(format!("bench{i}.rego"), m.clone())
            .expect("Rego parses");
    }
    engine
}

/// Parses Rego modules and compiles them for the entry point (`compile_with_entrypoint`, what
/// the interpreter evaluates).
pub fn rego_compile(rego: &[String]) -> regorus::CompiledPolicy {
    let mut engine = rego_parse(rego);
    let entry: regorus::Rc<str> = REGO_ENTRY.into();
    engine
        .compile_with_entrypoint(&entry)
        .expect("Rego compiles")
}

/// [`rego_compile`], then lowered to an RVM program (fails past 65,535 instructions).
pub fn rego_compile_rvm(rego: &[String]) -> Option<Arc<regorus::rvm::Program>> {
    regorus::languages::rego::compiler::Compiler::compile_from_policy(
        &rego_compile(rego),
        &[REGO_ENTRY],
    )
    .ok()
}

/// A workload in regorus: compiled for its bytecode VM (RVM), or, when the program exceeds the
/// RVM's 65,535-instruction limit (the 10,000-policy set), its tree-walking interpreter.
pub enum RegoEngine {
    /// The compiled RVM program (shared by every VM).
    Vm(Arc<regorus::rvm::Program>),
    /// The parsed modules, for `Engine::eval_rule`.
    Interp(Box<regorus::Engine>),
}

/// Per-thread regorus state: a VM with the program loaded, or an interpreter engine.
pub enum RegoRunner {
    /// RVM.
    Vm(Box<regorus::rvm::RegoVM>),
    /// Tree-walking interpreter.
    Interp(Box<regorus::Engine>),
}

impl RegoEngine {
    /// Compiles a workload's modules for the RVM, or keeps them for the interpreter if the
    /// RVM cannot hold them.
    pub fn new(w: &Workload) -> Self {
        match rego_compile_rvm(&w.rego) {
            Some(p) => RegoEngine::Vm(p),
            None => RegoEngine::Interp(Box::new(rego_parse(&w.rego))),
        }
    }

    /// Whether this workload runs on the RVM (else the interpreter).
    pub fn is_vm(&self) -> bool {
        matches!(self, RegoEngine::Vm(_))
    }

    /// Per-thread state.
    pub fn vm(&self) -> RegoRunner {
        match self {
            RegoEngine::Vm(p) => {
                let mut vm = regorus::rvm::RegoVM::new();
                vm.load_program(p.clone());
                // The default budget (25,000 executed instructions) is below what the
                // 10,000-network `cidr` workload takes; the other workloads stay far under it.
                vm.set_max_instructions(RVM_MAX_INSTRUCTIONS);
                RegoRunner::Vm(Box::new(vm))
            }
            RegoEngine::Interp(e) => RegoRunner::Interp(e.clone()),
        }
    }

    /// A prebuilt input.
    pub fn input(json: &str) -> regorus::Value {
        regorus::Value::from_json_str(json).expect("input")
    }

    /// Evaluates the entry point for a prebuilt input.
    #[inline]
    pub fn decide(r: &mut RegoRunner, input: &regorus::Value) -> bool {
        let v = match r {
            RegoRunner::Vm(vm) => {
                vm.set_input(input.clone());
                vm.execute().expect("rvm runs")
            }
            RegoRunner::Interp(e) => {
                e.set_input(input.clone());
                e.eval_rule(REGO_ENTRY.to_string()).expect("rego runs")
            }
        };
        v == regorus::Value::from(true)
    }

    /// End to end: parse the input JSON, evaluate.
    pub fn decide_json(r: &mut RegoRunner, json: &str) -> bool {
        Self::decide(r, &Self::input(json))
    }
}
