//! Empty on purpose. Being a default workspace member that depends on `autoplay-botpress-cli`
//! with its `demo` feature, it makes every cargo command run at the repository root (`cargo run
//! -- demo`, `cargo test`, `cargo build`) build the binary with the demo, while `cargo install
//! --path streamer` and `cargo build -p autoplay-botpress-cli` build it without.
