//! The front end's picture of the run in time: its checkpoints, which of them belong to the
//! timeline the user is on, which one a move to a given tick starts from, and which to give up
//! when the budget is exceeded. No processes here (the session has them): only decisions, so
//! they can be tested on their own.

use std::collections::{BTreeMap, HashMap};

use crate::protocol::CheckpointInfo;

/// One checkpoint, numbered for the user (`restore N`) in the order they were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub number: u32,
    pub info: CheckpointInfo,
    /// Bytes only this checkpoint holds, when last measured.
    pub memory: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub max_count: usize,
    pub max_memory: u64,
}

#[derive(Debug)]
pub struct Timeline {
    checkpoints: BTreeMap<u32, Checkpoint>,
    next_number: u32,
    /// Per epoch (process run), the last tick its checkpoints may have: a change of the past
    /// made elsewhere cut its timeline there.
    limits: HashMap<u64, u64>,
    /// Ticks where the user changed the state (`jump`, `!stmt`): a checkpoint before such a
    /// tick cannot reach a tick after it (replaying from it would not make the change).
    changes: Vec<u64>,
    pub budget: Budget,
    /// Why time travel stopped working in this run, if it did.
    pub off: Option<String>,
}

/// Why a checkpoint was not kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// It belongs to a timeline the user has since left.
    Stale,
    /// Time travel is off.
    Off,
}

impl Timeline {
    pub fn new(budget: Budget) -> Timeline {
        Timeline {
            checkpoints: BTreeMap::new(),
            next_number: 1,
            limits: HashMap::new(),
            changes: Vec::new(),
            budget,
            off: None,
        }
    }

    pub fn checkpoints(&self) -> impl Iterator<Item = &Checkpoint> {
        self.checkpoints.values()
    }

    pub fn get(&self, number: u32) -> Option<&Checkpoint> {
        self.checkpoints.get(&number)
    }

    pub fn get_mut(&mut self, number: u32) -> Option<&mut Checkpoint> {
        self.checkpoints.get_mut(&number)
    }

    pub fn len(&self) -> usize {
        self.checkpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.checkpoints.is_empty()
    }

    /// A new epoch the front end hands to a process it spawns.
    pub fn register_epoch(&mut self, epoch: u64) {
        self.limits.entry(epoch).or_insert(u64::MAX);
    }

    /// A checkpoint introduced itself: keep it (its number), or say why not.
    pub fn admit(&mut self, info: CheckpointInfo) -> Result<u32, Refused> {
        if self.off.is_some() {
            return Err(Refused::Off);
        }
        // An epoch the front end does not know yet is one a process chose when the user
        // changed its state: its Diverged message is on the way, and it is the new timeline.
        let limit = self.limits.get(&info.epoch).copied().unwrap_or(u64::MAX);
        if info.tick > limit {
            return Err(Refused::Stale);
        }
        let number = self.next_number;
        self.next_number += 1;
        self.checkpoints.insert(
            number,
            Checkpoint {
                number,
                info,
                memory: None,
            },
        );
        Ok(number)
    }

    /// The user changed the program's state, so that ticks from `tick` on differ from the
    /// recorded ones; `epoch` is the process's new epoch. Returns the checkpoints to drop.
    pub fn diverged(&mut self, tick: u64, epoch: u64) -> Vec<Checkpoint> {
        for (e, limit) in self.limits.iter_mut() {
            if *e != epoch {
                *limit = (*limit).min(tick.saturating_sub(1));
            }
        }
        self.limits.insert(epoch, u64::MAX);
        self.changes.push(tick);
        let gone: Vec<u32> = self
            .checkpoints
            .values()
            .filter(|c| c.info.epoch != epoch && c.info.tick >= tick)
            .map(|c| c.number)
            .collect();
        gone.iter()
            .filter_map(|n| self.checkpoints.remove(n))
            .collect()
    }

    /// Time travel stops working: every checkpoint goes.
    pub fn turn_off(&mut self, reason: String) -> Vec<Checkpoint> {
        self.off = Some(reason);
        std::mem::take(&mut self.checkpoints)
            .into_values()
            .collect()
    }

    /// Can a copy spawned from `c` replay to `tick`?
    fn reaches(&self, c: &Checkpoint, tick: u64) -> bool {
        c.info.tick <= tick
            && !self
                .changes
                .iter()
                .any(|&change| c.info.tick < change && change <= tick)
    }

    /// The checkpoint a move to `tick` starts from: the latest that can reach it.
    pub fn best_for(&self, tick: u64) -> Option<&Checkpoint> {
        self.checkpoints
            .values()
            .filter(|c| self.reaches(c, tick))
            .max_by_key(|c| (c.info.tick, c.number))
    }

    /// The latest checkpoint strictly before `tick` that can reach `tick` (for scanning the
    /// stretch before the one already scanned).
    pub fn before(&self, tick: u64) -> Option<&Checkpoint> {
        self.checkpoints
            .values()
            .filter(|c| c.info.tick < tick && self.reaches(c, tick))
            .max_by_key(|c| (c.info.tick, c.number))
    }

    /// The earliest point of the run still reachable.
    pub fn first(&self) -> Option<&Checkpoint> {
        self.checkpoints
            .values()
            .min_by_key(|c| (c.info.tick, c.number))
    }

    /// The first tick at or after `tick` some checkpoint can reach (after a change made in a
    /// jump, the ticks the jump ran through cannot be visited again).
    pub fn reachable_from(&self, tick: u64) -> Option<u64> {
        self.checkpoints
            .values()
            .filter(|c| c.info.tick >= tick)
            .map(|c| c.info.tick)
            .min()
    }

    pub fn ticks(&self) -> Vec<u64> {
        self.checkpoints.values().map(|c| c.info.tick).collect()
    }

    pub fn total_memory(&self) -> u64 {
        self.checkpoints.values().filter_map(|c| c.memory).sum()
    }

    /// Checkpoints to give up so the rest fits the budget, `now` being the tick the program is
    /// at: dense near now, sparser further back. The first checkpoint (the start of the run)
    /// and the newest are kept.
    pub fn over_budget(&self, now: u64) -> Vec<u32> {
        let mut kept: Vec<&Checkpoint> = self.checkpoints.values().collect();
        kept.sort_by_key(|c| (c.info.tick, c.number));
        let mut victims = Vec::new();
        loop {
            let memory: u64 = kept.iter().filter_map(|c| c.memory).sum();
            let over = kept.len() > self.budget.max_count || memory > self.budget.max_memory;
            if !over || kept.len() <= 2 {
                break;
            }
            // Remove the one whose loss leaves the smallest gap, relative to its distance from
            // now: a gap far back matters less than one here.
            let mut best: Option<(usize, f64)> = None;
            for i in 1..kept.len() - 1 {
                let gap = kept[i + 1].info.tick.saturating_sub(kept[i - 1].info.tick) as f64;
                let distance = now.abs_diff(kept[i].info.tick) as f64 + 1.0;
                let cost = gap / distance;
                if best.is_none_or(|(_, c)| cost < c) {
                    best = Some((i, cost));
                }
            }
            let Some((i, _)) = best else {
                break;
            };
            victims.push(kept.remove(i).number);
        }
        victims
    }

    pub fn remove(&mut self, number: u32) -> Option<Checkpoint> {
        self.checkpoints.remove(&number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(tick: u64, epoch: u64, pid: u32) -> CheckpointInfo {
        CheckpointInfo {
            pid,
            tick,
            epoch,
            file: "p.py".into(),
            line: 1,
            function: "<module>".into(),
        }
    }

    fn timeline() -> Timeline {
        Timeline::new(Budget {
            max_count: 4,
            max_memory: u64::MAX,
        })
    }

    #[test]
    fn the_latest_checkpoint_at_or_before_a_tick_is_used() {
        let mut t = timeline();
        t.register_epoch(0);
        for (tick, pid) in [(1, 10), (50, 11), (100, 12)] {
            t.admit(info(tick, 0, pid)).unwrap();
        }
        assert_eq!(t.best_for(75).unwrap().info.tick, 50);
        assert_eq!(t.best_for(100).unwrap().info.tick, 100);
        assert_eq!(t.best_for(1).unwrap().info.tick, 1);
        assert!(t.best_for(0).is_none());
        assert_eq!(t.before(50).unwrap().info.tick, 1);
    }

    #[test]
    fn a_change_of_the_past_drops_the_old_future_and_blocks_replays_across_it() {
        let mut t = timeline();
        t.register_epoch(0);
        for (tick, pid) in [(1, 10), (50, 11), (100, 12)] {
            t.admit(info(tick, 0, pid)).unwrap();
        }
        // At tick 60 the user ran `!x = 1`; the process's new epoch is 7.
        let gone = t.diverged(60, 7);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].info.tick, 100);
        // The new timeline's checkpoint at 60 (taken after the change) is kept...
        assert!(t.admit(info(60, 7, 13)).is_ok());
        // ...and a late one of the old timeline is not.
        assert_eq!(t.admit(info(90, 0, 14)), Err(Refused::Stale));
        // Before the change, the old checkpoints still serve; after it only the new ones.
        assert_eq!(t.best_for(55).unwrap().info.tick, 50);
        assert_eq!(t.best_for(80).unwrap().info.tick, 60);
        assert_eq!(t.best_for(80).unwrap().info.epoch, 7);
    }

    #[test]
    fn ticks_inside_a_jump_are_not_reachable() {
        let mut t = timeline();
        t.register_epoch(0);
        t.admit(info(1, 0, 10)).unwrap();
        // A jump at tick 20 ran to tick 25 before landing; its first checkpoint is at 25.
        t.diverged(20, 3);
        t.admit(info(25, 3, 11)).unwrap();
        assert!(t.best_for(22).is_none());
        assert_eq!(t.reachable_from(22), Some(25));
        assert_eq!(t.best_for(30).unwrap().info.tick, 25);
    }

    #[test]
    fn the_budget_keeps_the_start_the_newest_and_thins_far_back_first() {
        let mut t = timeline();
        t.register_epoch(0);
        for (i, tick) in [1u64, 10, 20, 30, 1000, 1010, 1020].iter().enumerate() {
            t.admit(info(*tick, 0, 100 + i as u32)).unwrap();
        }
        let victims = t.over_budget(1020);
        assert_eq!(victims.len(), 3);
        let kept: Vec<u64> = t
            .checkpoints()
            .filter(|c| !victims.contains(&c.number))
            .map(|c| c.info.tick)
            .collect();
        assert_eq!(kept.first(), Some(&1));
        assert_eq!(kept.last(), Some(&1020));
        // The dense cluster far from now (10, 20, 30) lost more than the one near now.
        let far = kept.iter().filter(|&&k| (2..1000).contains(&k)).count();
        let near = kept.iter().filter(|&&k| k >= 1000).count();
        assert!(near >= far, "{kept:?}");
    }

    #[test]
    fn memory_counts_against_the_budget() {
        let mut t = Timeline::new(Budget {
            max_count: 100,
            max_memory: 250,
        });
        t.register_epoch(0);
        for (i, tick) in [1u64, 10, 20, 30].iter().enumerate() {
            let n = t.admit(info(*tick, 0, 100 + i as u32)).unwrap();
            t.get_mut(n).unwrap().memory = Some(100);
        }
        assert_eq!(t.over_budget(30).len(), 2);
    }

    #[test]
    fn nothing_is_kept_once_time_travel_is_off() {
        let mut t = timeline();
        t.register_epoch(0);
        t.admit(info(1, 0, 10)).unwrap();
        assert_eq!(t.turn_off("a thread".into()).len(), 1);
        assert_eq!(t.admit(info(2, 0, 11)), Err(Refused::Off));
    }
}
