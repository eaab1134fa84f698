//! Chain errors, named as subtensor names them ([`ChainError::name`]), with messages that say what
//! was wrong and what to do. Serializable, so the HTTP service and its client carry them unchanged.

use serde::{Deserialize, Serialize};

/// Why an extrinsic or a query was rejected. Variants named after subtensor's errors carry the same
/// name from [`ChainError::name`]; the rest (storage, transport, signatures) are Salon's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ChainError {
    /// The subnet does not exist.
    #[error("subnet {netuid} does not exist: create it first or check --netuid")]
    SubNetworkDoesNotExist {
        /// The subnet asked for.
        netuid: u16,
    },
    /// The hotkey is not registered on the subnet.
    #[error("hotkey {hotkey} is not registered on subnet {netuid}: register it first")]
    HotKeyNotRegisteredInSubNet {
        /// The subnet.
        netuid: u16,
        /// The hotkey (SS58).
        hotkey: String,
    },
    /// The hotkey already holds a uid on the subnet.
    #[error("hotkey {hotkey} is already registered on subnet {netuid} (uid {uid}): use that uid")]
    HotKeyAlreadyRegisteredInSubNet {
        /// The subnet.
        netuid: u16,
        /// The hotkey (SS58).
        hotkey: String,
        /// Its current uid.
        uid: u16,
    },
    /// The hotkey has never been registered anywhere, so it has no owner to stake through.
    #[error("hotkey {hotkey} has no account on this chain: register it on a subnet first")]
    HotKeyAccountNotExists {
        /// The hotkey (SS58).
        hotkey: String,
    },
    /// The coldkey does not own the hotkey.
    #[error("coldkey {coldkey} does not own hotkey {hotkey} (owned by {owner}): sign with the owning coldkey")]
    NonAssociatedColdKey {
        /// The hotkey (SS58).
        hotkey: String,
        /// The coldkey that tried (SS58).
        coldkey: String,
        /// The coldkey that owns the hotkey (SS58).
        owner: String,
    },
    /// Only the subnet owner may do this.
    #[error(
        "coldkey {coldkey} is not the owner of subnet {netuid}: sign with the owner's coldkey"
    )]
    NotSubnetOwner {
        /// The subnet.
        netuid: u16,
        /// The coldkey that tried (SS58).
        coldkey: String,
    },
    /// A stake of zero rao.
    #[error("stake amount must be more than 0 rao")]
    AmountTooLow,
    /// `dests` and `values` differ in length.
    #[error("set_weights got {dests} uids but {values} values: pass one value per uid")]
    WeightVecNotEqualSize {
        /// Number of uids.
        dests: usize,
        /// Number of values.
        values: usize,
    },
    /// More weights than neurons on the subnet.
    #[error(
        "set_weights got {len} uids but subnet {netuid} has only {n} neurons: drop the extra uids"
    )]
    UidsLengthExceedUidsInSubNet {
        /// The subnet.
        netuid: u16,
        /// Number of uids given.
        len: usize,
        /// Neurons on the subnet.
        n: u16,
    },
    /// The hotkey's stake is below the subnet's stake threshold.
    #[error(
        "hotkey {hotkey} has {stake} rao staked but setting weights needs {required}: add stake"
    )]
    NotEnoughStakeToSetWeights {
        /// The hotkey (SS58).
        hotkey: String,
        /// Its stake in rao.
        stake: u64,
        /// The subnet's threshold in rao.
        required: u64,
    },
    /// The version key is older than the subnet's weights_version_key.
    #[error("weights version key {given} is below the subnet's {required}: upgrade the validator")]
    IncorrectWeightVersionKey {
        /// Version key given.
        given: u64,
        /// The subnet's minimum.
        required: u64,
    },
    /// Weights set again before the rate limit elapsed.
    #[error(
        "uid {uid} set weights at block {last_update}; subnet {netuid} allows one set per {rate_limit} \
         blocks, now {block}: retry at block {}", last_update + rate_limit
    )]
    SettingWeightsTooFast {
        /// The subnet.
        netuid: u16,
        /// The caller's uid.
        uid: u16,
        /// Block of its last set.
        last_update: u64,
        /// Blocks between sets.
        rate_limit: u64,
        /// The current block.
        block: u64,
    },
    /// Weights committed again before the rate limit elapsed.
    #[error(
        "uid {uid} committed weights at block {last_update}; subnet {netuid} allows one commit per \
         {rate_limit} blocks, now {block}: retry at block {}", last_update + rate_limit
    )]
    CommittingWeightsTooFast {
        /// The subnet.
        netuid: u16,
        /// The caller's uid.
        uid: u16,
        /// Block of its last commit.
        last_update: u64,
        /// Blocks between commits.
        rate_limit: u64,
        /// The current block.
        block: u64,
    },
    /// The caller holds no validator permit (only a single self-weight is allowed without one).
    #[error("uid {uid} on subnet {netuid} has no validator permit: stake more and wait for the next epoch")]
    NeuronNoValidatorPermit {
        /// The subnet.
        netuid: u16,
        /// The caller's uid.
        uid: u16,
    },
    /// A uid appears twice.
    #[error("uid {uid} appears more than once in the weights: give each uid once")]
    DuplicateUids {
        /// The repeated uid.
        uid: u16,
    },
    /// A uid that is not on the subnet.
    #[error("uid {uid} does not exist on a subnet of {n} neurons: use uids below {n}")]
    UidVecContainInvalidOne {
        /// The bad uid.
        uid: u16,
        /// Neurons on the subnet.
        n: u16,
    },
    /// Fewer weights than the subnet's minimum.
    #[error("set_weights got {len} weights but subnet needs at least {min}: weight more uids")]
    WeightVecLengthIsLow {
        /// Number given.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// set_weights while commit-reveal is on.
    #[error("subnet {netuid} has commit-reveal on: use commit_weights then reveal_weights")]
    CommitRevealEnabled {
        /// The subnet.
        netuid: u16,
    },
    /// commit/reveal while commit-reveal is off.
    #[error("subnet {netuid} has commit-reveal off: use set_weights")]
    CommitRevealDisabled {
        /// The subnet.
        netuid: u16,
    },
    /// reveal with no pending commit.
    #[error("hotkey {hotkey} has no pending weight commit on subnet {netuid}: commit first")]
    NoWeightsCommitFound {
        /// The subnet.
        netuid: u16,
        /// The hotkey (SS58).
        hotkey: String,
    },
    /// The revealed data does not hash to any pending commit.
    #[error("revealed weights do not match any pending commit of {hotkey}: reveal the exact uids, values, salt and version key committed")]
    InvalidRevealCommitHashNotMatch {
        /// The hotkey (SS58).
        hotkey: String,
    },
    /// The matching commit's reveal window has passed.
    #[error("the matching commit expired (reveal window was epoch {reveal_epoch}, now epoch {epoch}): commit again")]
    ExpiredWeightCommit {
        /// The epoch the commit was revealable in.
        reveal_epoch: u64,
        /// The subnet's current epoch index.
        epoch: u64,
    },
    /// The matching commit cannot be revealed yet.
    #[error("the commit can be revealed from epoch {reveal_epoch}, now epoch {epoch}: wait for the next epoch")]
    RevealTooEarly {
        /// The epoch the commit becomes revealable.
        reveal_epoch: u64,
        /// The subnet's current epoch index.
        epoch: u64,
    },
    /// Too many commits waiting to be revealed.
    #[error(
        "hotkey {hotkey} already has {count} unrevealed commits: reveal or let them expire first"
    )]
    TooManyUnrevealedCommits {
        /// The hotkey (SS58).
        hotkey: String,
        /// Pending commits.
        count: usize,
    },
    /// set_hyperparameter with an unknown name or a value of the wrong type.
    #[error("invalid hyperparameter {name}={value}: {reason}")]
    InvalidHyperparameter {
        /// The name given.
        name: String,
        /// The value given.
        value: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// A signed request whose signature does not verify (substrate's BadProof).
    #[error("signature of {signer} does not verify over the request: sign the exact payload with that key")]
    BadProof {
        /// The claimed signer (SS58).
        signer: String,
    },
    /// A replayed or out-of-window nonce (substrate's Stale).
    #[error("nonce {nonce} of {signer} was already used or is outside the accepted window: sign again with a fresh nonce (unix time in ns)")]
    Stale {
        /// The signer (SS58).
        signer: String,
        /// The rejected nonce.
        nonce: u64,
    },
    /// A malformed request.
    #[error("bad request: {message}")]
    BadRequest {
        /// What was malformed.
        message: String,
    },
    /// The operation is not available on this chain implementation.
    #[error("{operation} is not supported by this chain: use a LocalChain or a `salon chain serve` endpoint")]
    Unsupported {
        /// The operation asked for.
        operation: String,
    },
    /// The SQLite database failed.
    #[error("chain database error: {message} (check the --dir disk and permissions)")]
    Storage {
        /// The database's message.
        message: String,
    },
    /// A filesystem error.
    #[error("chain I/O error: {message}")]
    Io {
        /// The system's message.
        message: String,
    },
    /// The chain service could not be reached or answered nonsense.
    #[error("chain service unreachable or misbehaving: {message} (is `salon chain serve` running at that URL?)")]
    Transport {
        /// What failed.
        message: String,
    },
    /// An error from a remote chain that this client does not know.
    #[error("remote chain rejected the call with {name}: {message}")]
    Remote {
        /// The remote error's name.
        name: String,
        /// The remote error's message.
        message: String,
    },
}

impl ChainError {
    /// The error's name: subtensor's name for the variants subtensor has.
    pub fn name(&self) -> &'static str {
        use ChainError::*;
        match self {
            SubNetworkDoesNotExist { .. } => "SubNetworkDoesNotExist",
            HotKeyNotRegisteredInSubNet { .. } => "HotKeyNotRegisteredInSubNet",
            HotKeyAlreadyRegisteredInSubNet { .. } => "HotKeyAlreadyRegisteredInSubNet",
            HotKeyAccountNotExists { .. } => "HotKeyAccountNotExists",
            NonAssociatedColdKey { .. } => "NonAssociatedColdKey",
            NotSubnetOwner { .. } => "NotSubnetOwner",
            AmountTooLow => "AmountTooLow",
            WeightVecNotEqualSize { .. } => "WeightVecNotEqualSize",
            UidsLengthExceedUidsInSubNet { .. } => "UidsLengthExceedUidsInSubNet",
            NotEnoughStakeToSetWeights { .. } => "NotEnoughStakeToSetWeights",
            IncorrectWeightVersionKey { .. } => "IncorrectWeightVersionKey",
            SettingWeightsTooFast { .. } => "SettingWeightsTooFast",
            CommittingWeightsTooFast { .. } => "CommittingWeightsTooFast",
            NeuronNoValidatorPermit { .. } => "NeuronNoValidatorPermit",
            DuplicateUids { .. } => "DuplicateUids",
            UidVecContainInvalidOne { .. } => "UidVecContainInvalidOne",
            WeightVecLengthIsLow { .. } => "WeightVecLengthIsLow",
            CommitRevealEnabled { .. } => "CommitRevealEnabled",
            CommitRevealDisabled { .. } => "CommitRevealDisabled",
            NoWeightsCommitFound { .. } => "NoWeightsCommitFound",
            InvalidRevealCommitHashNotMatch { .. } => "InvalidRevealCommitHashNotMatch",
            ExpiredWeightCommit { .. } => "ExpiredWeightCommit",
            RevealTooEarly { .. } => "RevealTooEarly",
            TooManyUnrevealedCommits { .. } => "TooManyUnrevealedCommits",
            InvalidHyperparameter { .. } => "InvalidHyperparameter",
            BadProof { .. } => "BadProof",
            Stale { .. } => "Stale",
            BadRequest { .. } => "BadRequest",
            Unsupported { .. } => "Unsupported",
            Storage { .. } => "Storage",
            Io { .. } => "Io",
            Transport { .. } => "Transport",
            Remote { .. } => "Remote",
        }
    }

    /// The HTTP status the chain service answers this error with.
    pub fn http_status(&self) -> u16 {
        use ChainError::*;
        match self {
            SubNetworkDoesNotExist { .. }
            | HotKeyNotRegisteredInSubNet { .. }
            | HotKeyAccountNotExists { .. }
            | NoWeightsCommitFound { .. } => 404,
            HotKeyAlreadyRegisteredInSubNet { .. } => 409,
            NonAssociatedColdKey { .. }
            | NotSubnetOwner { .. }
            | NotEnoughStakeToSetWeights { .. }
            | NeuronNoValidatorPermit { .. } => 403,
            BadProof { .. } | Stale { .. } => 401,
            SettingWeightsTooFast { .. }
            | CommittingWeightsTooFast { .. }
            | TooManyUnrevealedCommits { .. } => 429,
            Unsupported { .. } => 501,
            Storage { .. } | Io { .. } => 500,
            Transport { .. } | Remote { .. } => 502,
            _ => 400,
        }
    }
}

impl From<rusqlite::Error> for ChainError {
    fn from(e: rusqlite::Error) -> Self {
        ChainError::Storage {
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for ChainError {
    fn from(e: std::io::Error) -> Self {
        ChainError::Io {
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_through_json_with_their_subtensor_name() {
        let e = ChainError::SettingWeightsTooFast {
            netuid: 1,
            uid: 3,
            last_update: 10,
            rate_limit: 100,
            block: 50,
        };
        assert_eq!(e.name(), "SettingWeightsTooFast");
        assert!(e.to_string().contains("retry at block 110"), "{e}");
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.contains("\"kind\":\"SettingWeightsTooFast\""),
            "{json}"
        );
        let back: ChainError = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.http_status(), 429);
        let unit: ChainError =
            serde_json::from_str(&serde_json::to_string(&ChainError::AmountTooLow).unwrap())
                .unwrap();
        assert_eq!(unit, ChainError::AmountTooLow);
    }
}
