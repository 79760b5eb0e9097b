//! The executor's short ascending lists of job ids (the runnable jobs, the
//! jobs to ask), changed one id at a time at every step.
//!
//! `Vec::insert` and `Vec::remove` shift the tail with `ptr::copy`, a call
//! of libc's `memmove` even for the zero to two ids these lists shift: one
//! and a half calls per op, about 70 instructions. Here an id moves to its
//! place by swaps, which compile to plain moves.

use crate::schedule::JobId;

/// Inserts `id` into the ascending `ids` before every id not less than it
/// (where `partition_point(|&x| x < id)` puts it).
pub fn insert(ids: &mut Vec<JobId>, id: JobId) {
    ids.push(id);
    let mut at = ids.len() - 1;
    while at > 0 && ids[at - 1] >= id {
        ids.swap(at - 1, at);
        at -= 1;
    }
}

/// Removes `id` from the ascending `ids`, if it is there (the first one,
/// where `binary_search` may find any of several equal ids).
pub fn remove(ids: &mut Vec<JobId>, id: JobId) {
    let Some(mut at) = ids.iter().position(|&x| x == id) else {
        return;
    };
    while at + 1 < ids.len() {
        ids.swap(at, at + 1);
        at += 1;
    }
    ids.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against `Vec::insert` at the partition point and `Vec::remove` at
    /// the id's place, over random inserts and removals of a few ids: the
    /// lists stay equal and ascending.
    #[test]
    fn inserts_and_removes_like_the_vec_methods() {
        let mut ids = Vec::new();
        let mut reference: Vec<JobId> = Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let id = (seed % 6) as JobId;
            if (seed >> 32) % 2 == 0 && !reference.contains(&id) {
                insert(&mut ids, id);
                let slot = reference.partition_point(|&x| x < id);
                reference.insert(slot, id);
            } else {
                remove(&mut ids, id);
                if let Ok(slot) = reference.binary_search(&id) {
                    reference.remove(slot);
                }
            }
            assert_eq!(ids, reference);
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn places_an_id_among_its_neighbours() {
        let mut ids = vec![1, 4, 7];
        insert(&mut ids, 5);
        insert(&mut ids, 0);
        insert(&mut ids, 9);
        assert_eq!(ids, [0, 1, 4, 5, 7, 9]);
        remove(&mut ids, 4);
        remove(&mut ids, 3);
        remove(&mut ids, 9);
        remove(&mut ids, 0);
        assert_eq!(ids, [1, 5, 7]);
    }
}
