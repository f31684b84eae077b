//! The values every service function needs, built once by the binary and passed in.

use std::sync::Arc;

use crate::cache::RecordCache;
use crate::clock::Clock;
use crate::code_limits::CodeLimits;
use crate::messages::MessageSender;
use crate::password::PasswordHasher;
use crate::repo::Store;
use crate::rng::Rng;
use crate::seal::Sealer;
use crate::service::srp_flow::SrpDecoy;
use crate::tokens::KeyCache;

#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// Region in pool ids and ARNs, e.g. `us-east-1`.
    pub region: String,
    /// Twelve digits, used in ARNs.
    pub account_id: String,
    /// Where clients reach this server, without a trailing slash; token issuers are
    /// `<public_url>/<poolId>`.
    pub public_url: String,
    /// Whether a client without a secret may use the authorization-code flow without PKCE,
    /// as Cognito allows. Off by default: RFC 9700 section 2.1.1 has public clients use PKCE,
    /// and without it a stolen code is redeemable by anyone.
    pub allow_public_clients_without_pkce: bool,
    /// How often codes may be issued and tried (shared through the store).
    pub code_limits: CodeLimits,
}

#[derive(Clone)]
pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    pub sealer: Arc<Sealer>,
    pub messages: Arc<dyn MessageSender>,
    pub passwords: PasswordHasher,
    /// Parsed signing keys; only a cache of what the store holds.
    pub keys: Arc<KeyCache>,
    /// Recently read pools and clients; only a cache of what the store holds.
    pub records: Arc<RecordCache>,
    /// The decoy SRP challenge for unknown users.
    pub srp_decoy: Arc<SrpDecoy>,
    pub settings: CoreSettings,
}

impl Core {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
