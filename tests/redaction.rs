//! The redaction corpus (`tests/redaction/corpus.json`): personal data in formats of several
//! countries, each embedded in page-like text, must be replaced by its typed placeholder; ordinary
//! UI text (ids, prices, dates, versions, order numbers, …) must pass through unchanged. The
//! streamer and the WASM package run this same code; the JS test runs the corpus through the
//! built package.

use autoplay_botpress::redact::redact;
use serde_json::Value;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/redaction/corpus.json");

fn placeholder(kind: &str) -> &'static str {
    match kind {
        "email" => "[email]",
        "phone" => "[phone]",
        "card" => "[card]",
        "iban" => "[iban]",
        "token" => "[token]",
        "jwt" => "[jwt]",
        "bearer" => "Bearer [token]",
        "url_query" => "[", // ?[query] or #[fragment]
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn every_personal_item_is_redacted_and_no_ordinary_string_is_altered() {
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let personal = corpus["personal"].as_array().unwrap();
    let ordinary = corpus["ordinary"].as_array().unwrap();
    assert!(personal.len() >= 200 && ordinary.len() >= 200);
    let mut missed = Vec::new();
    for item in personal {
        let (kind, secret, text) = (
            item["kind"].as_str().unwrap(),
            item["secret"].as_str().unwrap(),
            item["text"].as_str().unwrap(),
        );
        let out = redact(text);
        if out.contains(secret) || !out.contains(placeholder(kind)) {
            missed.push(format!("{kind}: {text:?} → {out:?}"));
        }
    }
    let altered: Vec<String> = ordinary
        .iter()
        .map(|t| t.as_str().unwrap())
        .filter(|t| redact(t) != *t)
        .map(|t| format!("{t:?} → {:?}", redact(t)))
        .collect();
    println!(
        "redaction corpus: {} of {} personal items redacted, {} of {} ordinary strings unchanged",
        personal.len() - missed.len(),
        personal.len(),
        ordinary.len() - altered.len(),
        ordinary.len()
    );
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
    assert!(altered.is_empty(), "altered:\n{}", altered.join("\n"));
}
