//! Exhaustive interleaving check of the lookup of a completion cell by fiber id
//! (`CompletionRef::from_id` in `fiber/record.rs`) and of the one-step join by id
//! (`CompletionRef::claim_by_id`), against the cell being freed and re-allocated for another
//! fiber.
//!
//! The cell's header is one atomic word: the generation (incarnation), an `ID_JOINED` flag and
//! the count; the fiber id holds the generation it was allocated with. Incarnation 1 is a fiber
//! spawned through the C ABI that has completed: its id holds one count, its record another.
//! Actors, one atomic step per scheduling point, all interleavings explored:
//!
//! * the *owner* (the record) drops its count (`fetch_sub`; at 0 the cell is freed);
//! * a *looker* runs `from_id(id of incarnation 1)`: load the header; give up if the count is 0 or
//!   the generation is not 1; else CAS the count up (retrying from the value the CAS returned);
//!   if it got a count, later drops it (`fetch_sub`, freeing at 0);
//! * a *claimer* runs `claim_by_id(id of incarnation 1)`: one CAS from (generation 1, not
//!   joined, count 1) to (generation 1, joined, count 0); if it succeeds, it owns the cell and
//!   frees it;
//! * the *allocator* takes the cell once it is free and publishes incarnation 2 with count 2
//!   (one store).
//!
//! Checked: no count is ever taken on a free cell nor on incarnation 2 for incarnation 1's id; the
//! claim succeeds only when nobody else holds a count; the cell is freed exactly once per
//! incarnation and never while a count is held; the allocator only reuses a freed cell. The
//! memory-ordering half of the argument (the value is written before the Release store of the
//! header, and the looker's and claimer's CASes are Acquire) is in `record.rs`; this model checks
//! the protocol's logic under sequential consistency.

#[derive(Clone, Copy, Debug, PartialEq)]
struct Header {
    generation: u32,
    joined: bool,
    count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Looker {
    Load,
    Cas(Header),
    Holding,
    Done(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Claimer {
    Cas,
    Free,
    Done(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Go,
    Done,
}

#[derive(Clone, Debug)]
struct World {
    header: Header,
    /// The incarnation the memory currently belongs to (0: free).
    alive: u32,
    frees: u32,
    looker: Looker,
    claimer: Claimer,
    owner: Step,
    alloc: Step,
}

fn release(w: &mut World) {
    assert!(w.header.count > 0, "count underflow");
    w.header.count -= 1;
    if w.header.count == 0 {
        assert_ne!(w.alive, 0, "double free");
        w.alive = 0;
        w.frees += 1;
    }
}

fn step(w: &mut World, actor: usize) -> bool {
    match actor {
        0 => match w.looker {
            Looker::Load => w.looker = Looker::Cas(w.header),
            Looker::Cas(seen) => {
                if seen.count == 0 || seen.generation != 1 {
                    w.looker = Looker::Done(false);
                } else if w.header == seen {
                    assert_eq!(w.alive, 1, "a count taken on a free cell or another incarnation");
                    w.header.count += 1;
                    w.looker = Looker::Holding;
                } else {
                    w.looker = Looker::Cas(w.header);
                }
            }
            Looker::Holding => {
                release(w);
                w.looker = Looker::Done(true);
            }
            Looker::Done(_) => return false,
        },
        1 => match w.claimer {
            Claimer::Cas => {
                if w.header == (Header { generation: 1, joined: false, count: 1 }) {
                    assert_eq!(w.alive, 1);
                    assert_eq!(w.owner, Step::Done, "claimed while the record held a count");
                    assert_ne!(w.looker, Looker::Holding, "claimed while the looker held a count");
                    w.header = Header { generation: 1, joined: true, count: 0 };
                    w.claimer = Claimer::Free;
                } else {
                    w.claimer = Claimer::Done(false);
                }
            }
            Claimer::Free => {
                assert_eq!(w.alive, 1, "the claimed cell changed hands");
                w.alive = 0;
                w.frees += 1;
                w.claimer = Claimer::Done(true);
            }
            Claimer::Done(_) => return false,
        },
        2 => match w.owner {
            Step::Go => {
                release(w);
                w.owner = Step::Done;
            }
            Step::Done => return false,
        },
        _ => match w.alloc {
            Step::Go => {
                if w.alive != 0 || w.header.count != 0 || w.claimer == Claimer::Free {
                    return false; // the cell is not on a free list yet
                }
                w.header = Header { generation: 2, joined: false, count: 2 };
                w.alive = 2;
                w.alloc = Step::Done;
            }
            Step::Done => return false,
        },
    }
    true
}

fn explore(w: World, finals: &mut u64) {
    let mut moved = false;
    for actor in 0..4 {
        let mut next = w.clone();
        if step(&mut next, actor) {
            moved = true;
            explore(next, finals);
        }
    }
    if moved {
        return;
    }
    *finals += 1;
    assert!(matches!(w.looker, Looker::Done(_)), "looker stuck in {:?}", w.looker);
    match w.claimer {
        // The claim took the id's count: the cell was freed once and went round to incarnation 2
        // with exactly its own counts.
        Claimer::Done(true) => {
            assert_eq!((w.alive, w.header, w.frees), (2, Header { generation: 2, joined: false, count: 2 }, 1));
        }
        // The claim saw another count (the record's or the looker's): the id still holds its
        // count of incarnation 1, which was never freed (a real joiner then takes the general
        // path).
        Claimer::Done(false) => {
            assert_eq!((w.alive, w.header, w.frees), (1, Header { generation: 1, joined: false, count: 1 }, 0));
        }
        other => panic!("claimer stuck in {other:?}"),
    }
}

#[test]
fn lookup_and_claim_by_id_never_touch_another_incarnation() {
    let start = World {
        header: Header { generation: 1, joined: false, count: 2 },
        alive: 1,
        frees: 0,
        looker: Looker::Load,
        claimer: Claimer::Cas,
        owner: Step::Go,
        alloc: Step::Go,
    };
    let mut finals = 0;
    explore(start, &mut finals);
    assert!(finals >= 20, "explored {finals} final states");
}
