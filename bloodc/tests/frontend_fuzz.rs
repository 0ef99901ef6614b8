//! Robustness of the front end on arbitrary input: it must never panic, overflow its stack or
//! hang, whatever the text.
//!
//! The corpus is every `.blood` file under the repository's `tests/` and `examples/` plus a
//! built-in set of programs covering syntax of every level (L0–L5, also constructs the compiler
//! rejects). From it, a deterministic xorshift generator derives [`VARIANTS`] mutated inputs:
//! byte and token-ish snippet insertions, deletions, duplications, swaps, truncation, splices of
//! two programs, Unicode insertions and deep nesting. Each input goes through [`front_end`]
//! under `catch_unwind`; a watchdog fails the test if one input takes too long. Failures print
//! the offending input.
//!
//! [`front_end`] is the single place to extend when later stages (type checking) should be
//! fuzzed too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bloodc::source::FileId;

/// Number of mutated inputs (override with `BLOOD_FUZZ_VARIANTS` for longer runs).
const VARIANTS: usize = 10_000;
/// Fixed seed: failures reproduce (override with `BLOOD_FUZZ_SEED`).
const SEED: u64 = 0x5EED_B10D_F422;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
/// Name of the thread that runs the inputs (its panics are expected and collected).
const WORKER_NAME: &str = "fuzz-worker";
/// One input taking longer than this counts as a hang (generous: CI machines are shared and
/// a loaded 2-core box can stall a thread for seconds; a real hang never finishes anyway).
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Runs every front-end stage on `text`: parse, type check, and for error-free programs IR
/// lowering, passes and validation.
fn front_end(text: &str) {
    let (file, diagnostics) = bloodc::syntax::parse_file(FileId(0), text);
    // Touch the results so nothing is optimised away and spans are checked for sanity.
    for diagnostic in &diagnostics {
        assert!(diagnostic.span.lo <= diagnostic.span.hi, "inverted span in {diagnostic:?}");
        assert!(diagnostic.span.hi as usize <= text.len(), "span past the end in {diagnostic:?}");
        assert!(text.is_char_boundary(diagnostic.span.lo as usize), "span not on a char boundary");
        assert!(text.is_char_boundary(diagnostic.span.hi as usize), "span not on a char boundary");
    }
    // The rest of the front end must be as robust as the parser: type-check whatever parsed
    // cleanly, and lower error-free programs to validated IR.
    if diagnostics.iter().all(|d| !d.is_error()) {
        let mut sources = bloodc::source::SourceMap::new();
        sources.add("fuzz.blood", None, text);
        let (prelude, _) = bloodc::typeck::parse_prelude(&mut sources);
        let (hir, type_diagnostics) = bloodc::typeck::check_program(&sources, &file, &prelude);
        std::hint::black_box(bloodc::diagnostics::render(&sources, &type_diagnostics, false));
        if let Some(hir) = hir {
            let mut program = bloodc::ir::build::lower_program(&hir);
            bloodc::ir::passes::run_passes(
                &mut program,
                bloodc::ir::passes::PassOptions { no_preempt: false, optimize: true },
            );
            if let Err(e) = bloodc::ir::validate::validate(&program) {
                panic!("invalid IR for a program the type checker accepted: {e}");
            }
        }
    }
    std::hint::black_box(file);
}

/// xorshift64* — tiny, deterministic, good enough for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Token-like fragments that stress the lexer and parser.
const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ">>",
    "<<=",
    "fn ",
    "let ",
    "if ",
    "else ",
    "match ",
    "=>",
    "|",
    "||",
    "|>",
    "'a",
    "'",
    "'outer: ",
    "\"",
    "r#\"",
    "\"#",
    "r#type",
    "/*",
    "*/",
    "//",
    "///",
    "\n",
    ";",
    ",",
    ":",
    "::",
    "::<",
    ".",
    "..",
    "..=",
    "...",
    "@",
    "@unsafe ",
    "@heap ",
    "#[",
    "#![",
    "0x",
    "0b102",
    "1.0e",
    "1e5",
    "1.0f32",
    "340282366920938463463374607431768211456",
    "'\\u{",
    "'\\q'",
    "''",
    "b\"",
    "b'",
    "\\",
    "select! ",
    "vec![",
    "matches!(",
    "assert!(",
    "perform ",
    "resume(",
    "with ",
    " handle ",
    "try ",
    "region ",
    "unsafe ",
    "pub ",
    "pub(crate) ",
    "pub(",
    "struct ",
    "enum ",
    "impl ",
    "trait ",
    "for ",
    " in ",
    "while ",
    "loop ",
    "break ",
    "continue ",
    "return ",
    "mod ",
    "use ",
    "type ",
    "const ",
    "static mut ",
    "effect ",
    "handler ",
    "deep ",
    "bridge \"C\" ",
    "extern ",
    "macro_rules! ",
    "dyn ",
    "&&",
    "&mut ",
    "*const ",
    "-> ",
    "/ {",
    "/ pure",
    "where ",
    "requires ",
    "unchecked(",
    "move |",
    "as ",
    "Self",
    "self.",
    ".0",
    ".0.1",
    "?",
    "!",
    "~",
    "$",
    "_",
];

/// Non-ASCII text: multi-byte characters, combining marks, bidi controls, zero-width space.
const UNICODE: &[&str] = &["é", "日本語", "🦀", "e\u{301}", "\u{202e}", "\u{200b}", "Ω", "\u{feff}", "ß", "𝔘"];

/// One mutation of `bytes`; `other` is a second program for splicing.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    let len = bytes.len();
    let at = rng.below(len + 1);
    match rng.below(11) {
        0 => {
            let end = (at + 1 + rng.below(24)).min(len);
            bytes.drain(at.min(end)..end);
        }
        1 => {
            let end = (at + 1 + rng.below(40)).min(len);
            let copy = bytes[at.min(end)..end].to_vec();
            let to = rng.below(len + 1);
            bytes.splice(to..to, copy);
        }
        2 if len > 2 => {
            let a = rng.below(len);
            let b = rng.below(len);
            bytes.swap(a, b);
        }
        3 | 4 => {
            let snippet = rng.pick(SNIPPETS).as_bytes().to_vec();
            bytes.splice(at..at, snippet);
        }
        5 => {
            let count = 1 + rng.below(4);
            let random: Vec<u8> = (0..count).map(|_| (rng.next() % 128) as u8).collect();
            bytes.splice(at..at, random);
        }
        6 => {
            let text = rng.pick(UNICODE).as_bytes().to_vec();
            bytes.splice(at..at, text);
        }
        7 => bytes.truncate(at),
        8 => {
            let cut = rng.below(other.len() + 1);
            bytes.truncate(at);
            bytes.extend_from_slice(&other[cut..]);
        }
        9 => {
            let (open, close) = *rng.pick(&[
                ("(", ")"),
                ("[", "]"),
                ("{", "}"),
                ("-", ""),
                ("&", ""),
                ("!", ""),
                ("if x {", "}"),
                ("Vec<", ">"),
                ("|x| ", ""),
                ("a = ", ""),
                ("loop {", "}"),
                ("(", ""),
            ]);
            let depth = 1 + rng.below(1500);
            let mut nested = open.repeat(depth).into_bytes();
            nested.extend_from_slice(b"1");
            if rng.below(2) == 0 {
                nested.extend_from_slice(close.repeat(depth).as_bytes());
            }
            bytes.splice(at..at, nested);
        }
        _ => {
            // Remove a whole line.
            let start = bytes[..at].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let end = bytes[at..].iter().position(|b| *b == b'\n').map_or(len, |i| at + i);
            bytes.drain(start..end);
        }
    }
}

fn blood_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            blood_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "blood") {
            out.push(path);
        }
    }
}

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    blood_files(&root.join("tests"), &mut files);
    blood_files(&root.join("examples"), &mut files);
    let mut programs: Vec<String> = files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    programs.extend(BUILTIN_CORPUS.iter().map(|s| s.to_string()));
    programs
}

/// Shown when an input fails: long inputs are cut.
fn excerpt(text: &str) -> String {
    if text.len() <= 2000 {
        return text.to_string();
    }
    let mut end = 2000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in total)", &text[..end], text.len())
}

#[test]
fn front_end_survives_mutated_programs() {
    let programs = corpus();
    assert!(programs.len() >= 20, "corpus too small: {}", programs.len());
    let progress = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let current = Arc::new(Mutex::new(String::new()));
    let (worker_progress, worker_done, worker_current) = (progress.clone(), done.clone(), current.clone());
    // 8 MiB like the compiler's main thread; the parser itself needs far less (its nesting limit
    // is tested on a 2 MiB stack in the unit tests).
    let worker = std::thread::Builder::new()
        .name(WORKER_NAME.to_string())
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            // Silence panic messages of this thread only (they are collected and reported).
            let previous_hook = Arc::new(std::panic::take_hook());
            let hook_for_others = previous_hook.clone();
            std::panic::set_hook(Box::new(move |info| {
                if std::thread::current().name() != Some(WORKER_NAME) {
                    hook_for_others(info);
                }
            }));
            let mut slowest = (Duration::ZERO, String::new());
            let mut rng = Rng(env_number("BLOOD_FUZZ_SEED", SEED).max(1));
            let variants = env_number("BLOOD_FUZZ_VARIANTS", VARIANTS as u64) as usize;
            let mut failures = Vec::new();
            let originals = programs.iter().map(|p| p.as_bytes().to_vec());
            let mutated = (0..variants).map(|i| {
                let mut bytes = programs[i % programs.len()].as_bytes().to_vec();
                let other = programs[rng.below(programs.len())].as_bytes();
                for _ in 0..1 + rng.below(4) {
                    mutate(&mut rng, &mut bytes, other);
                }
                bytes
            });
            for bytes in originals.chain(mutated) {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                *worker_current.lock().unwrap_or_else(|e| e.into_inner()) = text.clone();
                let started = Instant::now();
                let outcome = catch_unwind(AssertUnwindSafe(|| front_end(&text)));
                if started.elapsed() > slowest.0 {
                    slowest = (started.elapsed(), text.clone());
                }
                if let Err(panic) = outcome {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push((message, text));
                }
                worker_progress.fetch_add(1, Ordering::Relaxed);
            }
            drop(std::panic::take_hook());
            if let Ok(hook) = Arc::try_unwrap(previous_hook) {
                std::panic::set_hook(hook);
            }
            println!("slowest input took {:?} ({} bytes)", slowest.0, slowest.1.len());
            if let Ok(path) = std::env::var("BLOOD_FUZZ_SLOWEST") {
                let _ = std::fs::write(path, &slowest.1);
            }
            worker_done.store(true, Ordering::Relaxed);
            failures
        })
        .expect("spawn fuzz worker");

    let mut last_progress = 0;
    let mut last_change = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        let now = progress.load(Ordering::Relaxed);
        if now != last_progress {
            last_progress = now;
            last_change = Instant::now();
        } else if last_change.elapsed() > HANG_LIMIT {
            let input = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
            panic!("front end hangs (> {HANG_LIMIT:?}) on input #{now}:\n{}", excerpt(&input));
        }
    }
    let failures = worker.join().expect("fuzz worker died");
    if let Some((message, input)) = failures.first() {
        panic!("{} of the inputs panicked; first: {message}\ninput:\n{}", failures.len(), excerpt(input));
    }
}

/// Programs covering the syntax of every level, valid and invalid.
const BUILTIN_CORPUS: &[&str] = &[
    "fn main() -> i32 {\n    let x: i32 = 40 + 2\n    println_int(x)\n    0\n}\n",
    "fn fib(n: i64) -> i64 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }\nfn main() { println_i64(fib(20)); }\n",
    "fn main() {\n    'outer: for i in 0..10 {\n        let mut j = 0\n        while j < i {\n            if j == 5 { break 'outer }\n            j += 1\n        }\n        continue 'outer\n    }\n    let v = loop { break 7 }\n}\n",
    "struct Point { x: i32, y: i32 }\nstruct Meters(f64);\nstruct Tag;\nimpl Point {\n    fn origin() -> Point { Point { x: 0, y: 0 } }\n    fn norm(&self) -> i32 { self.x * self.x + self.y * self.y }\n    fn shift(&mut self, d: i32) { self.x += d }\n}\nfn main() { let p = Point.origin(); let m = Meters(1.5); println_int(p.norm()) }\n",
    "enum Shape { Circle(i32), Rect { w: i32, h: i32 }, Empty }\nfn area(s: Shape) -> i32 {\n    match s {\n        Shape.Circle(r) => 3 * r * r,\n        Shape.Rect { w, h } => w * h\n        Shape.Empty => 0\n    }\n}\n",
    "fn classify(n: i32) -> &str {\n    match n {\n        i32::MIN..=-1 => \"neg\",\n        0 => \"zero\",\n        1 | 2 | 3 if n != 2 => \"small\",\n        x @ 4..=9 => { \"digit\" }\n        _ => \"big\",\n    }\n}\n",
    "fn main() {\n    let t = (1, (2, 3))\n    let a = t.1.0\n    let arr: [u8; 4] = [1, 2, 3, 4]\n    let s: &[u8] = &arr\n    let [first, .., last] = arr\n    let r = &mut t\n    *r = (0, (0, 0))\n    println!(\"{} {}\", a, s.len())\n}\n",
    "trait Show { fn show(&self) -> &str; fn twice(&self) { self.show(); self.show() } }\nimpl Show for i32 { fn show(&self) -> &str { \"int\" } }\nfn print_all<T: Show + Clone>(items: &Vec<T>) where T: Copy { for x in items { x.show() } }\n",
    "use std.collections.*\nuse a::b::{c, d as e}\nmod geometry { pub fn area(w: i32, h: i32) -> i32 { w * h } }\npub(crate) const LIMIT: usize = 10;\nstatic mut COUNT: i32 = 0;\ntype Grid = [[u8; 3]; 3];\nfn main() { geometry.area(width: 2, h: 3) }\n",
    "fn apply(f: fn(i32) -> i32, x: i32) -> i32 { f(x) }\nfn main() {\n    let add = |a: i32, b: i32| -> i32 { a + b }\n    let inc = move |x| x + 1\n    let k = || 42\n    let v: Vec<i32> = Vec.new()\n    v.push(3)\n    let o: Option<i32> = v.pop()\n    let y = o.unwrap_or(0) |> inc\n    let z = apply(inc, y)?\n}\n",
    "effect Ticker { op tick(by: i32) -> (); }\ndeep handler Total for Ticker {\n    let mut sum: i32\n    return(_done) { sum }\n    op tick(by) { sum = sum + by; resume(()) }\n}\nfn count_up(n: i32) / {Ticker} { for i in 0..n { perform Ticker.tick(i) } }\nfn main() -> i32 { let t: i32 = with Total { sum: 0 } handle { count_up(4) }\n 0 }\n",
    "fn main() {\n    let mut seen: i32 = 0\n    let r: i32 = try { emit_three(); 7 } with {\n        Beep.ring(n) => { seen = seen + n; resume(()); }\n    }\n    select! { v = inbox.recv() => { a(v) }, default => { perform Fiber.yield() }, }\n}\n",
    "fiber fn worker(n: u64) -> u64 / {Fiber, Cancel} { n * 2 }\nbridge \"C\" Libc { fn abs(x: i32) -> i32; #[link(name = \"m\")] fn sqrt(x: f64) -> f64; }\nfn main() { let p = @unsafe { worker as u64 }; let q: *const i32 = &x as *const i32; region r { } }\n",
    "#[inline]\n#![allow(dead_code)]\nfn f<'a, T>(x: &'a T, y: &&T, z: *mut u8) -> &'a T / pure requires true ensures x == x { x }\nfn g() -> ! { panic!(\"no\"); }\nfn h() { unchecked(overflow, reason = \"x\") { let n: u8 = 255 + 1; } @heap Box.new(1); @stack 3 }\n",
    "fn main() { let c = 'a'; let nl = '\\n'; let u = '\\u{1F980}'; let b = b'x'; let s = \"tab\\there \\\"q\\\"\"; let r = r#\"raw \"str\"\"#; let bs = b\"bytes\\x00\"; let big = 0xFFFF_FFFFu32; let f = 1_000.5e-3f64; let o = 0o777; let bin = 0b1010_1010; }\n",
    "fn main() {\n    let v = vec![0; 8]\n    let w = vec![1, 2, 3]\n    assert!(v.len() == 8, \"len\")\n    assert_eq!(w[0], 1)\n    let m = matches!(w.get(0), Some(&1))\n    let s = format!(\"{} {{}}\", dbg!(m))\n    eprintln!(\"{}\", s)\n    if false { unreachable!() } else { todo!() }\n}\n",
    "fn main() {\n    let total: i32 = base\n        + bonus\n    let y = total\n    -total\n    let n = items\n        .len()\n    if g == 0 { return 0 }\n    (a / g) * b\n}\n",
    "fn broken( { let x = ; }\nfn ok() -> i32 { 1 }\npub pub fn twice() {}\nextern \"C\" { fn abs(x: i32) -> i32; }\n42;\nreturn\nfn main() { unsafe { 1 } let if = 3; match v { => 0 } }\n",
    "impl<T: Clone> Wrapper<T> { fn get(self: &Self) -> T { self.0.clone() } }\nimpl<T> Iterator for Counter<T> where T: Copy { fn next(&mut self) -> Option<T> { None } }\nstruct Wrapper<T>(T);\nenum Option2<T> { None, Some(T) }\nenum Color { Red = 1, Green = 2, Blue = 4 }\nfn main() { let c = Color.Red as i32; let x: Vec<Vec<i32>> = Vec::<Vec<i32>>::new(); }\n",
    "fn main() { let x = if a { 1 } else if b { 2 } else { 3 }; while let Some(t) = stack.pop() { if let [a, b @ ..] = t { } } for (i, ch) in pairs { } let r = 1..=5; let in_range = x in 0..10; }\n",
    "macro_rules! m { ($x:expr) => { $x } }\nmacro twice(x) { x }\nfn main() { let d: dyn Show = x; let s: &str = \"unterminated\n}\n",
    "/* outer /* nested */ still comment */\n/// doc\nfn main() { // line\n    let r#match = 1; let y = r#match.r#type; x.try.spawn.yield; 'a'; '\\''; /* unclosed\n}\n",
];
