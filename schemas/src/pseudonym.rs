//! Pseudonymization: people and employers become keyed hashes before anything is stored.
//!
//! `person_key` is the lowercase hex HMAC-SHA256, under the consortium-wide secret, of
//! `<consortium_id>:<participant_id>`; `employer_key` likewise of `<consortium_id>:<employer_id>`.
//! A keyed hash (rather than a plain one) keeps a person's key from being recomputed by anyone
//! who knows their id but not the secret. The secret comes from [`KEY_ENV`]; reading it is the
//! binary's job, so this crate stays free of I/O.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The environment variable that holds the pseudonymization secret (its UTF-8 bytes are the key).
pub const KEY_ENV: &str = "OUTCOMES_PSEUDONYM_KEY";

/// The fixed secret of demo mode. Data hashed with it is not protected: anyone can recompute it.
pub const DEMO_KEY: &str = "outcomes-demo-key-not-secret";

/// A person's pseudonym: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(String);

/// An employer's pseudonym: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmployerKey(String);

impl PersonKey {
    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EmployerKey {
    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for EmployerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No secret was given.
    #[error("the pseudonymization key is empty; set {KEY_ENV} to a long random secret")]
    Empty,
}

/// Hashes ids under one secret.
///
/// The keyed HMAC state is computed once and cloned per id, which saves the two key-block
/// compressions on every message.
#[derive(Clone)]
pub struct Pseudonymizer {
    keyed: Hmac<Sha256>,
    demo: bool,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer keyed with `secret`.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self::keyed(secret, false))
    }

    /// The demo pseudonymizer, keyed with the public [`DEMO_KEY`]; callers must announce it.
    pub fn demo() -> Self {
        Self::keyed(DEMO_KEY.as_bytes(), true)
    }

    fn keyed(secret: &[u8], demo: bool) -> Self {
        // HMAC takes keys of any length, so this cannot fail; an empty fallback keeps it total.
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        Self { keyed, demo }
    }

    /// Whether this is the demo key.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The pseudonym of a participant of a consortium.
    pub fn person_key(&self, consortium_id: &str, participant_id: &str) -> PersonKey {
        PersonKey(self.hash(consortium_id, participant_id))
    }

    /// The pseudonym of an employer as named by a consortium.
    pub fn employer_key(&self, consortium_id: &str, employer_id: &str) -> EmployerKey {
        EmployerKey(self.hash(consortium_id, employer_id))
    }

    fn hash(&self, consortium_id: &str, id: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(consortium_id.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        // Into a buffer rather than `hex::encode`, which builds the text a `char` at a time
        // (4 % of a Kafka worker's time). 32 bytes make exactly 64 ASCII digits, so neither
        // step below can fail.
        let mut digits = [0; 64];
        if hex::encode_to_slice(mac.finalize().into_bytes(), &mut digits).is_err() {
            return String::new();
        }
        String::from_utf8(digits.to_vec()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac_hex(pseudonymizer: &Pseudonymizer, data: &[u8]) -> String {
        let mut mac = pseudonymizer.keyed.clone();
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn matches_rfc_4231_test_case_2() {
        let pseudonymizer = Pseudonymizer::new(b"Jefe").unwrap();
        assert_eq!(
            hmac_hex(&pseudonymizer, b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// RFC 4231, test case 6: a 131-byte key, longer than a block, so it is hashed first.
    #[test]
    fn matches_rfc_4231_test_case_6_with_a_long_key() {
        let pseudonymizer = Pseudonymizer::new(&[0xaa; 131]).unwrap();
        assert_eq!(
            hmac_hex(
                &pseudonymizer,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// Expected values from Python's standard library, an independent HMAC implementation:
    /// `hmac.new(b"Jefe", b"north-shore:P-0001", hashlib.sha256).hexdigest()`.
    #[test]
    fn keys_hash_consortium_colon_id() {
        let pseudonymizer = Pseudonymizer::new(b"Jefe").unwrap();
        assert_eq!(
            pseudonymizer.person_key("north-shore", "P-0001").as_str(),
            "cd75a41b16802f351ab2da27bf107bd279193f036daa3b399c363144c07c7f4f"
        );
        assert_eq!(
            pseudonymizer
                .employer_key("north-shore", "ACME Corp")
                .as_str(),
            "04a1aba4b217330841d97baf5e63ec11b1a97581ca4c59ab44d593b2161ab2c6"
        );
        assert_ne!(
            pseudonymizer.person_key("north-shore", "P-0001"),
            pseudonymizer.person_key("south-bay", "P-0001")
        );
    }

    #[test]
    fn an_empty_key_is_refused_and_demo_is_flagged() {
        assert_eq!(Pseudonymizer::new(b"").unwrap_err(), KeyError::Empty);
        assert!(Pseudonymizer::demo().is_demo());
        assert!(!Pseudonymizer::new(b"k").unwrap().is_demo());
    }
}
