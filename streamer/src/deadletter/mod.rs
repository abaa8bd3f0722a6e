//! What Botpress refused for good: the dead-letter files ([`store`]) and the `dead-letters`
//! command that lists and re-sends them ([`command`]).

pub mod command;
pub mod store;

pub use store::{DeadLetters, Letter, Target};
