//! Parser tests: precedence (§3.4), statement separation (§1.5), every error message of §1.6
//! and §1.2–§1.5, recovery, and robustness against deep nesting.

mod printer;

use crate::source::FileId;
use crate::syntax::ast::{ItemKind, SourceFile};
use crate::syntax::parse_file;

fn parse(src: &str) -> (SourceFile, Vec<String>) {
    let (file, diags) = parse_file(FileId(0), src);
    (file, diags.into_iter().map(|d| d.message).collect())
}

/// The body of `fn main() { … }` as an S-expression; panics on diagnostics.
fn body(src: &str) -> String {
    let (file, errors) = parse(&format!("fn main() {{\n{src}\n}}"));
    assert!(errors.is_empty(), "unexpected errors {errors:?} in {src}");
    match &file.items[0].kind {
        ItemKind::Fn(f) => printer::block(f.body.as_ref().expect("body")),
        _ => panic!("not a function"),
    }
}

/// One expression (the tail of `main`).
fn e(src: &str) -> String {
    let b = body(src);
    b.strip_prefix("{tail ").and_then(|s| s.strip_suffix('}')).unwrap_or(&b).to_string()
}

/// The first error message for a whole file.
fn first_error(src: &str) -> String {
    let (_, errors) = parse(src);
    errors.into_iter().next().unwrap_or_else(|| panic!("no error for {src:?}"))
}

/// The first error inside `fn main() { … }`.
fn body_error(src: &str) -> String {
    first_error(&format!("fn main() {{\n{src}\n}}"))
}

#[test]
fn precedence_follows_the_table() {
    assert_eq!(e("a + b * c"), "(+ (path a) (* (path b) (path c)))");
    assert_eq!(e("a * b as i64"), "(* (path a) (as (path b) i64))");
    assert_eq!(e("-x as u32"), "(as (neg (path x)) u32)");
    assert_eq!(e("a || b && c"), "(|| (path a) (&& (path b) (path c)))");
    assert_eq!(e("a == b && c < d"), "(&& (== (path a) (path b)) (< (path c) (path d)))");
    assert_eq!(
        e("a | b ^ c & d << e + f"),
        "(| (path a) (^ (path b) (& (path c) (<< (path d) (+ (path e) (path f))))))"
    );
    assert_eq!(e("x = y = 5"), "(= (path x) (= (path y) 5))");
    assert_eq!(e("x += 1 + 2"), "(+= (path x) (+ 1 2))");
    assert_eq!(e("x <<= 2"), "(<<= (path x) 2)");
    assert_eq!(e("v |> f |> g"), "(|> (|> (path v) (path f)) (path g))");
    assert_eq!(e("a + 1 |> f"), "(|> (+ (path a) 1) (path f))");
    assert_eq!(e("x in 0..10 && y"), "(&& (in (path x) (.. 0 10)) (path y))");
    assert_eq!(e("a - b - c"), "(- (- (path a) (path b)) (path c))");
    assert_eq!(e("!a.b()"), "(not (call (path a.b)))");
    assert_eq!(e("&&x"), "(& (& (path x)))");
    assert_eq!(e("&mut x[0]"), "(&mut (index (path x) 0))");
    assert_eq!(e("*p = 3"), "(= (deref (path p)) 3)");
    assert_eq!(e("x as i32 < y"), "(< (as (path x) i32) (path y))");
    assert_eq!(e("lo..=hi"), "(..= (path lo) (path hi))");
    assert_eq!(e("..5"), "(.. _ 5)");
    assert_eq!(e("f()?"), "(? (call (path f)))");
}

#[test]
fn comparison_operators_do_not_chain() {
    let (_, errors) = parse("fn main() { a < b < c }");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (_, errors) = parse("fn main() { a == b == c }");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (_, errors) = parse("fn main() { a >= b > c }");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(e("1 + 1 < 3 == true"), "(== (< (+ 1 1) 3) true)");
    assert_eq!(e("a == b < c"), "(== (path a) (< (path b) (path c)))");
}

#[test]
fn paths_fields_and_calls() {
    assert_eq!(e("a.b.c"), "(path a.b.c)");
    assert_eq!(e("self.items.len()"), "(call (path self.items.len))");
    assert_eq!(e("Shape::Circle(2)"), "(call (path Shape.Circle) 2)");
    assert_eq!(e("f().x.y(3)"), "(method (field (call (path f)) x) y 3)");
    assert_eq!(e("t.0.1"), "(tfield (tfield (path t) 0) 1)");
    assert_eq!(e("t.0.x"), "(field (tfield (path t) 0) x)");
    assert_eq!(e("a[0].b"), "(field (index (path a) 0) b)");
    assert_eq!(e("\"s\".len()"), "(method \"s\" len)");
    assert_eq!(e("f::<i32>(x)"), "(call (path f<i32>) (path x))");
    assert_eq!(e("v.collect::<Vec<i32>>()"), "(call (path v.collect<Vec<i32>>))");
    assert_eq!(e("area(width: 2, height: 4)"), "(call (path area) width: 2 height: 4)");
    assert_eq!(e("perform_it.yield"), "(path perform_it.yield)");
    assert_eq!(e("c.r#type"), "(path c.type)");
    assert_eq!(e("Point { x: 1, y }"), "(struct Point x: 1 y)");
    assert_eq!(e("Self { ..base }"), "(struct Self ..(path base))");
    assert_eq!(e("Shape.Rect { w: 3, h: 4 }"), "(struct Shape.Rect w: 3 h: 4)");
    assert_eq!(e("(1,)"), "(tuple 1)");
    assert_eq!(e("()"), "(tuple)");
    assert_eq!(e("(1)"), "1");
    assert_eq!(e("[1, 2]"), "(array 1 2)");
    assert_eq!(e("[0; 4]"), "(repeat 0 4)");
}

#[test]
fn struct_literals_are_not_allowed_in_headers() {
    assert_eq!(e("if x == Foo { 1 } else { 2 }"), "(if (== (path x) (path Foo)) {tail 1} {tail 2})");
    assert_eq!(e("if x == (Foo { a: 1 }) { 1 }"), "(if (== (path x) (struct Foo a: 1)) {tail 1})");
    assert_eq!(e("while x { }"), "(while (path x) {})");
    assert_eq!(e("match p { _ => 0 }"), "(match (path p) [_ => 0])");
    assert_eq!(e("for i in 0..n { }"), "(for i (.. 0 (path n)) {})");
}

#[test]
fn control_flow_forms() {
    assert_eq!(e("'outer: loop { break 'outer 5 }"), "(loop 'outer {tail (break 'outer 5)})");
    assert_eq!(e("'a: while c { continue 'a }"), "(while 'a (path c) {tail (continue 'a)})");
    assert_eq!(e("if let Some(x) = o { x } else { 0 }"), "(iflet Some(x) (path o) {tail (path x)} {tail 0})");
    assert_eq!(e("while let Some(x) = s.pop() { }"), "(whilelet Some(x) (call (path s.pop)) {})");
    assert_eq!(e("if a { 1 } else if b { 2 } else { 3 }"), "(if (path a) {tail 1} (if (path b) {tail 2} {tail 3}))");
    assert_eq!(body("return"), "{tail (return)}");
    assert_eq!(body("return 5;"), "{(return 5);}");
    assert_eq!(e("|a, b: i32| a + b"), "(closure [a, b: i32] (+ (path a) (path b)))");
    assert_eq!(e("move || 1"), "(closure move [] 1)");
    assert_eq!(e("|x| / {Log} x"), "(closure [x] (path x))");
    assert_eq!(e("|x| -> i32 { x }"), "(closure [x] {tail (path x)})");
    assert_eq!(e("unchecked(overflow) { 1 }"), "(unchecked {tail 1})");
    assert_eq!(e("@heap Box.new(1)"), "(call (path Box.new) 1)");
}

#[test]
fn match_arms_guards_and_commas() {
    let src = "match v {\n 0 | 1 if x => a,\n 2..=5 => { b }\n Some(ref y) => y\n Point { x, y: 0, .. } => 1\n [a, .., b] => 2\n -1 => 3\n _ => c\n}";
    assert_eq!(
        e(src),
        "(match (path v) [0 | 1 if (path x) => (path a)] [2..=5 => {tail (path b)}] [Some(ref y) => (path y)] \
         [Point { x, y: 0, .. } => 1] [[a, .., b] => 2] [(neg 1) => 3] [_ => (path c)])"
    );
    assert_eq!(
        e("match x { Color.Red => 1, n @ 1..=9 => n, &mut z => z, (a, b) => a }"),
        "(match (path x) [Color.Red => 1] [n @ 1..=9 => (path n)] [&mut z => (path z)] [(a, b) => (path a)])"
    );
}

#[test]
fn macros() {
    assert_eq!(e("vec![0; 3]"), "(macro vec (repeat 0 3))");
    assert_eq!(e("vec![1, 2]"), "(macro vec 1 2)");
    assert_eq!(e("matches!(x, Some(_))"), "(macro matches (path x) Some(_))");
    assert_eq!(e("println!(\"{}\", x)"), "(macro println \"{}\" (path x))");
    assert_eq!(e("unknown!(a b c)"), "(macro unknown)");
    assert_eq!(
        e("select! { v = rx.recv() => { v }, w = s.inbox.recv() => w, timeout(5) => 0, }"),
        "(select (v = (path rx).recv() => {tail (path v)}) (w = (path s.inbox).recv() => (path w)) (timeout 5 => 0))"
    );
    assert_eq!(
        e("select! { v = f().recv() => 1, default => 2 }"),
        "(select (v = (call (path f)).recv() => 1) (default => 2))"
    );
    assert_eq!(e("perform Fiber.yield()"), "(perform Fiber.yield)");
    assert_eq!(e("perform lib.Fiber.spawn(f, 1)"), "(perform lib.Fiber.spawn (path f) 1)");
    assert_eq!(e("with Total { sum: 0 } handle { count_up(4) }"), "(with Total sum {tail (call (path count_up) 4)})");
    assert_eq!(e("with Nursery handle { }"), "(with Nursery {})");
    assert_eq!(e("try { f() } with { E.op(x) => { resume(()) } }"), "(unsupported try … with)");
    assert_eq!(e("@unsafe { *p }"), "(unsafe {tail (deref (path p))})");
    assert_eq!(e("region { 1 }"), "(unsupported region)");
    assert_eq!(e("resume(1)"), "(unsupported resume)");
}

#[test]
fn optional_semicolons_follow_section_1_5() {
    let src = "let total: i32 = base\n    + bonus\nlet y = total\n-total\nlet n = items\n    .len()\nif g == 0 { return 0 }\n(a / g) * b";
    assert_eq!(
        body(src),
        "{let total: i32 = (+ (path base) (path bonus)); let y = (path total); (neg (path total)); \
         let n = (call (path items.len)); (if (== (path g) 0) {tail (return 0)}); tail (* (/ (path a) (path g)) (path b))}"
    );
    let arms = "match pair {\n    (0, y) => { y }\n    (x, _) => x\n}";
    assert_eq!(e(arms), "(match (path pair) [(0, y) => {tail (path y)}] [(x, _) => (path x)])");
    assert_eq!(body("if c { a } (x, y)"), "{(if (path c) {tail (path a)}); tail (tuple (path x) (path y))}");
    assert_eq!(body("a\n*b"), "{(path a); tail (deref (path b))}");
    assert_eq!(body("a\n&& b"), "{tail (&& (path a) (path b))}");
    assert_eq!(body("a +\n-b"), "{tail (+ (path a) (neg (path b)))}");
    assert_eq!(body("f\n(x)"), "{(path f); tail (path x)}");
    assert_eq!(body("x\nas i64"), "{tail (as (path x) i64)}");
    assert_eq!(body(";;"), "{;; ;}");
    assert_eq!(body("let x = 1; x"), "{let x = 1; tail (path x)}");
    assert_eq!(body("f();"), "{(call (path f));}");
    assert_eq!(body("{ 1 }.max(2)"), "{tail (method {tail 1} max 2)}");
    assert_eq!(body_error("let a = 1 let b = 2"), "expected `;`, found `let`");
}

#[test]
fn section_1_6_messages() {
    assert_eq!(body_error("let x: i32 = ;"), "expected expression, found `;`");
    assert_eq!(first_error("fn main() { let x: i32 ="), "expected expression, found end of file");
    assert_eq!(body_error("let x: = 5;"), "expected type, found `=`");
    assert_eq!(body_error("match v { => 0 }"), "expected pattern, found `=>`");
    assert_eq!(body_error("match v { 1 =>, }"), "expected expression, found `,`");
    assert_eq!(body_error("(1 + 2;"), "expected `)`, found `;`");
    assert_eq!(body_error("let if = 3;"), "expected pattern, found `if`");
    assert_eq!(body_error("let defer = 3;"), "expected pattern, found `defer`");
    assert_eq!(body_error("let c: char = 'a;"), "expected `:`, found `;`");
    assert_eq!(body_error("let x: i32 = ~5;"), "expected expression, found error");
    assert_eq!(body_error("let x = Y { a: 1 b: 2 };"), "expected `,`, found identifier");
    assert_eq!(body_error("foo(Bar"), "expected `)`, found `}`");
    assert_eq!(body_error("let s = \"abc;"), "expected `}`, found end of file");
    assert_eq!(body_error("assert!()"), "expected expression, found `)`");
    let (_, diags) = parse_file(FileId(0), "fn main() { unsafe { 1 } }");
    assert_eq!(diags[0].message, "expected expression, found `unsafe`");
    assert_eq!(diags[0].help.as_deref(), Some("use `@unsafe`"));
}

#[test]
fn declaration_errors() {
    assert_eq!(first_error("42;"), "expected declaration, found integer literal");
    assert_eq!(first_error("return"), "expected declaration, found `return`");
    assert_eq!(first_error("extern \"C\" { fn abs(x: i32) -> i32; }"), "expected declaration, found `extern`");
    assert!(first_error("fn 42() {}").starts_with("expected identifier for function name"));
    assert_eq!(first_error("fn f(x) {}"), "expected `:`, found `)`");
    assert_eq!(first_error("fn f() -> { 1 }"), "expected type, found `{`");
    assert_eq!(first_error("pub pub fn f() {}"), "expected declaration, found `pub`");
    assert_eq!(first_error("pub(other) fn f() {}"), "expected `)`, found identifier");
    assert_eq!(first_error("fn f() / {42} {}"), "expected type, found integer literal");
    assert_eq!(first_error("fn f() / {E | e} {}"), "unsupported feature: effect row variables");
    assert_eq!(first_error("struct A<const N: usize> { a: [i32; N] }"), "unsupported feature: const generics");
    assert_eq!(first_error("fn main() {}\n/* open"), "expected declaration, found error");
    let (_, diags) = parse_file(FileId(0), "/* a /* b */ c");
    assert_eq!(diags[0].notes, vec!["unclosed block comment".to_string()]);
    assert_eq!(first_error("Foo"), "expected declaration, found type identifier");
    assert_eq!(first_error("fn f() -> i32 { 1 } }"), "expected declaration, found `}`");
    let (_, errors) = parse("fn f() {} }}}} fn g() {}");
    assert_eq!(errors, ["expected declaration, found `}`"]);
    let (_, errors) = parse(&"fn 1() {}\n".repeat(1000));
    assert_eq!(errors.len(), super::MAX_ERRORS + 1);
}

#[test]
fn items_parse() {
    let src = r#"
#![allow(dead)]
use a.b.{c, d as e}
use std::io::*
pub(crate) use x.y as z;
mod m { pub fn f() {} }
mod loaded;
#[inline]
pub fiber fn worker<T: Show + Clone, 'a>(self_: &'a T, mut n: i32) -> Option<T> / {Log, State<i32>}
    requires n > 0
    where T: Copy
{ None }
fn pure_fn() / pure {}
fn empty_row() -> i32 / {} { 0 }
struct Unit;
struct Pair(pub i32, i32);
struct Point<T> { pub x: T, y: T }
enum E { A, B(i32, bool), C { x: i32 } = 3, }
enum D { X = 1, Y = 2 }
type Alias<T> = Vec<Vec<T>>;
const MAX: usize = 10;
static mut COUNTER: i32 = 0;
impl<T> Point<T> { fn get(&self) -> &T { &self.x } fn set(&mut self, v: T) { self.x = v } fn by(self: &Self) {} fn m(mut self) {} }
impl Show for i32 { fn show(&self) {} }
trait Named: Show + Debug { fn name(&self) -> &str; fn default_name(&self) { } type Item; const N: usize; }
effect Ticker { op tick(by: i32) -> (); }
deep handler Total for Ticker / {Log} { let mut sum: i32 op tick(by) { resume(()) } }
shallow handler S for E {}
handler H for E {}
bridge "C" Libc { fn abs(x: i32) -> i32; }
macro_rules! m { () => {} }
macro twice(x) { x }
fn more_types(a: linear Foo, b: affine Bar, c: { x: i32 }, d: forall<T>. T) {}
fn types(a: &&T, b: *const u8, c: *mut [i32; 4], d: fn(i32) -> bool / {Log}, e: (i32,), f: !, g: &mut [u8], h: dyn Show, i: (), j: _) {}
"#;
    let (file, errors) = parse(src);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<String> = file.items.iter().map(printer::item_name).collect();
    assert_eq!(
        names,
        [
            "use",
            "use",
            "use",
            "mod m",
            "mod loaded",
            "fn worker",
            "fn pure_fn",
            "fn empty_row",
            "struct Unit",
            "struct Pair",
            "struct Point",
            "enum E",
            "enum D",
            "type Alias",
            "const MAX",
            "static COUNTER",
            "impl Point<T>",
            "impl i32",
            "trait Named",
            "unsupported effect declaration",
            "unsupported effect handler",
            "unsupported effect handler",
            "unsupported effect handler",
            "unsupported bridge block",
            "unsupported user macro",
            "unsupported user macro",
            "fn more_types",
            "fn types",
        ]
    );
    let ItemKind::Fn(types) = &file.items.last().expect("item").kind else { panic!() };
    let tys: Vec<String> = types.params.iter().map(|p| printer::ty(&p.ty)).collect();
    assert_eq!(
        tys,
        [
            "&&T",
            "*const u8",
            "*mut [i32; 4]",
            "fn(i32) -> bool / {Log}",
            "(i32)",
            "!",
            "&mut [u8]",
            "(unsupported dyn Trait)",
            "()",
            "_"
        ]
    );
    let ItemKind::Fn(worker) = &file.items[5].kind else { panic!() };
    assert!(worker.is_fiber);
    assert_eq!(worker.generics.params.len(), 1);
    assert_eq!(worker.generics.where_clauses.len(), 1);
    assert_eq!(worker.effects.as_ref().map(|r| r.effects.len()), Some(2));
    let ItemKind::Trait(named) = &file.items[18].kind else { panic!() };
    let members: Vec<String> = named.items.iter().map(printer::item_name).collect();
    assert_eq!(
        members,
        ["fn name", "fn default_name", "unsupported associated types", "unsupported associated constants"]
    );
    assert_eq!(file.items[0].attrs.len(), 1);
    assert!(file.items[0].attrs[0].inner);
    assert_eq!(file.items[0].attrs[0].text, "allow(dead)");
    assert_eq!(file.items[5].attrs.len(), 1);
    assert_eq!(file.items[5].attrs[0].name, "inline");
}

#[test]
fn recovery_reports_each_broken_function() {
    let src = "fn a() {\n let x = ;\n}\nfn ok() { 1 }\nfn b() {\n if { }\n}\nfn c(x: i32) -> i32 { x }\n";
    let (file, errors) = parse(src);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let names: Vec<String> = file.items.iter().map(printer::item_name).collect();
    assert_eq!(names, ["error", "fn ok", "error", "fn c"]);
    let (file, errors) =
        parse("impl X {\n fn a(&self) { let = 1 }\n fn b(&self) { 2 }\n fn c(&self) { ) }\n}\nfn main() {}");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(file.items.len(), 2);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let run = |src: String| {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || parse(&src).1)
            .expect("spawn")
            .join()
            .expect("parser overflowed its stack")
    };
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("-", ""), ("&", ""), ("if a {", "}")] {
        let src = format!("fn main() {{ {}1{} }}", open.repeat(5000), close.repeat(5000));
        let errors = run(src);
        assert!(errors.iter().any(|m| m.contains("nested too deeply")), "{open}: {errors:?}");
    }
    let errors = run(format!("fn f(x: {}i32{}) {{}}", "Vec<".repeat(3000), ">".repeat(3000)));
    assert!(errors.iter().any(|m| m.contains("nested too deeply")));
    let errors = run(format!("fn f() {{ let {}x{} = 1; }}", "(".repeat(3000), ")".repeat(3000)));
    assert!(errors.iter().any(|m| m.contains("nested too deeply")));
    let errors = run(format!("fn f() {{ x = {}1 }}", "a = ".repeat(3000)));
    assert!(errors.iter().any(|m| m.contains("nested too deeply")));
}

#[test]
fn spans_point_at_the_source() {
    let src = "fn main() {\n    let x: i32 = ;\n}";
    let (_, diags) = parse_file(FileId(0), src);
    assert_eq!(&src[diags[0].span.lo as usize..diags[0].span.hi as usize], ";");
    let src = "fn main() { foo(1, 2) + bar.baz }";
    let (file, _) = parse_file(FileId(0), src);
    let ItemKind::Fn(main) = &file.items[0].kind else { panic!() };
    let tail = main.body.as_ref().and_then(|b| b.tail.as_ref()).expect("tail");
    assert_eq!(&src[tail.span.lo as usize..tail.span.hi as usize], "foo(1, 2) + bar.baz");
    assert_eq!(&src[file.items[0].span.lo as usize..file.items[0].span.hi as usize], src);
    assert_eq!(&src[main.sig_span.lo as usize..main.sig_span.hi as usize], "fn main()");
}

#[test]
fn specification_examples_parse_without_errors() {
    let examples = [
        // §6.3
        "effect Ticker { op tick(by: i32) -> (); }\n\ndeep handler Total for Ticker {\n    let mut sum: i32\n    \
         return(_done) { sum }\n    op tick(by) { sum = sum + by; resume(()) }\n}\n\nfn count_up(n: i32) / {Ticker} {\n    \
         for i in 0..n { perform Ticker.tick(i) }\n}\n\nfn main() -> i32 {\n    \
         let t: i32 = with Total { sum: 0 } handle { count_up(4) }\n    println_int(t)      // 6\n    0\n}\n",
        // §6.8
        "fn main() {\nlet mut seen: i32 = 0\nlet r: i32 = try { emit_three(); 7 } with {\n    \
         Beep.ring(n) => { seen = seen + n; resume(()); }\n}\n}",
        // §7.2
        "fn main() / {Fiber} {\nlet (tx, rx): (Sender<i32>, Receiver<i32>) = Channel.bounded(4)\ntx.send(5)\n\
         let v: Option<i32> = rx.recv()\nrx.try_recv()\nselect! {\n    v = inbox.recv() => { handle_a(v) },\n    \
         w = other.recv() => { handle_b(w) },\n    default => { perform Fiber.yield() },\n}\n\
         let h = perform Fiber.spawn(|| 1)\nwith Nursery {} handle { body() }\n}",
        // §4.7, §4.9, §5.3, §5.5, §8
        "fn main() {\nlet r: &i32 = match x { ref v => v };\nlet m: i8 = -128;\n\
         fn run(f: fn() -> i32 / {Log}) -> i32 { f() }\nlet v = Vec.new(); v.push(1);\n\
         let t = Box.new(Tree.Leaf(1))\nlet p = @unsafe { worker as u64 }\nlet q = &x as *const i32\n\
         let e = Errno.Code.Busy\nlet g = Geo.Pt { x: 1, y: 2 }\n}\n\
         enum Tree { Leaf(i32), Node(Box<Tree>, Box<Tree>) }\n\
         fn f() -> i32 { if c { return 1; } return 2; }\nfn g() -> ! { panic!(\"no\"); }\n\
         impl<T: Freeze> Wrapper<T> { fn get(&self) -> T { self.0 } }\nfn phantom<T, U>(x: T) -> U { x }\n\
         #[repr(align(16))]\nstruct Aligned { a: u8 }\nstatic mut COUNTER: u64 = 0;\n",
    ];
    for example in examples {
        let (_, errors) = parse(example);
        assert!(errors.is_empty(), "{errors:?} in\n{example}");
    }
}
