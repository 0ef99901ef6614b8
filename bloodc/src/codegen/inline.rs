//! Inlining of small Blood functions at `O2`, with Cranelift's inlining library.
//!
//! Blood code calls many tiny functions (helpers, accessors, recursive kernels like `fib`), and a
//! call costs a prologue, an epilogue, argument moves and a safepoint check. Cranelift provides
//! the mechanics (`Context::inline`); the policy is ours and deliberately simple:
//! * only calls to functions of this program (never runtime or libc functions);
//! * the callee's CLIF body has at most [`MAX_CALLEE_INSTS`] instructions;
//! * a caller grows by at most [`CALLER_BUDGET`] instructions in total, and receives at most
//!   [`MAX_COPIES_PER_CALLEE`] copies of one callee: calls inside inlined bodies are considered
//!   too, so a chain of small helpers collapses, while inlining always terminates;
//! * a function is never inlined into itself: the IR already copied one level of each small
//!   function's own recursion into it (`ir/passes/inline_self.rs`), where safepoint placement
//!   can see the copy, and more levels nest the loop in itself, which measured slower
//!   (register pressure) than the calls.
//!
//! All functions are lowered to CLIF first, so every callee body is available whatever the
//! order of definitions. Cranelift's inliner does not carry the callee's cold-block marks over,
//! so [`restore_cold_blocks`] marks the inlined safepoint slow paths cold again.

use std::borrow::Cow;
use std::collections::HashMap;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{
    ExternalName, FuncRef, Function, GlobalValue, GlobalValueData, Inst, InstructionData, Opcode, Value,
};
use cranelift_module::FuncId;

/// Callees larger than this (in CLIF instructions) are never inlined.
const MAX_CALLEE_INSTS: usize = 48;
/// The most instructions inlining may add to one caller.
const CALLER_BUDGET: usize = 320;
/// How many copies of one callee a caller may receive (calls inside inlined bodies are
/// considered too, so this also bounds unrolling of mutual recursion).
const MAX_COPIES_PER_CALLEE: usize = 6;

/// Number of instructions in a function's layout.
pub(crate) fn inst_count(func: &Function) -> usize {
    func.layout.blocks().map(|b| func.layout.block_insts(b).count()).sum()
}

/// The module function a `FuncRef` of `func` calls, if it is a module function.
fn callee_id(func: &Function, callee: FuncRef) -> Option<FuncId> {
    let ExternalName::User(name) = func.dfg.ext_funcs[callee].name else {
        return None;
    };
    let name = &func.params.user_named_funcs()[name];
    // Namespace 0 holds functions in cranelift-module's naming (see `function::import_func`).
    (name.namespace == 0).then(|| FuncId::from_u32(name.index))
}

/// The inlining policy for one caller.
pub(crate) struct Inliner<'a> {
    /// Lowered (unoptimised) CLIF of every program function, by IR index.
    pub(crate) bodies: &'a [Function],
    /// Instruction count of each body.
    pub(crate) sizes: &'a [usize],
    /// IR index of each program function's module id.
    pub(crate) index_of: &'a HashMap<FuncId, usize>,
    /// Instructions this caller may still grow by.
    budget: usize,
    /// IR indices of the callees inlined so far, in order.
    pub(crate) inlined: Vec<usize>,
    /// Copies inlined so far, per callee.
    copies: HashMap<usize, usize>,
    /// IR index of the caller: it is never inlined into itself.
    caller: usize,
}

impl<'a> Inliner<'a> {
    pub(crate) fn new(
        bodies: &'a [Function],
        sizes: &'a [usize],
        index_of: &'a HashMap<FuncId, usize>,
        caller: usize,
    ) -> Self {
        Inliner { bodies, sizes, index_of, budget: CALLER_BUDGET, inlined: Vec::new(), copies: HashMap::new(), caller }
    }
}

impl Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &Function,
        _call_inst: Inst,
        opcode: Opcode,
        callee: FuncRef,
        _call_args: &[Value],
    ) -> InlineCommand<'_> {
        if opcode != Opcode::Call {
            return InlineCommand::KeepCall;
        }
        let Some(index) = callee_id(caller, callee).and_then(|id| self.index_of.get(&id).copied()) else {
            return InlineCommand::KeepCall;
        };
        if index == self.caller {
            return InlineCommand::KeepCall;
        }
        let size = self.sizes[index];
        let copies = self.copies.entry(index).or_insert(0);
        if size > MAX_CALLEE_INSTS || size > self.budget || *copies >= MAX_COPIES_PER_CALLEE {
            return InlineCommand::KeepCall;
        }
        *copies += 1;
        self.budget -= size;
        self.inlined.push(index);
        InlineCommand::Inline { callee: Cow::Borrowed(&self.bodies[index]), visit_callee: true }
    }
}

/// Repairs the symbol names of the global values the inliner copied from callees.
///
/// Cranelift 0.135's inliner appends each callee's global values to the caller but clones
/// `GlobalValueData::Symbol` as is, so its `UserExternalNameRef` still indexes the *callee's* name
/// table — in the caller it names some other symbol (a string constant would point at code).
/// The callees' values are appended in inlining order, one block per inlined call, starting at
/// `first_gv` (the caller's count before inlining), so each can be re-pointed at the same name in
/// the caller's table.
pub(crate) fn fix_inlined_symbol_names(func: &mut Function, first_gv: usize, inlined: &[usize], bodies: &[Function]) {
    let mut gv = first_gv;
    for &callee_index in inlined {
        let callee = &bodies[callee_index];
        for data in callee.global_values.values() {
            if let GlobalValueData::Symbol { name: ExternalName::User(callee_ref), offset, colocated, tls } = data {
                let name = callee.params.user_named_funcs()[*callee_ref].clone();
                let caller_ref = func.declare_imported_user_function(name);
                func.global_values[GlobalValue::from_u32(gv as u32)] = GlobalValueData::Symbol {
                    name: ExternalName::User(caller_ref),
                    offset: *offset,
                    colocated: *colocated,
                    tls: *tls,
                };
            }
            gv += 1;
        }
    }
}

/// Makes every `symbol_value` of one symbol use the same global value, so that Cranelift's
/// value numbering merges the copies inlining brought in (each inlined body computes the
/// preemption flag's address again): one register instead of several.
pub(crate) fn merge_symbol_values(func: &mut Function) {
    let mut canonical: HashMap<(u32, u32, i64, bool), GlobalValue> = HashMap::new();
    let mut replacement: HashMap<GlobalValue, GlobalValue> = HashMap::new();
    for (gv, data) in func.global_values.iter() {
        if let GlobalValueData::Symbol { name: ExternalName::User(r), offset, colocated, tls: false } = data {
            let name = &func.params.user_named_funcs()[*r];
            let first = *canonical.entry((name.namespace, name.index, offset.bits(), *colocated)).or_insert(gv);
            if first != gv {
                replacement.insert(gv, first);
            }
        }
    }
    if replacement.is_empty() {
        return;
    }
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        let insts: Vec<_> = func.layout.block_insts(block).collect();
        for inst in insts {
            if let InstructionData::UnaryGlobalValue { opcode: Opcode::SymbolValue, global_value } =
                &mut func.dfg.insts[inst]
                && let Some(first) = replacement.get(global_value)
            {
                *global_value = *first;
            }
        }
    }
}

/// Marks cold every block that calls `slow_path` (the safepoint slow path) and ends with a jump:
/// exactly the blocks `safepoint.rs` creates, including copies made by the inliner.
pub(crate) fn restore_cold_blocks(func: &mut Function, slow_path: FuncId) {
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        let mut insts = func.layout.block_insts(block);
        let (Some(first), Some(last)) = (insts.next(), func.layout.last_inst(block)) else {
            continue;
        };
        let calls_slow_path = match func.dfg.insts[first] {
            InstructionData::Call { opcode: Opcode::Call, func_ref, .. } => {
                callee_id(func, func_ref) == Some(slow_path)
            }
            _ => false,
        };
        if calls_slow_path && func.dfg.insts[last].opcode() == Opcode::Jump {
            func.layout.set_cold(block);
        }
    }
}
