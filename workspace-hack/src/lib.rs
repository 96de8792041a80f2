//! Deliberately empty: this crate exists for its `Cargo.toml`, which asks for the features the
//! test build turns on, so that every build of the workspace resolves the same dependency
//! artifacts (see the comment there).
