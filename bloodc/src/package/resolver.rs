//! Dependency resolution: choose one version of each package such that every requirement in
//! the graph is met.
//!
//! Pure: the candidate versions come from a [`CandidateSource`] the caller provides (the
//! registry index through the fetcher or the cache, or a map in tests), so the algorithm is
//! tested without files or network. It is a depth-first search with backtracking: requirements
//! are taken in order; the first requirement on a package picks a version (the locked one if
//! it still fits, otherwise the highest that fits, yanked versions only when locked), later
//! requirements must accept the choice or the search backtracks. One version per package name
//! keeps `use name.…` unambiguous. The search is bounded ([`MAX_STEPS`]) so a pathological
//! index fails with a message instead of running forever.

use std::collections::{BTreeMap, HashMap};

use semver::{Version, VersionReq};

/// Upper bound on search steps before giving up.
pub const MAX_STEPS: usize = 100_000;

/// One available version of a package and what it requires.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub version: Version,
    pub dependencies: Vec<(String, VersionReq)>,
    pub yanked: bool,
}

/// Where the resolver learns which versions exist.
pub trait CandidateSource {
    /// Every known version of `name` (any order). An unknown package is an error naming it.
    fn candidates(&mut self, name: &str) -> Result<Vec<Candidate>, String>;
}

impl CandidateSource for HashMap<String, Vec<Candidate>> {
    fn candidates(&mut self, name: &str) -> Result<Vec<Candidate>, String> {
        self.get(name).cloned().ok_or_else(|| format!("no package named `{name}` in the registry"))
    }
}

/// A requirement and who made it (for messages).
#[derive(Clone, Debug)]
struct Requirement {
    name: String,
    req: VersionReq,
    from: String,
}

/// The resolution: package name → chosen version and that version's dependency names.
pub type Resolution = BTreeMap<String, (Version, Vec<String>)>;

struct Search<'s, S: CandidateSource> {
    source: &'s mut S,
    locked: &'s BTreeMap<String, Version>,
    cache: HashMap<String, Vec<Candidate>>,
    steps: usize,
    /// The deepest conflict seen, reported if the search fails.
    conflict: Option<(usize, String)>,
}

/// Resolves `root` (the root package's name and its registry requirements). `locked` holds
/// versions from `Blood.lock` to prefer, so an unchanged manifest keeps its versions.
pub fn resolve<S: CandidateSource>(
    root: &str,
    requirements: &[(String, VersionReq)],
    locked: &BTreeMap<String, Version>,
    source: &mut S,
) -> Result<Resolution, String> {
    let mut search = Search { source, locked, cache: HashMap::new(), steps: 0, conflict: None };
    let todo: Vec<Requirement> = requirements
        .iter()
        .rev()
        .map(|(name, req)| Requirement { name: name.clone(), req: req.clone(), from: root.to_string() })
        .collect();
    let mut chosen = Resolution::new();
    if search.run(&mut chosen, todo, 0)? {
        Ok(chosen)
    } else {
        Err(search.conflict.map(|(_, m)| m).unwrap_or_else(|| "dependency resolution failed".to_string()))
    }
}

impl<S: CandidateSource> Search<'_, S> {
    fn candidates(&mut self, name: &str) -> Result<Vec<Candidate>, String> {
        if let Some(c) = self.cache.get(name) {
            return Ok(c.clone());
        }
        let mut list = self.source.candidates(name)?;
        // Preference order: the locked version, then newest first; yanked only if locked.
        let locked = self.locked.get(name);
        list.retain(|c| !c.yanked || Some(&c.version) == locked);
        list.sort_by(|a, b| b.version.cmp(&a.version));
        if let Some(pos) = locked.and_then(|v| list.iter().position(|c| &c.version == v)) {
            let c = list.remove(pos);
            list.insert(0, c);
        }
        self.cache.insert(name.to_string(), list.clone());
        Ok(list)
    }

    fn note_conflict(&mut self, depth: usize, message: String) {
        if self.conflict.as_ref().is_none_or(|(d, _)| depth >= *d) {
            self.conflict = Some((depth, message));
        }
    }

    /// `todo` is a stack (last element next). Returns Ok(true) with `chosen` complete, Ok(false)
    /// if this branch has no solution, Err for source errors or exhaustion.
    fn run(&mut self, chosen: &mut Resolution, mut todo: Vec<Requirement>, depth: usize) -> Result<bool, String> {
        while let Some(r) = todo.pop() {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(format!("dependency resolution gave up after {MAX_STEPS} steps"));
            }
            if let Some((version, _)) = chosen.get(&r.name) {
                if r.req.matches(version) {
                    continue;
                }
                let msg = format!(
                    "cannot satisfy `{} {}` required by `{}`: version {} was already selected",
                    r.name, r.req, r.from, version
                );
                self.note_conflict(depth, msg);
                return Ok(false);
            }
            let candidates = self.candidates(&r.name)?;
            let fitting: Vec<Candidate> = candidates.into_iter().filter(|c| r.req.matches(&c.version)).collect();
            if fitting.is_empty() {
                let available = self.cache[&r.name].iter().map(|c| c.version.to_string()).collect::<Vec<_>>();
                let msg = format!(
                    "no version of `{}` matches `{}` (required by `{}`); available: {}",
                    r.name,
                    r.req,
                    r.from,
                    if available.is_empty() { "none".to_string() } else { available.join(", ") }
                );
                self.note_conflict(depth, msg);
                return Ok(false);
            }
            for c in fitting {
                let mut next = chosen.clone();
                let dep_names = c.dependencies.iter().map(|(n, _)| n.clone()).collect();
                next.insert(r.name.clone(), (c.version.clone(), dep_names));
                let mut next_todo = todo.clone();
                let from = format!("{} {}", r.name, c.version);
                next_todo.extend(c.dependencies.iter().rev().map(|(n, q)| Requirement {
                    name: n.clone(),
                    req: q.clone(),
                    from: from.clone(),
                }));
                if self.run(&mut next, next_todo, depth + 1)? {
                    *chosen = next;
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn req(s: &str) -> VersionReq {
        VersionReq::parse(s).unwrap()
    }

    fn cand(version: &str, deps: &[(&str, &str)]) -> Candidate {
        Candidate {
            version: v(version),
            dependencies: deps.iter().map(|(n, r)| (n.to_string(), req(r))).collect(),
            yanked: false,
        }
    }

    fn registry(entries: &[(&str, Vec<Candidate>)]) -> HashMap<String, Vec<Candidate>> {
        entries.iter().map(|(n, c)| (n.to_string(), c.clone())).collect()
    }

    fn roots(list: &[(&str, &str)]) -> Vec<(String, VersionReq)> {
        list.iter().map(|(n, r)| (n.to_string(), req(r))).collect()
    }

    fn versions(r: &Resolution) -> Vec<String> {
        r.iter().map(|(n, (v, _))| format!("{n} {v}")).collect()
    }

    #[test]
    fn picks_highest_matching_versions() {
        let mut reg = registry(&[
            ("a", vec![cand("1.0.0", &[]), cand("1.4.2", &[("b", "^2")]), cand("2.0.0", &[])]),
            ("b", vec![cand("2.0.0", &[]), cand("2.1.0", &[]), cand("3.0.0", &[])]),
        ]);
        let r = resolve("root", &roots(&[("a", "^1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.4.2", "b 2.1.0"]);
        assert_eq!(r["a"].1, ["b"]);
    }

    #[test]
    fn backtracks_on_conflict() {
        // a 2.0 needs c ^2, but b needs c ^1: the resolver must fall back to a 1.0.
        let mut reg = registry(&[
            ("a", vec![cand("1.0.0", &[("c", "^1")]), cand("2.0.0", &[("c", "^2")])]),
            ("b", vec![cand("1.0.0", &[("c", "^1")])]),
            ("c", vec![cand("1.5.0", &[]), cand("2.0.0", &[])]),
        ]);
        let r = resolve("root", &roots(&[("a", "*"), ("b", "^1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.0.0", "b 1.0.0", "c 1.5.0"]);
    }

    #[test]
    fn prefers_locked_versions_and_allows_locked_yanked() {
        let mut yanked = cand("1.1.0", &[]);
        yanked.yanked = true;
        let mut reg = registry(&[("a", vec![cand("1.0.0", &[]), yanked, cand("1.2.0", &[])])]);
        let locked = BTreeMap::from([("a".to_string(), v("1.1.0"))]);
        let r = resolve("root", &roots(&[("a", "^1")]), &locked, &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.1.0"]);
        let r = resolve("root", &roots(&[("a", "^1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.2.0"], "yanked versions are not picked afresh");
        // A lock that no longer fits the requirement is ignored.
        let r = resolve("root", &roots(&[("a", "=1.0.0")]), &locked, &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.0.0"]);
    }

    #[test]
    fn skips_prereleases_unless_asked() {
        let mut reg = registry(&[("a", vec![cand("1.0.0", &[]), cand("1.1.0-beta.1", &[])])]);
        let r = resolve("root", &roots(&[("a", "^1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.0.0"]);
        let r = resolve("root", &roots(&[("a", "^1.1.0-beta.1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.1.0-beta.1"]);
    }

    #[test]
    fn reports_unsatisfiable_requirements() {
        let mut reg = registry(&[("a", vec![cand("1.0.0", &[("b", "^9")])]), ("b", vec![cand("1.0.0", &[])])]);
        let err = resolve("root", &roots(&[("a", "^1")]), &BTreeMap::new(), &mut reg).unwrap_err();
        assert!(err.contains("`b`") && err.contains("^9") && err.contains("a 1.0.0") && err.contains("1.0.0"), "{err}");
        let err = resolve("root", &roots(&[("zzz", "^1")]), &BTreeMap::new(), &mut reg).unwrap_err();
        assert!(err.contains("no package named `zzz`"), "{err}");
    }

    #[test]
    fn handles_cycles() {
        let mut reg =
            registry(&[("a", vec![cand("1.0.0", &[("b", "^1")])]), ("b", vec![cand("1.0.0", &[("a", "^1")])])]);
        let r = resolve("root", &roots(&[("a", "^1")]), &BTreeMap::new(), &mut reg).unwrap();
        assert_eq!(versions(&r), ["a 1.0.0", "b 1.0.0"]);
    }
}
