//! Finding the runtime archive to link against.
//!
//! The archive is embedded in the `blood` binary at build time (see `build.rs`), so a copied
//! `blood` works on its own, the way Zig and Go ship their runtimes. On first use it is unpacked
//! into a cache directory named after its hash, `$XDG_CACHE_HOME/blood/runtime-<hash>/` (falling
//! back to `$HOME/.cache`, then the system temporary directory), and reused afterwards.
//! `BLOOD_RUNTIME_DIR` overrides the lookup (for runtime developers and packagers).
//!
//! Unpacking is safe under concurrency (parallel tests, several `blood` processes): each writer
//! fills its own temporary file in the cache directory and renames it over the final name, which
//! is atomic, so a reader sees either no archive or a complete one.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

static EMBEDDED: &[u8] = include_bytes!(env!("BLOOD_RUNTIME_ARCHIVE"));
const HASH: &str = env!("BLOOD_RUNTIME_HASH");
static EMBEDDED_MINIMAL: &[u8] = include_bytes!(env!("BLOOD_RUNTIME_MINIMAL_ARCHIVE"));
const HASH_MINIMAL: &str = env!("BLOOD_RUNTIME_MINIMAL_HASH");

/// Which runtime a program links (`--runtime=full|minimal`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum RuntimeKind {
    /// The M:N runtime: worker pool, OS threads, metrics, environment configuration.
    #[default]
    Full,
    /// The single-worker runtime of concurrency spec §11.7 (`blood_abi::MINIMAL_EXCLUDED`).
    Minimal,
}

impl RuntimeKind {
    /// The archive's file name (`libblood_runtime.a` / `libblood_runtime_minimal.a`).
    pub fn archive_name(self) -> &'static str {
        match self {
            RuntimeKind::Full => blood_abi::RUNTIME_ARCHIVE_FULL,
            RuntimeKind::Minimal => blood_abi::RUNTIME_ARCHIVE_MINIMAL,
        }
    }

    /// The library name for `-l` (the archive name without `lib` and `.a`).
    pub fn link_name(self) -> &'static str {
        let name = self.archive_name();
        &name[3..name.len() - 2]
    }

    fn embedded(self) -> (&'static [u8], String) {
        match self {
            RuntimeKind::Full => (EMBEDDED, format!("runtime-{HASH}")),
            RuntimeKind::Minimal => (EMBEDDED_MINIMAL, format!("runtime-minimal-{HASH_MINIMAL}")),
        }
    }
}

/// The directory holding the archive of `kind` (`blood_abi::RUNTIME_ARCHIVE_FULL` or
/// `RUNTIME_ARCHIVE_MINIMAL`), unpacking the embedded archive if needed.
pub fn runtime_archive_dir_for(kind: RuntimeKind) -> Result<PathBuf, String> {
    find_runtime(kind, |name| std::env::var_os(name).filter(|v| !v.is_empty()))
}

/// The directory holding the full runtime's archive ([`runtime_archive_dir_for`] `Full`).
pub fn runtime_archive_dir() -> Result<PathBuf, String> {
    runtime_archive_dir_for(RuntimeKind::Full)
}

/// [`runtime_archive_dir_for`] with the environment passed in (so tests need not mutate the real
/// one).
fn find_runtime(kind: RuntimeKind, env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, String> {
    if let Some(dir) = env("BLOOD_RUNTIME_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.join(kind.archive_name()).is_file() {
            return Err(format!(
                "BLOOD_RUNTIME_DIR is `{}`, which does not contain {}",
                dir.display(),
                kind.archive_name()
            ));
        }
        return Ok(dir);
    }
    let (archive, dir_name) = kind.embedded();
    let mut errors = Vec::new();
    for base in cache_bases(&env) {
        let dir = base.join("blood").join(&dir_name);
        match unpack(&dir, archive, kind.archive_name()) {
            Ok(()) => return Ok(dir),
            Err(e) => errors.push(format!("`{}`: {e}", dir.display())),
        }
    }
    Err(format!("cannot unpack the Blood runtime archive ({})", errors.join("; ")))
}

/// Candidate cache directories, most preferred first.
fn cache_bases(env: &impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut bases = Vec::new();
    if let Some(x) = env("XDG_CACHE_HOME") {
        bases.push(PathBuf::from(x));
    }
    if let Some(h) = env("HOME") {
        bases.push(PathBuf::from(h).join(".cache"));
    }
    bases.push(std::env::temp_dir());
    bases
}

/// Writes `archive` into `dir` as `name` unless a copy of the right size is already there.
fn unpack(dir: &Path, archive: &[u8], name: &str) -> std::io::Result<()> {
    let path = dir.join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == archive.len() as u64) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".runtime-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(archive)?;
    tmp.as_file().sync_all()?;
    // Temporary files are created private; the archive is ordinary read-only data (a cache in the
    // shared temporary directory may be read by other users).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_once_and_reuses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("rt");
        unpack(&target, b"archive bytes", blood_abi::RUNTIME_ARCHIVE_FULL).expect("unpack");
        let path = target.join(blood_abi::RUNTIME_ARCHIVE_FULL);
        assert_eq!(std::fs::read(&path).expect("read"), b"archive bytes");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
        unpack(&target, b"archive bytes", blood_abi::RUNTIME_ARCHIVE_FULL).expect("unpack again");
        assert_eq!(std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime"), modified);
        // A truncated copy (wrong size) is replaced.
        std::fs::write(&path, b"trunc").expect("truncate");
        unpack(&target, b"archive bytes", blood_abi::RUNTIME_ARCHIVE_FULL).expect("repair");
        assert_eq!(std::fs::read(&path).expect("read"), b"archive bytes");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(&target).expect("list").count(), 1);
    }

    #[test]
    fn concurrent_unpacks_are_safe() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("rt");
        let data = vec![7u8; 1 << 20];
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| unpack(&target, &data, blood_abi::RUNTIME_ARCHIVE_FULL).expect("unpack"));
            }
        });
        assert_eq!(std::fs::read(target.join(blood_abi::RUNTIME_ARCHIVE_FULL)).expect("read"), data);
        assert_eq!(std::fs::read_dir(&target).expect("list").count(), 1);
    }

    #[test]
    fn uses_the_xdg_cache_and_the_override() {
        let cache = tempfile::tempdir().expect("temp dir");
        let cache_path = cache.path().as_os_str().to_owned();
        let found = find_runtime(RuntimeKind::Full, |name| (name == "XDG_CACHE_HOME").then(|| cache_path.clone()))
            .expect("unpack");
        assert_eq!(found, cache.path().join("blood").join(format!("runtime-{HASH}")));
        assert_eq!(
            std::fs::metadata(found.join(blood_abi::RUNTIME_ARCHIVE_FULL)).expect("archive").len(),
            EMBEDDED.len() as u64
        );

        let found_dir = found.as_os_str().to_owned();
        let overridden =
            find_runtime(RuntimeKind::Full, |name| (name == "BLOOD_RUNTIME_DIR").then(|| found_dir.clone()));
        assert_eq!(overridden.expect("override"), found);
        let empty = tempfile::tempdir().expect("temp dir");
        let empty_path = empty.path().as_os_str().to_owned();
        let err = find_runtime(RuntimeKind::Full, |name| (name == "BLOOD_RUNTIME_DIR").then(|| empty_path.clone()))
            .unwrap_err();
        assert!(err.contains("does not contain libblood_runtime.a"), "{err}");
        // The minimal runtime unpacks to a directory of its own.
        let minimal = find_runtime(RuntimeKind::Minimal, |name| (name == "XDG_CACHE_HOME").then(|| cache_path.clone()))
            .expect("unpack minimal");
        assert_eq!(minimal, cache.path().join("blood").join(format!("runtime-minimal-{HASH_MINIMAL}")));
        assert!(minimal.join(blood_abi::RUNTIME_ARCHIVE_MINIMAL).is_file());
        assert_eq!(RuntimeKind::Minimal.link_name(), "blood_runtime_minimal");
        assert_eq!(RuntimeKind::Full.link_name(), "blood_runtime");
    }
}
