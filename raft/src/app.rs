//! The seam between consensus and the application: how a committed command changes state.

use crate::kv::KvError;
use crate::kv::KvWrite;

/// The replicated application. Implementations must be deterministic: the same commands applied
/// to the same state give the same state and replies on every replica and on replay. They must not
/// read the clock or a random source; the proposer puts such values into the command.
pub trait Application: Send + Sync + 'static {
    /// Applies one opaque command and returns its opaque reply. Domain refusals (already exists,
    /// not found) are part of the reply; `Err` is reserved for storage failures and stops the node.
    fn apply(&self, kv: &mut KvWrite<'_, '_>, command: &[u8]) -> Result<Vec<u8>, KvError>;
}
