//! The devnet's leaderboard: per neuron its role, behaviour, mean score this run, incentive and
//! emission at the last epoch; printed as a table and written as JSON.

use serde::Serialize;

/// One row of the leaderboard.
#[derive(Clone, Debug, Serialize)]
pub struct NeuronRow {
    /// Uid.
    pub uid: u16,
    /// Hotkey (SS58).
    pub hotkey: String,
    /// "validator" or "miner".
    pub role: &'static str,
    /// Miner behaviour ("-" for the validator).
    pub behaviour: String,
    /// Mean reward the validator gave this run.
    pub score: f64,
    /// Incentive at the last epoch (fraction).
    pub incentive: f64,
    /// Dividends at the last epoch (fraction).
    pub dividends: f64,
    /// Emission at the last epoch in TAO.
    pub emission: f64,
    /// Queries scored this run.
    pub queries: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Profile name.
    pub profile: String,
    /// Epochs run this time.
    pub epochs: u32,
    /// Chain height at the end.
    pub block: u64,
    /// Subnet id.
    pub netuid: u16,
    /// Validator steps this run.
    pub steps: u64,
    /// Neurons by incentive, highest first.
    pub neurons: Vec<NeuronRow>,
}

impl Report {
    /// The leaderboard as an aligned text table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "profile {}  subnet {}  block {}  epochs {}  validator steps {}\n",
            self.profile, self.netuid, self.block, self.epochs, self.steps
        );
        s.push_str(&format!(
            "{:>4}  {:<12}  {:<9}  {:<9}  {:>7}  {:>7}  {:>9}  {:>9}  {:>12}\n",
            "uid",
            "hotkey",
            "role",
            "behaviour",
            "queries",
            "score",
            "incentive",
            "dividends",
            "emission τ"
        ));
        for n in &self.neurons {
            let short = if n.hotkey.len() > 10 {
                format!("{}…{}", &n.hotkey[..5], &n.hotkey[n.hotkey.len() - 4..])
            } else {
                n.hotkey.clone()
            };
            s.push_str(&format!(
                "{:>4}  {:<12}  {:<9}  {:<9}  {:>7}  {:>7.3}  {:>9.4}  {:>9.4}  {:>12.4}\n",
                n.uid,
                short,
                n.role,
                n.behaviour,
                n.queries,
                n.score,
                n.incentive,
                n.dividends,
                n.emission
            ));
        }
        s
    }
}
