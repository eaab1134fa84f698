//! `PriorityGate`: at most N calls run at once; waiters are served highest priority first (FIFO
//! among equals); a full queue refuses at once and a wait longer than the call's timeout gives up.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Why no slot was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    /// Too many calls already waiting.
    #[error(
        "Service unavailable: {waiting} requests are already waiting for this axon; retry later"
    )]
    Full {
        /// Calls waiting.
        waiting: usize,
    },
    /// No slot freed within the call's timeout.
    #[error("no slot freed within the timeout")]
    Timeout,
}

struct Waiter {
    priority: f64,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct GateState {
    available: usize,
    waiters: BinaryHeap<Waiter>,
    seq: u64,
}

/// A counting gate with priority-ordered waiters.
pub struct PriorityGate {
    state: Mutex<GateState>,
    max_waiting: usize,
}

/// A held slot; dropping it hands the slot to the best waiter.
pub struct GatePermit {
    gate: Arc<PriorityGate>,
}

impl Drop for GatePermit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

impl PriorityGate {
    /// A gate running `slots` calls at once with at most `max_waiting` queued.
    pub fn new(slots: usize, max_waiting: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(GateState {
                available: slots.max(1),
                waiters: BinaryHeap::new(),
                seq: 0,
            }),
            max_waiting,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls now waiting.
    pub fn waiting(&self) -> usize {
        let mut s = self.lock();
        s.waiters.retain(|w| !w.tx.is_closed());
        s.waiters.len()
    }

    fn release(&self) {
        let mut s = self.lock();
        while let Some(w) = s.waiters.pop() {
            if w.tx.send(()).is_ok() {
                return;
            }
        }
        s.available += 1;
    }

    /// Waits for a slot at `priority` for at most `timeout`.
    pub async fn acquire(
        self: &Arc<Self>,
        priority: f64,
        timeout: Duration,
    ) -> Result<GatePermit, GateError> {
        let priority = if priority.is_nan() { 0.0 } else { priority };
        let mut rx = {
            let mut s = self.lock();
            if s.available > 0 && s.waiters.is_empty() {
                s.available -= 1;
                return Ok(GatePermit { gate: self.clone() });
            }
            s.waiters.retain(|w| !w.tx.is_closed());
            if s.waiters.len() >= self.max_waiting {
                return Err(GateError::Full {
                    waiting: s.waiters.len(),
                });
            }
            let (tx, rx) = oneshot::channel();
            s.seq += 1;
            let seq = s.seq;
            s.waiters.push(Waiter { priority, seq, tx });
            rx
        };
        match tokio::time::timeout(timeout, &mut rx).await {
            Ok(Ok(())) => Ok(GatePermit { gate: self.clone() }),
            _ => {
                // Senders hand slots over under the lock; decide under it too so none is lost.
                let _s = self.lock();
                match rx.try_recv() {
                    Ok(()) => Ok(GatePermit { gate: self.clone() }),
                    Err(_) => {
                        drop(rx);
                        Err(GateError::Timeout)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_are_served_by_priority_then_arrival() {
        let gate = PriorityGate::new(1, 10);
        let first = gate.acquire(0.0, Duration::from_secs(5)).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [("low", 1.0), ("high", 9.0), ("mid", 5.0), ("high2", 9.0)] {
            let g = gate.clone();
            let o = order.clone();
            tasks.push(tokio::spawn(async move {
                let _p = g.acquire(prio, Duration::from_secs(30)).await.unwrap();
                o.lock().unwrap().push(name);
            }));
            // Let each task enqueue before the next, so arrival order is defined.
            while gate.waiting() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec!["high", "high2", "mid", "low"]);
    }

    #[tokio::test]
    async fn full_queue_refuses_and_timeout_gives_up_without_losing_slots() {
        let gate = PriorityGate::new(1, 1);
        let held = gate.acquire(0.0, Duration::from_secs(1)).await.unwrap();
        let g = gate.clone();
        let waiter =
            tokio::spawn(async move { g.acquire(0.0, Duration::from_millis(50)).await.is_err() });
        while gate.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            gate.acquire(0.0, Duration::from_secs(1)).await,
            Err(GateError::Full { waiting: 1 })
        ));
        assert!(waiter.await.unwrap(), "the waiter should time out");
        drop(held);
        // The slot came back: two sequential acquisitions succeed at once.
        drop(gate.acquire(0.0, Duration::from_millis(1)).await.unwrap());
        drop(gate.acquire(0.0, Duration::from_millis(1)).await.unwrap());
    }
}
