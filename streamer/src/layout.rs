//! Which Botpress tables hold the activity, and how (`--layout` and the table names): what
//! `setup` creates, delivery writes, retention prunes and `check` reads.

use clap::ValueEnum;

/// How the activity is laid out: one row per session, or the guide's row per action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    Sessions,
    Events,
}

/// The layout and its tables.
#[derive(Debug, Clone)]
pub struct Tables {
    pub layout: Layout,
    pub sessions: String,
    pub events: String,
    pub summary: String,
    pub row_factor: u8,
}
