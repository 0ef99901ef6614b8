//! Command-line tests of `blood` with real processes: flags, subcommands, exit statuses (0 ok,
//! 1 errors in the program or its environment, 2 usage), file handling (missing, unreadable and
//! unwritable paths, default output names, nothing left behind after errors), emit kinds,
//! diagnostics formats, and a copied binary that must find its runtime on its own.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{assert_status, blood, program, run, text};

const HELLO: &str = "fn main() {\n    println(\"hello from blood\")\n}\n";

/// A program with one type error on line 3 (the initializer `true`, column 18).
const TYPE_ERROR: &str = "// a type error\nfn main() {\n    let x: i32 = true;\n    println_int(x);\n}\n";

fn is_elf(path: &Path) -> bool {
    fs::read(path).map(|b| b.starts_with(b"\x7fELF")).unwrap_or(false)
}

#[test]
fn version_and_help() {
    let out = run(blood().arg("--version"));
    assert_status(&out, 0, "blood --version");
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")), "version output: {}", text(&out.stdout));

    let out = run(blood().arg("--help"));
    assert_status(&out, 0, "blood --help");
    let help = text(&out.stdout);
    for sub in ["build", "run", "check"] {
        assert!(help.contains(sub), "--help does not mention `{sub}`:\n{help}");
    }

    let out = run(blood().args(["build", "--help"]));
    assert_status(&out, 0, "blood build --help");
    let help = text(&out.stdout);
    for flag in ["--emit", "-o", "--target", "--error-format"] {
        assert!(help.contains(flag), "build --help does not mention `{flag}`:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2_with_usage_on_stderr() {
    let (_dir, hello) = program("hello.blood", HELLO);
    let hello = hello.to_str().unwrap();
    // Unknown flags, unknown subcommands and missing arguments print the usage line.
    let usage_cases: Vec<(&str, Vec<&str>)> = vec![
        ("no arguments", vec![]),
        ("unknown flag", vec!["--bogus-flag"]),
        ("unknown subcommand", vec!["frobnicate"]),
        ("missing FILE", vec!["build"]),
        ("missing FILE for check", vec!["check"]),
        ("missing FILE for run", vec!["run"]),
        ("unknown build flag", vec!["build", hello, "--no-such-flag"]),
    ];
    for (what, args) in usage_cases {
        let out = run(blood().args(&args));
        assert_status(&out, 2, what);
        let err = text(&out.stderr);
        assert!(err.to_lowercase().contains("usage"), "{what}: no usage on stderr:\n{err}");
        assert!(out.stdout.is_empty(), "{what}: usage errors print nothing on stdout");
    }
    // Bad flag values name the problem and point at --help (clap's concise form).
    let value_cases: Vec<(&str, Vec<&str>)> = vec![
        ("bad --emit value", vec!["build", hello, "--emit=wat"]),
        ("bad -O level", vec!["build", hello, "-O7"]),
        ("bad --error-format", vec!["build", hello, "--error-format=xml"]),
        ("bad --color", vec!["build", hello, "--color", "sometimes"]),
        ("-o without a value", vec!["build", hello, "-o"]),
        ("--align-functions not a power of two", vec!["build", hello, "--align-functions=24"]),
        ("--align-functions above 64", vec!["build", hello, "--align-functions=128"]),
    ];
    for (what, args) in value_cases {
        let out = run(blood().args(&args));
        assert_status(&out, 2, what);
        let err = text(&out.stderr);
        assert!(err.contains("error") && err.contains("--help"), "{what}: unclear message on stderr:\n{err}");
        assert!(out.stdout.is_empty(), "{what}: usage errors print nothing on stdout");
    }
}

#[test]
fn missing_input_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.blood");
    for sub in ["build", "check", "run"] {
        let out = run(blood().arg(sub).arg(&missing).current_dir(dir.path()));
        assert_status(&out, 1, &format!("blood {sub} missing.blood"));
        let err = text(&out.stderr);
        assert!(err.contains("missing.blood"), "message should name the file:\n{err}");
        assert!(err.contains("error"), "message should say error:\n{err}");
        assert!(!err.contains("panicked"), "no Rust panic:\n{err}");
    }
    assert!(!dir.path().join("missing").exists(), "no output for a missing input");
}

#[test]
fn unreadable_input_file() {
    let (dir, path) = program("secret.blood", HELLO);
    let mut perms = fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    fs::set_permissions(&path, perms).unwrap();
    if fs::read(&path).is_ok() {
        // Running as root (CAP_DAC_OVERRIDE): mode 000 does not prevent reading.
        println!("skipped the mode-000 assertion: this process can read a mode-000 file (root)");
    } else {
        let out = run(blood().arg("build").arg(&path));
        assert_status(&out, 1, "unreadable input");
        assert!(text(&out.stderr).contains("secret.blood"), "{}", text(&out.stderr));
    }
    // Unreadable for everyone, root included: a path through a regular file.
    let through_file = path.join("inner.blood");
    let out = run(blood().arg("build").arg(&through_file));
    assert_status(&out, 1, "input path through a file");
    assert!(text(&out.stderr).contains("inner.blood"), "{}", text(&out.stderr));
    drop(dir);
}

#[test]
fn directory_as_input() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("prog.blood");
    fs::create_dir(&sub).unwrap();
    let out = run(blood().arg("build").arg(&sub));
    assert_status(&out, 1, "directory as input");
    let err = text(&out.stderr);
    assert!(err.contains("prog.blood") && !err.contains("panicked"), "{err}");
}

#[test]
fn invalid_utf8_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.blood");
    fs::write(&path, b"fn main() { println(\"caf\xe9\") }\n").unwrap();
    let out = run(blood().arg("build").arg(&path).arg("-o").arg(dir.path().join("out")));
    assert_status(&out, 1, "input that is not UTF-8");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn unwritable_output_path() {
    let (_dir, hello) = program("hello.blood", HELLO);
    let out = run(blood().arg("build").arg(&hello).args(["-o", "/nonexistent-dir/x"]));
    assert_status(&out, 1, "-o /nonexistent-dir/x");
    let err = text(&out.stderr);
    assert!(err.contains("error") && err.contains("nonexistent-dir"), "message should name the path:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn type_error_reports_location_and_leaves_no_executable() {
    let (dir, path) = program("bad.blood", TYPE_ERROR);
    let exe = dir.path().join("bad-out");
    let out = run(blood().arg("build").arg(&path).arg("-o").arg(&exe));
    assert_status(&out, 1, "type error");
    let err = text(&out.stderr);
    assert!(err.contains("error[E0201]: type mismatch"), "{err}");
    assert!(err.contains("bad.blood:3:18"), "diagnostic should give file:line:col:\n{err}");
    assert!(err.contains("let x: i32 = true;"), "diagnostic should quote the source line:\n{err}");
    assert!(
        err.lines().any(|l| l.trim_start().trim_start_matches(|c: char| c.is_ascii_digit()).contains('^')),
        "caret:\n{err}"
    );
    assert!(out.stdout.is_empty(), "diagnostics go to stderr, stdout stays empty");
    assert!(!exe.exists(), "no executable may be left behind");
    assert!(!dir.path().join("bad").exists(), "no default-named executable either");
}

#[test]
fn failed_build_keeps_previous_output() {
    let (dir, path) = program("bad.blood", TYPE_ERROR);
    let exe = dir.path().join("prog");
    fs::write(&exe, "previous build").unwrap();
    let out = run(blood().arg("build").arg(&path).arg("-o").arg(&exe));
    assert_status(&out, 1, "type error with an existing output");
    assert_eq!(fs::read_to_string(&exe).unwrap(), "previous build", "the old output must not be replaced");
}

#[test]
fn default_output_is_next_to_the_input() {
    let (dir, path) = program("hello.blood", HELLO);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run(blood().arg("build").arg(&path).current_dir(elsewhere.path()));
    assert_status(&out, 0, "blood build hello.blood");
    let exe = dir.path().join("hello");
    assert!(exe.exists(), "expected {} (LANGUAGE.md §11)", exe.display());
    assert!(fs::read_dir(elsewhere.path()).unwrap().next().is_none(), "nothing written to the working directory");
    let run_out = run(&mut Command::new(&exe));
    assert_status(&run_out, 0, "running hello");
    assert_eq!(text(&run_out.stdout), "hello from blood\n");
}

#[test]
fn build_with_explicit_output_and_rebuild() {
    let (dir, path) = program("hello.blood", HELLO);
    let exe = dir.path().join("bin-hello");
    for _ in 0..2 {
        let out = run(blood().arg("build").arg(&path).arg("-o").arg(&exe));
        assert_status(&out, 0, "build -o");
        assert!(out.stdout.is_empty(), "a successful build prints nothing on stdout");
        let r = run(&mut Command::new(&exe));
        assert_eq!(text(&r.stdout), "hello from blood\n");
    }
}

#[test]
fn run_forwards_arguments_and_exit_status() {
    let (dir, path) = program("exit7.blood", "fn main() -> i32 {\n    println(\"running\")\n    7\n}\n");
    let out = run(blood().arg("run").arg(&path).args(["--", "a", "b"]));
    assert_status(&out, 7, "blood run with exit status 7");
    assert_eq!(text(&out.stdout), "running\n");
    assert!(!dir.path().join("exit7").exists(), "blood run builds into a temporary directory");

    let (_d2, panics) = program("boom.blood", "fn main() {\n    println(\"before\")\n    panic!(\"boom\")\n}\n");
    let out = run(blood().arg("run").arg(&panics));
    assert_status(&out, 101, "blood run of a panicking program");
    assert_eq!(text(&out.stdout), "before\n");
    assert!(text(&out.stderr).contains("boom"), "{}", text(&out.stderr));

    let (_d3, bad) = program("bad.blood", TYPE_ERROR);
    let out = run(blood().arg("run").arg(&bad));
    assert_status(&out, 1, "blood run of a program with errors");
}

#[test]
fn check_reports_errors_without_output() {
    let (dir, good) = program("good.blood", HELLO);
    let out = run(blood().arg("check").arg(&good));
    assert_status(&out, 0, "blood check ok");
    assert!(!dir.path().join("good").exists(), "check writes no executable");

    let (_d, bad) = program("bad.blood", TYPE_ERROR);
    let out = run(blood().arg("check").arg(&bad));
    assert_status(&out, 1, "blood check with errors");
    assert!(text(&out.stderr).contains("type mismatch"), "{}", text(&out.stderr));
}

#[test]
fn emit_text_kinds_to_stdout_and_to_file() {
    let (dir, path) = program("hello.blood", HELLO);
    for kind in ["ir", "clif", "asm"] {
        let out = run(blood().arg("build").arg(&path).arg(format!("--emit={kind}")));
        assert_status(&out, 0, &format!("--emit={kind}"));
        let stdout = text(&out.stdout);
        assert!(!stdout.trim().is_empty(), "--emit={kind} without -o prints to stdout");
        if kind == "clif" {
            assert!(stdout.contains("function"), "CLIF text:\n{stdout}");
        }
        assert!(!dir.path().join("hello").exists(), "--emit={kind} does not link");

        let file = dir.path().join(format!("out.{kind}"));
        let out = run(blood().arg("build").arg(&path).arg("--emit").arg(kind).arg("-o").arg(&file));
        assert_status(&out, 0, &format!("--emit {kind} -o"));
        assert!(out.stdout.is_empty(), "--emit={kind} -o FILE writes the file, not stdout");
        let written = fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(written.trim(), stdout.trim(), "--emit={kind}: file and stdout agree");

        // `-o -` is stdout, as with cc and rustc.
        let out = run(blood()
            .current_dir(dir.path())
            .arg("build")
            .arg(&path)
            .arg(format!("--emit={kind}"))
            .args(["-o", "-"]));
        assert_status(&out, 0, &format!("--emit={kind} -o -"));
        assert_eq!(text(&out.stdout).trim(), stdout.trim(), "--emit={kind} -o - prints to stdout");
        assert!(!dir.path().join("-").exists(), "--emit={kind} -o - writes no file named `-`");
    }
}

#[test]
fn emit_obj() {
    let (dir, path) = program("hello.blood", HELLO);
    let obj = dir.path().join("hello.o");
    let out = run(blood().arg("build").arg(&path).arg("--emit=obj").arg("-o").arg(&obj));
    assert_status(&out, 0, "--emit=obj -o");
    assert!(is_elf(&obj), "an ELF object file");

    let other = tempfile::tempdir().unwrap();
    let copy = other.path().join("prog.blood");
    fs::write(&copy, HELLO).unwrap();
    let out = run(blood().arg("build").arg(&copy).arg("--emit=obj").current_dir(other.path()));
    assert_status(&out, 0, "--emit=obj without -o");
    let produced: Vec<PathBuf> =
        fs::read_dir(other.path()).unwrap().flatten().map(|e| e.path()).filter(|p| p != &copy).collect();
    assert!(produced.iter().any(|p| is_elf(p)), "an object file next to the input, found {produced:?}");
}

/// `--align-functions=N` starts every function on an N-byte boundary (read back with `nm`).
#[test]
fn align_functions_flag_aligns_every_function() {
    let source = "fn twice(x: i64) -> i64 { x * 2 }\nfn main() { println!(\"{}\", twice(21)) }\n";
    let (dir, path) = program("align.blood", source);
    for align in [1u64, 64] {
        let exe = dir.path().join(format!("align{align}"));
        let out = run(blood().arg("build").arg(&path).arg(format!("--align-functions={align}")).arg("-o").arg(&exe));
        assert_status(&out, 0, &format!("build --align-functions={align}"));
        assert_eq!(text(&run(&mut Command::new(&exe)).stdout), "42\n");
        let nm = run(Command::new("nm").arg(&exe));
        // Generated functions: text symbols named `blood.*` (the runtime's are Rust's or C's).
        let addresses: Vec<u64> = text(&nm.stdout)
            .lines()
            .filter_map(|l| match l.split(' ').collect::<Vec<_>>()[..] {
                [addr, "t" | "T", name] if name.starts_with("blood.") => u64::from_str_radix(addr, 16).ok(),
                _ => None,
            })
            .collect();
        assert!(addresses.len() >= 2, "nm output:\n{}", text(&nm.stdout));
        assert!(addresses.iter().all(|a| a % align == 0), "--align-functions={align}: {addresses:x?}");
    }
}

#[test]
fn optimisation_levels_and_codegen_flags() {
    let (dir, path) = program("hello.blood", HELLO);
    let flags: [&[&str]; 5] = [&["-O0"], &["-O2"], &["--no-preempt"], &["-v"], &["-O0", "--no-preempt"]];
    for (i, extra) in flags.iter().enumerate() {
        let exe = dir.path().join(format!("hello{i}"));
        let out = run(blood().arg("build").arg(&path).args(*extra).arg("-o").arg(&exe));
        assert_status(&out, 0, &format!("build {extra:?}"));
        let r = run(&mut Command::new(&exe));
        assert_eq!(text(&r.stdout), "hello from blood\n", "{extra:?}");
    }
}

#[test]
fn harness_compatibility_flags() {
    let (dir, path) = program("hello.blood", HELLO);
    let build_dir = dir.path().join("build-dir");
    let stdlib = dir.path().join("stdlib");
    fs::create_dir(&stdlib).unwrap();
    let exe = dir.path().join("hello-h");
    let out = run(blood()
        .arg("build")
        .arg(&path)
        .args(["--quiet", "--color", "never"])
        .arg("--build-dir")
        .arg(&build_dir)
        .arg("--stdlib-path")
        .arg(&stdlib)
        .arg("-o")
        .arg(&exe));
    assert_status(&out, 0, "--quiet --color never --build-dir --stdlib-path");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "--quiet prints nothing on success");
    assert_eq!(text(&run(&mut Command::new(&exe)).stdout), "hello from blood\n");

    let out = run(blood().arg("check").arg(&path).args(["--color", "never", "--quiet"]));
    assert_status(&out, 0, "check --color never --quiet");

    let (_d, bad) = program("bad.blood", TYPE_ERROR);
    let out = run(blood().arg("build").arg(&bad).args(["--color", "never"]));
    assert_status(&out, 1, "--color never with errors");
    assert!(!text(&out.stderr).contains('\u{1b}'), "--color never: no escape sequences");
}

#[test]
fn json_error_format() {
    let (_dir, bad) = program("bad.blood", TYPE_ERROR);
    let out = run(blood().arg("build").arg(&bad).arg("--error-format=json"));
    assert_status(&out, 1, "--error-format=json");
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "JSON diagnostics expected on stderr");
    for l in &lines {
        assert!(l.starts_with('{') && l.ends_with('}'), "every stderr line is one JSON object: {l}");
    }
    let first = lines[0];
    for needle in
        ["\"severity\":\"error\"", "\"code\":\"E0201\"", "\"message\":\"type mismatch\"", "\"line\":3", "\"column\":18"]
    {
        assert!(first.contains(needle), "missing {needle} in {first}");
    }
    assert!(first.contains("bad.blood"), "{first}");
}

#[test]
fn copied_binary_finds_its_runtime() {
    let home = tempfile::tempdir().unwrap();
    let bin_dir = tempfile::tempdir().unwrap();
    let copy = bin_dir.path().join("blood");
    fs::copy(env!("CARGO_BIN_EXE_blood"), &copy).unwrap();
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("hello.blood"), HELLO).unwrap();
    let out = run(Command::new(&copy)
        .args(["build", "hello.blood", "-o", "hello"])
        .current_dir(work.path())
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("BLOOD_RUNTIME_DIR")
        .env_remove("CARGO_TARGET_DIR"));
    assert_status(&out, 0, "a copied blood binary builds hello");
    let r = run(&mut Command::new(work.path().join("hello")));
    assert_status(&r, 0, "running the program built by the copy");
    assert_eq!(text(&r.stdout), "hello from blood\n");
}

#[test]
fn run_passes_arguments_to_the_program() {
    let (_dir, path) = program("args.blood", "fn main() {\n    println!(\"{} [{}]\", args_count(), args_join())\n}\n");
    let out = run(blood().arg("run").arg(&path).args(["--", "one", "two words"]));
    assert_status(&out, 0, "blood run with arguments");
    assert_eq!(text(&out.stdout), "3 [one two words]\n");
}

#[test]
fn foreign_targets_need_a_linker_and_a_runtime_but_not_for_objects() {
    let (dir, path) = program("hello.blood", "fn main() {\n    println(\"hi\")\n}\n");
    let target = "aarch64-unknown-linux-gnu";
    let exe = dir.path().join("hello-arm");
    let out =
        run(blood().arg("build").arg(&path).args(["--target", target, "-o"]).arg(&exe).env_remove("BLOOD_LINKER"));
    assert_status(&out, 1, "linking for a foreign target without a linker or runtime");
    let err = text(&out.stderr);
    assert!(err.contains("--linker") && err.contains("--runtime-dir"), "{err}");
    assert!(!exe.exists(), "no executable after a refused link");

    let out = run(blood().arg("build").arg(&path).args(["--target", target, "--linker", "true", "-o"]).arg(&exe));
    assert_status(&out, 1, "linking for a foreign target without a runtime");
    let err = text(&out.stderr);
    assert!(err.contains("--runtime-dir") && !err.contains("pass `--linker"), "{err}");

    let obj = dir.path().join("hello-arm.o");
    let out = run(blood().arg("build").arg(&path).args(["--target", target, "--emit=obj", "-o"]).arg(&obj));
    assert_status(&out, 0, "an object for a foreign target");
    let bytes = fs::read(&obj).expect("object written");
    assert!(bytes.starts_with(b"\x7fELF"));
    // e_machine (offset 18, little endian) is 183 = EM_AARCH64.
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 183);

    let out = run(blood().arg("build").arg(&path).arg("--runtime-dir").arg(dir.path()).arg("-o").arg(&exe));
    assert_status(&out, 1, "a runtime directory without the archive");
    assert!(text(&out.stderr).contains("does not contain libblood_runtime.a"), "{}", text(&out.stderr));
}
