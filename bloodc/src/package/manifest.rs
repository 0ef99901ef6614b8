//! `Blood.toml`: the package manifest.
//!
//! ```toml
//! [package]
//! name = "hello"            # a Blood identifier: dependencies are imported as `use hello.…`
//! version = "0.1.0"         # semver
//! entry = "src/main.blood"  # optional; this is the default
//!
//! [registry]
//! url = "https://blood.example/registry"   # optional; BLOOD_REGISTRY and --registry override
//!
//! [dependencies]
//! json = "1.2"                       # a version requirement, from the registry
//! util = { path = "../util" }        # a package on disk
//! fmt = { version = "^0.3" }
//! ```
//!
//! Parsing is strict (unknown keys are errors) so a misspelt `[dependecies]` is not silently
//! ignored, and every error names the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use serde::Deserialize;

pub const MANIFEST_NAME: &str = "Blood.toml";
pub const DEFAULT_ENTRY: &str = "src/main.blood";

/// A parsed and validated manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub version: Version,
    /// The entry file, relative to the package root.
    pub entry: PathBuf,
    pub registry: Option<String>,
    pub dependencies: BTreeMap<String, Dependency>,
}

/// Where a dependency comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Dependency {
    Registry(VersionReq),
    /// A path relative to the depending package's root (as written in the manifest).
    Path(PathBuf),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    package: RawPackage,
    #[serde(default)]
    registry: Option<RawRegistry>,
    #[serde(default)]
    dependencies: BTreeMap<String, RawDependency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    entry: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    authors: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    url: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDependency {
    Version(String),
    Table(RawDependencyTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDependencyTable {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

impl Manifest {
    /// Reads `dir/Blood.toml`.
    pub fn load(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(MANIFEST_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Manifest::parse(&text).map_err(|e| format!("invalid manifest `{}`: {e}", path.display()))
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let _ = (&raw.package.description, &raw.package.license, &raw.package.authors);
        validate_name(&raw.package.name).map_err(|e| format!("package name: {e}"))?;
        let version = Version::parse(&raw.package.version)
            .map_err(|e| format!("version `{}` is not semver: {e}", raw.package.version))?;
        let entry = PathBuf::from(raw.package.entry.as_deref().unwrap_or(DEFAULT_ENTRY));
        if entry.is_absolute() || entry.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(format!("entry `{}` must be a path inside the package", entry.display()));
        }
        let mut dependencies = BTreeMap::new();
        for (name, raw_dep) in raw.dependencies {
            validate_name(&name).map_err(|e| format!("dependency `{name}`: {e}"))?;
            if name == raw.package.name {
                return Err(format!("package `{name}` cannot depend on itself"));
            }
            let dep = match raw_dep {
                RawDependency::Version(req) => Dependency::Registry(parse_req(&name, &req)?),
                RawDependency::Table(RawDependencyTable { version: Some(_), path: Some(_) }) => {
                    return Err(format!("dependency `{name}`: give either `version` or `path`, not both"));
                }
                RawDependency::Table(RawDependencyTable { version: Some(req), path: None }) => {
                    Dependency::Registry(parse_req(&name, &req)?)
                }
                RawDependency::Table(RawDependencyTable { version: None, path: Some(path) }) => {
                    Dependency::Path(PathBuf::from(path))
                }
                RawDependency::Table(RawDependencyTable { version: None, path: None }) => {
                    return Err(format!("dependency `{name}`: give `version` or `path`"));
                }
            };
            dependencies.insert(name, dep);
        }
        Ok(Manifest { name: raw.package.name, version, entry, registry: raw.registry.map(|r| r.url), dependencies })
    }

    /// The manifest text `blood new` writes.
    pub fn template(name: &str) -> String {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nentry = \"{DEFAULT_ENTRY}\"\n\n[dependencies]\n")
    }
}

/// `line L, column C: message` for a TOML error (the position is where the parser stopped).
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", e.message().trim_end())
        }
        None => e.message().trim_end().to_string(),
    }
}

fn parse_req(name: &str, req: &str) -> Result<VersionReq, String> {
    VersionReq::parse(req).map_err(|e| format!("dependency `{name}`: `{req}` is not a version requirement: {e}"))
}

/// A package name is a Blood identifier (it is the first segment of `use name.…`), lower case
/// so that names are unique on case-insensitive file systems, at most 64 bytes.
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok_start = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if name.is_empty() || !ok_start || !ok_rest || name == "_" {
        return Err(format!(
            "`{name}` is not a valid package name (use lower-case letters, digits and `_`, starting with a letter)"
        ));
    }
    if name.len() > 64 {
        return Err(format!("`{name}` is longer than 64 characters"));
    }
    Ok(())
}

/// The nearest directory at or above `start` holding a `Blood.toml`.
pub fn find_package_root(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start.ancestors().find(|dir| dir.join(MANIFEST_NAME).is_file()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_manifest() {
        let m = Manifest::parse(
            "[package]\nname = \"app\"\nversion = \"1.2.3\"\n[registry]\nurl = \"http://r\"\n\
             [dependencies]\njson = \"1.2\"\nutil = { path = \"../util\" }\nfmt = { version = \"^0.3\" }\n",
        )
        .unwrap();
        assert_eq!(m.name, "app");
        assert_eq!(m.version, Version::new(1, 2, 3));
        assert_eq!(m.entry, PathBuf::from(DEFAULT_ENTRY));
        assert_eq!(m.registry.as_deref(), Some("http://r"));
        assert_eq!(m.dependencies["json"], Dependency::Registry(VersionReq::parse("1.2").unwrap()));
        assert_eq!(m.dependencies["util"], Dependency::Path(PathBuf::from("../util")));
        assert_eq!(m.dependencies["fmt"], Dependency::Registry(VersionReq::parse("^0.3").unwrap()));
    }

    #[test]
    fn template_parses() {
        let m = Manifest::parse(&Manifest::template("my_app")).unwrap();
        assert_eq!(m.name, "my_app");
        assert!(m.dependencies.is_empty());
    }

    #[test]
    fn rejects_bad_manifests() {
        let cases = [
            ("[package]\nname = \"Bad-Name\"\nversion = \"1.0.0\"\n", "not a valid package name"),
            ("[package]\nname = \"a\"\nversion = \"1.0\"\n", "not semver"),
            ("[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependecies]\n", "unknown field"),
            ("[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\nb = \"not a req\"\n", "requirement"),
            (
                "[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\nb = { path = \"x\", version = \"1\" }\n",
                "not both",
            ),
            ("[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\na = \"1\"\n", "itself"),
            ("[package]\nname = \"a\"\nversion = \"1.0.0\"\nentry = \"../x.blood\"\n", "inside the package"),
        ];
        let err = Manifest::parse("[package]\nname = \"a\"\nversion = 1.0.0\n").unwrap_err();
        assert!(err.starts_with("line 3, column"), "{err}");
        for (text, want) in cases {
            let err = Manifest::parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
