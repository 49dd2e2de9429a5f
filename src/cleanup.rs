//! The ledger of objects a run created on a target, and their removal. Every object is recorded
//! the moment the answer that created it arrives, and removed by [`clean`] whatever happened
//! (case failure, deadline, Ctrl-C). (BODY TO BE WRITTEN by the runner work; the types below are
//! the agreed interface with `exec`.)

use std::sync::Mutex;

use serde::Serialize;

/// Something created on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Created {
    /// An Element volume (source or clone): DeleteVolume + PurgeDeletedVolume.
    ElementVolume {
        /// volumeID
        id: i64,
    },
    /// An Element account created for scratch volumes: RemoveAccount (after its volumes).
    ElementAccount {
        /// accountID
        id: i64,
    },
    /// An AIQUM object: the cleanup call, already resolved (`DELETE /storage-provider/luns/KEY`).
    AiqumObject {
        /// HTTP method.
        method: String,
        /// Path under the API base.
        path: String,
    },
}

/// Objects created and not yet removed, per target.
#[derive(Debug, Default)]
pub struct Ledger {
    items: Mutex<Vec<Created>>,
}

impl Ledger {
    /// Records a created object.
    pub fn record(&self, c: Created) {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).push(c);
    }
    /// Marks an object as removed (a case removed it itself).
    pub fn forget(&self, c: &Created) {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|x| x != c);
    }
    /// Objects still outstanding.
    pub fn outstanding(&self) -> Vec<Created> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
