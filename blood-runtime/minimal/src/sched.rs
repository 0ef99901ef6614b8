//! The single-threaded scheduler: fiber records, the run queue, the loop, timers, preemption,
//! structured completion, cancellation and nurseries. See the crate header for the design.

use alloc::boxed::Box;
use alloc::collections::{BinaryHeap, VecDeque};
use alloc::vec::Vec;
use blood_runtime_core::arch;
use blood_runtime_core::stack::{self, Reservations, Stack, StackGeometry};
use core::cell::UnsafeCell;
use core::cmp::Reverse;
use core::sync::atomic::Ordering;

/// A fiber's time slice.
const SLICE_NS: u64 = 10_000_000;
/// Largest stack a fiber may use (the full runtime's default `BLOOD_MAX_STACK_SIZE`).
const MAX_STACK: usize = 1024 * 1024;
/// Slots that get a hardware guard page (as in the full runtime).
const GUARDED_SLOTS: usize = 10_000;

/// What a fiber runs.
#[derive(Clone, Copy)]
pub enum Task {
    None,
    F0(extern "C" fn() -> u64),
    F1(extern "C" fn(u64) -> u64, u64),
    F2(extern "C" fn(u64, u64) -> u64, u64, u64),
    F3(extern "C" fn(u64, u64, u64) -> u64, u64, u64, u64),
    Main(extern "C" fn() -> i32),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Runnable,
    Running,
    Blocked,
    /// The body ended; waiting for children to complete (or complete already).
    Exited,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Value(u64),
    Cancelled,
}

/// A fiber's cancellation parent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CParent {
    None,
    Fiber(*mut Fiber),
    Nursery(*mut Nursery),
}

/// A fiber record (the main pseudo-fiber has one too, without a stack).
pub struct Fiber {
    pub id: u64,
    sp: usize,
    stack: Option<Stack>,
    stack_size: usize,
    task: Task,
    pub state: State,
    rc: u32,
    pub cancelled: bool,
    pub outcome: Outcome,
    pub complete: bool,
    /// The spawner (structured parent), null for the root and for fibers spawned outside fibers.
    parent: *mut Fiber,
    live_children: u32,
    cparent: CParent,
    /// Index in the cancellation parent's `kids`.
    kid_slot: usize,
    /// Live fibers whose cancellation parent is this fiber.
    kids: Vec<*mut Fiber>,
    /// Innermost open nursery.
    pub nursery: *mut Nursery,
    pub joiners: Vec<*mut Fiber>,
    /// Incremented after every wait: timers of earlier waits are stale.
    wait_gen: u64,
    /// An unpark arrived while not parked.
    pub unpark_token: bool,
    /// A blocked sender's value; `xfer_done` once a receiver took it.
    pub xfer: u64,
    pub xfer_done: bool,
}

/// An open nursery.
pub struct Nursery {
    pub opener: *mut Fiber,
    pub outer: *mut Nursery,
    pub cancelled: bool,
    /// Live fibers spawned into it.
    kids: Vec<*mut Fiber>,
    /// The opener waiting in `end`, or null.
    ender: *mut Fiber,
}

struct Timer {
    deadline: u64,
    seq: u64,
    fiber: *mut Fiber,
    gen_: u64,
}

impl PartialEq for Timer {
    fn eq(&self, o: &Self) -> bool {
        (self.deadline, self.seq) == (o.deadline, o.seq)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, o: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timer {
    fn cmp(&self, o: &Self) -> core::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(o.deadline, o.seq))
    }
}

/// The scheduler state (one per process).
pub struct Rt {
    /// The pseudo-fiber of code outside fibers (null until first use).
    pub main: *mut Fiber,
    pub current: *mut Fiber,
    runq: VecDeque<*mut Fiber>,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    /// The loop's saved context while a fiber runs.
    sched_sp: usize,
    /// A fiber that has just switched out for the last time (its stack to recycle).
    exited: *mut Fiber,
    next_id: u64,
    /// Fibers spawned and not complete.
    pub live: usize,
    /// Spawned fibers by id, until joined.
    pub registry: crate::registry::Registry,
    pub root_id: u64,
    reservations: Option<Reservations>,
    free_stacks: Vec<Stack>,
    slice_start: u64,
    preempt_armed: bool,
    preempt_requested: bool,
}

struct Global(UnsafeCell<Rt>);
// SAFETY: only the runtime's one thread touches the state (crate header, "Invariants").
unsafe impl Sync for Global {}

static RT: Global = Global(UnsafeCell::new(Rt {
    main: core::ptr::null_mut(),
    current: core::ptr::null_mut(),
    runq: VecDeque::new(),
    timers: BinaryHeap::new(),
    timer_seq: 0,
    sched_sp: 0,
    exited: core::ptr::null_mut(),
    next_id: 1,
    live: 0,
    registry: crate::registry::Registry::new(),
    root_id: u64::MAX,
    reservations: None,
    free_stacks: Vec::new(),
    slice_start: 0,
    preempt_armed: false,
    preempt_requested: false,
}));

/// The scheduler state.
///
/// Callers keep the returned borrow short: never across a context switch or a call that takes
/// it again (the functions here re-borrow at each step).
#[allow(clippy::mut_from_ref)]
pub fn rt() -> &'static mut Rt {
    // SAFETY: one thread (crate invariant); borrows are not held across calls that re-borrow.
    let rt = unsafe { &mut *RT.0.get() };
    if rt.main.is_null() {
        let main = new_record(0, Task::None);
        rt.main = main;
        rt.current = main;
    }
    rt
}

/// The record behind a pointer.
pub fn rec<'a>(f: *mut Fiber) -> &'a mut Fiber {
    // SAFETY: records are freed only when their count drops to zero, and every pointer held by
    // the runtime (current, run queue, registry, timers, parents, kids, joiners, waiter lists)
    // is covered by a count or removed before the record's completion (crate header).
    unsafe { &mut *f }
}

fn new_record(id: u64, task: Task) -> *mut Fiber {
    Box::into_raw(Box::new(Fiber {
        id,
        sp: 0,
        stack: None,
        stack_size: 0,
        task,
        state: State::Runnable,
        rc: 1,
        cancelled: false,
        outcome: Outcome::Pending,
        complete: false,
        parent: core::ptr::null_mut(),
        live_children: 0,
        cparent: CParent::None,
        kid_slot: 0,
        kids: Vec::new(),
        nursery: core::ptr::null_mut(),
        joiners: Vec::new(),
        wait_gen: 0,
        unpark_token: false,
        xfer: 0,
        xfer_done: false,
    }))
}

pub fn retain(f: *mut Fiber) {
    rec(f).rc += 1;
}

pub fn release(f: *mut Fiber) {
    let r = rec(f);
    r.rc -= 1;
    if r.rc == 0 {
        // SAFETY: the last reference: the record came from `Box::into_raw` in `new_record`.
        drop(unsafe { Box::from_raw(f) });
    }
}

/// The running record (the main pseudo-fiber outside fibers).
pub fn current() -> *mut Fiber {
    rt().current
}

/// Whether a fiber (not the main pseudo-fiber) is running.
pub fn on_fiber() -> bool {
    let rt = rt();
    rt.current != rt.main
}

pub fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

// ---------------------------------------------------------------------------------------------
// Stacks.

fn alloc_stack() -> Stack {
    let rt = rt();
    if let Some(s) = rt.free_stacks.pop() {
        return s;
    }
    if rt.reservations.is_none() {
        let geometry = StackGeometry::new(MAX_STACK, 8 * 1024, GUARDED_SLOTS);
        rt.reservations = Some(Reservations::new(geometry));
        stack::overflow::install_handler();
        blood_runtime_core::exports::blood_stack_slot_mask.store(geometry.slot_size as u64 - 1, Ordering::Release);
    }
    match rt.reservations.as_ref().map(Reservations::carve) {
        Some(Ok(base)) => Stack::from_slot(core::num::NonZeroUsize::new(base).expect("slot addresses are not 0")),
        Some(Err(e)) => blood_runtime_core::panic::die("fatal: ", e.0.as_bytes(), blood_abi::EXIT_OUT_OF_MEMORY),
        None => unreachable!(),
    }
}

/// Publishes the stack-slot mask (compiled stack checks need it before the first fiber runs).
pub fn init_stacks() {
    if rt().reservations.is_none() {
        let s = alloc_stack();
        rt().free_stacks.push(s);
    }
}

// ---------------------------------------------------------------------------------------------
// Spawning, running, blocking.

/// Spawns `task` under the current fiber (into `nursery` if given, else into the caller's
/// innermost open nursery).
pub fn spawn(task: Task, stack_size: usize, nursery: Option<*mut Nursery>) -> *mut Fiber {
    SHUTDOWN_HOOK.store(finish_all as fn() as *mut (), Ordering::Relaxed);
    let rt = rt();
    let cur = rt.current;
    let id = rt.next_id;
    rt.next_id += 1;
    let f = new_record(id, task);
    let nursery = nursery.or_else(|| Some(rec(cur).nursery).filter(|n| !n.is_null()));
    let fr = rec(f);
    fr.stack_size = stack_size;
    match nursery {
        Some(n) => {
            // SAFETY: an open nursery (the ABI contract of the handle / the opener's stack).
            let nr = unsafe { &mut *n };
            fr.cparent = CParent::Nursery(n);
            fr.cancelled = nr.cancelled;
            fr.kid_slot = nr.kids.len();
            nr.kids.push(f);
            fr.parent = if nr.opener != rt.main { nr.opener } else { core::ptr::null_mut() };
        }
        None if cur != rt.main => {
            let cr = rec(cur);
            fr.cparent = CParent::Fiber(cur);
            fr.cancelled = cr.cancelled;
            fr.kid_slot = cr.kids.len();
            cr.kids.push(f);
            fr.parent = cur;
        }
        None => {}
    }
    if !fr.parent.is_null() {
        rec(fr.parent).live_children += 1;
    }
    // The stack is taken when the fiber first runs (`run`): 100,000 fibers spawned before any
    // runs must not hold 100,000 committed stacks.
    rt.live += 1;
    rt.runq.push_back(f);
    f
}

/// First Rust code on a fiber's stack.
///
/// # Safety
/// `arg` is the fiber's record, alive while it runs.
unsafe extern "C" fn fiber_entry(arg: usize, _handed: usize) -> ! {
    let f = arg as *mut Fiber;
    let task = core::mem::replace(&mut rec(f).task, Task::None);
    let v = match task {
        Task::None => 0,
        Task::F0(g) => g(),
        Task::F1(g, a) => g(a),
        Task::F2(g, a, b) => g(a, b),
        Task::F3(g, a, b, c) => g(a, b, c),
        Task::Main(g) => g() as u32 as u64,
    };
    finish_body(f, Outcome::Value(v))
}

/// Ends the current fiber's body with `outcome` (its return, or `blood_fiber_exit_cancelled`)
/// and leaves its stack for good.
pub fn finish_body(f: *mut Fiber, outcome: Outcome) -> ! {
    abandon_open_nurseries(f);
    let fr = rec(f);
    fr.outcome = outcome;
    fr.state = State::Exited;
    // The loop drops this count after the final switch (the record must outlive it).
    retain(f);
    if fr.live_children == 0 {
        complete(f);
    }
    let rt = rt();
    rt.exited = f;
    let mut dead_sp = 0usize;
    let sched = rt.sched_sp;
    // SAFETY: `sched` is the loop's context, saved when it switched to this fiber; this context
    // is never resumed (its stack is recycled by the loop).
    unsafe { arch::switch(&mut dead_sp, sched, 0) };
    unreachable!("a finished fiber was resumed")
}

/// Publishes `f`'s outcome (its body ended and its children completed), wakes its joiners and
/// completes the parents this was waiting for.
fn complete(mut f: *mut Fiber) {
    loop {
        let fr = rec(f);
        fr.complete = true;
        for j in core::mem::take(&mut fr.joiners) {
            wake(j);
        }
        match fr.cparent {
            CParent::Fiber(p) => remove_kid(&mut rec(p).kids, fr.kid_slot),
            CParent::Nursery(n) => {
                // SAFETY: a nursery outlives its kids (`end` waits for them; an abandoned one
                // hands them to its opener first).
                let nr = unsafe { &mut *n };
                remove_kid(&mut nr.kids, fr.kid_slot);
                if nr.kids.is_empty() && !nr.ender.is_null() {
                    wake(nr.ender);
                }
            }
            CParent::None => {}
        }
        let parent = fr.parent;
        rt().live -= 1;
        release(f);
        if parent.is_null() {
            return;
        }
        let pr = rec(parent);
        pr.live_children -= 1;
        if pr.live_children != 0 || pr.state != State::Exited {
            return;
        }
        f = parent;
    }
}

fn remove_kid(kids: &mut Vec<*mut Fiber>, slot: usize) {
    kids.swap_remove(slot);
    if let Some(&moved) = kids.get(slot) {
        rec(moved).kid_slot = slot;
    }
}

fn set_cparent(f: *mut Fiber, kids: &mut Vec<*mut Fiber>, cp: CParent) {
    let fr = rec(f);
    fr.cparent = cp;
    fr.kid_slot = kids.len();
    kids.push(f);
}

/// Makes a Blocked record Runnable.
pub fn wake(f: *mut Fiber) {
    let fr = rec(f);
    if fr.state != State::Blocked {
        return;
    }
    fr.state = State::Runnable;
    let rt = rt();
    if f != rt.main {
        rt.runq.push_back(f);
        // The running fiber (if any) now competes with `f`: it must be preemptible.
        if rt.current != rt.main {
            set_preempt_timer(true);
        }
    }
}

/// Blocks the current record until [`wake`] (see the crate header): switches to the loop, or on
/// the main pseudo-fiber runs the loop.
pub fn block() {
    let rt = rt();
    let f = rt.current;
    rec(f).state = State::Blocked;
    if f == rt.main {
        run_until_woken(f);
    } else {
        switch_to_loop(f);
    }
    rec(f).wait_gen += 1;
}

/// Lets the other runnable fibers run first.
pub fn yield_now() {
    let rt = rt();
    let f = rt.current;
    if f == rt.main {
        // Outside fibers: run what is runnable now, then come back.
        let n = rt.runq.len();
        for _ in 0..n {
            let Some(g) = self::rt().runq.pop_front() else { break };
            run(g);
        }
        return;
    }
    rec(f).state = State::Runnable;
    rt.runq.push_back(f);
    switch_to_loop(f);
}

fn switch_to_loop(f: *mut Fiber) {
    let sched = rt().sched_sp;
    // SAFETY: `sched` is the loop's context, saved when it switched to `f`; `f.sp` is this
    // context's save slot, alive with the record.
    unsafe { arch::switch(&mut rec(f).sp, sched, 0) };
}

/// Runs fibers until `waiter` (the main pseudo-fiber) is woken.
fn run_until_woken(waiter: *mut Fiber) {
    while rec(waiter).state == State::Blocked {
        if let Some(f) = rt().runq.pop_front() {
            run(f);
            continue;
        }
        if fire_timers() {
            continue;
        }
        set_preempt_timer(false);
        match rt().timers.peek().map(|t| t.0.deadline) {
            Some(deadline) => sleep_until(deadline),
            // Every fiber is blocked and nothing can wake one: wait forever.
            // SAFETY: `pause` only suspends the thread until a signal.
            None => unsafe {
                libc::pause();
            },
        }
    }
    // Back to code outside fibers: nothing to preempt.
    set_preempt_timer(false);
    rec(waiter).state = State::Running;
}

/// Switches to `f` until it blocks, yields or finishes.
fn run(f: *mut Fiber) {
    if rec(f).stack.is_none() {
        let s = alloc_stack();
        let fr = rec(f);
        s.set_limit(if fr.stack_size == 0 { usize::MAX } else { fr.stack_size });
        // SAFETY: `top` is the 16-byte-aligned end of a fresh, writable stack slot we own.
        fr.sp = unsafe { arch::init_stack(s.top(), fiber_entry, f as usize) };
        fr.stack = Some(s);
    }
    let rt = rt();
    rt.current = f;
    rec(f).state = State::Running;
    rt.slice_start = now_ns();
    // Armed lazily and left armed while fibers run (a tick with nothing else runnable costs one
    // `blood_safepoint_slow` call); disarmed when the loop sleeps or returns to code outside
    // fibers. Toggling it at every switch would cost two system calls per spawn and join.
    if !rt.runq.is_empty() || !rt.timers.is_empty() {
        set_preempt_timer(true);
    }
    let next = rec(f).sp;
    // SAFETY: `next` is `f`'s saved (or freshly prepared) context on its own stack, which no other
    // context uses; the loop's context is saved in `sched_sp` for `f` to switch back to.
    unsafe { arch::switch(&mut self::rt().sched_sp, next, 0) };
    let rt = self::rt();
    rt.current = rt.main;
    let exited = core::mem::replace(&mut rt.exited, core::ptr::null_mut());
    if !exited.is_null() {
        if let Some(s) = rec(exited).stack.take() {
            rt.free_stacks.push(s);
        }
        release(exited);
    }
}

fn sleep_until(deadline: u64) {
    let ts = libc::timespec { tv_sec: (deadline / 1_000_000_000) as _, tv_nsec: (deadline % 1_000_000_000) as _ };
    // SAFETY: a valid absolute timespec; an interrupted sleep just returns early.
    unsafe { libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &ts, core::ptr::null_mut()) };
}

// ---------------------------------------------------------------------------------------------
// Timers and preemption.

/// Wakes `f` at `deadline` unless it was woken for its current wait before.
pub fn add_timer(f: *mut Fiber, deadline: u64) {
    retain(f);
    let rt = rt();
    rt.timer_seq += 1;
    let t = Timer { deadline, seq: rt.timer_seq, fiber: f, gen_: rec(f).wait_gen };
    rt.timers.push(Reverse(t));
    // A running fiber must be preemptible so that the timer is seen in time.
    if rt.current != rt.main {
        set_preempt_timer(true);
    }
}

/// Fires the expired timers; whether one woke a fiber.
fn fire_timers() -> bool {
    let mut woke = false;
    let mut now = 0;
    loop {
        let rt = rt();
        let Some(top) = rt.timers.peek() else { break };
        if now < top.0.deadline {
            now = now_ns();
            if now < top.0.deadline {
                break;
            }
        }
        let Some(Reverse(t)) = rt.timers.pop() else { break };
        let fr = rec(t.fiber);
        if fr.wait_gen == t.gen_ && fr.state == State::Blocked {
            wake(t.fiber);
            woke = true;
        }
        release(t.fiber);
    }
    woke
}

extern "C" fn on_sigalrm(_sig: libc::c_int) {
    blood_runtime_core::preempt::blood_preempt_flag.store(1, Ordering::Relaxed);
}

/// Arms (every half slice) or disarms the preemption signal.
fn set_preempt_timer(on: bool) {
    let rt = rt();
    if rt.preempt_armed == on {
        return;
    }
    static INSTALLED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if on && !INSTALLED.swap(true, Ordering::Relaxed) {
        // SAFETY: installs a handler that only stores to an atomic (async-signal-safe), with a
        // zeroed, then filled, sigaction.
        unsafe {
            let mut act: libc::sigaction = core::mem::zeroed();
            act.sa_sigaction = on_sigalrm as *const () as usize;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(libc::SIGALRM, &act, core::ptr::null_mut());
        }
    }
    rt.preempt_armed = on;
    let half = libc::timeval { tv_sec: 0, tv_usec: (SLICE_NS / 2 / 1000) as _ };
    let zero = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let it = if on {
        libc::itimerval { it_interval: half, it_value: half }
    } else {
        libc::itimerval { it_interval: zero, it_value: zero }
    };
    // SAFETY: a valid itimerval; ITIMER_REAL delivers SIGALRM, whose handler is installed above.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &it, core::ptr::null_mut()) };
}

/// The cold path of a safepoint (`blood_safepoint_slow`).
pub fn safepoint_slow() {
    blood_runtime_core::preempt::blood_preempt_flag.store(0, Ordering::Relaxed);
    if !on_fiber() {
        return;
    }
    fire_timers();
    let rt = rt();
    let requested = core::mem::take(&mut rt.preempt_requested);
    if requested || (!rt.runq.is_empty() && now_ns().saturating_sub(rt.slice_start) >= SLICE_NS) {
        yield_now();
    }
}

/// `blood_safepoint_request` / `_clear`.
pub fn request_preempt(on: bool) {
    rt().preempt_requested = on;
    if on {
        blood_runtime_core::preempt::blood_preempt_flag.store(1, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Cancellation and nurseries.

/// Cancels `f` and every fiber and nursery below it, waking the blocked ones.
pub fn cancel(f: *mut Fiber) {
    let mut work = alloc::vec![f];
    while let Some(f) = work.pop() {
        let fr = rec(f);
        if fr.cancelled || fr.complete {
            continue;
        }
        fr.cancelled = true;
        wake(f);
        work.extend_from_slice(&fr.kids);
        let mut n = fr.nursery;
        while !n.is_null() {
            // SAFETY: open nurseries of a live fiber are alive.
            let nr = unsafe { &mut *n };
            nr.cancelled = true;
            work.extend_from_slice(&nr.kids);
            n = nr.outer;
        }
    }
}

/// Cancels nursery `n` and the nurseries opened inside it, and their fibers.
pub fn cancel_nursery(n: *mut Nursery) {
    // SAFETY: `n` is open (the handle's contract), so is every nursery above it on the opener's
    // stack.
    let opener = unsafe { (*n).opener };
    let mut m = rec(opener).nursery;
    let mut work = Vec::new();
    while !m.is_null() {
        // SAFETY: as above.
        let mr = unsafe { &mut *m };
        mr.cancelled = true;
        work.extend_from_slice(&mr.kids);
        if m == n {
            break;
        }
        m = mr.outer;
    }
    for f in work {
        cancel(f);
    }
}

/// Opens a nursery on the current record's stack.
pub fn begin_nursery() -> *mut Nursery {
    let cur = current();
    let cr = rec(cur);
    let outer = cr.nursery;
    // SAFETY: the enclosing open nursery is alive.
    let cancelled = if outer.is_null() { cr.cancelled } else { unsafe { (*outer).cancelled } };
    let n = Box::into_raw(Box::new(Nursery {
        opener: cur,
        outer,
        cancelled,
        kids: Vec::new(),
        ender: core::ptr::null_mut(),
    }));
    cr.nursery = n;
    n
}

/// Joins, pops and frees the caller's innermost nursery `n` (cancelling it first if `abort`).
pub fn end_nursery(n: *mut Nursery, abort: bool) {
    let cur = current();
    if rec(cur).nursery != n || n.is_null() {
        blood_runtime_core::panic::internal_error(format_args!(
            "in blood_nursery_end: not the caller's innermost open nursery"
        ));
    }
    if abort {
        cancel_nursery(n);
    }
    // SAFETY: `n` is the caller's innermost open nursery (checked above).
    while !unsafe { &*n }.kids.is_empty() {
        // SAFETY: as above.
        unsafe { (*n).ender = cur };
        block();
        // SAFETY: as above.
        unsafe { (*n).ender = core::ptr::null_mut() };
    }
    // SAFETY: as above; nobody refers to it any more (no kids, popped below).
    let nr = unsafe { Box::from_raw(n) };
    rec(cur).nursery = nr.outer;
}

/// A fiber ending with nurseries open (it left through `blood_fiber_exit_cancelled`): cancels
/// them, hands their fibers to the fiber itself (which completes after them) and frees them.
fn abandon_open_nurseries(f: *mut Fiber) {
    while !rec(f).nursery.is_null() {
        let n = rec(f).nursery;
        cancel_nursery(n);
        // SAFETY: `n` is `f`'s innermost open nursery, alive until freed here.
        let nr = unsafe { Box::from_raw(n) };
        for &k in &nr.kids {
            set_cparent(k, &mut rec(f).kids, CParent::Fiber(f));
        }
        rec(f).nursery = nr.outer;
    }
}

// ---------------------------------------------------------------------------------------------
// Joining and shutdown.

/// Waits until `f` has completed; `Err` if the caller was cancelled first.
pub fn wait_complete(f: *mut Fiber) -> Result<(), ()> {
    let cur = current();
    loop {
        if rec(f).complete {
            return Ok(());
        }
        if rec(cur).cancelled {
            return Err(());
        }
        rec(f).joiners.push(cur);
        block();
        rec(f).joiners.retain(|&j| j != cur);
    }
}

/// What `blood_runtime_shutdown` runs: nothing until the first spawn installs [`finish_all`], so
/// programs that never spawn do not link the scheduler.
static SHUTDOWN_HOOK: core::sync::atomic::AtomicPtr<()> = core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// Called by `blood_runtime_shutdown`.
pub fn shutdown() {
    // `black_box`: otherwise the optimiser sees the one value ever stored and calls it directly,
    // linking the scheduler into every program.
    let hook = core::hint::black_box(SHUTDOWN_HOOK.load(Ordering::Relaxed));
    if !hook.is_null() {
        // SAFETY: the only value ever stored is `finish_all` (in `spawn`), an `fn()`.
        let hook: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(hook) };
        hook();
    }
}

/// Outside fibers: waits for every fiber, then drops the registry's records.
fn finish_all() {
    if on_fiber() {
        return;
    }
    wait_all();
    for f in rt().registry.drain() {
        release(f);
    }
}

/// Outside fibers: runs fibers until every spawned fiber has completed.
pub fn wait_all() {
    if on_fiber() {
        return;
    }
    while rt().live > 0 {
        let main = rt().main;
        rec(main).state = State::Blocked;
        // Woken by nothing in particular: run one round, then look again.
        if rt().runq.is_empty() && !fire_timers() {
            match rt().timers.peek().map(|t| t.0.deadline) {
                Some(deadline) => {
                    set_preempt_timer(false);
                    sleep_until(deadline);
                }
                // SAFETY: `pause` only suspends the thread until a signal.
                None => unsafe {
                    libc::pause();
                },
            }
        }
        while let Some(f) = rt().runq.pop_front() {
            run(f);
        }
        rec(main).state = State::Running;
    }
    set_preempt_timer(false);
}
