//! Object storage: a lake at an `s3://bucket/prefix` URL, on AWS S3 or any S3-compatible
//! server that supports conditional writes.
//!
//! A Delta commit is the creation of the log file of the next version; two writers racing for
//! one version must not both succeed. On a local disk delta-rs creates the file exclusively. On
//! S3 the store puts it with `If-None-Match: *` (object_store's default conditional put), which
//! the server refuses (`412`) when the object exists: the loser re-reads the log and retries at
//! the next version, as on a disk. This is the "conditional put" way of delta-rs' S3 docs,
//! without the DynamoDB lock its `deltalake-aws` crate offers for stores that have none. A
//! server that ignores the header would let a racing commit overwrite another: only a single
//! writer is safe on such a server (docs/LAKE.md says so to operators).
//!
//! The connection comes from the usual `AWS_*` environment variables, read by object_store
//! (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_ALLOW_HTTP` for a plain-HTTP endpoint, ...), the same ones Polars, DuckDB and the
//! `deltalake` Python package read, so one environment serves every tool.

use std::sync::{Arc, Once};

use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake_core::{DeltaResult, DeltaTableError};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use url::Url;

/// The URL schemes served by [`S3`].
const SCHEMES: [&str; 2] = ["s3://", "s3a://"];

/// Makes delta-rs open `s3://` (and `s3a://`) tables; idempotent, and cheap after the first call.
pub(crate) fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        for scheme in SCHEMES {
            let Ok(url) = Url::parse(scheme) else {
                continue;
            };
            object_store_factories().insert(url.clone(), Arc::new(S3));
            logstore_factories().insert(url, Arc::new(S3));
        }
    });
}

/// The object store and log store of `s3://` tables.
struct S3;

impl ObjectStoreFactory for S3 {
    fn parse_url_opts(
        &self,
        url: &Url,
        _config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, Path)> {
        let store = AmazonS3Builder::from_env().with_url(url.as_str()).build()?;
        let prefix = Path::from_url_path(url.path())
            .map_err(|source| DeltaTableError::from(object_store::Error::InvalidPath { source }))?;
        Ok((Arc::new(store), prefix))
    }
}

impl LogStoreFactory for S3 {
    /// delta-rs' default log store: it commits with a put-if-absent, which the S3 store makes a
    /// conditional put.
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}
