//! Test set-up shared by the Logs store's and the Logs API's tests.

use std::path::Path;

use super::{LogGroupClass, LogStore, LogStoreOptions, NewGroup};
use crate::clock::SharedClock;

/// A store in `dir` on `clock` (no background retention sweep) holding the empty group
/// `group`.
pub async fn store_with_group(dir: &Path, clock: SharedClock, group: &str) -> LogStore {
    let store = LogStore::open_with(
        dir,
        clock,
        LogStoreOptions {
            sweep_interval: None,
            ..LogStoreOptions::default()
        },
    )
    .expect("open the log store");
    store
        .create_group(NewGroup {
            name: group.into(),
            kms_key_id: None,
            class: LogGroupClass::Standard,
            tags: Default::default(),
        })
        .await
        .expect("create the group");
    store
}
