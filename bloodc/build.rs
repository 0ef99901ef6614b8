//! Builds the two runtime archives and embeds them in the compiler.
//!
//! `blood` must link programs without help, also when the binary alone is copied elsewhere (the
//! way Zig and Go ship their runtimes). So the runtime archive is built here, in release mode and
//! in a target directory of its own (a nested cargo must not wait on the outer build's lock), and
//! `src/driver/runtime_archive.rs` embeds it with `include_bytes!`. Its BLAKE3 hash names the
//! cache directory the archive is unpacked to at link time.
//!
//! Two archives: the full runtime (`blood-runtime`, a `staticlib` crate, release profile) and the
//! minimal one (`blood-runtime-minimal`, `no_std`). The minimal crate is an `rlib` in the
//! workspace (so tests and clippy never link its `#[panic_handler]` next to `std`'s); here it is
//! turned into a staticlib with `cargo rustc --crate-type staticlib` in the `minimal-runtime`
//! profile (`panic = "abort"`, `opt-level = "z"`, fat LTO).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("bloodc lives inside the workspace").to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let runtime_target = shared_runtime_target(&out_dir);

    for watched in [
        "blood-runtime/src",
        "blood-runtime/Cargo.toml",
        "blood-runtime/abi/src",
        "blood-runtime/core/src",
        "blood-runtime/core/Cargo.toml",
        "blood-runtime/minimal/src",
        "blood-runtime/minimal/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }

    // The full runtime and the minimal one (`--runtime=minimal`: the `no_std` crate in the
    // size-optimised `minimal-runtime` profile of the workspace manifest).
    let archives = [
        ("", build_runtime(&workspace, &runtime_target, RuntimeCrate::Full), "libblood_runtime.a"),
        ("_MINIMAL", build_runtime(&workspace, &runtime_target, RuntimeCrate::Minimal), "libblood_runtime_minimal.a"),
    ];
    for (suffix, archive, name) in archives {
        let embedded = out_dir.join(name);
        fs::copy(&archive, &embedded).expect("copy runtime archive");
        let hash = blake3::hash(&fs::read(&embedded).expect("read runtime archive"));
        println!("cargo:rustc-env=BLOOD_RUNTIME{suffix}_ARCHIVE={}", embedded.display());
        println!("cargo:rustc-env=BLOOD_RUNTIME{suffix}_HASH={}", &hash.to_hex()[..16]);
    }
}

/// The target directory of the nested runtime builds: `<target>/blood-runtime-build`, shared by
/// every profile of the outer build (dev, release, clippy's check), so the runtime is compiled
/// once per change rather than once per outer profile. Falls back to one inside `OUT_DIR` when
/// `OUT_DIR` is not laid out as `<target>/[<triple>/]<profile>/build/<pkg>/out`.
fn shared_runtime_target(out_dir: &Path) -> PathBuf {
    let build = out_dir.ancestors().find(|a| a.file_name().is_some_and(|n| n == "build"));
    match build.and_then(Path::parent).and_then(Path::parent) {
        Some(target) if target.join("CACHEDIR.TAG").is_file() => target.join("blood-runtime-build"),
        _ => out_dir.join("runtime-target"),
    }
}

/// Which runtime archive to build.
#[derive(Clone, Copy)]
enum RuntimeCrate {
    /// `blood-runtime` (a staticlib crate), release profile.
    Full,
    /// `blood-runtime-minimal` (an rlib crate turned into a staticlib), `minimal-runtime` profile.
    Minimal,
}

/// Builds one runtime archive and returns its path.
fn build_runtime(workspace: &Path, target_dir: &Path, which: RuntimeCrate) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace);
    let (profile, archive) = match which {
        RuntimeCrate::Full => {
            cmd.args(["build", "-p", "blood-runtime", "--lib"]);
            ("release", "libblood_runtime.a")
        }
        RuntimeCrate::Minimal => {
            cmd.args(["rustc", "-p", "blood-runtime-minimal", "--lib", "--crate-type", "staticlib"]);
            ("minimal-runtime", "libblood_runtime_minimal.a")
        }
    };
    cmd.args(["--profile", profile, "--target-dir"]).arg(target_dir);
    if let RuntimeCrate::Minimal = which {
        // Nothing unwinds (panic = "abort"): no unwind tables for the runtime's code (fat LTO
        // compiles all of it, `core` and `alloc` included, in this crate's codegen unit).
        cmd.args(["--", "-C", "force-unwind-tables=no"]);
    }
    if env::var_os("CARGO_NET_OFFLINE").is_some() {
        cmd.arg("--offline");
    }
    // The outer build's wrappers (clippy, sccache) and flags must not leak into the runtime build.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("run cargo to build the runtime");
    assert!(status.success(), "building the runtime archive {archive} failed");
    target_dir.join(profile).join(archive)
}
