//! String constants as read-only data objects.
//!
//! Each entry of `Program::strings` (already deduplicated by `Program::intern_str`) becomes one
//! anonymous, local, read-only data object holding its UTF-8 bytes — no terminating NUL: a Blood
//! `&str` is (pointer, length). A `&str` constant is then the object's address, computed
//! PC-relative (the objects are local to our object file), and an `i64` length constant.

use cranelift_codegen::ir::{InstBuilder, types};
use cranelift_module::{DataDescription, DataId, Module};
use cranelift_object::ObjectModule;

use super::function::FunctionCx;
use super::values::CValue;
use super::{CgResult, CodegenError, module_error};
use crate::ir::{Program, StrId};

/// Defines one data object per string constant; returns their ids, indexed like
/// `Program::strings`.
pub(crate) fn define_strings(module: &mut ObjectModule, program: &Program) -> CgResult<Vec<DataId>> {
    let mut ids = Vec::with_capacity(program.strings.len());
    let mut desc = DataDescription::new();
    for s in &program.strings {
        let id = module.declare_anonymous_data(false, false).map_err(module_error)?;
        desc.clear();
        desc.set_align(1);
        desc.define(s.as_bytes().to_vec().into_boxed_slice());
        module.define_data(id, &desc).map_err(module_error)?;
        ids.push(id);
    }
    Ok(ids)
}

impl FunctionCx<'_, '_> {
    /// The (pointer, length) pair of a string constant.
    pub(crate) fn str_constant(&mut self, id: StrId) -> CgResult<CValue> {
        let index = id.0 as usize;
        let (Some(&data), Some(text)) = (self.mcx.strings.get(index), self.program.strings.get(index)) else {
            return Err(CodegenError::InvalidIr(format!("string constant #{index} out of range")));
        };
        let len = text.len() as i64;
        let gv = self.data_ref(data);
        let ptr = self.bcx.ins().symbol_value(self.mcx.pointer_type, gv);
        let len = self.bcx.ins().iconst(types::I64, len);
        Ok(CValue::Pair(ptr, len))
    }
}
