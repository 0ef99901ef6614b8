//! Linking an object file into an executable with the system C compiler.
//!
//! The linker writes to a temporary file next to the output, which is renamed into place only
//! when linking succeeded: a failed build never leaves a partial or stale executable under the
//! requested name.

use std::path::Path;
use std::process::Command;

/// Links `object` against the runtime archive in `runtime_dir` into `output`.
pub fn link_executable(object: &Path, output: &Path, runtime_dir: &Path, linker: Option<&str>) -> Result<(), String> {
    let linker = linker.unwrap_or("cc");
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!("cannot write `{}`: the directory `{}` does not exist", output.display(), dir.display()));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".blood-link-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write `{}`: {e}", output.display()))?;
    let tmp_path = tmp.into_temp_path();
    let result = Command::new(linker)
        .arg(object)
        .arg("-o")
        .arg(&tmp_path)
        .arg("-L")
        .arg(runtime_dir)
        .arg("-lblood_runtime")
        .args(blood_abi::RUNTIME_LINK_LIBS)
        .output();
    let out = match result {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("linker `{linker}` not found; install a C compiler (cc) or set BLOOD_LINKER"));
        }
        Err(e) => return Err(format!("cannot run linker `{linker}`: {e}")),
    };
    if !out.status.success() {
        return Err(format!("linking with `{linker}` failed:\n{}", String::from_utf8_lossy(&out.stderr).trim_end()));
    }
    tmp_path.persist(output).map_err(|e| format!("cannot write `{}`: {}", output.display(), e.error))?;
    Ok(())
}
