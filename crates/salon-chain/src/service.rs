//! The chain service behind `salon chain serve`: a LocalChain over HTTP (axum). Queries are GETs;
//! extrinsics are `POST /extrinsic` with a [`SignedExtrinsic`] body. Rejections answer a 4xx/5xx
//! with `{"error": <subtensor name>, "message": ..., "detail": <ChainError as JSON>}`.
//!
//! Routes: `GET /block`, `GET /subnets`, `GET /subnets/{netuid}/metagraph`,
//! `GET /subnets/{netuid}/hyperparameters`, `GET /subnets/{netuid}/epochs`, `POST /extrinsic`.

use crate::error::ChainError;
use crate::extrinsic::{nonce_in_window, now_ns, Call, SignedExtrinsic, NONCE_WINDOW_NS};
use crate::local::LocalChain;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use salon_core::{Hotkey, NetUid};
use salon_keys::PublicKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// The JSON body of a rejection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error's name (subtensor's where it has one).
    pub error: String,
    /// What was wrong and what to do.
    pub message: String,
    /// The error itself, for clients that rebuild it.
    pub detail: Option<ChainError>,
}

/// A [`ChainError`] as an HTTP response.
pub struct Rejection(pub ChainError);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = ErrorBody {
            error: self.0.name().to_string(),
            message: self.0.to_string(),
            detail: Some(self.0),
        };
        (status, Json(body)).into_response()
    }
}

type Answer = Result<Json<Value>, Rejection>;

/// Runs blocking chain work off the async threads.
async fn on_chain<T: Serialize + Send + 'static>(
    chain: &Arc<LocalChain>,
    f: impl FnOnce(&LocalChain) -> Result<T, ChainError> + Send + 'static,
) -> Answer {
    let chain = chain.clone();
    let out = tokio::task::spawn_blocking(move || f(&chain))
        .await
        .map_err(|e| {
            Rejection(ChainError::Storage {
                message: format!("chain task failed: {e}"),
            })
        })?
        .map_err(Rejection)?;
    Ok(Json(
        serde_json::to_value(out).expect("chain types serialize to JSON"),
    ))
}

/// The service's routes over `chain`.
pub fn router(chain: Arc<LocalChain>) -> Router {
    Router::new()
        .route("/block", get(block))
        .route("/subnets", get(subnets))
        .route("/subnets/{netuid}/metagraph", get(metagraph))
        .route("/subnets/{netuid}/hyperparameters", get(hyperparameters))
        .route("/subnets/{netuid}/epochs", get(epochs))
        .route("/extrinsic", post(extrinsic))
        .with_state(chain)
}

/// Serves `chain` on `listener` until the process stops.
pub async fn serve(
    chain: Arc<LocalChain>,
    listener: tokio::net::TcpListener,
) -> Result<(), ChainError> {
    axum::serve(listener, router(chain))
        .await
        .map_err(ChainError::from)
}

async fn block(State(chain): State<Arc<LocalChain>>) -> Answer {
    Ok(Json(json!({ "block": chain.height() })))
}

async fn subnets(State(chain): State<Arc<LocalChain>>) -> Answer {
    on_chain(&chain, |c| c.subnets_now()).await
}

async fn metagraph(State(chain): State<Arc<LocalChain>>, Path(netuid): Path<u16>) -> Answer {
    on_chain(&chain, move |c| c.metagraph_now(NetUid(netuid))).await
}

async fn hyperparameters(State(chain): State<Arc<LocalChain>>, Path(netuid): Path<u16>) -> Answer {
    on_chain(&chain, move |c| {
        c.metagraph_now(NetUid(netuid)).map(|m| m.hyperparameters)
    })
    .await
}

async fn epochs(State(chain): State<Arc<LocalChain>>, Path(netuid): Path<u16>) -> Answer {
    on_chain(&chain, move |c| c.epoch_history_now(NetUid(netuid))).await
}

fn key(ss58: &str, what: &str) -> Result<PublicKey, ChainError> {
    PublicKey::from_ss58(ss58).map_err(|e| ChainError::BadRequest {
        message: format!("{what}: {e}"),
    })
}

fn hash32(text: &str) -> Result<[u8; 32], ChainError> {
    hex::decode(text.trim_start_matches("0x"))
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ChainError::BadRequest {
            message: "commit_hash must be 32 bytes of hex".into(),
        })
}

/// Verifies, checks the nonce, and dispatches one signed call.
fn dispatch(chain: &LocalChain, signed: SignedExtrinsic) -> Result<Value, ChainError> {
    let (ext, who) = signed.verify()?;
    let now = now_ns();
    if !nonce_in_window(ext.nonce, now) {
        return Err(ChainError::Stale {
            signer: ext.signer,
            nonce: ext.nonce,
        });
    }
    chain.use_nonce(&ext.signer, ext.nonce, now.saturating_sub(NONCE_WINDOW_NS))?;
    tracing::debug!(signer = %ext.signer, call = ?ext.call, "extrinsic");
    Ok(match ext.call {
        Call::CreateSubnet {
            owner_hotkey,
            hyperparameters,
        } => {
            let hotkey = owner_hotkey
                .as_deref()
                .map(|h| key(h, "owner_hotkey"))
                .transpose()?;
            json!({ "netuid": chain.create_subnet_keys(&who, hotkey.as_ref(), hyperparameters)? })
        }
        Call::Register { netuid, coldkey } => {
            json!({ "uid": chain.register_keys(NetUid(netuid), &who, &key(&coldkey, "coldkey")?)? })
        }
        Call::AddStake {
            hotkey,
            netuid,
            amount_rao,
        } => {
            key(&hotkey, "hotkey")?;
            chain.add_stake_keys(&who, &Hotkey(hotkey), NetUid(netuid), amount_rao)?;
            json!({})
        }
        Call::ServeAxon { netuid, axon } => {
            chain.serve_axon_keys(&who, NetUid(netuid), &axon)?;
            json!({})
        }
        Call::SetWeights {
            netuid,
            dests,
            values,
            version_key,
        } => {
            chain.set_weights_keys(&who, NetUid(netuid), &dests, &values, version_key)?;
            json!({})
        }
        Call::CommitWeights {
            netuid,
            commit_hash,
        } => {
            chain.commit_weights_keys(&who, NetUid(netuid), &hash32(&commit_hash)?)?;
            json!({})
        }
        Call::RevealWeights {
            netuid,
            uids,
            values,
            salt,
            version_key,
        } => {
            chain.reveal_weights_keys(&who, NetUid(netuid), &uids, &values, &salt, version_key)?;
            json!({})
        }
        Call::SetHyperparameter {
            netuid,
            name,
            value,
        } => {
            json!({ "hyperparameters": chain.set_hyperparameter_keys(&who, NetUid(netuid), &name, &value)? })
        }
    })
}

async fn extrinsic(State(chain): State<Arc<LocalChain>>, body: axum::body::Bytes) -> Answer {
    let signed: SignedExtrinsic = serde_json::from_slice(&body).map_err(|e| {
        Rejection(ChainError::BadRequest {
            message: format!("body is not a signed extrinsic: {e}"),
        })
    })?;
    on_chain(&chain, move |c| dispatch(c, signed)).await
}
