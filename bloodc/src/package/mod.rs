//! Packages: `Blood.toml`, dependency resolution, `Blood.lock`, fetching and the cache.
//!
//! [`prepare`] is what `blood build`/`run`/`check`/`fetch` call inside a package: it collects
//! path dependencies (recursively), resolves every requirement to one version per package
//! ([`resolver`], pure), reuses `Blood.lock` when it still satisfies the manifests (so a locked
//! build needs no network), otherwise reads the registry index ([`fetcher`], the only network
//! code; or the cache with `--offline`), downloads and verifies archives into the [`cache`],
//! extracts them safely ([`archive`]) and writes the lock. [`dependency_roots`] gives the module
//! loader the source directory of each dependency.
//!
//! [`imports`] then makes each dependency a module of the program, so `use name.…` reaches
//! its public items.

pub mod archive;
pub mod cache;
pub mod fetcher;
pub mod imports;
pub mod lock;
pub mod manifest;
pub mod registry;
pub mod resolver;

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use semver::{Version, VersionReq};

use crate::driver::cancel::{self, Cancelled};
use cache::{Cache, InstallError};
use fetcher::{FetchConfig, FetchError, Fetcher};
use lock::{LockFile, LockedPackage};
use manifest::{Dependency, Manifest};
use registry::IndexEntry;
use resolver::{Candidate, CandidateSource};

/// Why a package operation failed.
#[derive(Debug, PartialEq)]
pub enum PackageError {
    /// Ctrl+C / SIGTERM (exit status 130).
    Cancelled,
    /// Anything else, with a message naming the package, file or URL (exit status 1).
    Failed(String),
}

impl From<String> for PackageError {
    fn from(message: String) -> PackageError {
        PackageError::Failed(message)
    }
}

impl From<Cancelled> for PackageError {
    fn from(_: Cancelled) -> PackageError {
        PackageError::Cancelled
    }
}

impl From<FetchError> for PackageError {
    fn from(e: FetchError) -> PackageError {
        match e {
            FetchError::Cancelled => PackageError::Cancelled,
            other => PackageError::Failed(other.to_string()),
        }
    }
}

impl From<InstallError> for PackageError {
    fn from(e: InstallError) -> PackageError {
        match e {
            InstallError::Cancelled => PackageError::Cancelled,
            InstallError::Failed(m) => PackageError::Failed(m),
        }
    }
}

/// Settings of [`prepare`].
#[derive(Clone, Debug, Default)]
pub struct PackageOptions {
    /// Fail if `Blood.lock` is missing or would change (`--locked`).
    pub locked: bool,
    /// Use only the cache (`--offline`).
    pub offline: bool,
    /// Registry URL from the command line (`--registry`); beats `BLOOD_REGISTRY` and the manifest.
    pub registry: Option<String>,
    pub fetch: FetchConfig,
    /// Draw download progress bars (stderr is a terminal and not `--quiet`).
    pub progress: bool,
    /// The cache; `None` means `BLOOD_HOME` or `~/.blood`.
    pub cache: Option<PathBuf>,
}

/// A package on disk.
#[derive(Clone, Debug)]
pub struct Package {
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl Package {
    pub fn load(root: &Path) -> Result<Package, String> {
        let root = std::fs::canonicalize(root).map_err(|e| format!("cannot open `{}`: {e}", root.display()))?;
        let manifest = Manifest::load(&root)?;
        Ok(Package { root, manifest })
    }

    pub fn entry_path(&self) -> PathBuf {
        self.root.join(&self.manifest.entry)
    }

    /// `target/<name>`: where `blood build` puts the executable.
    pub fn output_path(&self) -> PathBuf {
        self.root.join("target").join(&self.manifest.name)
    }
}

/// One resolved dependency.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedPackage {
    pub name: String,
    pub version: Version,
    /// The package's root directory (holding its `Blood.toml`).
    pub root: PathBuf,
    /// The file whose items form the package's module (see [`imports::library_root`]).
    pub root_file: PathBuf,
    /// `true` for a path dependency, `false` for one from the registry.
    pub is_path: bool,
}

/// The result of [`prepare`].
#[derive(Clone, Debug)]
pub struct Resolved {
    pub packages: Vec<ResolvedPackage>,
    pub lock: LockFile,
    /// Whether `Blood.lock` was (re)written.
    pub lock_written: bool,
}

/// The source directory of every dependency, by the name used in `use name.…` (each
/// package's `src/`).
pub fn dependency_roots(resolved: &Resolved) -> Vec<(String, PathBuf)> {
    resolved.packages.iter().map(|p| (p.name.clone(), p.root.join("src"))).collect()
}

/// The root file of every dependency's module, by name: what [`imports::attach_dependencies`]
/// (through `CompileOptions::dependencies`) loads.
pub fn dependency_modules(resolved: &Resolved) -> Vec<(String, PathBuf)> {
    resolved.packages.iter().map(|p| (p.name.clone(), p.root_file.clone())).collect()
}

/// Resolves, fetches and installs the dependencies of `package`, and writes `Blood.lock`.
pub fn prepare(package: &Package, options: &PackageOptions) -> Result<Resolved, PackageError> {
    let paths = collect_path_packages(package)?;
    let root_reqs = requirements_of(&package.manifest, &paths);
    let url = registry_url(package, options);
    let needs_registry = std::iter::once(&package.manifest)
        .chain(paths.values().map(|(_, m)| m))
        .any(|m| m.dependencies.values().any(|d| matches!(d, Dependency::Registry(_))));
    let cache = match &options.cache {
        Some(dir) => Cache::new(dir),
        None => match Cache::from_env() {
            Ok(cache) => cache,
            // Path dependencies alone never touch the cache.
            Err(_) if !needs_registry => Cache::new(std::env::temp_dir().join("blood-home-unused")),
            Err(e) => return Err(PackageError::Failed(e)),
        },
    };
    let old_lock = LockFile::load(&package.root)?;
    let fetcher = Fetcher::new(options.fetch.clone(), cancel::global().clone(), options.progress);
    let mut index = IndexSource {
        fetcher: &fetcher,
        cache: &cache,
        url: url.as_deref(),
        options,
        paths: &paths,
        entries: HashMap::new(),
        cancelled: false,
    };

    let reused = old_lock.as_ref().filter(|l| lock_satisfies(l, &root_reqs, &paths, url.as_deref(), &package.root));
    let new_lock = match reused {
        Some(lock) => {
            tracing::debug!("Blood.lock satisfies the manifests; no resolution needed");
            lock.clone()
        }
        None => {
            if options.locked {
                return Err(PackageError::Failed(format!(
                    "Blood.lock in `{}` is {} and --locked was given; run `blood fetch` to update it",
                    package.root.display(),
                    if old_lock.is_some() { "out of date" } else { "missing" }
                )));
            }
            let locked: BTreeMap<String, Version> =
                old_lock.iter().flat_map(|l| &l.packages).map(|p| (p.name.clone(), p.version.clone())).collect();
            let resolution = resolver::resolve(&package.manifest.name, &root_reqs, &locked, &mut index);
            if index.cancelled || cancel::is_cancelled() {
                return Err(PackageError::Cancelled);
            }
            let resolution = resolution
                .map_err(|e| format!("cannot resolve the dependencies of `{}`: {e}", package.manifest.name))?;
            build_lock(&resolution, &index, &paths, &package.root, old_lock.as_ref())?
        }
    };
    if options.locked && old_lock.as_ref() != Some(&new_lock) {
        return Err(PackageError::Failed("Blood.lock would change and --locked was given".to_string()));
    }

    let packages = install_all(&new_lock, &mut index, &paths)?;
    let lock_written = old_lock.as_ref() != Some(&new_lock);
    if lock_written {
        cancel::global().check()?;
        new_lock.save(&package.root)?;
    }
    Ok(Resolved { packages, lock: new_lock, lock_written })
}

/// Path packages by name: root directory and manifest. Recursive; the dependency's name must
/// be the name in its manifest.
fn collect_path_packages(package: &Package) -> Result<BTreeMap<String, (PathBuf, Manifest)>, String> {
    let mut found: BTreeMap<String, (PathBuf, Manifest)> = BTreeMap::new();
    let mut stack = vec![(package.root.clone(), package.manifest.clone())];
    while let Some((dir, manifest)) = stack.pop() {
        for (name, dep) in &manifest.dependencies {
            let Dependency::Path(rel) = dep else { continue };
            let joined = dir.join(rel);
            let dep_root = std::fs::canonicalize(&joined).map_err(|e| {
                format!("dependency `{name}` of `{}`: cannot open `{}`: {e}", manifest.name, joined.display())
            })?;
            if dep_root == package.root || name == &package.manifest.name {
                return Err(format!(
                    "dependency `{name}` of `{}` leads back to the package `{}` itself",
                    manifest.name, package.manifest.name
                ));
            }
            if let Some((existing, _)) = found.get(name) {
                if existing != &dep_root {
                    return Err(format!(
                        "two path dependencies are named `{name}`: `{}` and `{}`",
                        existing.display(),
                        dep_root.display()
                    ));
                }
                continue;
            }
            let dep_manifest = Manifest::load(&dep_root).map_err(|e| format!("dependency `{name}`: {e}"))?;
            if &dep_manifest.name != name {
                return Err(format!(
                    "dependency `{name}` of `{}` points to `{}`, whose package is named `{}`",
                    manifest.name,
                    dep_root.display(),
                    dep_manifest.name
                ));
            }
            found.insert(name.clone(), (dep_root.clone(), dep_manifest.clone()));
            stack.push((dep_root, dep_manifest));
        }
    }
    Ok(found)
}

/// A manifest's requirements; path dependencies require exactly their manifest's version.
fn requirements_of(manifest: &Manifest, paths: &BTreeMap<String, (PathBuf, Manifest)>) -> Vec<(String, VersionReq)> {
    manifest
        .dependencies
        .iter()
        .map(|(name, dep)| match dep {
            Dependency::Registry(req) => (name.clone(), req.clone()),
            Dependency::Path(_) => {
                let version = paths.get(name).map(|(_, m)| m.version.clone()).unwrap_or(Version::new(0, 0, 0));
                (name.clone(), exact(&version))
            }
        })
        .collect()
}

fn exact(version: &Version) -> VersionReq {
    VersionReq::parse(&format!("={version}")).unwrap_or(VersionReq::STAR)
}

fn requirement_strings(reqs: &[(String, VersionReq)]) -> Vec<String> {
    reqs.iter().map(|(n, r)| format!("{n} {r}")).collect()
}

/// `--registry`, then `BLOOD_REGISTRY`, then `[registry] url`; trailing `/` removed. A plain
/// directory path is accepted as `file://`.
fn registry_url(package: &Package, options: &PackageOptions) -> Option<String> {
    let raw = options
        .registry
        .clone()
        .or_else(|| std::env::var("BLOOD_REGISTRY").ok().filter(|s| !s.is_empty()))
        .or_else(|| package.manifest.registry.clone())?;
    let url = if raw.contains("://") {
        raw
    } else {
        let path = Path::new(&raw);
        let abs = if path.is_absolute() { path.to_path_buf() } else { package.root.join(path) };
        format!("file://{}", abs.display())
    };
    Some(url.trim_end_matches('/').to_string())
}

/// Whether `lock` is a complete, consistent solution for the current manifests.
fn lock_satisfies(
    lock: &LockFile,
    root_reqs: &[(String, VersionReq)],
    paths: &BTreeMap<String, (PathBuf, Manifest)>,
    url: Option<&str>,
    root: &Path,
) -> bool {
    let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
    let mut todo: Vec<(String, VersionReq)> = root_reqs.to_vec();
    while let Some((name, req)) = todo.pop() {
        let Some(entry) = lock.get(&name) else { return false };
        if !req.matches(&entry.version) {
            return false;
        }
        if seen.insert(entry.name.as_str(), ()).is_some() {
            continue;
        }
        let reqs = match paths.get(&name) {
            Some((dir, manifest)) => {
                let reqs = requirements_of(manifest, paths);
                if entry.source != path_source(root, dir) || entry.dependencies != requirement_strings(&reqs) {
                    return false;
                }
                reqs
            }
            None => {
                if url.is_none() || entry.registry_url() != url || entry.checksum.is_none() {
                    return false;
                }
                match entry.requirements() {
                    Ok(r) => r,
                    Err(_) => return false,
                }
            }
        };
        todo.extend(reqs);
    }
    seen.len() == lock.packages.len()
}

fn path_source(root: &Path, dir: &Path) -> String {
    format!("path+{}", relative_path(root, dir).display())
}

/// `to` relative to `from` (both absolute).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component<'_>> = from.components().collect();
    let b: Vec<Component<'_>> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c.as_os_str());
    }
    if rel.as_os_str().is_empty() { PathBuf::from(".") } else { rel }
}

fn build_lock(
    resolution: &resolver::Resolution,
    index: &IndexSource<'_>,
    paths: &BTreeMap<String, (PathBuf, Manifest)>,
    root: &Path,
    old: Option<&LockFile>,
) -> Result<LockFile, PackageError> {
    let mut packages = Vec::new();
    for (name, (version, _)) in resolution {
        if let Some((dir, manifest)) = paths.get(name) {
            packages.push(LockedPackage {
                name: name.clone(),
                version: version.clone(),
                source: path_source(root, dir),
                checksum: None,
                dependencies: requirement_strings(&requirements_of(manifest, paths)),
            });
            continue;
        }
        let entry = index
            .entry(name, version)
            .ok_or_else(|| format!("internal error: no index entry for `{name} {version}`"))?;
        let checksum = format!("sha256:{}", entry.sha256.to_ascii_lowercase());
        if let Some(previous) = old.and_then(|l| l.get(name)).filter(|p| &p.version == version)
            && previous.checksum.as_ref().is_some_and(|c| c != &checksum)
            && previous.registry_url() == index.url
        {
            return Err(PackageError::Failed(format!(
                "the registry's checksum of `{name} {version}` ({checksum}) differs from Blood.lock ({}); \
                 a published package must never change — refusing to use it",
                previous.checksum.as_deref().unwrap_or("")
            )));
        }
        let reqs: Vec<(String, VersionReq)> = entry.deps.iter().map(|d| (d.name.clone(), d.req.clone())).collect();
        packages.push(LockedPackage {
            name: name.clone(),
            version: version.clone(),
            source: format!("registry+{}", index.url.unwrap_or_default()),
            checksum: Some(checksum),
            dependencies: requirement_strings(&reqs),
        });
    }
    Ok(LockFile::new(packages))
}

/// Makes every locked package available on disk: path packages as they are, registry packages
/// downloaded (unless cached) and extracted.
fn install_all(
    lock: &LockFile,
    index: &mut IndexSource<'_>,
    paths: &BTreeMap<String, (PathBuf, Manifest)>,
) -> Result<Vec<ResolvedPackage>, PackageError> {
    let mut out = Vec::new();
    for p in &lock.packages {
        cancel::global().check()?;
        if let Some((dir, manifest)) = paths.get(&p.name) {
            out.push(ResolvedPackage {
                name: p.name.clone(),
                version: p.version.clone(),
                root: dir.clone(),
                root_file: imports::library_root(dir, &manifest.entry),
                is_path: true,
            });
            continue;
        }
        let url = p.registry_url().unwrap_or_default().to_string();
        let sha = p.checksum.as_deref().unwrap_or_default().trim_start_matches("sha256:").to_string();
        let cache = index.cache;
        let what = format!("`{} {}`", p.name, p.version);
        let source_dir = cache.source_dir(&url, &p.name, &p.version);
        if !source_dir.is_dir() {
            if !cache.archive_ok(&url, &p.name, &p.version, &sha) {
                if index.options.offline {
                    return Err(PackageError::Failed(format!(
                        "{what} is not in the cache ({}) and --offline was given; run `blood fetch` first",
                        cache.root().display()
                    )));
                }
                cancel::set_operation(cancel::Operation::Fetch);
                let entry = index.entry_or_fetch(&p.name, &p.version)?;
                let archive_url = registry::absolute_url(&url, &entry.url);
                if archive_url.starts_with("file://") && !url.starts_with("file://") {
                    return Err(PackageError::Failed(format!(
                        "the registry {url} points {what} to a local file ({archive_url}); refusing it"
                    )));
                }
                let dest = cache.archive_file(&url, &p.name, &p.version);
                crate::driver::logging::phase("fetch", &archive_url, || {
                    index.fetcher.download(&archive_url, &what, &dest, &sha)
                })?;
            }
            cache.install(&url, &p.name, &p.version, &sha)?;
        }
        // The archive's own manifest must describe the package it was downloaded as.
        let manifest = Manifest::load(&source_dir).map_err(|e| format!("{what}: {e}"))?;
        if manifest.name != p.name || manifest.version != p.version {
            return Err(PackageError::Failed(format!(
                "{what}: the archive contains `{} {}` instead",
                manifest.name, manifest.version
            )));
        }
        out.push(ResolvedPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            root_file: imports::library_root(&source_dir, &manifest.entry),
            root: source_dir,
            is_path: false,
        });
    }
    Ok(out)
}

/// Candidates from path packages and the registry index (network, or the cache when offline).
struct IndexSource<'a> {
    fetcher: &'a Fetcher,
    cache: &'a Cache,
    url: Option<&'a str>,
    options: &'a PackageOptions,
    paths: &'a BTreeMap<String, (PathBuf, Manifest)>,
    entries: HashMap<String, Vec<IndexEntry>>,
    cancelled: bool,
}

impl IndexSource<'_> {
    fn entry(&self, name: &str, version: &Version) -> Option<&IndexEntry> {
        self.entries.get(name)?.iter().find(|e| &e.vers == version)
    }

    fn load(&mut self, name: &str) -> Result<&Vec<IndexEntry>, PackageError> {
        if !self.entries.contains_key(name) {
            let Some(url) = self.url else {
                return Err(PackageError::Failed(format!(
                    "dependency `{name}` comes from a registry, but none is configured: \
                     set [registry] url in Blood.toml, BLOOD_REGISTRY or --registry"
                )));
            };
            let text = if self.options.offline {
                self.cache.cached_index(url, name).ok_or_else(|| {
                    format!(
                        "the index of `{name}` is not in the cache and --offline was given; run `blood fetch` first"
                    )
                })?
            } else {
                cancel::set_operation(cancel::Operation::Fetch);
                let index_url = registry::absolute_url(url, &registry::index_path(name));
                let what = format!("the index of `{name}`");
                let text =
                    crate::driver::logging::phase("fetch", &index_url, || self.fetcher.get_text(&index_url, &what))?
                        .ok_or_else(|| format!("no package named `{name}` in the registry {url}"))?;
                self.cache.store_index(url, name, &text)?;
                text
            };
            let entries = registry::parse_index(name, &text).map_err(|e| format!("registry {url}: {e}"))?;
            self.entries.insert(name.to_string(), entries);
        }
        Ok(&self.entries[name])
    }

    fn entry_or_fetch(&mut self, name: &str, version: &Version) -> Result<IndexEntry, PackageError> {
        let url = self.url.unwrap_or_default().to_string();
        let entries = self.load(name)?;
        entries
            .iter()
            .find(|e| &e.vers == version)
            .cloned()
            .ok_or_else(|| PackageError::Failed(format!("`{name} {version}` is no longer in the registry {url}")))
    }
}

impl CandidateSource for IndexSource<'_> {
    fn candidates(&mut self, name: &str) -> Result<Vec<Candidate>, String> {
        if let Some((_, manifest)) = self.paths.get(name) {
            let deps = requirements_of(manifest, self.paths);
            return Ok(vec![Candidate { version: manifest.version.clone(), dependencies: deps, yanked: false }]);
        }
        match self.load(name) {
            Ok(entries) => Ok(entries.iter().map(IndexEntry::candidate).collect()),
            Err(PackageError::Cancelled) => {
                self.cancelled = true;
                Err("cancelled".to_string())
            }
            Err(PackageError::Failed(m)) => Err(m),
        }
    }
}

/// Creates the package `name` in the new directory `dir`: `Blood.toml`, `src/main.blood` and a
/// `.gitignore` for `target/`.
pub fn new_package(dir: &Path, name: &str) -> Result<(), String> {
    manifest::validate_name(name)?;
    if dir.exists() {
        return Err(format!("`{}` already exists", dir.display()));
    }
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create `{}`: {e}", src.display()))?;
    let files = [
        (dir.join(manifest::MANIFEST_NAME), Manifest::template(name)),
        (src.join("main.blood"), "fn main() {\n    println(\"Hello, world!\")\n}\n".to_string()),
        (dir.join(".gitignore"), "/target\n".to_string()),
    ];
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

/// Writes through a temporary sibling and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/c/d")), PathBuf::from("../c/d"));
        assert_eq!(relative_path(Path::new("/a"), Path::new("/a/x")), PathBuf::from("x"));
        assert_eq!(relative_path(Path::new("/a"), Path::new("/a")), PathBuf::from("."));
    }

    #[test]
    fn new_package_then_path_dependency_resolves_without_registry() {
        let base = tempfile::tempdir().unwrap();
        new_package(&base.path().join("app"), "app").unwrap();
        new_package(&base.path().join("util"), "util").unwrap();
        assert!(new_package(&base.path().join("app"), "app").unwrap_err().contains("already exists"));
        assert!(new_package(&base.path().join("x"), "Bad").is_err());
        let manifest = base.path().join("app/Blood.toml");
        let text = std::fs::read_to_string(&manifest).unwrap() + "util = { path = \"../util\" }\n";
        std::fs::write(&manifest, text).unwrap();
        let pkg = Package::load(&base.path().join("app")).unwrap();
        let options = PackageOptions { cache: Some(base.path().join("home")), ..PackageOptions::default() };
        let resolved = prepare(&pkg, &options).unwrap();
        assert!(resolved.lock_written);
        let roots = dependency_roots(&resolved);
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].0, "util");
        assert!(roots[0].1.ends_with("util/src"));
        let lock = std::fs::read_to_string(base.path().join("app/Blood.lock")).unwrap();
        assert!(lock.contains("path+../util"), "{lock}");
        // Unchanged manifests: the lock is reused and not rewritten, also with --locked.
        let again = prepare(&pkg, &PackageOptions { locked: true, ..options.clone() }).unwrap();
        assert!(!again.lock_written);
        // A path cycle back to the package is refused.
        let util_manifest = base.path().join("util/Blood.toml");
        let text = std::fs::read_to_string(&util_manifest).unwrap() + "app = { path = \"../app\" }\n";
        std::fs::write(&util_manifest, text).unwrap();
        let err = prepare(&pkg, &options).unwrap_err();
        assert!(matches!(&err, PackageError::Failed(m) if m.contains("leads back")), "{err:?}");
    }
}
