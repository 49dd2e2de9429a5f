//! The per-run ledger of objects created on a target: what was created ([`Created`]), recorded
//! the moment the answer that created it arrives, and forgotten once removed. A leaf shared by
//! `target` (which carries one ledger per target), `exec` (which records) and `cleanup` (which
//! removes): it sends nothing and imports none of them. Also names an AIQUM object from its
//! creating job ([`resolve_path`]), through `case::template`.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::case::template::{self, Vars};

/// Something created on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// An AIQUM object whose creating job never named it while the case ran (its end could not
    /// be read, or the case stopped first): at cleanup the job is read once more; if its
    /// `job_results` name the object it is removed, else it is listed as left behind.
    AiqumPending {
        /// The creating job's key.
        job: String,
        /// HTTP method of the cleanup call.
        method: String,
        /// Cleanup path with `${result:NAME}` still in it.
        path: String,
    },
}

impl std::fmt::Display for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Created::ElementVolume { id } => write!(f, "Element volume {id}"),
            Created::ElementAccount { id } => write!(f, "Element account {id}"),
            Created::AiqumObject { method, path } => write!(f, "AIQUM object ({method} {path})"),
            Created::AiqumPending { job, method, path } => {
                write!(f, "AIQUM object of job {job} ({method} {path})")
            }
        }
    }
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

/// The variable prefix of a job result in a cleanup path (`${result:lunKey}`).
const RESULT: &str = "result:";

/// `path` with every `${result:NAME}` replaced by the `job_results` value NAME of `job` (`*`: the
/// value of the first name in sorted order); `None` while the job names no such value. Other
/// `${...}` references are not the job's to fill and stay as they are.
pub fn resolve_path(path: &str, job: &Value) -> Option<String> {
    let results = job.get("job_results")?.as_array()?;
    let mut vars: Vars = results
        .iter()
        .filter_map(|r| {
            let name = r.get("name")?.as_str()?;
            let value = r.get("value")?.as_str()?;
            Some((format!("{RESULT}{name}"), Value::from(value)))
        })
        .collect();
    if let Some(first) = vars.values().next().cloned() {
        vars.insert(format!("{RESULT}*"), first);
    }
    for name in template::names_in(path) {
        if !name.starts_with(RESULT) {
            vars.insert(name.clone(), Value::String(format!("${{{name}}}")));
        }
    }
    // Every variable is a string, so the expansion is one.
    template::expand_str(path, &vars)
        .ok()?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(results: Value) -> Value {
        json!({"key": "j1", "job_results": results})
    }

    #[test]
    fn result_names_fill_the_path() {
        let j = job(json!([{"name": "lunKey", "value": "a:b"}, {"name": "other", "value": "x"}]));
        assert_eq!(
            resolve_path("/storage-provider/luns/${result:lunKey}", &j).as_deref(),
            Some("/storage-provider/luns/a:b")
        );
        assert_eq!(
            resolve_path("/x/${result:other}/${result:lunKey}", &j).as_deref(),
            Some("/x/x/a:b")
        );
        assert_eq!(
            resolve_path("/x/${result:*}", &j).as_deref(),
            Some("/x/a:b")
        );
        assert_eq!(resolve_path("/plain", &j).as_deref(), Some("/plain"));
    }

    #[test]
    fn a_missing_result_leaves_the_path_unresolved() {
        let j = job(json!([{"name": "lunKey", "value": "a:b"}]));
        assert_eq!(resolve_path("/x/${result:volumeKey}", &j), None);
        assert_eq!(resolve_path("/x/${result:*}", &job(json!([]))), None);
        assert_eq!(resolve_path("/x", &json!({"key": "j1"})), None);
        // Non-string values name nothing.
        assert_eq!(
            resolve_path("/x/${result:n}", &job(json!([{"name": "n", "value": 3}]))),
            None
        );
    }

    #[test]
    fn other_references_are_kept_as_they_are() {
        let j = job(json!([{"name": "lunKey", "value": "k"}]));
        assert_eq!(
            resolve_path("/x/${h}/${result:lunKey}", &j).as_deref(),
            Some("/x/${h}/k")
        );
        assert_eq!(
            resolve_path("/x/${result:lunKey", &j).as_deref(),
            Some("/x/${result:lunKey")
        );
    }
}
