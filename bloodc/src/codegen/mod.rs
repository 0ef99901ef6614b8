//! Blood IR → Cranelift → object file. Placeholder until the codegen lands.
