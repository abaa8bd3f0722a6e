//! Dead letters: what Botpress refused for good (a 4xx other than 401/403/404/408/429), with the
//! reason, so nothing is dropped silently and an operator can fix the cause and send it again
//! with `autoplay-botpress dead-letters retry`.
//!
//! They live in the spool (`spool.redb`, owner-only): a letter is committed in the same
//! transaction that removes the batches it comes from, so a crash leaves either the batches (sent
//! again) or the letter, never both or neither. Bounded by `--max-dead-letter-mb`: the oldest go
//! first, with a warning.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spool::{Spool, SpoolError};
/// What was refused, where it was going.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A webhook body (a batch), with its idempotency key.
    Webhook { key: Option<String>, body: Value },
    /// Table rows, upserted on `key_column`.
    Rows {
        table: String,
        key_column: String,
        rows: Vec<Value>,
    },
}

impl Target {
    /// How many actions (webhook body) or rows (table rows) it carries.
    pub fn size(&self) -> usize {
        match self {
            Target::Webhook { body, .. } => body["actions"].as_array().map_or(0, Vec::len),
            Target::Rows { rows, .. } => rows.len(),
        }
    }
}

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    /// When it was refused (ISO-8601).
    pub at: String,
    pub status: u16,
    pub reason: String,
    #[serde(flatten)]
    pub target: Target,
}

/// Letters of the delivery's current flushes, waiting to leave with their batches in the next
/// settle of the spool.
#[derive(Debug, Default)]
pub struct DeadLetters {
    waiting: Mutex<Vec<Letter>>,
}

impl DeadLetters {
    /// Adds a letter to the next settle.
    pub fn push(&self, letter: Letter) {
        self.lock().push(letter);
    }

    /// The waiting letters, as stored.
    pub fn take(&self) -> Vec<Vec<u8>> {
        let letters = std::mem::take(&mut *self.lock());
        letters
            .iter()
            .filter_map(|l| serde_json::to_vec(l).ok())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Letter>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A stored dead letter: its key, and the letter or why it does not read.
pub type Stored = (u64, Result<Letter, String>);

/// Every dead letter in `spool`, oldest first, with its key; an unreadable one as its error.
pub fn read_all(spool: &Spool) -> Result<Vec<Stored>, SpoolError> {
    Ok(spool
        .letters()?
        .into_iter()
        .map(|(key, json)| {
            (
                key,
                serde_json::from_slice(&json).map_err(|e| e.to_string()),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::Change;

    fn letter(n: usize) -> Letter {
        Letter {
            at: "2026-11-25T00:00:00.000Z".into(),
            status: 400,
            reason: "HTTP 400: bad".into(),
            target: Target::Webhook {
                key: Some(format!("k{n}")),
                body: serde_json::json!({"session_id": "s", "actions": [{}, {}]}),
            },
        }
    }

    #[test]
    fn letters_leave_with_their_batches_and_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        spool
            .commit(&Change {
                inserts: vec![(0, b"{}".to_vec()), (1, b"{}".to_vec())],
                ..Change::default()
            })
            .unwrap();
        let waiting = DeadLetters::default();
        waiting.push(letter(1));
        waiting.push(letter(2));
        let removed = spool
            .commit(&Change {
                remove: vec![crate::spool::Removal::Range(0..2)],
                letters: waiting.take(),
                ..Change::default()
            })
            .unwrap();
        assert_eq!(removed.batches, 2);
        assert!(waiting.take().is_empty());
        let all = read_all(&spool).unwrap();
        let letters: Vec<Letter> = all.iter().map(|(_, l)| l.clone().unwrap()).collect();
        assert_eq!(letters, [letter(1), letter(2)]);
        assert_eq!(letters[0].target.size(), 2);
        spool.update_letters(&[all[0].0], &[]).unwrap();
        assert_eq!(read_all(&spool).unwrap().len(), 1);
    }
}
