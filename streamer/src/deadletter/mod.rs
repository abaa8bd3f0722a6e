//! What Botpress refused for good: the dead letters kept in the spool ([`store`]) and the
//! `dead-letters` command that lists and re-sends them ([`command`]).

pub mod command;
pub mod store;

pub use store::{read_all, DeadLetters, Letter, Target};
