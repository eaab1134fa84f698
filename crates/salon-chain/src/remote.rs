//! [`RemoteChain`]: the [`Chain`] trait over a `salon chain serve` endpoint, so miners and
//! validators in other processes share one devnet (`--chain http://ADDR`).

use crate::error::ChainError;
use crate::extrinsic::{Call, NonceSource, SignedExtrinsic};
use crate::service::ErrorBody;
use crate::types::{AxonInfo, EpochReport, Metagraph, SubnetInfo};
use crate::Chain;
use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::{Keypair, PublicKey};
use salon_yuma::Hyperparameters;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// A client of the chain service at a base URL such as `http://127.0.0.1:9944`.
#[derive(Debug)]
pub struct RemoteChain {
    base: String,
    http: reqwest::Client,
    nonces: NonceSource,
}

fn transport(e: impl std::fmt::Display) -> ChainError {
    ChainError::Transport {
        message: e.to_string(),
    }
}

impl RemoteChain {
    /// A client for the service at `url` (no request is made until the first call; a URL that is
    /// not `http://host:port` fails then, with a `Transport` error naming it).
    pub fn new(url: &str) -> Self {
        let base = url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base,
            http,
            nonces: NonceSource::default(),
        }
    }

    /// The service's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn answer<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ChainError> {
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| transport(format!("unexpected answer: {e}")));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(ErrorBody {
                detail: Some(e), ..
            }) => Err(e),
            Ok(ErrorBody { error, message, .. }) => Err(ChainError::Remote {
                name: error,
                message,
            }),
            Err(_) => Err(transport(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ))),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ChainError> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(transport)?;
        Self::answer(resp).await
    }

    /// Signs `call` with `key` and submits it; returns the service's JSON answer.
    pub async fn submit(&self, key: &Keypair, call: Call) -> Result<Value, ChainError> {
        let signed = SignedExtrinsic::sign(call, key, self.nonces.next());
        let resp = self
            .http
            .post(format!("{}/extrinsic", self.base))
            .json(&signed)
            .send()
            .await
            .map_err(transport)?;
        Self::answer(resp).await
    }
}

fn field<T: DeserializeOwned>(v: &Value, name: &str) -> Result<T, ChainError> {
    v.get(name)
        .cloned()
        .and_then(|x| serde_json::from_value(x).ok())
        .ok_or_else(|| transport(format!("answer lacks {name}: {v}")))
}

#[async_trait::async_trait]
impl Chain for RemoteChain {
    async fn block(&self) -> Result<u64, ChainError> {
        let v: Value = self.get("/block").await?;
        field(&v, "block")
    }

    async fn create_subnet(
        &self,
        owner_coldkey: &Keypair,
        owner_hotkey: Option<&Keypair>,
        hyperparameters: Hyperparameters,
    ) -> Result<NetUid, ChainError> {
        let call = Call::CreateSubnet {
            owner_hotkey: owner_hotkey.map(|k| k.ss58()),
            hyperparameters,
        };
        field(&self.submit(owner_coldkey, call).await?, "netuid")
    }

    async fn register(
        &self,
        netuid: NetUid,
        hotkey: &Keypair,
        coldkey: &PublicKey,
    ) -> Result<Uid, ChainError> {
        let call = Call::Register {
            netuid: netuid.0,
            coldkey: coldkey.to_ss58(),
        };
        field(&self.submit(hotkey, call).await?, "uid")
    }

    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &Hotkey,
        netuid: NetUid,
        amount_rao: u64,
    ) -> Result<(), ChainError> {
        let call = Call::AddStake {
            hotkey: hotkey.0.clone(),
            netuid: netuid.0,
            amount_rao,
        };
        self.submit(coldkey, call).await.map(drop)
    }

    async fn serve_axon(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        axon: AxonInfo,
    ) -> Result<(), ChainError> {
        self.submit(
            hotkey,
            Call::ServeAxon {
                netuid: netuid.0,
                axon,
            },
        )
        .await
        .map(drop)
    }

    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        dests: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = Call::SetWeights {
            netuid: netuid.0,
            dests: dests.to_vec(),
            values: values.to_vec(),
            version_key,
        };
        self.submit(hotkey, call).await.map(drop)
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.get(&format!("/subnets/{}/metagraph", netuid.0)).await
    }

    async fn commit_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        hash: [u8; 32],
    ) -> Result<(), ChainError> {
        let call = Call::CommitWeights {
            netuid: netuid.0,
            commit_hash: hex::encode(hash),
        };
        self.submit(hotkey, call).await.map(drop)
    }

    async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = Call::RevealWeights {
            netuid: netuid.0,
            uids: uids.to_vec(),
            values: values.to_vec(),
            salt: salt.to_vec(),
            version_key,
        };
        self.submit(hotkey, call).await.map(drop)
    }

    async fn set_hyperparameter(
        &self,
        owner_coldkey: &Keypair,
        netuid: NetUid,
        name: &str,
        value: &str,
    ) -> Result<Hyperparameters, ChainError> {
        let call = Call::SetHyperparameter {
            netuid: netuid.0,
            name: name.to_string(),
            value: value.to_string(),
        };
        field(&self.submit(owner_coldkey, call).await?, "hyperparameters")
    }

    async fn hyperparameters(&self, netuid: NetUid) -> Result<Hyperparameters, ChainError> {
        self.get(&format!("/subnets/{}/hyperparameters", netuid.0))
            .await
    }

    async fn subnets(&self) -> Result<Vec<SubnetInfo>, ChainError> {
        self.get("/subnets").await
    }

    async fn epoch_history(&self, netuid: NetUid) -> Result<Vec<EpochReport>, ChainError> {
        self.get(&format!("/subnets/{}/epochs", netuid.0)).await
    }
}
