//! Doris key encoding: the tuple codec (`encode_key` / `decode_key`) and the layout of every record
//! metaraft stores. Knows nothing of HTTP or of record contents.
//!
//! Only what callers use today is re-exported; the decode side of `codec` joins the list with the
//! `decode_key` / `encode_key` / `get_value` routes.

mod codec;
mod layout;

pub use layout::instance_key;
pub use layout::storage_vault_key;
pub use layout::system_meta_service_key;
pub use layout::BUILT_IN_STORAGE_VAULT_NAME;
