//! Producing to Kafka: the generator's `--brokers` mode and report publication use this, so
//! that only this crate knows the Kafka client.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::client::KafkaClient;
use crate::error::IngestError;

/// An idempotent producer.
#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// Connects as `client` says.
    pub fn new(client: &KafkaClient) -> Result<Self, IngestError> {
        let producer = client
            .producer_config(&[
                ("enable.idempotence", "true".to_owned()),
                ("linger.ms", "20".to_owned()),
                // Big enough for a too-large message to reach the broker (and be rejected there
                // or by ingest), so that producers see the contract's limit, not the client's.
                ("message.max.bytes", "4194304".to_owned()),
                ("message.timeout.ms", "120000".to_owned()),
            ])?
            .create()
            .map_err(|source| IngestError::Kafka {
                context: format!("creating a producer for {}", client.brokers),
                source,
            })?;
        Ok(Self { producer })
    }

    /// Sends one record and waits until the broker has it.
    pub async fn send(&self, topic: &str, key: &str, value: &[u8]) -> Result<(), IngestError> {
        self.producer
            .send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(120),
            )
            .await
            .map(|_| ())
            .map_err(|(source, _)| IngestError::Kafka {
                context: format!("delivering to {topic}"),
                source,
            })
    }

    /// Sends many records, keeping up to `window` in flight, and waits for all.
    pub async fn send_all<'a>(
        &self,
        records: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>,
        window: usize,
    ) -> Result<u64, IngestError> {
        let mut in_flight = std::collections::VecDeque::new();
        let mut sent = 0u64;
        for (topic, key, value) in records {
            if in_flight.len() >= window.max(1)
                && let Some(oldest) = in_flight.pop_front()
            {
                finish(oldest).await?;
            }
            let delivery = self
                .producer
                .send_result(FutureRecord::to(topic).key(key).payload(value));
            match delivery {
                Ok(future) => in_flight.push_back((topic.to_owned(), future)),
                Err((source, _)) => {
                    return Err(IngestError::Kafka {
                        context: format!("queueing a record for {topic}"),
                        source,
                    });
                }
            }
            sent += 1;
        }
        for pending in in_flight {
            finish(pending).await?;
        }
        Ok(sent)
    }
}

async fn finish(
    (topic, future): (String, rdkafka::producer::DeliveryFuture),
) -> Result<(), IngestError> {
    match future.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((source, _))) => Err(IngestError::Kafka {
            context: format!("delivering to {topic}"),
            source,
        }),
        Err(_) => Err(IngestError::Config(format!(
            "the producer was dropped before delivering to {topic}"
        ))),
    }
}
