//! The validator loop itself: one step = one task, one group, one challenge, scored and folded
//! into each miner's aggregate; weights from the aggregates on the profile's schedule.

use crate::challenge::{request_key, ChallengeError, ChallengeMaker};
use crate::client::{MinerClient, MinerTarget, QueryOutcome};
use crate::scorers::Scorers;
use crate::selection::{GroupCycle, TaskRotation};
use crate::store::{ResultRow, Store, StoreError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use salon_chain::{Chain, ChainError, Metagraph};
use salon_core::profile::RewardRule;
use salon_core::{NetUid, Profile, Task};
use salon_eval::aggregate::{self, Aggregate};
use salon_eval::{Challenge, Evaluation, Fingerprint, Truth};
use salon_keys::Keypair;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a validator step failed (a failed step is logged and the loop goes on).
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    /// The chain refused or could not be reached.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The state database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The challenge could not be built.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
    /// This validator's hotkey is not registered on the subnet.
    #[error("hotkey {0} is not registered on subnet {1}; register it first (salon devnet does this for you)")]
    NotRegistered(String, NetUid),
    /// A background task panicked.
    #[error("internal task failed: {0}")]
    Join(String),
}

/// Settings of a validator.
#[derive(Clone, Debug)]
pub struct ValidatorOptions {
    /// The subnet.
    pub netuid: NetUid,
    /// The incentive mechanism.
    pub profile: Profile,
    /// version_key sent with weights.
    pub version_key: u64,
    /// Seed of the validator's own randomness (task and group choice, prompts).
    pub rng_seed: u64,
}

/// What one step did.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Step number.
    pub step: u64,
    /// Task challenged.
    pub task: Task,
    /// (uid, reward, status, note) per queried miner.
    pub results: Vec<(u16, f64, u16, Option<String>)>,
}

/// A running validator.
pub struct Validator {
    chain: Arc<dyn Chain>,
    keypair: Keypair,
    client: Arc<dyn MinerClient>,
    options: ValidatorOptions,
    scorers: Arc<Scorers>,
    store: Mutex<Store>,
    cycle: Mutex<GroupCycle>,
    rotation: Mutex<(u64, Task, TaskRotation)>,
    rng: Mutex<ChaCha8Rng>,
    maker: Mutex<Option<Arc<ChallengeMaker>>>,
}

fn block_on_store<T>(
    m: &Mutex<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let guard = m.lock().unwrap_or_else(|p| p.into_inner());
    f(&guard)
}

impl Validator {
    /// A validator over `chain`, signing with `keypair`, querying through `client`, scoring with
    /// `scorers`, persisting in `store`.
    pub fn new(
        chain: Arc<dyn Chain>,
        keypair: Keypair,
        client: Arc<dyn MinerClient>,
        options: ValidatorOptions,
        scorers: Scorers,
        store: Store,
    ) -> Self {
        let step = store.meta("step").ok().flatten().unwrap_or(0);
        let rng =
            ChaCha8Rng::seed_from_u64(options.rng_seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut rotation = TaskRotation::new(options.profile.normalized_shares());
        let first = rotation.next_task();
        Self {
            chain,
            keypair,
            client,
            options,
            scorers: Arc::new(scorers),
            store: Mutex::new(store),
            cycle: Mutex::new(GroupCycle::default()),
            rotation: Mutex::new((1, first, rotation)),
            rng: Mutex::new(rng),
            maker: Mutex::new(None),
        }
    }

    /// This validator's hotkey address.
    pub fn hotkey(&self) -> String {
        self.keypair.ss58()
    }

    fn my_uid(&self, mg: &Metagraph) -> Result<u16, ValidatorError> {
        mg.neuron_by_hotkey(&self.keypair.ss58())
            .map(|n| n.uid.0)
            .ok_or_else(|| ValidatorError::NotRegistered(self.keypair.ss58(), self.options.netuid))
    }

    fn maker(&self, my_uid: u16) -> Arc<ChallengeMaker> {
        let mut m = self.maker.lock().unwrap_or_else(|p| p.into_inner());
        m.get_or_insert_with(|| {
            Arc::new(ChallengeMaker::new(
                my_uid,
                self.options.profile.validator.seed_stride,
                self.scorers.reproducers.clone(),
            ))
        })
        .clone()
    }

    /// The task of cycle `cycle`: every miner in a cycle answers the same task.
    fn task_for_cycle(&self, cycle: u64) -> Task {
        let mut r = self.rotation.lock().unwrap_or_else(|p| p.into_inner());
        while r.0 < cycle {
            let t = r.2.next_task();
            r.1 = t;
            r.0 += 1;
        }
        r.1
    }

    /// Runs one step: challenge one group with one task and score the answers.
    pub async fn step(&self) -> Result<StepReport, ValidatorError> {
        let mg = self.chain.metagraph(self.options.netuid).await?;
        let my_uid = self.my_uid(&mg)?;
        let step = block_on_store(&self.store, |s| s.meta("step"))?.unwrap_or(0) + 1;
        let k = self.options.profile.validator.group_size;
        let available: BTreeSet<u16> = mg
            .neurons
            .iter()
            .filter(|n| n.uid.0 != my_uid && n.axon.is_some())
            .map(|n| n.uid.0)
            .collect();
        let (task, group, request, truth) = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            let (group, cycle) = {
                let mut c = self.cycle.lock().unwrap_or_else(|p| p.into_inner());
                let g = c.next_group(&available, k, &mut *rng);
                (g, c.cycles())
            };
            let task = self.task_for_cycle(cycle);
            let params = self
                .options
                .profile
                .task(task)
                .map(|t| t.params.clone())
                .unwrap_or_default();
            let (request, truth) = self.maker(my_uid).request(task, &params, &mut *rng);
            (task, group, request, truth)
        };
        block_on_store(&self.store, |s| s.set_meta("step", step))?;
        if group.is_empty() {
            return Ok(StepReport {
                step,
                task,
                results: Vec::new(),
            });
        }
        let maker = self.maker(my_uid);
        let challenge = tokio::task::spawn_blocking(move || maker.finish(request, truth))
            .await
            .map_err(|e| ValidatorError::Join(e.to_string()))??;
        let challenge = Arc::new(challenge);
        let settings = self.options.profile.task(task).cloned();
        let timeout =
            Duration::from_secs_f64(settings.as_ref().map(|s| s.timeout_secs).unwrap_or(10.0));
        let rule = settings.map(|s| s.reward).unwrap_or_default();

        let targets: Vec<MinerTarget> = group
            .iter()
            .filter_map(|uid| mg.neurons.get(*uid as usize))
            .filter_map(|n| {
                n.axon.as_ref().map(|a| MinerTarget {
                    uid: n.uid.0,
                    hotkey: n.hotkey.0.clone(),
                    ip: a.ip.clone(),
                    port: a.port,
                })
            })
            .collect();
        let outcomes = futures::future::join_all(
            targets
                .iter()
                .map(|t| self.client.query(t, &challenge.request, timeout)),
        )
        .await;

        let block = mg.block;
        // Evaluate every answer in parallel off the runtime; record them in order afterwards.
        let evaluations =
            futures::future::join_all(outcomes.iter().map(|o| self.evaluate(task, &challenge, o)))
                .await;
        let mut results = Vec::with_capacity(targets.len());
        for ((target, outcome), evaluated) in targets.iter().zip(outcomes).zip(evaluations) {
            let (reward, note) =
                self.score_one(step, task, rule, &challenge, target, &outcome, evaluated?)?;
            block_on_store(&self.store, |s| {
                s.add_result(&ResultRow {
                    step,
                    block,
                    uid: target.uid,
                    hotkey: target.hotkey.clone(),
                    task,
                    reward,
                    status: outcome.status,
                    elapsed_ms: outcome.elapsed.as_millis() as u64,
                    note: note.clone(),
                })
            })?;
            tracing::debug!(uid = target.uid, %task, reward, status = outcome.status, note = ?note, "scored");
            results.push((target.uid, reward, outcome.status, note));
        }
        Ok(StepReport {
            step,
            task,
            results,
        })
    }

    /// Scores one answer and its fingerprint (None when the query failed).
    async fn evaluate(
        &self,
        task: Task,
        challenge: &Arc<Challenge>,
        outcome: &QueryOutcome,
    ) -> Result<Option<(Evaluation, Option<Fingerprint>)>, ValidatorError> {
        let Some(response) = outcome.response.clone().filter(|_| outcome.status == 200) else {
            return Ok(None);
        };
        let scorers = self.scorers.clone();
        let c = challenge.clone();
        let done = tokio::task::spawn_blocking(move || {
            (
                scorers.evaluate(&c, &response),
                scorers.fingerprint(task, &response),
            )
        })
        .await
        .map_err(|e| ValidatorError::Join(e.to_string()))?;
        Ok(Some(done))
    }

    #[allow(clippy::too_many_arguments)]
    fn score_one(
        &self,
        step: u64,
        task: Task,
        rule: RewardRule,
        challenge: &Arc<Challenge>,
        target: &MinerTarget,
        outcome: &QueryOutcome,
        evaluated: Option<(Evaluation, Option<Fingerprint>)>,
    ) -> Result<(f64, Option<String>), ValidatorError> {
        let kind = self.options.profile.validator.aggregation;
        let vset = &self.options.profile.validator;
        let hotkey = target.hotkey.clone();
        let (reward, note) = match (&outcome.response, evaluated) {
            (Some(response), Some((eval, fp))) => {
                let key = request_key(&challenge.request);
                let copied = match &fp {
                    Some(fp) => block_on_store(&self.store, |s| {
                        let seen = s.fingerprints(task)?;
                        let hit = seen
                            .iter()
                            .find(|(_, k, old)| {
                                *k != key && old.similarity(fp) >= vset.duplicate_similarity
                            })
                            .map(|(hk, _, _)| hk.clone());
                        s.add_fingerprint(task, &hotkey, &key, fp, step)?;
                        Ok(hit)
                    })?,
                    None => None,
                };
                if let Some(original) = copied {
                    let why = if original == hotkey {
                        "replayed its own earlier answer to a different challenge".to_string()
                    } else {
                        format!("replayed an answer first given by {original}")
                    };
                    block_on_store(&self.store, |s| {
                        s.penalize(&hotkey, &why, step + vset.duplicate_penalty_steps)
                    })?;
                    (0.0, Some(why))
                } else if rule == RewardRule::Detection {
                    self.detection_reward(&hotkey, challenge, response)?
                } else {
                    let r = aggregate::reward(rule, eval.score, outcome.elapsed.as_secs_f64());
                    (r, eval.note)
                }
            }
            _ => (
                0.0,
                Some(format!("status {}: {}", outcome.status, outcome.message)),
            ),
        };
        let penalty = block_on_store(&self.store, |s| s.penalty(&hotkey, step))?;
        block_on_store(&self.store, |s| {
            let mut agg = s
                .aggregate(&hotkey, task)?
                .unwrap_or_else(|| Aggregate::new(kind));
            if penalty.is_some() {
                agg.punish();
            } else {
                agg.observe(kind, reward, step);
            }
            s.put_aggregate(&hotkey, task, &agg)
        })?;
        match penalty {
            Some(why) => Ok((0.0, Some(format!("penalised: {why}")))),
            None => Ok((reward, note)),
        }
    }

    fn detection_reward(
        &self,
        hotkey: &str,
        challenge: &Challenge,
        response: &salon_core::Response,
    ) -> Result<(f64, Option<String>), ValidatorError> {
        let (Truth::Label { generated }, salon_core::Response::Detection { prediction }) =
            (&challenge.truth, response)
        else {
            return Ok((0.0, Some("not a detection answer".into())));
        };
        if !prediction.is_finite() || !(0.0..=1.0).contains(prediction) {
            return Ok((0.0, Some(format!("prediction {prediction} outside [0, 1]"))));
        }
        let history = block_on_store(&self.store, |s| {
            s.add_detection(hotkey, *generated, *prediction > 0.5)
        })?;
        Ok((detection_reward(&history), None))
    }

    /// Each miner's current score: the share-weighted sum of its task aggregates (0 while penalised).
    pub fn scores(&self, mg: &Metagraph) -> Result<Vec<f64>, ValidatorError> {
        let kind = self.options.profile.validator.aggregation;
        let shares = self.options.profile.normalized_shares();
        let step = block_on_store(&self.store, |s| s.meta("step"))?.unwrap_or(0);
        let mut out = vec![0.0; mg.neurons.len()];
        for n in &mg.neurons {
            if n.hotkey.0 == self.keypair.ss58() {
                continue;
            }
            let hk = &n.hotkey.0;
            if block_on_store(&self.store, |s| s.penalty(hk, step))?.is_some() {
                continue;
            }
            let mut total = 0.0;
            for (task, share) in &shares {
                if let Some(a) = block_on_store(&self.store, |s| s.aggregate(hk, *task))? {
                    total += share * a.value(kind);
                }
            }
            out[n.uid.0 as usize] = total;
        }
        Ok(out)
    }

    /// Sets weights if the schedule says it is time; returns the normalised weights set.
    pub async fn maybe_set_weights(&self) -> Result<Option<Vec<f64>>, ValidatorError> {
        let mg = self.chain.metagraph(self.options.netuid).await?;
        self.my_uid(&mg)?;
        let last = block_on_store(&self.store, |s| s.meta("last_weights_block"))?;
        let interval = self.options.profile.validator.weights_interval_blocks;
        if let Some(last) = last {
            if mg.block < last + interval && mg.block >= last {
                return Ok(None);
            }
        }
        let keep: Vec<String> = mg.neurons.iter().map(|n| n.hotkey.0.clone()).collect();
        block_on_store(&self.store, |s| s.retain_hotkeys(&keep))?;
        let scores = self.scores(&mg)?;
        let weights =
            aggregate::normalize_weights(&scores, self.options.profile.validator.weight_power);
        if weights.iter().all(|w| *w == 0.0) {
            return Ok(None);
        }
        let values = aggregate::weights_to_u16(&weights);
        let dests: Vec<u16> = (0..values.len() as u16).collect();
        self.chain
            .set_weights(
                &self.keypair,
                self.options.netuid,
                &dests,
                &values,
                self.options.version_key,
            )
            .await?;
        block_on_store(&self.store, |s| s.set_meta("last_weights_block", mg.block))?;
        tracing::info!(block = mg.block, "weights set");
        Ok(Some(weights))
    }

    /// Mean reward per hotkey since `since_step`, with counts (for reports).
    pub fn mean_rewards(&self, since_step: u64) -> Result<Vec<(String, f64, u64)>, ValidatorError> {
        Ok(block_on_store(&self.store, |s| s.mean_rewards(since_step))?)
    }

    /// The step counter.
    pub fn current_step(&self) -> Result<u64, ValidatorError> {
        Ok(block_on_store(&self.store, |s| s.meta("step"))?.unwrap_or(0))
    }

    /// Runs steps and weight setting until `stop` turns true.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        while !*stop.borrow() {
            match self.step().await {
                Ok(r) => {
                    tracing::info!(step = r.step, task = %r.task, miners = r.results.len(), "step done")
                }
                Err(e) => {
                    tracing::warn!("validator step failed: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
            match self.maybe_set_weights().await {
                Err(ValidatorError::Chain(ChainError::NeuronNoValidatorPermit { .. })) => {
                    tracing::info!("waiting for a validator permit (issued at the next epoch) before setting weights")
                }
                Err(e) => tracing::warn!("setting weights failed: {e}"),
                Ok(_) => {}
            }
        }
    }
}

/// BitMind v2's detection reward with chance level at zero: 0.5 max(MCC over the last 100, 0)
/// plus 0.5 max(2 accuracy over the last 10 - 1, 0). (BitMind paid a coin-flipper about 0.25.)
/// `history` holds (label, predicted) newest first.
pub fn detection_reward(history: &[(bool, bool)]) -> f64 {
    let recent = &history[..history.len().min(10)];
    let acc = recent.iter().filter(|(l, p)| l == p).count() as f64 / recent.len().max(1) as f64;
    let (mut tp, mut tn, mut fp, mut fn_) = (0f64, 0f64, 0f64, 0f64);
    for (l, p) in history.iter().take(100) {
        match (l, p) {
            (true, true) => tp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fn_ += 1.0,
        }
    }
    let denom = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
    let mcc = if denom > 0.0 {
        (tp * tn - fp * fn_) / denom
    } else {
        0.0
    };
    0.5 * mcc.max(0.0) + 0.5 * (2.0 * acc - 1.0).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_reward_pays_skill_not_luck() {
        let perfect: Vec<(bool, bool)> = (0..40).map(|i| (i % 2 == 0, i % 2 == 0)).collect();
        assert!((detection_reward(&perfect) - 1.0).abs() < 1e-12);
        let constant: Vec<(bool, bool)> = (0..40).map(|i| (i % 2 == 0, true)).collect();
        assert_eq!(
            detection_reward(&constant),
            0.0,
            "always saying 'generated' earns nothing"
        );
        let inverted: Vec<(bool, bool)> = (0..40).map(|i| (i % 2 == 0, i % 2 != 0)).collect();
        assert_eq!(detection_reward(&inverted), 0.0);
    }
}
