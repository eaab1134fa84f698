//! Miner selection: every queryable uid is shuffled and cut into groups of k; one group per step;
//! a reshuffle when the cycle is exhausted, so every miner is queried once per cycle (BittAudio's
//! scheme, without its re-sync gaps: uids that leave are dropped, new ones join the next cycle).

use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::{BTreeSet, VecDeque};

/// Cycles through a changing set of uids in groups.
#[derive(Debug, Default)]
pub struct GroupCycle {
    pending: VecDeque<u16>,
    cycles: u64,
}

impl GroupCycle {
    /// How many cycles have started (the group just returned belongs to cycle `cycles() - 1`).
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// The next group of at most `k` uids from `available` (current queryable uids). Uids no
    /// longer available are skipped; a new shuffled cycle starts when the current one is spent.
    pub fn next_group(
        &mut self,
        available: &BTreeSet<u16>,
        k: usize,
        rng: &mut impl Rng,
    ) -> Vec<u16> {
        let mut group = Vec::with_capacity(k);
        let mut refilled = false;
        while group.len() < k {
            match self.pending.pop_front() {
                Some(uid) if available.contains(&uid) && !group.contains(&uid) => group.push(uid),
                Some(_) => continue,
                None if refilled || available.is_empty() => break,
                None => {
                    let mut all: Vec<u16> = available.iter().copied().collect();
                    all.shuffle(rng);
                    self.pending.extend(all);
                    self.cycles += 1;
                    refilled = true;
                    if !group.is_empty() {
                        // Finish the cycle with a short group rather than mixing cycles.
                        break;
                    }
                }
            }
        }
        group
    }
}

/// Smooth weighted round-robin over tasks: each cycle's task, so that over any stretch every task
/// gets its share of cycles and every miner of a cycle answers the same task (equal footing).
#[derive(Debug, Clone)]
pub struct TaskRotation {
    shares: Vec<(salon_core::Task, f64)>,
    current: Vec<f64>,
}

impl TaskRotation {
    /// A rotation over (task, share) pairs; shares need not sum to 1.
    pub fn new(shares: Vec<(salon_core::Task, f64)>) -> Self {
        let current = vec![0.0; shares.len()];
        Self { shares, current }
    }

    /// The next task.
    pub fn next_task(&mut self) -> salon_core::Task {
        let total: f64 = self.shares.iter().map(|(_, s)| s).sum();
        let mut best = 0;
        for (i, (_, s)) in self.shares.iter().enumerate() {
            self.current[i] += s;
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        self.shares[best].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_uid_once_per_cycle() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let avail: BTreeSet<u16> = (0..10).collect();
        let mut cycle = GroupCycle::default();
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.extend(cycle.next_group(&avail, 4, &mut rng));
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn rotation_follows_shares() {
        use salon_core::Task;
        let mut r = TaskRotation::new(vec![
            (Task::TextToMusic, 0.5),
            (Task::TextToImage, 0.25),
            (Task::Upscale, 0.25),
        ]);
        let picks: Vec<Task> = (0..8).map(|_| r.next_task()).collect();
        assert_eq!(picks.iter().filter(|t| **t == Task::TextToMusic).count(), 4);
        assert_eq!(picks.iter().filter(|t| **t == Task::Upscale).count(), 2);
        assert_ne!(picks[0], picks[1], "smooth: no long runs of one task");
    }

    #[test]
    fn departed_uids_are_skipped() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut avail: BTreeSet<u16> = (0..6).collect();
        let mut cycle = GroupCycle::default();
        let first = cycle.next_group(&avail, 2, &mut rng);
        avail.remove(&first[0]);
        avail.remove(&first[1]);
        for _ in 0..5 {
            let g = cycle.next_group(&avail, 2, &mut rng);
            assert!(g.iter().all(|u| avail.contains(u)));
            assert!(!g.is_empty());
        }
    }
}
