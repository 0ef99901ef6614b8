//! The download cache under `BLOOD_HOME` (default `~/.blood`).
//!
//! ```text
//! $BLOOD_HOME/registry/<host>-<hash>/index/NAME.jsonl                 last index fetched (for --offline)
//! $BLOOD_HOME/registry/<host>-<hash>/archives/NAME-VERSION.tar.gz     verified archives
//! $BLOOD_HOME/registry/<host>-<hash>/src/NAME-VERSION/                extracted sources
//! ```
//!
//! Each registry URL gets its own directory (host for humans, hash of the URL for uniqueness).
//! Everything is installed by a rename from a temporary sibling, so a directory or file that
//! exists is complete: an interrupted extraction or download leaves only a registered temp path,
//! which the driver's cancellation cleanup removes.

use std::path::{Path, PathBuf};

use semver::Version;

use super::archive::{self, ExtractLimits};
use super::registry;
use crate::driver::cancel::{self, Cancelled};

#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// `BLOOD_HOME`, or `~/.blood`.
    pub fn from_env() -> Result<Cache, String> {
        if let Some(home) = std::env::var_os("BLOOD_HOME").filter(|h| !h.is_empty()) {
            return Ok(Cache::new(PathBuf::from(home)));
        }
        match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => Ok(Cache::new(PathBuf::from(home).join(".blood"))),
            None => Err("cannot find the cache directory: set BLOOD_HOME or HOME".to_string()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn registry_dir(&self, url: &str) -> PathBuf {
        let host = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or("registry");
        let host: String =
            host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let host = if host.is_empty() { "local".to_string() } else { host };
        let hash = &registry::sha256_hex(url.trim_end_matches('/').as_bytes())[..16];
        self.root.join("registry").join(format!("{host}-{hash}"))
    }

    pub fn index_file(&self, url: &str, name: &str) -> PathBuf {
        self.registry_dir(url).join("index").join(format!("{name}.jsonl"))
    }

    pub fn archive_file(&self, url: &str, name: &str, version: &Version) -> PathBuf {
        self.registry_dir(url).join("archives").join(format!("{name}-{version}.tar.gz"))
    }

    pub fn source_dir(&self, url: &str, name: &str, version: &Version) -> PathBuf {
        self.registry_dir(url).join("src").join(format!("{name}-{version}"))
    }

    /// Stores an index file for offline use.
    pub fn store_index(&self, url: &str, name: &str, text: &str) -> Result<(), String> {
        let path = self.index_file(url, name);
        create_dir(path.parent().unwrap_or(&self.root))?;
        super::write_atomically(&path, text.as_bytes())
    }

    pub fn cached_index(&self, url: &str, name: &str) -> Option<String> {
        std::fs::read_to_string(self.index_file(url, name)).ok()
    }

    /// Whether the archive in the cache exists and has the checksum `sha256`.
    pub fn archive_ok(&self, url: &str, name: &str, version: &Version, sha256: &str) -> bool {
        std::fs::read(self.archive_file(url, name, version))
            .is_ok_and(|bytes| registry::sha256_hex(&bytes).eq_ignore_ascii_case(sha256))
    }

    /// Extracts the cached archive of `name version` (verified against `sha256` again: the cache
    /// is a plain directory anyone can write) into its source directory, unless already there.
    pub fn install(&self, url: &str, name: &str, version: &Version, sha256: &str) -> Result<PathBuf, InstallError> {
        let dest = self.source_dir(url, name, version);
        if dest.is_dir() {
            return Ok(dest);
        }
        let archive_path = self.archive_file(url, name, version);
        let bytes = std::fs::read(&archive_path)
            .map_err(|e| InstallError::Failed(format!("cannot read `{}`: {e}", archive_path.display())))?;
        let actual = registry::sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(sha256) {
            let _ = std::fs::remove_file(&archive_path);
            return Err(InstallError::Failed(format!(
                "the cached archive of `{name} {version}` has checksum {actual}, expected {sha256}; it was removed, fetch again"
            )));
        }
        let parent = dest.parent().unwrap_or(&self.root);
        create_dir(parent).map_err(InstallError::Failed)?;
        let tmp = cancel::temp_dir_in(parent, &format!(".{name}-{version}.tmp-"))
            .map_err(|e| InstallError::Failed(format!("cannot create a directory in `{}`: {e}", parent.display())))?;
        let top = format!("{name}-{version}");
        archive::extract(bytes.as_slice(), &top, tmp.path(), ExtractLimits::default()).map_err(|e| {
            InstallError::Failed(format!("cannot unpack `{name} {version}` ({}): {e}", archive_path.display()))
        })?;
        match cancel::commit(|| std::fs::rename(tmp.path(), &dest))? {
            Ok(()) => tmp.keep(),
            // Another process installed it concurrently: theirs is as good as ours.
            Err(_) if dest.is_dir() => {}
            Err(e) => return Err(InstallError::Failed(format!("cannot install into `{}`: {e}", dest.display()))),
        }
        Ok(dest)
    }
}

#[derive(Debug)]
pub enum InstallError {
    Cancelled,
    Failed(String),
}

impl From<Cancelled> for InstallError {
    fn from(_: Cancelled) -> InstallError {
        InstallError::Cancelled
    }
}

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_separates_registries() {
        let c = Cache::new("/h");
        let a = c.source_dir("http://127.0.0.1:1/", "x", &Version::new(1, 0, 0));
        let b = c.source_dir("http://127.0.0.1:2", "x", &Version::new(1, 0, 0));
        assert_ne!(a, b);
        assert!(a.starts_with("/h/registry"));
        assert!(a.ends_with("src/x-1.0.0"));
        assert_eq!(
            c.source_dir("http://h/r/", "x", &Version::new(1, 0, 0)),
            c.source_dir("http://h/r", "x", &Version::new(1, 0, 0))
        );
    }
}
