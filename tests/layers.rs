//! The core is layered as `src/lib.rs` documents: a module may use only modules of earlier
//! layers, or earlier ones of its own layer as listed here. This test keeps that true — and with
//! it, no import cycle — by reading each module's non-test code for `crate::<module>` paths. A
//! new module must be given its place here.

use std::collections::BTreeMap;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The layers, lowest first; within a layer, a module may use the ones listed before it.
const LAYERS: &[&[&str]] = &[
    &[
        "text", "decode", "order", "time", "redact", "ids", "lenient",
    ],
    &["signals"],
    &["action"],
    &["wire"],
    &["rows", "session_row", "schema"],
    &["context"],
    &["render"],
    &["wasm"],
];

/// Module names declared in lib.rs (`mod x;` / `pub mod x;`).
fn declared() -> Vec<String> {
    let lib = std::fs::read_to_string(format!("{SRC}/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            Some(rest.trim_end_matches(';').to_owned())
        })
        .collect()
}

/// The modules `module` refers to as `crate::<name>` outside comments and its test module.
fn uses(module: &str) -> Vec<String> {
    let source = std::fs::read_to_string(format!("{SRC}/{module}.rs")).unwrap();
    let code = source.split("#[cfg(test)]\nmod tests").next().unwrap();
    let mut found = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let name: String = line[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let order: Vec<String> = LAYERS
        .iter()
        .flat_map(|l| l.iter().map(|m| m.to_string()))
        .collect();
    let mut declared = declared();
    declared.sort();
    let mut listed = order.clone();
    listed.sort();
    assert_eq!(
        listed, declared,
        "every module of lib.rs must have its place in LAYERS"
    );
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut upward = Vec::new();
    for (i, module) in order.iter().enumerate() {
        for used in uses(module) {
            match position.get(used.as_str()) {
                Some(&j) if j < i => {}
                Some(_) => upward.push(format!("{module} uses {used}, a module above it")),
                // A root re-export (crate::InputError) would hide which layer it comes from.
                None => upward.push(format!("{module} uses crate::{used}: name its module")),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "the layering is broken:\n{}",
        upward.join("\n")
    );
}
