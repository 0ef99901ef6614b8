//! `bloodc`: the Blood compiler and driver.
//!
//! The pipeline, one module per stage, data flowing one way (see ARCHITECTURE.md):
//!
//! ```text
//! source ─syntax─▶ AST ─resolve/typeck─▶ typed HIR ─ir::build─▶ Blood IR ─ir::passes─▶ Blood IR
//!        ─codegen─▶ object file ─driver::link─▶ executable
//! ```
//!
//! Stages are pure functions returning values plus [`diagnostics::Diagnostic`]s; only `driver`
//! touches files and processes.

pub mod codegen;
pub mod diagnostics;
pub mod driver;
pub mod hir;
pub mod ir;
pub mod package;
pub mod resolve;
pub mod source;
pub mod syntax;
pub mod typeck;
pub mod types;
