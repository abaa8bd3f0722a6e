//! The scripted signal scenarios of `tests/signals/scenarios.json`, checked natively. The JS test
//! `tests/js/signals.test.mjs` checks the WASM build against the same expected results, so the
//! two builds agree. `UPDATE_SIGNAL_FIXTURES=1 cargo test --test signals_parity` rewrites them
//! (review the diff).

use autoplay_botpress::rows::{detect_in_rows, RowsInput};
use serde_json::Value;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/signals/scenarios.json");

#[test]
fn native_signals_match_the_scenarios() {
    let mut scenarios: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let update = std::env::var_os("UPDATE_SIGNAL_FIXTURES").is_some();
    for scenario in &mut scenarios {
        let input: RowsInput = serde_json::from_value(scenario.clone()).unwrap();
        let found = serde_json::to_value(detect_in_rows(&input, 0).unwrap()).unwrap();
        if update {
            scenario["expected"] = found;
        } else {
            assert_eq!(found, scenario["expected"], "{}", scenario["name"]);
        }
    }
    if update {
        std::fs::write(
            PATH,
            serde_json::to_string_pretty(&scenarios).unwrap() + "\n",
        )
        .unwrap();
    }
}
