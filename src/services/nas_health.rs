//! NAS health: each NAS with a probe method is probed every `nas.verificar_saude` seconds;
//! the result lives in the database (`nas.reachable`), so every process sees it and
//! `verificaacesso` step 3 reads it. A NAS is claimed before it is probed, so that several
//! processes probe it once per interval between them.

use chrono::{TimeDelta, Utc};

use crate::network::coa::{CoaClient, Outcome, SessionRef};
use crate::network::nas::target;
use crate::store::Store;
use crate::store::nas::{self, Method};

/// User-Name of the probe: a session no NAS holds, so any authenticated answer (ACK or NAK)
/// proves the NAS alive.
const PROBE_USER: &str = "ura-sonda-de-saude";

#[derive(Clone)]
pub struct NasHealth {
    pub store: Store,
    pub coa: CoaClient,
    /// `nas.verificar_saude`, seconds.
    pub every_seconds: f64,
}

impl NasHealth {
    /// Probes every NAS due; returns how many this process probed.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let now = Utc::now();
        let every = TimeDelta::milliseconds((self.every_seconds * 1000.0) as i64);
        // A little less than the interval, so that the loop's own jitter does not skip a turn.
        let threshold = now - every.checked_div(2).unwrap_or(every);
        let mut probed = 0;
        for nas in nas::all_probed(&self.store).await? {
            if !nas::claim_probe(&self.store, nas.id, now, threshold).await? {
                continue;
            }
            let Some(target) = target(&nas) else {
                continue;
            };
            let outcome = match nas.method {
                Method::StatusServer => self.coa.status_server(&target).await,
                _ => {
                    let probe = SessionRef {
                        user_name: PROBE_USER.into(),
                        ..SessionRef::default()
                    };
                    self.coa.coa(&target, &probe, &[]).await
                }
            };
            let reachable = matches!(outcome, Outcome::Ack | Outcome::Nak { .. });
            if nas::set_reachable(&self.store, nas.id, reachable).await? {
                if reachable {
                    tracing::info!(nas = %nas.name, "NAS voltou a responder");
                } else {
                    tracing::warn!(nas = %nas.name, "NAS não responde: {}", outcome.describe());
                }
            }
            probed += 1;
        }
        Ok(probed)
    }
}
