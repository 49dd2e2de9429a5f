//! AIQUM objects this case's jobs are creating, waiting for their job to name them: a `start` of
//! an AIQUM call registers how to remove what it creates (`${result:NAME}` in a path), every read
//! of the job may name it (`job_results`), and then the removal goes to the cleanup ledger. What
//! no job named by the end of the case is handed to the ledger as pending (read once more at
//! cleanup), so nothing is forgotten. The path is templated by `ledger::resolve_path`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ledger::{Created, Ledger};
use crate::target::AiqumCleanup;

/// Removals waiting for their job's `job_results`, per job key.
#[derive(Debug, Default)]
pub struct Pending(BTreeMap<String, AiqumCleanup>);

impl Pending {
    /// Job `key` creates an object that `how` removes once the job names it.
    pub fn expect(&mut self, key: &str, how: AiqumCleanup) {
        self.0.insert(key.to_string(), how);
    }

    /// A read of job `key` showed `job`: if its `job_results` name the object, its removal goes
    /// to the ledger.
    pub fn resolve(&mut self, key: &str, job: &Value, ledger: &Ledger) {
        let Some(how) = self.0.get(key) else {
            return;
        };
        let Some(path) = crate::ledger::resolve_path(&how.path, job) else {
            return;
        };
        ledger.record(Created::AiqumObject {
            method: how.method.clone(),
            path,
        });
        self.0.remove(key);
    }

    /// Hands every removal still waiting to the ledger as pending; a note per job, for people.
    pub fn hand_over(&mut self, ledger: &Ledger) -> Vec<String> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|(job, how)| {
                let note = format!(
                    "job {job} never named its object while the case ran: cleanup reads it once more"
                );
                ledger.record(Created::AiqumPending {
                    job,
                    method: how.method,
                    path: how.path,
                });
                note
            })
            .collect()
    }
}
