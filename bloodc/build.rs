//! Builds `blood-runtime` as a static archive and embeds it in the compiler.
//!
//! `blood` must link programs without help, also when the binary alone is copied elsewhere (the
//! way Zig and Go ship their runtimes). So the runtime archive is built here, in release mode and
//! in a target directory of its own (a nested cargo must not wait on the outer build's lock), and
//! `src/driver/runtime_archive.rs` embeds it with `include_bytes!`. Its BLAKE3 hash names the
//! cache directory the archive is unpacked to at link time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("bloodc lives inside the workspace").to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let runtime_target = shared_runtime_target(&out_dir);

    for watched in ["blood-runtime/src", "blood-runtime/Cargo.toml", "blood-runtime/abi/src", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }

    // The full runtime (default features) and the minimal one (`--runtime=minimal`: no default
    // features, the size-optimised `minimal-runtime` profile of the workspace manifest).
    let archives = [
        ("", build_runtime(&workspace, &runtime_target, &[], "release"), "libblood_runtime.a"),
        (
            "_MINIMAL",
            build_runtime(&workspace, &runtime_target, &["--no-default-features"], "minimal-runtime"),
            "libblood_runtime_minimal.a",
        ),
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

/// Runs `cargo build -p blood-runtime` and returns the path of the produced archive.
fn build_runtime(workspace: &Path, target_dir: &Path, extra: &[&str], profile: &str) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "-p", "blood-runtime", "--lib", "--profile", profile, "--target-dir"])
        .arg(target_dir)
        .args(extra);
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
    let status = cmd.status().expect("run cargo to build blood-runtime");
    assert!(status.success(), "building blood-runtime failed");
    target_dir.join(profile).join("libblood_runtime.a")
}
