//! Calls from compiled code into the `extern "C"` helpers of [`crate::jit::helpers`].
//!
//! Compiled code calls a helper at its address, a constant of the function (`call_indirect`
//! through one signature per arity, imported into the function on first use): no symbol is
//! declared, imported or resolved and the code needs no relocation (issue #15, compile time:
//! each named call site cost a symbol lookup with an owned name when the module was
//! finalized).

use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, Signature};
use cranelift_codegen::isa::TargetIsa;

use super::Gen;
use crate::jit::helpers;

/// A helper compiled code calls. Every argument and the result are 64-bit integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helper {
    /// [`helpers::read_err`].
    ReadErr,
    /// [`helpers::read_err_at`] (issue #15: three arguments instead of five).
    ReadErrAt,
    /// [`helpers::resolve_err`] (issue #15: deferred read errors).
    ResolveErr,
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
#[cfg(test)]
const HELPERS: usize = 22;

impl Helper {
    /// Every helper.
    #[cfg(test)]
    const ALL: [Helper; HELPERS] = [
        Helper::ReadErr,
        Helper::ReadErrAt,
        Helper::ResolveErr,
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

    /// The address of the function.
    fn addr(self) -> *const u8 {
        match self {
            Helper::ReadErr => helpers::read_err as *const u8,
            Helper::ReadErrAt => helpers::read_err_at as *const u8,
            Helper::ResolveErr => helpers::resolve_err as *const u8,
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
            Helper::StrOp | Helper::StrFold => 8,
            Helper::EnumRank | Helper::SetContains | Helper::ListErr | Helper::IpInSet => 3,
            Helper::ReadErrAt => 3,
            Helper::ResolveErr => 4,
            Helper::InList => 6,
            Helper::PairContains | Helper::ArithErr | Helper::StrLen => 4,
            Helper::ArithVal | Helper::LookupRow | Helper::ConstPart | Helper::IpCmp => 3,
            Helper::StrMatch | Helper::MapFind | Helper::StrMatchFold => 5,
            Helper::InRange => 3,
            Helper::StrSeg => 6,
        }
    }
}

/// The most arguments a helper takes.
pub(crate) const MAX_PARAMS: usize = 8;

/// The signature of a function of `n` 64-bit integer arguments returning one: every helper's
/// and, with `n` = 2 (values, record), every compiled policy's.
pub(crate) fn int_signature(isa: &dyn TargetIsa, n: usize) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params
        .extend(core::iter::repeat_n(AbiParam::new(I64), n));
    sig.returns.push(AbiParam::new(I64));
    sig
}

impl Gen<'_, '_> {
    /// The function's signature of [`int_signature`] with `n` arguments (imported once).
    pub(super) fn int_sig(&mut self, n: usize) -> ir::SigRef {
        let n = n.min(MAX_PARAMS);
        if let Some(s) = self.sigs.get(n).copied().flatten() {
            return s;
        }
        let s = self.b.import_signature(int_signature(self.isa, n));
        if let Some(slot) = self.sigs.get_mut(n) {
            *slot = Some(s);
        }
        s
    }

    /// Calls helper `h` with `a` (its arity) at its address.
    pub(super) fn call(&mut self, h: Helper, a: &[ir::Value]) -> ir::Value {
        let sig = self.int_sig(h.params());
        let addr = self.iconst(h.addr() as i64);
        let inst = self.b.ins().call_indirect(sig, addr, a);
        self.b.inst_results(inst)[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue15_every_helper_has_its_own_address_and_a_known_arity() {
        let mut addrs: Vec<usize> = Helper::ALL.iter().map(|h| h.addr() as usize).collect();
        for h in Helper::ALL {
            assert!((1..=MAX_PARAMS).contains(&h.params()), "{h:?}");
            assert_ne!(h.addr() as usize, 0, "{h:?}");
        }
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), HELPERS, "helper addresses are distinct");
    }
}
