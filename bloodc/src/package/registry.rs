//! The registry format (static files any HTTP server can serve) and `blood publish`.
//!
//! A registry is a directory tree:
//!
//! ```text
//! index/NAME.jsonl                     one JSON object per line, one line per version
//! archives/NAME/NAME-VERSION.tar.gz    the package sources under NAME-VERSION/
//! ```
//!
//! An index line: `{"name":"json","vers":"1.2.0","deps":[{"name":"fmt","req":"^0.3"}],
//! "sha256":"<hex>","url":"archives/json/json-1.2.0.tar.gz","yanked":false}`. `url` is relative
//! to the registry root (or absolute). Why this shape: it needs no server logic (a plain file
//! server, object storage or `python3 -m http.server` is a registry), the client fetches only
//! the index files of the packages it needs (like Cargo's sparse index), and appending a
//! version never rewrites an archive. The checksum is SHA-256 of the archive bytes, the format
//! every mirror tool can verify (`sha256sum`).

use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};

use super::archive;
use super::manifest::{Dependency, MANIFEST_NAME, Manifest};
use super::resolver::Candidate;

/// One version in an index file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub name: String,
    pub vers: Version,
    #[serde(default)]
    pub deps: Vec<IndexDependency>,
    pub sha256: String,
    pub url: String,
    #[serde(default)]
    pub yanked: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDependency {
    pub name: String,
    pub req: semver::VersionReq,
}

impl IndexEntry {
    pub fn candidate(&self) -> Candidate {
        Candidate {
            version: self.vers.clone(),
            dependencies: self.deps.iter().map(|d| (d.name.clone(), d.req.clone())).collect(),
            yanked: self.yanked,
        }
    }
}

/// The index path of `name`, relative to the registry root.
pub fn index_path(name: &str) -> String {
    format!("index/{name}.jsonl")
}

/// The archive path of `name version`, relative to the registry root.
pub fn archive_path(name: &str, version: &Version) -> String {
    format!("archives/{name}/{name}-{version}.tar.gz")
}

/// Parses an index file. Blank lines are skipped; each entry must be for `name`.
pub fn parse_index(name: &str, text: &str) -> Result<Vec<IndexEntry>, String> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: IndexEntry =
            serde_json::from_str(line).map_err(|e| format!("index of `{name}`, line {}: {e}", n + 1))?;
        if entry.name != name {
            return Err(format!("index of `{name}`, line {}: entry is for `{}`", n + 1, entry.name));
        }
        // Names become file names and URLs: a hostile index must not smuggle in `../`.
        for dep in &entry.deps {
            super::manifest::validate_name(&dep.name)
                .map_err(|e| format!("index of `{name}`, line {}: dependency {e}", n + 1))?;
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Joins an index `url` with the registry base URL.
pub fn absolute_url(base: &str, url: &str) -> String {
    if url.contains("://") { url.to_string() } else { format!("{}/{}", base.trim_end_matches('/'), url) }
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `blood publish` wrote.
#[derive(Debug)]
pub struct Published {
    pub name: String,
    pub version: Version,
    pub archive: PathBuf,
    pub sha256: String,
}

/// Publishes the package at `root` into the registry directory `registry`: writes the archive
/// and appends the index line (each through a temporary file and a rename). Refuses path
/// dependencies (a registry package must be buildable from the registry alone) and versions
/// already published (published archives never change: locks depend on their checksums).
pub fn publish(root: &Path, registry: &Path) -> Result<Published, String> {
    let manifest = Manifest::load(root)?;
    let mut deps = Vec::new();
    for (name, dep) in &manifest.dependencies {
        match dep {
            Dependency::Registry(req) => deps.push(IndexDependency { name: name.clone(), req: req.clone() }),
            Dependency::Path(path) => {
                return Err(format!(
                    "cannot publish `{}`: dependency `{name}` is a path dependency (`{}`); publish it and depend on a version",
                    manifest.name,
                    path.display()
                ));
            }
        }
    }
    if !root.join(&manifest.entry).is_file() {
        return Err(format!(
            "cannot publish `{}`: the entry `{}` does not exist",
            manifest.name,
            manifest.entry.display()
        ));
    }
    let index_file = registry.join(index_path(&manifest.name));
    let mut entries = match std::fs::read_to_string(&index_file) {
        Ok(text) => parse_index(&manifest.name, &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("cannot read `{}`: {e}", index_file.display())),
    };
    if entries.iter().any(|e| e.vers == manifest.version) {
        return Err(format!(
            "`{} {}` is already published in `{}`; bump the version in {MANIFEST_NAME}",
            manifest.name,
            manifest.version,
            registry.display()
        ));
    }
    let files = package_files(root)?;
    let top = format!("{}-{}", manifest.name, manifest.version);
    let bytes = archive::pack(root, &top, &files)?;
    let sha256 = sha256_hex(&bytes);
    let rel = archive_path(&manifest.name, &manifest.version);
    let archive_file = registry.join(&rel);
    create_parent(&archive_file)?;
    super::write_atomically(&archive_file, &bytes)?;
    entries.push(IndexEntry {
        name: manifest.name.clone(),
        vers: manifest.version.clone(),
        deps,
        sha256: sha256.clone(),
        url: rel,
        yanked: false,
    });
    let mut text = String::new();
    for e in &entries {
        text.push_str(&serde_json::to_string(e).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    create_parent(&index_file)?;
    super::write_atomically(&index_file, text.as_bytes())?;
    Ok(Published { name: manifest.name, version: manifest.version, archive: archive_file, sha256 })
}

fn create_parent(path: &Path) -> Result<(), String> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))
}

/// The files a published archive contains: `Blood.toml`, everything under `src/`, and
/// top-level README/LICENSE files. Hidden files and `target/` are left out.
fn package_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = vec![PathBuf::from(MANIFEST_NAME)];
    let read = |dir: &Path| std::fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()));
    for entry in read(root)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let upper = name.to_ascii_uppercase();
        if (upper.starts_with("README") || upper.starts_with("LICENSE")) && entry.path().is_file() {
            files.push(PathBuf::from(name));
        }
    }
    let mut stack = vec![PathBuf::from("src")];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        if !dir.is_dir() {
            continue;
        }
        for entry in read(&dir)?.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let file_type = entry.file_type().map_err(|e| e.to_string())?;
            if file_type.is_dir() {
                stack.push(rel.join(&name));
            } else if file_type.is_file() {
                files.push(rel.join(&name));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lines_round_trip_and_are_checked() {
        let line = r#"{"name":"a","vers":"1.0.0","deps":[{"name":"b","req":"^2"}],"sha256":"ab","url":"archives/a/a-1.0.0.tar.gz"}"#;
        let entries = parse_index("a", &format!("{line}\n\n")).unwrap();
        assert_eq!(entries.len(), 1);
        assert!(!entries[0].yanked);
        assert_eq!(entries[0].candidate().dependencies[0].0, "b");
        assert!(parse_index("b", line).unwrap_err().contains("entry is for `a`"));
        assert!(parse_index("a", "{").unwrap_err().contains("line 1"));
        let evil = line.replace("\"name\":\"b\"", "\"name\":\"../b\"");
        assert!(parse_index("a", &evil).unwrap_err().contains("not a valid package name"));
    }

    #[test]
    fn urls_join() {
        assert_eq!(absolute_url("http://h/r/", "archives/x"), "http://h/r/archives/x");
        assert_eq!(absolute_url("http://h/r", "https://cdn/x"), "https://cdn/x");
    }

    #[test]
    fn publish_writes_archive_and_index_once() {
        let pkg = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(pkg.path().join("src")).unwrap();
        std::fs::write(pkg.path().join("Blood.toml"), Manifest::template("lib_a")).unwrap();
        std::fs::write(pkg.path().join("src/main.blood"), "fn main() {}\n").unwrap();
        let reg = tempfile::tempdir().unwrap();
        let p = publish(pkg.path(), reg.path()).unwrap();
        assert_eq!(sha256_hex(&std::fs::read(&p.archive).unwrap()), p.sha256);
        let index = std::fs::read_to_string(reg.path().join(index_path("lib_a"))).unwrap();
        assert_eq!(parse_index("lib_a", &index).unwrap()[0].sha256, p.sha256);
        assert!(publish(pkg.path(), reg.path()).unwrap_err().contains("already published"));
    }
}
