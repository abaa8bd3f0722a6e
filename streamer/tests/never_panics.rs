//! Random JSON, shaped like real inputs or not, never panics the streamer's state machines: the
//! rolling summarizer and the trigger watcher take any batch the core decodes.

use autoplay_botpress::ActionsPayload;
use autoplay_botpress_cli::summarizer::{Summarizer, SummarizerConfig};
use autoplay_botpress_cli::watch::{TriggerConfig, Watcher};
use proptest::prelude::*;

#[path = "../../tests/arb/mod.rs"]
mod arb;
use arb::arb_json;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_batches_never_panic_the_summarizer_or_the_watcher(value in arb_json()) {
        let Ok(body) = ActionsPayload::from_json(&value.to_string()) else { return Ok(()) };
        let mut watcher = Watcher::new(TriggerConfig::default());
        let _ = watcher.push(&body, 1_764_000_000_000);
        let _ = watcher.tick(1_764_000_100_000);
        let mut summarizer = Summarizer::new(SummarizerConfig { threshold: 2, ..Default::default() });
        if let Some(job) = summarizer.push(body, 0) {
            let _ = job.prompt();
            let _ = summarizer.fail(job);
        }
    }
}
