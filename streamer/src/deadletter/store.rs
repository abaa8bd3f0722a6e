//! The dead-letter file: what Botpress refused for good (a 4xx other than 401/403/404/408/429),
//! with the reason, so nothing is dropped silently and an operator can fix the cause and send it
//! again with `autoplay-botpress dead-letters retry`.
//!
//! `dead-letter.jsonl` in the state directory, one JSON object per line, created readable by the
//! owner only (it holds user activity). Bounded: past `max_bytes` it is rotated to
//! `dead-letter.1.jsonl`, replacing (and warning about) the previous rotation.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

impl Letter {
    /// Reads one line, including the older form `{at, status, reason, batch}`.
    pub fn parse(line: &str) -> Result<Letter, String> {
        let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        if value.get("kind").is_some() {
            return serde_json::from_value(value).map_err(|e| e.to_string());
        }
        let batch = value.get("batch").ok_or("neither `kind` nor `batch`")?;
        Ok(Letter {
            at: value["at"].as_str().unwrap_or_default().to_owned(),
            status: value["status"].as_u64().unwrap_or_default() as u16,
            reason: value["reason"].as_str().unwrap_or_default().to_owned(),
            target: Target::Webhook {
                key: batch["batch_id"].as_str().map(str::to_owned),
                body: batch.clone(),
            },
        })
    }
}

/// The dead-letter files of a state directory.
#[derive(Debug)]
pub struct DeadLetters {
    dir: PathBuf,
    max_bytes: u64,
    lock: tokio::sync::Mutex<()>,
}

impl DeadLetters {
    pub fn new(dir: &Path, max_bytes: u64) -> Self {
        Self {
            dir: dir.to_owned(),
            max_bytes,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The current file.
    pub fn path(&self) -> PathBuf {
        self.dir.join("dead-letter.jsonl")
    }

    /// The rotated file.
    pub fn rotated_path(&self) -> PathBuf {
        self.dir.join("dead-letter.1.jsonl")
    }

    /// Appends a letter and syncs it; rotates first when the file is over its bound.
    pub async fn write(&self, letter: &Letter) -> std::io::Result<()> {
        let line = serde_json::to_string(letter)? + "\n";
        let _guard = self.lock.lock().await;
        let (path, rotated, max) = (self.path(), self.rotated_path(), self.max_bytes);
        tokio::task::spawn_blocking(move || {
            if std::fs::metadata(&path).is_ok_and(|m| m.len() + line.len() as u64 > max) {
                if rotated.exists() {
                    tracing::warn!(
                        file = %rotated.display(),
                        "the dead-letter files are full; dropping the oldest rotation"
                    );
                }
                std::fs::rename(&path, &rotated)?;
            }
            let mut file = crate::private::open_file(&path, true)?;
            file.write_all(line.as_bytes())?;
            file.sync_data()
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Every letter, oldest first, with the file and line it came from; unreadable lines too.
    pub fn read_all(&self) -> std::io::Result<Vec<(PathBuf, Result<Letter, String>)>> {
        let mut out = Vec::new();
        for path in [self.rotated_path(), self.path()] {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            out.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| (path.clone(), Letter::parse(l))),
            );
        }
        Ok(out)
    }

    /// Replaces both files with `keep` (what could not be re-sent), atomically per file.
    pub fn replace_all(&self, keep: &[Letter]) -> std::io::Result<()> {
        let temp = self.dir.join("dead-letter.jsonl.tmp");
        {
            let mut file = crate::private::open_file(&temp, false)?;
            for letter in keep {
                writeln!(file, "{}", serde_json::to_string(letter)?)?;
            }
            file.sync_all()?;
        }
        std::fs::rename(&temp, self.path())?;
        match std::fs::remove_file(self.rotated_path()) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn letter(n: usize) -> Letter {
        Letter {
            at: "2026-11-25T00:00:00.000Z".into(),
            status: 400,
            reason: "HTTP 400: bad".into(),
            target: Target::Webhook {
                key: Some(format!("k{n}")),
                body: serde_json::json!({"session_id": "s", "actions": [{}, {}], "pad": "x".repeat(300)}),
            },
        }
    }

    #[tokio::test]
    async fn bounded_private_and_readable_again() {
        let dir = tempfile::tempdir().unwrap();
        let letters = DeadLetters::new(dir.path(), 2_000);
        for n in 0..20 {
            letters.write(&letter(n)).await.unwrap();
        }
        let mode = std::fs::metadata(letters.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let total = std::fs::metadata(letters.path()).unwrap().len()
            + std::fs::metadata(letters.rotated_path()).unwrap().len();
        assert!(total <= 4_000, "{total}");
        let read = letters.read_all().unwrap();
        assert!(read.len() >= 4 && read.iter().all(|(_, l)| l.is_ok()));
        let last = read.last().unwrap().1.as_ref().unwrap();
        assert_eq!(last, &letter(19));
        assert_eq!(last.target.size(), 2);
        letters.replace_all(&[letter(7)]).unwrap();
        let read = letters.read_all().unwrap();
        assert_eq!(read.len(), 1);
        assert!(!letters.rotated_path().exists());
    }

    #[test]
    fn reads_the_older_line_form() {
        let old = r#"{"at":"t","status":400,"reason":"r","batch":{"session_id":"s","batch_id":"b1","actions":[{}]}}"#;
        let letter = Letter::parse(old).unwrap();
        assert!(matches!(&letter.target, Target::Webhook { key: Some(k), .. } if k == "b1"));
        assert_eq!(letter.target.size(), 1);
    }
}
