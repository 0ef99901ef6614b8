//! `Blood.lock`: the exact versions and checksums a package was built with.
//!
//! The lock makes builds reproducible (the same versions on every machine until someone runs
//! `blood fetch` after changing the manifest) and tamper-evident (a registry serving different
//! bytes for a locked version is refused). It is TOML, sorted by name, rewritten only when its
//! content changes, so diffs stay small:
//!
//! ```toml
//! version = 1
//!
//! [[package]]
//! name = "json"
//! version = "1.2.0"
//! source = "registry+http://127.0.0.1:8080/"
//! checksum = "sha256:…"
//! dependencies = ["fmt ^0.3"]
//! ```
//!
//! Path dependencies are recorded with `source = "path+../util"` and no checksum (their source
//! is the working tree).

use std::path::Path;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

pub const LOCK_NAME: &str = "Blood.lock";
const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    pub version: u32,
    #[serde(default, rename = "package", skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<LockedPackage>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    pub name: String,
    pub version: Version,
    /// `registry+URL` or `path+RELATIVE`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// The package's own requirements, `"name req"`, so the lock can be checked against the
    /// graph without the index.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

impl LockedPackage {
    /// The package's requirements, parsed back from `"name req"`.
    pub fn requirements(&self) -> Result<Vec<(String, VersionReq)>, String> {
        self.dependencies
            .iter()
            .map(|d| {
                let (name, req) = d.split_once(' ').unwrap_or((d.as_str(), "*"));
                let req = VersionReq::parse(req)
                    .map_err(|e| format!("{LOCK_NAME}: bad requirement `{d}` of `{}`: {e}", self.name))?;
                Ok((name.to_string(), req))
            })
            .collect()
    }

    pub fn registry_url(&self) -> Option<&str> {
        self.source.strip_prefix("registry+")
    }
}

impl LockFile {
    pub fn new(mut packages: Vec<LockedPackage>) -> LockFile {
        packages.sort();
        LockFile { version: FORMAT_VERSION, packages }
    }

    /// Reads `dir/Blood.lock`; `Ok(None)` if there is none.
    pub fn load(dir: &Path) -> Result<Option<LockFile>, String> {
        let path = dir.join(LOCK_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
        };
        LockFile::parse(&text).map(Some).map_err(|e| format!("invalid lock file `{}`: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<LockFile, String> {
        let lock: LockFile = toml::from_str(text).map_err(|e| super::manifest::toml_error(text, &e))?;
        if lock.version != FORMAT_VERSION {
            return Err(format!(
                "unsupported lock format version {} (this blood writes {FORMAT_VERSION})",
                lock.version
            ));
        }
        for p in &lock.packages {
            super::manifest::validate_name(&p.name)?;
        }
        Ok(LockFile::new(lock.packages))
    }

    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# Written by `blood fetch`; exact versions and checksums of the dependencies.\n{body}")
    }

    pub fn get(&self, name: &str) -> Option<&LockedPackage> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Writes the lock through a temporary file and a rename.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(LOCK_NAME);
        super::write_atomically(&path, self.to_text().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sorted() {
        let b = LockedPackage {
            name: "b".into(),
            version: Version::new(1, 0, 0),
            source: "path+../b".into(),
            checksum: None,
            dependencies: vec![],
        };
        let a = LockedPackage {
            name: "a".into(),
            version: Version::new(2, 1, 0),
            source: "registry+http://r/".into(),
            checksum: Some("sha256:00".into()),
            dependencies: vec!["b ^1".into()],
        };
        let lock = LockFile::new(vec![b, a]);
        assert_eq!(lock.packages[0].name, "a");
        let text = lock.to_text();
        let back = LockFile::parse(&text).unwrap();
        assert_eq!(back, lock);
        assert_eq!(
            back.get("a").unwrap().requirements().unwrap(),
            vec![("b".to_string(), VersionReq::parse("^1").unwrap())]
        );
        assert_eq!(back.get("a").unwrap().registry_url(), Some("http://r/"));
        assert!(LockFile::parse("version = 7\n").unwrap_err().contains("unsupported"));
    }
}
