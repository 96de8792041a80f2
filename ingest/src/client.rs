//! How every Kafka client of the pipeline connects: the worker's consumer and dead-letter
//! producer, report publication and the generator take the same bootstrap servers and the same
//! librdkafka settings (`security.protocol`, `sasl.*`, `ssl.*` or any other), so a secured
//! cluster is configured once.

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;

use crate::error::IngestError;

/// Bootstrap servers and librdkafka settings, for all clients and per role.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaClient {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT]`.
    pub brokers: String,
    /// librdkafka settings for every client.
    pub settings: BTreeMap<String, String>,
    /// Settings for the consumer only, over `settings`.
    pub consumer: BTreeMap<String, String>,
    /// Settings for the producers only, over `settings`.
    pub producer: BTreeMap<String, String>,
}

/// Settings the delivery rule depends on (`ingest/README.md`): the worker sets them itself and
/// refuses a configuration that tries to.
const RESERVED: [&str; 5] = [
    "bootstrap.servers",
    "group.id",
    "group.instance.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
];

/// Whether a librdkafka setting holds a secret: its value is never logged or shown.
pub fn is_secret(name: &str) -> bool {
    ["password", "secret", "key.pem", "token"]
        .iter()
        .any(|part| name.contains(part))
}

impl KafkaClient {
    /// A client for `brokers` with librdkafka's defaults.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            ..Self::default()
        }
    }

    /// The consumer's configuration: `tuned` (the worker's own choices), then the user's
    /// settings, all set before the worker adds the reserved ones.
    pub(crate) fn consumer_config(
        &self,
        tuned: &[(&str, String)],
    ) -> Result<ClientConfig, IngestError> {
        self.config(tuned, &self.consumer)
    }

    /// A producer's configuration, built like the consumer's.
    pub(crate) fn producer_config(
        &self,
        tuned: &[(&str, String)],
    ) -> Result<ClientConfig, IngestError> {
        self.config(tuned, &self.producer)
    }

    fn config(
        &self,
        tuned: &[(&str, String)],
        role: &BTreeMap<String, String>,
    ) -> Result<ClientConfig, IngestError> {
        if self.brokers.trim().is_empty() {
            return Err(IngestError::Config(
                "no Kafka bootstrap servers given (kafka.brokers)".to_owned(),
            ));
        }
        let mut config = ClientConfig::new();
        for (name, value) in tuned {
            config.set(*name, value);
        }
        for (name, value) in self.settings.iter().chain(role) {
            if RESERVED.contains(&name.as_str()) {
                return Err(IngestError::Config(format!(
                    "the Kafka setting {name} is set by outcomes itself (kafka.brokers, \
                     ingest.group and ingest.instance_id hold the first three); remove it"
                )));
            }
            config.set(name, value);
        }
        config.set("bootstrap.servers", &self.brokers);
        Ok(config)
    }
}

impl std::fmt::Debug for KafkaClient {
    /// Secret settings show as `********`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = |settings: &BTreeMap<String, String>| {
            settings
                .iter()
                .map(|(name, value)| {
                    let shown = if is_secret(name) { "********" } else { value };
                    (name.clone(), shown.to_owned())
                })
                .collect::<BTreeMap<_, _>>()
        };
        f.debug_struct("KafkaClient")
            .field("brokers", &self.brokers)
            .field("settings", &masked(&self.settings))
            .field("consumer", &masked(&self.consumer))
            .field("producer", &masked(&self.producer))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_settings_override_tuned_ones_and_reserved_ones_are_refused() {
        let mut client = KafkaClient::new("127.0.0.1:9092");
        client.settings.insert("linger.ms".into(), "5".into());
        client
            .producer
            .insert("security.protocol".into(), "SASL_SSL".into());
        let config = client
            .producer_config(&[("linger.ms", "20".to_owned())])
            .unwrap();
        assert_eq!(config.get("linger.ms"), Some("5"));
        assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
        // The consumer does not see the producer's settings.
        let consumer = client.consumer_config(&[]).unwrap();
        assert_eq!(consumer.get("security.protocol"), None);

        client
            .consumer
            .insert("enable.auto.commit".into(), "true".into());
        let refused = client.consumer_config(&[]).unwrap_err().to_string();
        assert!(refused.contains("enable.auto.commit"), "{refused}");
    }

    #[test]
    fn secrets_are_masked_in_debug_output() {
        let mut client = KafkaClient::new("b:9092");
        client
            .settings
            .insert("sasl.password".into(), "hunter2".into());
        client
            .settings
            .insert("sasl.username".into(), "ingest".into());
        let shown = format!("{client:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ingest"), "{shown}");
    }
}
