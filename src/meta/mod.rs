//! The meta service domain: Doris's records, the commands that change them, the checks that guard
//! them, and [`MetaApp`], the Raft application that applies commands. Knows nothing of HTTP;
//! reaches storage only through the raft crate's `KvWrite` / `KvRead`.

mod apply;
mod command;
mod error;
mod instance;
pub mod pb;
mod resolve;
pub mod schema;
mod secret;
mod store;
mod validate;

pub use apply::MetaApp;
pub use command::Command;
pub use command::CommandResult;
pub use command::Reply;
pub use error::MetaError;
pub use error::ServiceCode;
pub use instance::check_get as check_get_instance;
pub use instance::get as get_instance;
pub use instance::prepare_create as prepare_create_instance;
pub use store::Failure;
