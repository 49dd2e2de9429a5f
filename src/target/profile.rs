//! The `--profile` file: several named live targets in TOML, and the settings one live target
//! takes (the same set the command-line flags give). Parsing only: no network, no secrets read
//! here (a target names the environment variable that holds its password, never the password).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::AiqumCall;

/// Settings of one live target.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Element endpoint (`https://MVIP/json-rpc/12.5`).
    #[serde(default)]
    pub element: Option<String>,
    /// AIQUM API base (`https://host/api`).
    #[serde(default)]
    pub aiqum: Option<String>,
    /// Basic-auth user (default `admin`).
    #[serde(default)]
    pub user: Option<String>,
    /// Environment variable holding the password (else an interactive prompt on a terminal).
    #[serde(default)]
    pub password_env: Option<String>,
    /// PEM bundle to trust instead of the system roots.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate.
    #[serde(default)]
    pub insecure: bool,
    /// Firmware label for snapshots (else the fingerprinted version).
    #[serde(default)]
    pub label: Option<String>,
    /// Minimum interval between polls of one job, in milliseconds (default 500).
    #[serde(default)]
    pub min_interval_ms: Option<u64>,
    /// Cap of the poll backoff, in milliseconds (default 10000).
    #[serde(default)]
    pub max_interval_ms: Option<u64>,
    /// Give up polling after this many seconds (default 600).
    #[serde(default)]
    pub deadline_s: Option<u64>,
    /// Whether cases that create objects may run.
    #[serde(default)]
    pub allow_mutations: bool,
    /// Element account for scratch volumes (else a temporary account is created and removed).
    #[serde(default)]
    pub element_account: Option<i64>,
    /// The AIQUM asynchronous call used by `work: call`, and how to undo it.
    #[serde(default)]
    pub aiqum_call: Option<AiqumCall>,
    /// An AIQUM asynchronous call the target accepts and whose job then fails (e.g. a LUN
    /// create larger than any aggregate), used by `work: failing-call`, and how to undo it.
    #[serde(default)]
    pub aiqum_failing_call: Option<AiqumCall>,
    /// Most cases run at once on this target (default 2).
    #[serde(default)]
    pub concurrency: Option<usize>,
}

/// A profile file: `[targets.NAME]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Targets by name, in name order.
    pub targets: BTreeMap<String, TargetConfig>,
}

/// Errors reading a profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("read profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys (the message carries line and column).
    #[error("parse profile {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, with line and column.
        message: String,
    },
    /// No target in the file.
    #[error("use profile {0}: it defines no [targets.NAME] table")]
    Empty(PathBuf),
    /// A target name that cannot be used in trial names.
    #[error("use target name {0:?}: use letters, digits, '-', '_' and '.' only")]
    BadName(String),
}

/// Reads and parses a profile file.
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses profile text (`path` only names the file in errors). Relative `ca_cert` paths are
/// resolved against the profile's directory.
pub fn parse(text: &str, path: &Path) -> Result<Profile, ProfileError> {
    let mut profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    if profile.targets.is_empty() {
        return Err(ProfileError::Empty(path.to_path_buf()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    for (name, t) in profile.targets.iter_mut() {
        if !valid_name(name) {
            return Err(ProfileError::BadName(name.clone()));
        }
        if let Some(ca) = &t.ca_cert
            && ca.is_relative()
        {
            t.ca_cert = Some(dir.join(ca));
        }
    }
    Ok(profile)
}

/// Whether a target name is usable in trial names (`NAME/case`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_target() {
        let text = r#"
[targets.lab]
element = "https://10.0.0.1/json-rpc/12.5"
aiqum = "https://um.lab/api"
user = "admin"
password_env = "LAB_PW"
ca_cert = "ca.pem"
label = "12.5.0.897"
min_interval_ms = 250
deadline_s = 60
allow_mutations = true
element_account = 7
concurrency = 3
[targets.lab.aiqum_call]
method = "POST"
path = "/storage-provider/luns"
body = { name = "jc-scratch", size = 1048576 }
[targets.lab.aiqum_call.cleanup]
method = "DELETE"
path = "/storage-provider/luns/${result:lunKey}"
"#;
        let p = parse(text, Path::new("/etc/jc/profile.toml")).expect("parses");
        let t = &p.targets["lab"];
        assert_eq!(t.ca_cert.as_deref(), Some(Path::new("/etc/jc/ca.pem")));
        assert_eq!(t.concurrency, Some(3));
        let call = t.aiqum_call.as_ref().expect("call");
        assert_eq!(call.body.as_ref().expect("body")["size"], 1048576);
        assert_eq!(call.cleanup.as_ref().expect("cleanup").method, "DELETE");
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = parse("[targets.a]\nelemnt = 1\n", Path::new("p.toml")).expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }

    #[test]
    fn rejects_bad_names_and_empty_files() {
        assert!(matches!(
            parse("[targets.\"a/b\"]\n", Path::new("p")),
            Err(ProfileError::BadName(_))
        ));
        assert!(matches!(
            parse("targets = {}\n", Path::new("p")),
            Err(ProfileError::Empty(_))
        ));
    }
}
