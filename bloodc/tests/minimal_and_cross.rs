//! The minimal runtime (`--runtime=minimal`) and cross-target objects (`--target`), through the
//! real `blood` binary:
//! * a program built against the minimal runtime runs (fibers, channels, sleep, cancellation);
//! * a program that needs something the minimal runtime lacks is rejected at build time with a
//!   message naming the feature, and nothing is written;
//! * `--emit=obj --target aarch64-unknown-linux-gnu | riscv64gc-unknown-linux-gnu` gives an ELF
//!   relocatable object for that machine, read back with the `object` crate: machine, flags,
//!   symbols (defined `main`, undefined runtime entry points) and relocation kinds;
//! * linking for a foreign target names what is missing (`--linker`, `--runtime-dir`, and the
//!   archive the chosen runtime needs).

use object::elf;
use object::{Architecture, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};
use std::fs;
use std::process::Command;

mod common;
use common::{assert_status, blood, program, run, text};

/// Fibers, a channel, sleep and cancellation: everything the minimal runtime keeps.
const FIBERS: &str = r#"
fn producer(tx: Sender<i64>) / {Fiber} {
    let mut i = 0
    while i < 5 {
        tx.send(i)
        i = i + 1
    }
    tx.close()
}

fn sleeper() -> i64 / {Fiber} {
    perform Fiber.sleep(1)
    7
}

fn forever() -> i64 / {Fiber} {
    loop {
        perform Fiber.sleep(1)
    }
}

fn main() / {Fiber} {
    let (tx, rx): (Sender<i64>, Receiver<i64>) = Channel.bounded(2)
    let p = perform Fiber.spawn(|| producer(tx))
    let mut sum = 0
    loop {
        match rx.recv() {
            Some(v) => sum = sum + v,
            None => break,
        }
    }
    perform Fiber.join(p)
    let s = perform Fiber.spawn(|| sleeper())
    let f = perform Fiber.spawn(|| forever())
    perform Fiber.sleep(2)
    perform Fiber.cancel(f)
    println!("sum {} slept {} cancelled {}", sum, perform Fiber.join(s), perform Fiber.try_join(f).is_none())
}
"#;

#[test]
fn minimal_runtime_runs_fibers_channels_sleep_and_cancellation() {
    let (dir, path) = program("fibers.blood", FIBERS);
    let exe = dir.path().join("fibers");
    let out = run(blood().arg("build").arg(&path).args(["--runtime=minimal", "-o"]).arg(&exe));
    assert_status(&out, 0, "build against the minimal runtime");
    // BLOOD_NUM_WORKERS is not read by the minimal runtime (no configuration parsing): even an
    // invalid value is ignored.
    let out = run(Command::new(&exe).env("BLOOD_NUM_WORKERS", "not a number"));
    assert_status(&out, 0, "run with the minimal runtime");
    assert_eq!(text(&out.stdout), "sum 10 slept 7 cancelled true\n");

    // The full runtime reads (and rejects) it.
    let full = dir.path().join("fibers-full");
    assert_status(&run(blood().arg("build").arg(&path).arg("-o").arg(&full)), 0, "full build");
    let out = run(Command::new(&full).env("BLOOD_NUM_WORKERS", "not a number"));
    assert!(text(&out.stderr).contains("BLOOD_NUM_WORKERS"), "{}", text(&out.stderr));
}

#[test]
fn minimal_runtime_rejects_what_it_lacks_naming_the_feature() {
    let threads = "fn work(x: u64) -> u64 {\n    x + 1\n}\n\nfn main() {\n    let t = thread_spawn(@unsafe { work as u64 }, 41)\n    println!(\"{}\", thread_join(t))\n}\n";
    let (dir, path) = program("threads.blood", threads);
    let exe = dir.path().join("threads");
    let out = run(blood().arg("build").arg(&path).args(["--runtime=minimal", "-o"]).arg(&exe));
    assert_status(&out, 1, "OS threads under the minimal runtime");
    let err = text(&out.stderr);
    assert!(err.contains("`main` uses OS threads (`thread_spawn`)"), "{err}");
    assert!(err.contains("the minimal runtime does not provide") && err.contains("--runtime=full"), "{err}");
    assert!(!exe.exists(), "nothing written after a rejection");
    // Also for objects (they are meant for that runtime), and in JSON.
    let out = run(blood().arg("build").arg(&path).args(["--runtime=minimal", "--emit=obj", "--error-format=json"]));
    assert_status(&out, 1, "OS threads, object, JSON");
    let json = text(&out.stderr);
    assert!(json.starts_with('{') && json.contains("\"severity\":\"error\""), "{json}");
    assert!(json.contains("OS threads (`thread_spawn`)"), "{json}");
    // The full runtime has them.
    let out = run(blood().arg("run").arg(&path));
    assert_status(&out, 0, "OS threads under the full runtime");
    assert_eq!(text(&out.stdout), "42\n");

    let workers = "fn main() {\n    __builtin_scheduler_init(4)\n    println(\"hi\")\n}\n";
    let (_dir, path) = program("workers.blood", workers);
    let out = run(blood().arg("build").arg(&path).arg("--runtime=minimal"));
    assert_status(&out, 1, "four workers under the minimal runtime");
    assert!(text(&out.stderr).contains("more than one worker thread"), "{}", text(&out.stderr));
    // One worker is what the minimal runtime has.
    let one = "fn main() {\n    __builtin_scheduler_init(1)\n    println(\"hi\")\n}\n";
    let (_dir, path) = program("one.blood", one);
    let out = run(blood().arg("run").arg(&path).arg("--runtime=minimal"));
    assert_status(&out, 0, "one worker under the minimal runtime");
    assert_eq!(text(&out.stdout), "hi\n");
}

#[test]
fn the_minimal_runtime_dir_must_hold_the_minimal_archive() {
    let (dir, path) = program("hello.blood", "fn main() {\n    println(\"hi\")\n}\n");
    fs::write(dir.path().join("libblood_runtime.a"), b"!<arch>\n").expect("fake full archive");
    let out = run(blood().arg("build").arg(&path).args(["--runtime=minimal", "--runtime-dir"]).arg(dir.path()));
    assert_status(&out, 1, "a runtime directory without the minimal archive");
    assert!(text(&out.stderr).contains("does not contain libblood_runtime_minimal.a"), "{}", text(&out.stderr));

    let out = run(blood().arg("build").arg(&path).args([
        "--runtime=minimal",
        "--target",
        "riscv64gc-unknown-linux-gnu",
        "--linker",
        "true",
    ]));
    assert_status(&out, 1, "cross link without a runtime directory");
    let err = text(&out.stderr);
    assert!(err.contains("--runtime-dir DIR` (a directory holding libblood_runtime_minimal.a)"), "{err}");
    assert!(!err.contains("pass `--linker"), "{err}");
}

/// A program with output, a heap string, a fiber and a channel: its object calls runtime entry
/// points of every kind and refers to read-only data.
const CROSS: &str = r#"
fn child(tx: Sender<i64>) -> bool / {Fiber} {
    tx.send(40 + 2)
}

fn main() / {Fiber} {
    let (tx, rx): (Sender<i64>, Receiver<i64>) = Channel.bounded(1)
    let f = perform Fiber.spawn(|| child(tx))
    let v = rx.recv()
    perform Fiber.join(f)
    println!("cross {}", v.unwrap_or(0))
}
"#;

/// Relocation types generated code may use on each machine (ELF psABIs).
fn expected_relocations(arch: Architecture) -> (&'static [u32], &'static [u32]) {
    match arch {
        // (calls, everything allowed)
        Architecture::Aarch64 => (
            &[elf::R_AARCH64_CALL26, elf::R_AARCH64_JUMP26],
            &[
                elf::R_AARCH64_CALL26,
                elf::R_AARCH64_JUMP26,
                elf::R_AARCH64_ADR_PREL_PG_HI21,
                elf::R_AARCH64_ADD_ABS_LO12_NC,
                elf::R_AARCH64_ADR_GOT_PAGE,
                elf::R_AARCH64_LD64_GOT_LO12_NC,
                elf::R_AARCH64_ABS64,
                elf::R_AARCH64_PREL32,
            ],
        ),
        Architecture::Riscv64 => (
            &[elf::R_RISCV_CALL_PLT, elf::R_RISCV_CALL],
            &[
                elf::R_RISCV_CALL_PLT,
                elf::R_RISCV_CALL,
                elf::R_RISCV_PCREL_HI20,
                elf::R_RISCV_PCREL_LO12_I,
                elf::R_RISCV_GOT_HI20,
                elf::R_RISCV_64,
                elf::R_RISCV_32_PCREL,
                elf::R_RISCV_RELAX,
            ],
        ),
        other => panic!("no expectations for {other:?}"),
    }
}

#[test]
fn cross_target_objects_are_relocatable_elf_for_that_machine() {
    let (dir, path) = program("cross.blood", CROSS);
    for (triple, arch, machine) in [
        ("aarch64-unknown-linux-gnu", Architecture::Aarch64, elf::EM_AARCH64),
        ("riscv64gc-unknown-linux-gnu", Architecture::Riscv64, elf::EM_RISCV),
    ] {
        for runtime in ["full", "minimal"] {
            let obj_path = dir.path().join(format!("{triple}-{runtime}.o"));
            let out = run(blood()
                .arg("build")
                .arg(&path)
                .args(["--emit=obj", "--target", triple, "--runtime", runtime, "-o"])
                .arg(&obj_path));
            assert_status(&out, 0, triple);
            let bytes = fs::read(&obj_path).expect("object written");
            let file = object::File::parse(&*bytes).expect("a readable object");
            let what = format!("{triple} ({runtime})");
            assert_eq!(file.format(), object::BinaryFormat::Elf, "{what}");
            assert_eq!(file.kind(), object::ObjectKind::Relocatable, "{what}");
            assert_eq!(file.architecture(), arch, "{what}");
            assert!(file.is_64() && file.is_little_endian(), "{what}");
            assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), machine, "{what}: e_machine");
            if let object::FileFlags::Elf { e_flags, .. } = file.flags() {
                if arch == Architecture::Riscv64 {
                    // riscv64gc-linux-gnu is the LP64D ABI; GNU ld refuses to link objects of
                    // another float ABI with the C library. (EF_RISCV_RVC is set only by code
                    // that uses compressed instructions, which Cranelift does not emit.)
                    assert_eq!(
                        e_flags & elf::EF_RISCV_FLOAT_ABI,
                        elf::EF_RISCV_FLOAT_ABI_DOUBLE,
                        "{what}: {e_flags:#x}"
                    );
                }
            } else {
                panic!("{what}: not ELF flags");
            }

            // Symbols: the C `main` is defined, global, in a text section; the runtime's entry
            // points are undefined (resolved against the runtime archive at link time).
            let main = file.symbol_by_name("main").unwrap_or_else(|| panic!("{what}: no `main`"));
            assert!(main.is_definition() && main.is_global(), "{what}: main");
            let section = file.section_by_index(main.section_index().expect("main's section")).expect("section");
            assert_eq!(section.kind(), object::SectionKind::Text, "{what}: main's section");
            for needed in ["blood_runtime_init", "blood_print_str", "blood_channel_create", "blood_fiber_spawn_pair"] {
                let s = file.symbol_by_name(needed).unwrap_or_else(|| panic!("{what}: no `{needed}`"));
                assert!(s.is_undefined(), "{what}: {needed} should be undefined");
            }

            // Relocations: the calls to the runtime are call relocations of this machine, and
            // every relocation is of a kind its psABI defines for code like this.
            let (calls, allowed) = expected_relocations(arch);
            let mut runtime_calls = 0;
            let mut count = 0;
            for section in file.sections() {
                for (offset, reloc) in section.relocations() {
                    count += 1;
                    let RelocationFlags::Elf { r_type } = reloc.flags() else {
                        panic!("{what}: not an ELF relocation")
                    };
                    assert!(
                        allowed.contains(&r_type),
                        "{what}: relocation type {r_type} at {offset:#x} in {:?}",
                        section.name()
                    );
                    if let RelocationTarget::Symbol(index) = reloc.target() {
                        let name = file.symbol_by_index(index).and_then(|s| s.name()).unwrap_or("");
                        if name == "blood_print_str" || name == "blood_channel_create" {
                            assert!(calls.contains(&r_type), "{what}: call to {name} relocated with type {r_type}");
                            runtime_calls += 1;
                        }
                    }
                }
            }
            assert!(count > 0, "{what}: no relocations");
            assert!(runtime_calls >= 2, "{what}: calls to the runtime not found among {count} relocations");
        }
    }
}

/// The minimal archive embedded in `blood` (built by bloodc/build.rs from `blood-runtime-minimal`)
/// defines exactly the runtime entry points `blood_abi::in_minimal_runtime` admits, as functions,
/// plus the two data words compiled code reads; nothing the minimal runtime excludes.
#[test]
fn minimal_archive_exports_exactly_the_minimal_abi() {
    use object::SymbolKind;
    use object::read::archive::ArchiveFile;
    use std::collections::BTreeMap;

    let bytes = fs::read(env!("BLOOD_RUNTIME_MINIMAL_ARCHIVE")).expect("read the minimal archive");
    let archive = ArchiveFile::parse(&*bytes).expect("an ar archive");
    let mut defined: BTreeMap<String, SymbolKind> = BTreeMap::new();
    for member in archive.members() {
        let member = member.expect("archive member");
        let data = member.data(&*bytes).expect("member data");
        let Ok(file) = object::File::parse(data) else { continue };
        for sym in file.symbols() {
            let name = sym.name().unwrap_or_default();
            if sym.is_definition() && sym.is_global() && name.starts_with("blood_") {
                defined.insert(name.to_string(), sym.kind());
            }
        }
    }
    let mut expected: BTreeMap<String, SymbolKind> = blood_abi::RUNTIME_EXPORTS
        .iter()
        .chain(blood_abi::FIBER_EXPORTS)
        .filter(|f| blood_abi::in_minimal_runtime(f))
        .map(|f| (f.name.to_string(), SymbolKind::Text))
        .collect();
    for data in [blood_abi::PREEMPT_FLAG_SYMBOL, blood_abi::STACK_SLOT_MASK_SYMBOL] {
        expected.insert(data.to_string(), SymbolKind::Data);
    }
    assert_eq!(defined, expected, "the minimal archive's `blood_*` symbols differ from the ABI");
    for (excluded, _) in blood_abi::MINIMAL_EXCLUDED {
        assert!(!defined.contains_key(excluded.name), "{} is excluded from the minimal runtime", excluded.name);
    }
}
