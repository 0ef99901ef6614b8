//! The id → record table of spawned fibers (until joined): open addressing with linear probing
//! over a power-of-two table, keys never 0 (fiber ids start at 1), removed entries left as
//! tombstones and dropped by the next rebuild. A `BTreeMap` would do the same with five times
//! the code in every program that spawns.

use crate::sched::Fiber;
use alloc::vec::Vec;

const EMPTY: u64 = 0;
const TOMBSTONE: u64 = u64::MAX;

pub struct Registry {
    slots: Vec<(u64, *mut Fiber)>,
    /// Live entries.
    len: usize,
    /// Live entries and tombstones.
    used: usize,
}

impl Registry {
    pub const fn new() -> Registry {
        Registry { slots: Vec::new(), len: 0, used: 0 }
    }

    /// The slot holding `id`, if any.
    fn find(&self, id: u64) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = hash(id) & mask;
        for _ in 0..self.slots.len() {
            match self.slots.get(i)?.0 {
                EMPTY => return None,
                k if k == id => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
        None
    }

    pub fn get(&self, id: u64) -> Option<*mut Fiber> {
        self.find(id).and_then(|i| self.slots.get(i)).map(|s| s.1)
    }

    /// Inserts a new id (ids are unique: never already present).
    pub fn insert(&mut self, id: u64, f: *mut Fiber) {
        if (self.used + 1) * 2 > self.slots.len() {
            self.rebuild();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash(id) & mask;
        while let Some(slot) = self.slots.get_mut(i) {
            if slot.0 == EMPTY || slot.0 == TOMBSTONE {
                if slot.0 == EMPTY {
                    self.used += 1;
                }
                *slot = (id, f);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn remove(&mut self, id: u64) -> Option<*mut Fiber> {
        let i = self.find(id)?;
        let slot = self.slots.get_mut(i)?;
        let f = slot.1;
        *slot = (TOMBSTONE, core::ptr::null_mut());
        self.len -= 1;
        Some(f)
    }

    /// Removes every entry, returning the records.
    pub fn drain(&mut self) -> Vec<*mut Fiber> {
        let out = self.slots.iter().filter(|s| s.0 != EMPTY && s.0 != TOMBSTONE).map(|s| s.1).collect();
        *self = Registry::new();
        out
    }

    /// Re-inserts the live entries into a table at most half full.
    fn rebuild(&mut self) {
        let live = core::mem::take(&mut self.slots);
        let cap = ((self.len + 1) * 4).next_power_of_two().max(16);
        self.slots = alloc::vec![(EMPTY, core::ptr::null_mut()); cap];
        self.len = 0;
        self.used = 0;
        for (k, f) in live {
            if k != EMPTY && k != TOMBSTONE {
                self.insert(k, f);
            }
        }
    }
}

/// Spreads sequential ids over the table (a multiplicative hash).
fn hash(id: u64) -> usize {
    (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}
