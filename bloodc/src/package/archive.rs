//! Package archives (`.tar.gz`): deterministic packing for `blood publish`, and safe
//! extraction of downloaded archives.
//!
//! An archive comes from the network, so extraction trusts nothing in it: every entry must be a
//! regular file or a directory (no symlinks, hard links, devices or FIFOs, which could point
//! outside the destination or block), its path must be relative with no `..` and must lie
//! under the single top-level directory `NAME-VERSION/`, and the total unpacked size and the
//! number of entries are capped (a small gzip can inflate to gigabytes). Bytes written are
//! counted as they are written, not taken from headers. Files get fixed permissions (0644, or
//! 0755 when executable) and no ownership. Extraction goes into a fresh temporary directory
//! that the caller renames into place, so a rejected archive installs nothing.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Limits on what an archive may unpack to.
#[derive(Copy, Clone, Debug)]
pub struct ExtractLimits {
    pub max_total_bytes: u64,
    pub max_entries: usize,
}

impl Default for ExtractLimits {
    fn default() -> ExtractLimits {
        ExtractLimits { max_total_bytes: 256 * 1024 * 1024, max_entries: 20_000 }
    }
}

/// Packs the files `files` (paths relative to `root`) under the top directory `top/`.
/// Deterministic: entries sorted, mtime 0, uid/gid 0, modes 0644/0755.
pub fn pack(root: &Path, top: &str, files: &[PathBuf]) -> Result<Vec<u8>, String> {
    let mut sorted = files.to_vec();
    sorted.sort();
    let gz = GzEncoder::new(Vec::new(), Compression::default());
    let mut builder = tar::Builder::new(gz);
    for rel in &sorted {
        let full = root.join(rel);
        let data = std::fs::read(&full).map_err(|e| format!("cannot read `{}`: {e}", full.display()))?;
        let executable = is_executable(&full);
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(if executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        let name = Path::new(top).join(rel);
        builder
            .append_data(&mut header, &name, data.as_slice())
            .map_err(|e| format!("cannot add `{}` to the archive: {e}", rel.display()))?;
    }
    let gz = builder.into_inner().map_err(|e| format!("cannot write the archive: {e}"))?;
    gz.finish().map_err(|e| format!("cannot compress the archive: {e}"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// Extracts the gzipped tar `reader` into the empty directory `dest`, stripping the top
/// directory `top/`. Errors describe the offending entry.
pub fn extract(reader: impl Read, top: &str, dest: &Path, limits: ExtractLimits) -> Result<(), String> {
    let mut archive = tar::Archive::new(GzDecoder::new(reader));
    let mut total: u64 = 0;
    let entries = archive.entries().map_err(|e| format!("not a tar.gz archive: {e}"))?;
    for (index, entry) in entries.enumerate() {
        if index >= limits.max_entries {
            return Err(format!("the archive has more than {} entries", limits.max_entries));
        }
        let mut entry = entry.map_err(|e| format!("corrupt archive: {e}"))?;
        let raw_path = entry.path().map_err(|e| format!("corrupt archive entry name: {e}"))?.into_owned();
        let shown = raw_path.display().to_string();
        let relative = checked_relative(&raw_path, top)?;
        let kind = entry.header().entry_type();
        let Some(relative) = relative else {
            // The top directory itself.
            if kind.is_dir() {
                continue;
            }
            return Err(format!("archive entry `{shown}` is not inside `{top}/`"));
        };
        let target = dest.join(&relative);
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(|e| format!("cannot create `{}`: {e}", target.display()))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
                }
                let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                let budget = limits.max_total_bytes - total;
                total += write_limited(&mut entry, &target, budget, executable, &shown)?;
            }
            other => {
                let what = if other.is_symlink() {
                    "a symbolic link"
                } else if other.is_hard_link() {
                    "a hard link"
                } else if other.is_character_special() || other.is_block_special() {
                    "a device"
                } else if other.is_fifo() {
                    "a FIFO"
                } else {
                    "not a regular file or directory"
                };
                return Err(format!("archive entry `{shown}` is {what}; refusing to extract it"));
            }
        }
    }
    Ok(())
}

/// `Ok(None)` for the top directory itself, `Ok(Some(rest))` for paths under it.
fn checked_relative(path: &Path, top: &str) -> Result<Option<PathBuf>, String> {
    let shown = path.display();
    let mut components = path.components();
    match components.next() {
        Some(Component::Normal(first)) if first == top => {}
        Some(Component::RootDir | Component::Prefix(_)) => {
            return Err(format!("archive entry `{shown}` has an absolute path"));
        }
        _ if path.components().any(|c| c == Component::ParentDir) => {
            return Err(format!("archive entry `{shown}` contains `..`"));
        }
        _ => return Err(format!("archive entry `{shown}` is not inside `{top}/`")),
    }
    let mut rest = PathBuf::new();
    for c in components {
        match c {
            Component::Normal(part) => rest.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("archive entry `{shown}` contains `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("archive entry `{shown}` has an absolute path"));
            }
        }
    }
    Ok(if rest.as_os_str().is_empty() { None } else { Some(rest) })
}

/// Copies at most `budget` bytes of `from` into a new file `to`; more is an error.
fn write_limited(from: &mut impl Read, to: &Path, budget: u64, executable: bool, shown: &str) -> Result<u64, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(to)
        .map_err(|e| format!("cannot create `{}` (entry `{shown}`): {e}", to.display()))?;
    let mut buf = [0u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = from.read(&mut buf).map_err(|e| format!("corrupt archive entry `{shown}`: {e}"))?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > budget {
            return Err("the archive unpacks to more than the size limit; refusing it".to_string());
        }
        file.write_all(&buf[..n]).map_err(|e| format!("cannot write `{}`: {e}", to.display()))?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw tar.gz with one entry of the given name and type (bypassing `tar`'s own checks on
    /// names, which refuse `..` when building).
    fn raw_archive(name: &[u8], kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
        let mut header = tar::Header::new_gnu();
        {
            let gnu = header.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name);
        }
        header.set_size(data.len() as u64);
        header.set_entry_type(kind);
        header.set_mode(0o644);
        if kind.is_symlink() {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        let mut tar_bytes = header.as_bytes().to_vec();
        tar_bytes.extend_from_slice(data);
        tar_bytes.resize(tar_bytes.len().div_ceil(512) * 512 + 1024, 0);
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&tar_bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn pack_then_extract_round_trips() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("src/sub")).unwrap();
        std::fs::write(src.path().join("Blood.toml"), "x").unwrap();
        std::fs::write(src.path().join("src/sub/m.blood"), "fn f() {}").unwrap();
        let files = [PathBuf::from("src/sub/m.blood"), PathBuf::from("Blood.toml")];
        let bytes = pack(src.path(), "p-1.0.0", &files).unwrap();
        assert_eq!(bytes, pack(src.path(), "p-1.0.0", &files).unwrap(), "packing is deterministic");
        let dest = tempfile::tempdir().unwrap();
        extract(bytes.as_slice(), "p-1.0.0", dest.path(), ExtractLimits::default()).unwrap();
        assert_eq!(std::fs::read_to_string(dest.path().join("src/sub/m.blood")).unwrap(), "fn f() {}");
    }

    #[test]
    fn rejects_dangerous_entries() {
        let cases: [(&[u8], tar::EntryType, &str); 5] = [
            (b"p-1.0.0/../../evil", tar::EntryType::Regular, "`..`"),
            (b"/etc/evil", tar::EntryType::Regular, "absolute"),
            (b"../evil", tar::EntryType::Regular, "`..`"),
            (b"p-1.0.0/link", tar::EntryType::Symlink, "symbolic link"),
            (b"p-1.0.0/dev", tar::EntryType::Char, "device"),
        ];
        for (name, kind, want) in cases {
            let dest = tempfile::tempdir().unwrap();
            let err =
                extract(raw_archive(name, kind, b"x").as_slice(), "p-1.0.0", dest.path(), ExtractLimits::default())
                    .unwrap_err();
            assert!(err.contains(want), "{}: {err}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn rejects_oversized_archives() {
        let data = vec![0u8; 10_000];
        let bytes = raw_archive(b"p-1.0.0/big", tar::EntryType::Regular, &data);
        let dest = tempfile::tempdir().unwrap();
        let limits = ExtractLimits { max_total_bytes: 1000, max_entries: 10 };
        let err = extract(bytes.as_slice(), "p-1.0.0", dest.path(), limits).unwrap_err();
        assert!(err.contains("size limit"), "{err}");
    }
}
