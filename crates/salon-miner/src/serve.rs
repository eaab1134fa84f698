//! Serving a [`Miner`] behind an axon: Salon's native synapse and the seeds' synapses, each
//! handler only converting to a core request, calling the miner and filling the answer. Admission,
//! signatures, nonces, limits and priority are the axon's layers.

use crate::behaviour::Behaviour;
use crate::miner::Miner;
use salon_core::{Profile, Request, Response, Task};
use salon_engines::builtin::Fidelity;
use salon_engines::Engine;
use salon_keys::Keypair;
use salon_wire::synapses::{
    ImageGenerating, ImageSynapse, MusicGeneration, SalonSynapse, TextToSpeech, VoiceClone,
};
use salon_wire::{Admission, Axon, AxonBuilder, HandlerError, Synapse};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Built-in engines for every task of `profile`, at the fidelity of `behaviour`.
pub fn engines_for(profile: &Profile, behaviour: Behaviour) -> BTreeMap<Task, Arc<dyn Engine>> {
    profile
        .tasks
        .iter()
        .map(|t| {
            (
                t.task,
                salon_engines::spec::builtin(t.task, Fidelity(behaviour.fidelity())),
            )
        })
        .collect()
}

/// A seed synapse a miner can answer: it converts to a core request and takes the answer back.
trait SeedSynapse: Synapse {
    fn core_request(&self) -> Result<Request, String>;
    fn take_answer(&mut self, response: &Response) -> Result<(), String>;
}

macro_rules! seed_synapse {
    ($($t:ty),*) => {$(
        impl SeedSynapse for $t {
            fn core_request(&self) -> Result<Request, String> {
                self.to_request().map_err(|e| e.to_string())
            }
            fn take_answer(&mut self, response: &Response) -> Result<(), String> {
                self.fill(response).map_err(|e| e.to_string())
            }
        }
    )*};
}
seed_synapse!(
    MusicGeneration,
    TextToSpeech,
    VoiceClone,
    ImageGenerating,
    ImageSynapse
);

fn seed_route<S: SeedSynapse>(builder: AxonBuilder, miner: Arc<Miner>) -> AxonBuilder {
    builder.route::<S, _, _>(move |mut synapse: S, _caller| {
        let miner = miner.clone();
        async move {
            let request = synapse.core_request().map_err(HandlerError::bad_input)?;
            let response = miner
                .answer(request)
                .await
                .map_err(|e| HandlerError::new(e.status(), e.to_string()))?;
            synapse
                .take_answer(&response)
                .map_err(HandlerError::internal)?;
            Ok(synapse)
        }
    })
}

/// An axon for `miner`, signed as `keypair`, admitting callers by `admission`, with the profile's
/// concurrency. Call `.serve(listener)` on the result.
pub fn axon(
    miner: Arc<Miner>,
    keypair: Keypair,
    admission: Arc<dyn Admission>,
    profile: &Profile,
) -> AxonBuilder {
    let native = miner.clone();
    let builder = Axon::builder(keypair)
        .admission(admission)
        .max_concurrency(profile.miner.max_concurrency.max(1))
        .route::<SalonSynapse, _, _>(move |mut synapse: SalonSynapse, _caller| {
            let miner = native.clone();
            async move {
                match miner.answer(synapse.request.clone()).await {
                    Ok(r) => {
                        synapse.response = Some(r);
                        Ok(synapse)
                    }
                    Err(e) => Err(HandlerError::new(e.status(), e.to_string())),
                }
            }
        });
    let builder = seed_route::<MusicGeneration>(builder, miner.clone());
    let builder = seed_route::<TextToSpeech>(builder, miner.clone());
    let builder = seed_route::<VoiceClone>(builder, miner.clone());
    let builder = seed_route::<ImageGenerating>(builder, miner.clone());
    seed_route::<ImageSynapse>(builder, miner)
}
