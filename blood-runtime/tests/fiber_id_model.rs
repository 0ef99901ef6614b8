//! Exhaustive interleaving check of the lookup of a completion cell by fiber id
//! (`CompletionRef::from_id` in `fiber/record.rs`) against the cell being freed and re-allocated
//! for another fiber.
//!
//! The cell's header is `strong` (count) and `generation`; the fiber id holds the generation it
//! was allocated with. Actors, one atomic step per scheduling point, all interleavings explored:
//!
//! * the *owner* drops the last count of incarnation 1 (`fetch_sub`; at 0 the cell is freed);
//! * the *allocator* then takes the free cell for a new fiber: stores generation 2, then stores
//!   the count 2 (publishes the cell);
//! * a *looker* runs `from_id(id of incarnation 1)`: load the count; CAS it up if not 0 (retrying
//!   from the returned value); then load the generation; on a mismatch drop its count
//!   (`fetch_sub`, freeing at 0).
//!
//! Checked: the looker succeeds only while incarnation 1 is alive (it never takes incarnation 2
//! for it); the cell is freed at most once per incarnation and never while a count is held; the
//! allocator only reuses a freed cell; and in the end incarnation 2 holds exactly its 2 counts.
//! The memory-ordering half of the argument (the generation is stored before the Release store of
//! the count, and the looker's CAS is Acquire) is in `from_id`'s comment; this model checks the
//! protocol's logic under sequential consistency.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Looker {
    Load,
    Cas(u32),
    LoadGen,
    Drop,
    Done(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Owner {
    Drop,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Alloc {
    WaitFree,
    StoreGen,
    StoreCount,
    Done,
}

#[derive(Clone, Debug)]
struct World {
    strong: u32,
    generation: u32,
    /// The incarnation the memory currently belongs to (0: free).
    alive: u32,
    frees: u32,
    looker: Looker,
    owner: Owner,
    alloc: Alloc,
    /// Counts the looker holds, and on which incarnation.
    looker_holds: Option<u32>,
}

fn release(w: &mut World) {
    assert!(w.strong > 0);
    w.strong -= 1;
    if w.strong == 0 {
        assert_ne!(w.alive, 0, "double free");
        w.alive = 0;
        w.frees += 1;
    }
}

fn step(w: &mut World, actor: usize) -> bool {
    match actor {
        0 => match w.looker {
            Looker::Load => w.looker = if w.strong == 0 { Looker::Done(false) } else { Looker::Cas(w.strong) },
            Looker::Cas(seen) => {
                if w.strong == seen {
                    assert_ne!(w.alive, 0, "a count taken on a free cell");
                    w.strong += 1;
                    w.looker_holds = Some(w.alive);
                    w.looker = Looker::LoadGen;
                } else if w.strong == 0 {
                    w.looker = Looker::Done(false);
                } else {
                    w.looker = Looker::Cas(w.strong);
                }
            }
            Looker::LoadGen => {
                if w.generation == 1 {
                    assert_eq!(w.looker_holds, Some(1), "matched generation 1 on another incarnation");
                    w.looker = Looker::Done(true);
                } else {
                    w.looker = Looker::Drop;
                }
            }
            Looker::Drop => {
                release(w);
                w.looker_holds = None;
                w.looker = Looker::Done(false);
            }
            Looker::Done(_) => return false,
        },
        1 => match w.owner {
            Owner::Drop => {
                release(w);
                w.owner = Owner::Done;
            }
            Owner::Done => return false,
        },
        _ => match w.alloc {
            Alloc::WaitFree => {
                if w.alive != 0 {
                    return false; // the cell is not on a free list yet
                }
                w.alloc = Alloc::StoreGen;
            }
            Alloc::StoreGen => {
                assert_eq!(w.alive, 0, "allocated a live cell");
                w.generation = 2;
                w.alloc = Alloc::StoreCount;
            }
            Alloc::StoreCount => {
                w.strong = 2;
                w.alive = 2;
                w.alloc = Alloc::Done;
            }
            Alloc::Done => return false,
        },
    }
    true
}

fn explore(w: World, finals: &mut u64) {
    let mut moved = false;
    for actor in 0..3 {
        let mut next = w.clone();
        if step(&mut next, actor) {
            moved = true;
            explore(next, finals);
        }
    }
    if !moved {
        *finals += 1;
        // The looker that succeeded still holds incarnation 1 (so nothing was reallocated);
        // otherwise the cell went round to incarnation 2 with exactly its own counts.
        match w.looker {
            Looker::Done(true) => {
                assert_eq!((w.alive, w.strong, w.frees), (1, 1, 0));
                assert_eq!(w.alloc, Alloc::WaitFree);
            }
            Looker::Done(false) => {
                assert_eq!((w.alive, w.strong, w.generation, w.frees), (2, 2, 2, 1));
            }
            other => panic!("looker stuck in {other:?}"),
        }
    }
}

#[test]
fn lookup_by_id_never_takes_another_incarnation() {
    let start = World {
        strong: 1,
        generation: 1,
        alive: 1,
        frees: 0,
        looker: Looker::Load,
        owner: Owner::Drop,
        alloc: Alloc::WaitFree,
        looker_holds: None,
    };
    let mut finals = 0;
    explore(start, &mut finals);
    assert!(finals >= 10, "explored {finals} final states");
}
