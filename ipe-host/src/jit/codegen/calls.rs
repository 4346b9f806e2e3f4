//! Calls from compiled code into the `extern "C"` helpers of [`crate::jit::helpers`].
//!
//! Each helper is a named symbol: its address is registered once with the [`JITBuilder`]
//! ([`register`]), it is declared once per module ([`declare`]) and imported into a function
//! the first time the function calls it ([`Gen::call`]).

use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, Signature};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

use super::Gen;
use crate::jit::helpers;
use crate::jit::JitError;

/// A helper compiled code calls. Every argument and the result are 64-bit integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helper {
    /// [`helpers::read_err`].
    ReadErr,
    /// [`helpers::text_eq`].
    TextEq,
    /// [`helpers::str_op`].
    StrOp,
    /// [`helpers::enum_rank`].
    EnumRank,
    /// [`helpers::set_contains`].
    SetContains,
    /// [`helpers::list_err`].
    ListErr,
    /// [`helpers::in_list`].
    InList,
    /// [`helpers::pair_contains`].
    PairContains,
    /// [`helpers::arith_val`].
    ArithVal,
    /// [`helpers::arith_err`].
    ArithErr,
    /// [`helpers::lookup_row`].
    LookupRow,
    /// [`helpers::const_part`].
    ConstPart,
    /// [`helpers::str_match`] (issue #14).
    StrMatch,
    /// [`helpers::str_len`].
    StrLen,
    /// [`helpers::ip_in_set`] (issue #14).
    IpInSet,
    /// [`helpers::str_seg`] (issue #14).
    StrSeg,
    /// [`helpers::ip_cmp`] (issue #14).
    IpCmp,
    /// [`helpers::map_find`] (issue #13, `labels[k]`).
    MapFind,
    /// [`helpers::str_fold`] (issue #14, session 9).
    StrFold,
    /// [`helpers::str_match_fold`] (issue #14, session 9).
    StrMatchFold,
    /// [`helpers::in_range`] (issue #14, session 9).
    InRange,
}

/// Number of helpers.
pub(crate) const HELPERS: usize = 21;

impl Helper {
    /// Every helper, in declaration order (the index of [`HelperFuncs`]).
    const ALL: [Helper; HELPERS] = [
        Helper::ReadErr,
        Helper::TextEq,
        Helper::StrOp,
        Helper::EnumRank,
        Helper::SetContains,
        Helper::ListErr,
        Helper::InList,
        Helper::PairContains,
        Helper::ArithVal,
        Helper::ArithErr,
        Helper::LookupRow,
        Helper::ConstPart,
        Helper::StrMatch,
        Helper::StrLen,
        Helper::IpInSet,
        Helper::StrSeg,
        Helper::IpCmp,
        Helper::MapFind,
        Helper::StrFold,
        Helper::StrMatchFold,
        Helper::InRange,
    ];

    /// The symbol name.
    fn name(self) -> &'static str {
        match self {
            Helper::ReadErr => "ipe_read_err",
            Helper::TextEq => "ipe_text_eq",
            Helper::StrOp => "ipe_str_op",
            Helper::EnumRank => "ipe_enum_rank",
            Helper::SetContains => "ipe_set_contains",
            Helper::ListErr => "ipe_list_err",
            Helper::InList => "ipe_in_list",
            Helper::PairContains => "ipe_pair_contains",
            Helper::ArithVal => "ipe_arith_val",
            Helper::ArithErr => "ipe_arith_err",
            Helper::LookupRow => "ipe_lookup_row",
            Helper::ConstPart => "ipe_const_part",
            Helper::StrMatch => "ipe_str_match",
            Helper::StrLen => "ipe_str_len",
            Helper::IpInSet => "ipe_ip_in_set",
            Helper::StrSeg => "ipe_str_seg",
            Helper::IpCmp => "ipe_ip_cmp",
            Helper::MapFind => "ipe_map_find",
            Helper::StrFold => "ipe_str_fold",
            Helper::StrMatchFold => "ipe_str_match_fold",
            Helper::InRange => "ipe_in_range",
        }
    }

    /// The address of the function.
    fn addr(self) -> *const u8 {
        match self {
            Helper::ReadErr => helpers::read_err as *const u8,
            Helper::TextEq => helpers::text_eq as *const u8,
            Helper::StrOp => helpers::str_op as *const u8,
            Helper::EnumRank => helpers::enum_rank as *const u8,
            Helper::SetContains => helpers::set_contains as *const u8,
            Helper::ListErr => helpers::list_err as *const u8,
            Helper::InList => helpers::in_list as *const u8,
            Helper::PairContains => helpers::pair_contains as *const u8,
            Helper::ArithVal => helpers::arith_val as *const u8,
            Helper::ArithErr => helpers::arith_err as *const u8,
            Helper::LookupRow => helpers::lookup_row as *const u8,
            Helper::ConstPart => helpers::const_part as *const u8,
            Helper::StrMatch => helpers::str_match as *const u8,
            Helper::StrLen => helpers::str_len as *const u8,
            Helper::IpInSet => helpers::ip_in_set as *const u8,
            Helper::StrSeg => helpers::str_seg as *const u8,
            Helper::IpCmp => helpers::ip_cmp as *const u8,
            Helper::MapFind => helpers::map_find as *const u8,
            Helper::StrFold => helpers::str_fold as *const u8,
            Helper::StrMatchFold => helpers::str_match_fold as *const u8,
            Helper::InRange => helpers::in_range as *const u8,
        }
    }

    /// Number of arguments.
    fn params(self) -> usize {
        match self {
            Helper::ReadErr => 5,
            Helper::TextEq => 4,
            Helper::StrOp | Helper::StrFold => 8,
            Helper::EnumRank | Helper::SetContains | Helper::ListErr | Helper::IpInSet => 3,
            Helper::InList => 6,
            Helper::PairContains | Helper::ArithErr | Helper::StrLen => 4,
            Helper::ArithVal | Helper::LookupRow | Helper::ConstPart | Helper::IpCmp => 3,
            Helper::StrMatch | Helper::MapFind | Helper::StrMatchFold => 5,
            Helper::InRange => 3,
            Helper::StrSeg => 6,
        }
    }
}

/// Registers every helper's address under its symbol name.
pub(crate) fn register(jb: &mut JITBuilder) {
    for h in Helper::ALL {
        jb.symbol(h.name(), h.addr());
    }
}

/// The helpers declared in one module, by [`Helper`].
pub(crate) struct HelperFuncs([FuncId; HELPERS]);

/// Declares every helper once in `module` (imports resolved through [`register`]).
pub(crate) fn declare(module: &mut JITModule) -> Result<HelperFuncs, JitError> {
    let call_conv = module.isa().default_call_conv();
    let mut ids = Vec::with_capacity(HELPERS);
    for h in Helper::ALL {
        let mut sig = Signature::new(call_conv);
        sig.params
            .extend(core::iter::repeat_n(AbiParam::new(I64), h.params()));
        sig.returns.push(AbiParam::new(I64));
        let id = module
            .declare_function(h.name(), Linkage::Import, &sig)
            .map_err(|e| JitError::Codegen(e.to_string()))?;
        ids.push(id);
    }
    let ids = <[FuncId; HELPERS]>::try_from(ids)
        .map_err(|_| JitError::Codegen("helper declarations".into()))?;
    Ok(HelperFuncs(ids))
}

impl Gen<'_, '_> {
    /// Calls helper `h` with `a` (its arity), importing it into the function on first use.
    pub(super) fn call(&mut self, h: Helper, a: &[ir::Value]) -> ir::Value {
        let i = h as usize;
        let fref = match self.imported.get(i).copied().flatten() {
            Some(f) => f,
            None => {
                let id = self.funcs.0[i];
                let f = self.module.declare_func_in_func(id, self.b.func);
                if let Some(slot) = self.imported.get_mut(i) {
                    *slot = Some(f);
                }
                f
            }
        };
        let inst = self.b.ins().call(fref, a);
        self.b.inst_results(inst)[0]
    }
}

#[cfg(test)]
mod tests {
    use cranelift_module::default_libcall_names;

    use super::*;

    #[test]
    fn issue12_helpers_are_named_imports_declared_once_per_module() {
        let isa = crate::jit::isa(crate::JitTier::Baseline).unwrap();
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        register(&mut builder);
        let mut module = JITModule::new(builder);
        let funcs = declare(&mut module).unwrap();
        let mut names = Vec::new();
        for (h, id) in Helper::ALL.iter().zip(funcs.0) {
            let decl = module.declarations().get_function_decl(id);
            assert_eq!(decl.linkage, Linkage::Import, "{h:?}");
            assert_eq!(decl.signature.params.len(), h.params(), "{h:?}");
            assert_eq!(decl.name.as_deref(), Some(h.name()));
            names.push(h.name());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), HELPERS, "helper names are distinct");
        // Declaring again finds the same functions: one declaration per name.
        let again = declare(&mut module).unwrap();
        assert_eq!(again.0, funcs.0);
        // SAFETY: nothing of this module was defined or handed out.
        unsafe { module.free_memory() };
    }
}
