//! Finding the runtime archive to link against.
//!
//! The archive is embedded in the `blood` binary at build time (see `build.rs`), so a copied
//! `blood` works on its own, the way Zig and Go ship their runtimes. On first use it is unpacked
//! into a cache directory named after its hash; `BLOOD_RUNTIME_DIR` overrides the lookup.

use std::io::Write;
use std::path::PathBuf;

static EMBEDDED: &[u8] = include_bytes!(env!("BLOOD_RUNTIME_ARCHIVE"));
const HASH: &str = env!("BLOOD_RUNTIME_HASH");

/// The directory holding `libblood_runtime.a`.
pub fn runtime_archive_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("BLOOD_RUNTIME_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.join(blood_abi::RUNTIME_ARCHIVE_FULL).is_file() {
            return Err(format!(
                "BLOOD_RUNTIME_DIR=`{}` does not contain {}",
                dir.display(),
                blood_abi::RUNTIME_ARCHIVE_FULL
            ));
        }
        return Ok(dir);
    }
    let mut last_error = String::new();
    for base in cache_bases() {
        let dir = base.join("blood").join(format!("runtime-{HASH}"));
        match unpack(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => last_error = format!("cannot unpack the runtime into `{}`: {e}", dir.display()),
        }
    }
    Err(last_error)
}

fn cache_bases() -> Vec<PathBuf> {
    let mut bases = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        bases.push(PathBuf::from(x));
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        bases.push(PathBuf::from(h).join(".cache"));
    }
    bases.push(std::env::temp_dir());
    bases
}

/// Writes the archive into `dir` unless an intact copy is there. Concurrent processes are safe:
/// each writes its own temporary file and renames it over the final name atomically.
fn unpack(dir: &std::path::Path) -> std::io::Result<()> {
    let path = dir.join(blood_abi::RUNTIME_ARCHIVE_FULL);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == EMBEDDED.len() as u64) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(EMBEDDED)?;
    tmp.flush()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}
