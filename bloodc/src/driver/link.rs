//! Linking an object file into an executable with the system C compiler.
//!
//! `cc` (or `$BLOOD_LINKER`, or the linker the caller names) is run as
//! `cc <object> -o <tmp> -L <runtime dir> -lblood_runtime <RUNTIME_LINK_LIBS> <GNU_LINK_FLAGS>`; it brings the C
//! start files, libc, libm and the compiler support library (`__divti3`, …) the generated code
//! uses. Objects are position-independent, so `cc`'s default (PIE) works.
//!
//! The linker writes to a temporary file next to the output, which is renamed into place only
//! when linking succeeded: a failed build never leaves a partial or stale executable under the
//! requested name, and the temporary file is removed on every path.

use std::path::Path;
use std::process::Command;

/// The linker used when neither the caller nor `BLOOD_LINKER` names one.
const DEFAULT_LINKER: &str = "cc";

/// Extra flags for GNU-style linkers (Linux): drop the runtime's unused sections and its debug
/// information. The runtime archive carries the Rust standard library with full debug info;
/// without these flags a hello-world is ~5 MB and links ~2× slower. Symbols stay, so runtime
/// backtraces still name functions.
const GNU_LINK_FLAGS: &[&str] =
    if cfg!(target_os = "linux") { &["-Wl,--gc-sections", "-Wl,--strip-debug"] } else { &[] };

/// Links `object` against the runtime archive in `runtime_dir` into the executable `output`.
///
/// `linker` overrides the linker program; `None` means `$BLOOD_LINKER`, else `cc`. Errors are
/// readable messages (the linker's stderr included).
pub fn link_executable(object: &Path, output: &Path, runtime_dir: &Path, linker: Option<&str>) -> Result<(), String> {
    link_executable_with(object, output, runtime_dir, "blood_runtime", linker)
}

/// [`link_executable`] against the runtime library `runtime_lib` (`-l` name: `blood_runtime` or
/// `blood_runtime_minimal`) in `runtime_dir`.
pub fn link_executable_with(
    object: &Path,
    output: &Path,
    runtime_dir: &Path,
    runtime_lib: &str,
    linker: Option<&str>,
) -> Result<(), String> {
    let env_linker = std::env::var("BLOOD_LINKER").ok().filter(|l| !l.trim().is_empty());
    let linker = linker.or(env_linker.as_deref()).unwrap_or(DEFAULT_LINKER);
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
    // Dropping `tmp_path` (on any error below) deletes the temporary file.
    let tmp_path = tmp.into_temp_path();
    let result = Command::new(linker)
        .arg(object)
        .arg("-o")
        .arg(&tmp_path)
        .arg("-L")
        .arg(runtime_dir)
        .arg(format!("-l{runtime_lib}"))
        .args(blood_abi::RUNTIME_LINK_LIBS)
        .args(GNU_LINK_FLAGS)
        .output();
    let out = match result {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("linker `{linker}` not found; install a C compiler (cc) or set BLOOD_LINKER"));
        }
        Err(e) => return Err(format!("cannot run linker `{linker}`: {e}")),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let status = out.status.code().map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
        return Err(format!("linking with `{linker}` failed ({status}):\n{}", stderr.trim_end()));
    }
    tmp_path.persist(output).map_err(|e| format!("cannot write `{}`: {}", output.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_linker_is_reported_readably() {
        let dir = tempfile::tempdir().expect("temp dir");
        let obj = dir.path().join("x.o");
        std::fs::write(&obj, b"").expect("write");
        let err = link_executable(&obj, &dir.path().join("x"), dir.path(), Some("blood-no-such-linker")).unwrap_err();
        assert!(err.contains("linker `blood-no-such-linker` not found; install a C compiler"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1, "only the object remains");
    }

    #[test]
    fn a_failed_link_leaves_no_executable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let obj = dir.path().join("bad.o");
        std::fs::write(&obj, b"this is not an object file").expect("write");
        let exe = dir.path().join("bad");
        std::fs::write(&exe, b"stale").expect("write stale output");
        let err = link_executable(&obj, &exe, dir.path(), Some(DEFAULT_LINKER)).unwrap_err();
        assert!(err.contains("linking with `cc` failed"), "{err}");
        // The stale output is untouched and no temporary file is left.
        assert_eq!(std::fs::read(&exe).expect("read"), b"stale");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 2);
    }

    #[test]
    fn a_missing_output_directory_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = link_executable(&dir.path().join("x.o"), &dir.path().join("nope/x"), dir.path(), None).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
    }
}
