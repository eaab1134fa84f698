//! The axon: an HTTP server answering typed synapses, with the SDK's checks as layers
//! (body limit, blacklist, signature and nonce, priority) in front of each synapse handler.
//!
//! ```no_run
//! # async fn demo(keypair: salon_keys::Keypair) -> std::io::Result<()> {
//! use salon_wire::synapses::ImageSynapse;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8091").await?;
//! let handle = salon_wire::Axon::builder(keypair)
//!     .route::<ImageSynapse, _, _>(|mut s, _caller| async move { s.prediction = salon_wire::synapses::Prediction::Score(0.9); Ok(s) })
//!     .max_concurrency(4)
//!     .serve(listener)?;
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

mod admission;
mod exchange;
mod key_cache;
mod layers;
mod priority;
mod route;

pub use admission::{Admission, AdmitAll};
pub use exchange::{AuthScheme, Caller};
pub use priority::{GateError, GatePermit, PriorityGate};
pub use route::HandlerError;

use crate::btauth;
use crate::dendrite::AxonTarget;
use crate::nonce::{NonceRules, NonceStore, SeenNonces};
use crate::synapse::Synapse;
use axum::extract::Request;
use axum::routing::on;
use axum::Router;
use key_cache::KeyCache;
use salon_keys::Keypair;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Default request body limit (32 MiB): enough for a voice-clone reference as a float list.
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

/// Everything the layers share.
pub struct AxonState {
    keypair: Keypair,
    hotkey: String,
    uuid: String,
    route_names: Vec<String>,
    admission: Arc<dyn Admission>,
    gate: Option<Arc<PriorityGate>>,
    nonces: NonceStore,
    seen: SeenNonces,
    body_limit: usize,
    auth: AuthScheme,
    keys: KeyCache,
}

/// The Synapse SDK's built-in ping synapse (`POST /Synapse`), which every SDK axon answers.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Ping {}

impl Synapse for Ping {
    const NAME: &'static str = "Synapse";
}

/// Configures an axon; see [`Axon::builder`].
pub struct AxonBuilder {
    keypair: Keypair,
    router: Router<Arc<AxonState>>,
    route_names: Vec<String>,
    admission: Arc<dyn Admission>,
    max_concurrency: Option<usize>,
    max_waiting: usize,
    body_limit: usize,
    auth: AuthScheme,
    external_ip: Option<String>,
    nonce_rules: NonceRules,
}

/// The axon entry point.
pub struct Axon;

impl Axon {
    /// A builder for an axon signing and verifying as `keypair`'s hotkey.
    pub fn builder(keypair: Keypair) -> AxonBuilder {
        AxonBuilder {
            keypair,
            router: Router::new(),
            route_names: Vec::new(),
            admission: Arc::new(AdmitAll),
            max_concurrency: None,
            max_waiting: 1024,
            body_limit: DEFAULT_BODY_LIMIT,
            auth: AuthScheme::Synapse,
            external_ip: None,
            nonce_rules: NonceRules::default(),
        }
        .route::<Ping, _, _>(|s, _| async move { Ok(s) })
    }
}

impl AxonBuilder {
    /// Serves synapse `S` at `POST /{S::NAME}` (and GET, as the SDK) with `handler`.
    pub fn route<S, F, Fut>(mut self, handler: F) -> Self
    where
        S: Synapse,
        F: Fn(S, Caller) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
    {
        let path = format!("/{}", S::NAME);
        let method = axum::routing::MethodFilter::POST.or(axum::routing::MethodFilter::GET);
        let h = move |req: Request| {
            let handler = handler.clone();
            async move { route::handle::<S, F, Fut>(handler, req).await }
        };
        if !self.route_names.iter().any(|n| n == S::NAME) {
            self.route_names.push(S::NAME.to_string());
            self.router = self.router.route(&path, on(method, h));
        }
        self
    }

    /// The blacklist and priority policy (default: admit all, priority 0).
    pub fn admission(mut self, admission: Arc<dyn Admission>) -> Self {
        self.admission = admission;
        self
    }

    /// At most `n` handler calls at once; others wait, best priority first.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n.max(1));
        self
    }

    /// At most `n` calls waiting for a slot; more are refused with 503 (default 1024).
    pub fn max_waiting(mut self, n: usize) -> Self {
        self.max_waiting = n;
        self
    }

    /// Largest request body accepted, in bytes; larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Which signature scheme callers must use (default: Synapse).
    pub fn auth(mut self, scheme: AuthScheme) -> Self {
        self.auth = scheme;
        self
    }

    /// The address others reach this axon at (reported by [`AxonHandle::target`]).
    pub fn external_ip(mut self, ip: impl Into<String>) -> Self {
        self.external_ip = Some(ip.into());
        self
    }

    /// Nonce window, future bound and store size.
    pub fn nonce_rules(mut self, rules: NonceRules) -> Self {
        self.nonce_rules = rules;
        self
    }

    /// Starts serving on `listener` in a background task (call inside a Tokio runtime).
    pub fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<AxonHandle> {
        let local_addr = listener.local_addr()?;
        let hotkey = self.keypair.ss58();
        let state = Arc::new(AxonState {
            hotkey: hotkey.clone(),
            keypair: self.keypair,
            uuid: uuid::Uuid::now_v1(&rand_node()).to_string(),
            route_names: self.route_names,
            admission: self.admission,
            gate: self
                .max_concurrency
                .map(|n| PriorityGate::new(n, self.max_waiting)),
            nonces: NonceStore::new(self.nonce_rules),
            seen: SeenNonces::new(btauth::MAX_AGE, btauth::FORWARD_SKEW, 100_000),
            body_limit: self.body_limit,
            auth: self.auth,
            keys: KeyCache::new(65_536),
        });
        let app = self
            .router
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                layers::priority,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                layers::verify_layer,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                layers::blacklist,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                layers::intake,
            ))
            .fallback(layers::unknown_synapse)
            .with_state(state);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::error!("axon server stopped: {e}");
            }
        });
        let ip = self
            .external_ip
            .unwrap_or_else(|| local_addr.ip().to_string());
        Ok(AxonHandle {
            local_addr,
            target: AxonTarget {
                ip,
                port: local_addr.port(),
                hotkey,
            },
            stop: Some(tx),
            task,
        })
    }
}

fn rand_node() -> [u8; 6] {
    let n = uuid::Uuid::new_v4();
    let mut out = [0u8; 6];
    out.copy_from_slice(&n.as_bytes()[..6]);
    out
}

/// A running axon.
pub struct AxonHandle {
    local_addr: SocketAddr,
    target: AxonTarget,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl AxonHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How a dendrite reaches this axon (external ip if set, else the bound ip; port; hotkey).
    pub fn target(&self) -> AxonTarget {
        self.target.clone()
    }

    /// Stops accepting connections, lets calls in flight finish, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for AxonHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
