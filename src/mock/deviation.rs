//! Named deviations: each makes the mock break one rule of CONTRACT.md in one named way. The
//! [`Deviation`] enum is the closed set (a `deviates(Deviation::X)` call cannot name one that does
//! not exist), and the `deviations!` list below is the single source of truth for each one's name,
//! rules and description (`jobconform deviations`, the README table and the deviation matrix test
//! all read [`ALL`]). The behaviour lives where the rule is served (`element/`, `aiqum/`); this
//! file only names them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One deviation's registry entry: its name, the rule(s) it breaks, and what it does (what
/// `jobconform deviations` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The deviation.
    #[serde(skip)]
    pub deviation: Deviation,
    /// CLI name (`--deviation NAME`).
    pub name: &'static str,
    /// The rule IDs it breaks (usually exactly one).
    pub rules: &'static [&'static str],
    /// What the mock does differently.
    pub does: &'static str,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A name that is not a deviation's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown deviation {0:?} (see `jobconform deviations`)")]
pub struct UnknownDeviation(pub String);

/// Looks a deviation's entry up by name.
pub fn find(name: &str) -> Option<&'static Entry> {
    ALL.iter().find(|d| d.name == name)
}

impl FromStr for Deviation {
    type Err = UnknownDeviation;
    fn from_str(s: &str) -> Result<Self, UnknownDeviation> {
        find(s)
            .map(|e| e.deviation)
            .ok_or_else(|| UnknownDeviation(s.to_string()))
    }
}

impl FromStr for &'static Entry {
    type Err = UnknownDeviation;
    fn from_str(s: &str) -> Result<Self, UnknownDeviation> {
        find(s).ok_or_else(|| UnknownDeviation(s.to_string()))
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Deviation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Deviation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Declares [`Deviation`] (one variant per line, documented by what it does), its exhaustive
/// [`Deviation::entry`], and [`ALL`].
macro_rules! deviations {
    ($($v:ident = $name:literal => [$($rule:literal),+] : $does:literal;)+) => {
        /// A named deviation of the mock (`--deviation NAME`, kebab-case).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Deviation {
            $(#[doc = $does] $v,)+
        }

        impl Deviation {
            /// Every deviation, in registry order.
            pub const ALL: &'static [Deviation] = &[$(Deviation::$v),+];

            /// Its registry entry: name, rules, description.
            pub const fn entry(self) -> Entry {
                match self {
                    $(Deviation::$v => Entry {
                        deviation: Deviation::$v,
                        name: $name,
                        rules: &[$($rule),+],
                        does: $does,
                    },)+
                }
            }

            /// The CLI name (`purge-despite-keep`).
            pub const fn name(self) -> &'static str {
                self.entry().name
            }

            /// The rule IDs it breaks.
            pub const fn rules(self) -> &'static [&'static str] {
                self.entry().rules
            }
        }

        /// Every deviation's entry, in registry order.
        pub const ALL: &[Entry] = &[$(Deviation::$v.entry()),+];
    };
}

deviations! {
    // Element transport
    IdNotEchoed = "id-not-echoed" => ["EL-RPC-ENVELOPE"]: "answers with an id different from the request's";
    ErrorCodeString = "error-code-string" => ["EL-RPC-ERROR-SHAPE"]: "method errors carry code as a string (\"500\")";
    ErrorsAsHttp500 = "errors-as-http-500" => ["EL-RPC-ERROR-HTTP"]: "method errors arrive with HTTP 500 instead of 200";
    ElementNoAuth = "element-no-auth" => ["EL-RPC-AUTH"]: "Element requests without or with wrong credentials are served";
    UnknownMethodWrongName = "unknown-method-wrong-name" => ["EL-RPC-UNKNOWN-METHOD"]: "unknown methods get an error named xInvalidAPIMethod";
    RejectUnknownParams = "reject-unknown-params" => ["EL-RPC-UNUSED-PARAMS"]: "an unrecognised parameter fails the call with xInvalidParameter";
    GetapiMissingUrlVersion = "getapi-missing-url-version" => ["EL-VER-GETAPI"]: "GetAPI's supportedVersions leaves out the URL's version";
    ClusterVersionNumber = "cluster-version-number" => ["EL-VER-CLUSTER"]: "GetClusterVersionInfo's clusterVersion is a JSON number";
    // GetAsyncResult shape
    GarMissingHandleResult = "gar-missing-handle-result" => ["EL-GAR-PARAMS"]: "GetAsyncResult without asyncHandle answers with an empty result object";
    StatusCompleted = "status-completed" => ["EL-GAR-STATUS"]: "a finished handle reports status \"completed\" instead of \"complete\"";
    RunningWithResult = "running-with-result" => ["EL-GAR-RUNNING"]: "a running handle carries an empty result object";
    RunningWithoutDetails = "running-without-details" => ["EL-GAR-DETAILS"]: "a running handle has no details member";
    DetailsWhenComplete = "details-when-complete" => ["EL-GAR-COMPLETE"]: "a complete handle still carries details";
    BothResultAndError = "both-result-and-error" => ["EL-GAR-COMPLETE"]: "a failed operation carries both result and error";
    AsyncErrorWithoutName = "async-error-without-name" => ["EL-GAR-ASYNC-ERROR"]: "a nested async error has no name member";
    TimesWithoutZ = "times-without-z" => ["EL-GAR-TIMES"]: "GetAsyncResult's createTime and lastUpdateTime lack the trailing Z";
    LastUpdateBackwards = "last-update-backwards" => ["EL-GAR-STABLE"]: "lastUpdateTime of a complete handle moves back 1 s on each later poll (never before createTime)";
    UnknownHandleWrongCode = "unknown-handle-wrong-code" => ["EL-GAR-UNKNOWN"]: "an unknown handle gets code 404 and name xNotFound";
    // keepResult and handles
    PurgeRunning = "purge-running" => ["EL-KEEP-RUNNING"]: "querying a running handle without keepResult invalidates it";
    PurgeDespiteKeep = "purge-despite-keep" => ["EL-KEEP-TRUE"]: "keepResult: true is ignored on complete handles (they are purged)";
    KeepAbsentIgnored = "keep-absent-ignored" => ["EL-KEEP-DEFAULT"]: "a complete handle fetched without keepResult is not purged";
    KeepFalseIgnored = "keep-false-ignored" => ["EL-KEEP-FALSE"]: "a complete handle fetched with keepResult: false is not purged";
    PurgeOnFailedCall = "purge-on-failed-call" => ["EL-KEEP-FAILED-CALL"]: "a GetAsyncResult call that fails on a bad parameter (keepResult of the wrong type) still purges the integer handle it names";
    RacyPurge = "racy-purge" => ["EL-KEEP-ONCE"]: "concurrent fetches of one complete handle all get the result (check-then-purge race: the purge waits 50 ms of real time for fetches in flight)";
    ReuseHandles = "reuse-handles" => ["EL-HANDLE-UNIQUE"]: "a new asynchronous call reuses the newest handle while it is still queryable";
    // ListAsyncResults and CloneVolume
    ListCompletedAsString = "list-completed-as-string" => ["EL-LIST-SHAPE"]: "ListAsyncResults entries carry completed as a string";
    ListIgnoresFilter = "list-ignores-filter" => ["EL-LIST-FILTER"]: "asyncResultTypes is ignored: every entry comes back";
    ListPurges = "list-purges" => ["EL-LIST-NO-PURGE"]: "ListAsyncResults invalidates the complete handles it lists";
    ListDataDiffers = "list-data-differs" => ["EL-LIST-AGREES"]: "a successful entry's data differs from GetAsyncResult's result (an extra listedOnly member)";
    ListKeepsPurged = "list-keeps-purged" => ["EL-LIST-PURGED"]: "invalidated handles stay listed";
    CloneResultWrongId = "clone-result-wrong-id" => ["EL-CLONE-START"]: "a finished clone's result names a different cloneID (the real one + 1000)";
    // AIQUM
    AiqumNoAuth = "aiqum-no-auth" => ["UM-AUTH"]: "AIQUM requests without or with wrong credentials are served";
    JobsTextPlain = "jobs-text-plain" => ["UM-JSON"]: "job responses are sent as text/plain";
    ErrorsHtml = "errors-html" => ["UM-ERROR-SHAPE"]: "4xx/5xx answers are HTML pages";
    Accept200 = "accept-200" => ["UM-ACCEPT-202"]: "asynchronous calls answer 200 instead of 202";
    AcceptNoKey = "accept-no-key" => ["UM-ACCEPT-202"]: "the 202 body has no job.key";
    AcceptLinkWrongKey = "accept-link-wrong-key" => ["UM-ACCEPT-LINK"]: "the 202 body's job._links.self.href names another key";
    Accept404Window = "accept-404-window" => ["UM-ACCEPT-READABLE"]: "a new job answers 404 for its first 500 ms (target time)";
    JobWithoutLinks = "job-without-links" => ["UM-JOB-SHAPE"]: "job objects have no _links";
    StatusSuccess = "status-success" => ["UM-JOB-STATUS"]: "a job that finished normally has status \"success\" (literal dialect: state \"SUCCESS\"), outside the four values";
    CompleteBeforeSubmit = "complete-before-submit" => ["UM-JOB-TIMES"]: "complete_time is earlier than submit_time";
    JobNeverEnds = "job-never-ends" => ["UM-TERMINAL"]: "jobs started by asynchronous calls never reach a terminal state";
    TerminalFlaps = "terminal-flaps" => ["UM-TERMINAL-ABSORBING"]: "a terminal job's status changes on later reads (every second read of it flips normal and warning)";
    StateBackwards = "state-backwards" => ["UM-STATE-FORWARD"]: "a running job's state goes back to queued (the second half of each running step; split dialect)";
    WarningTerminal = "warning-terminal" => ["UM-WARNING"]: "a job that reaches WARNING mid-run is served as finished with WARNING from then on";
    FailedJob500 = "failed-job-500" => ["UM-FAILED-IS-200"]: "a failed job is read with HTTP 500 (the body is still the job, plus an error object)";
    NoJobResults = "no-job-results" => ["UM-RESULTS"]: "finished jobs have no job_results";
    StandardPollBlocks = "standard-poll-blocks" => ["UM-POLL-STANDARD"]: "a plain GET of a running job blocks until the job changes";
    LongPollEarly = "long-poll-early" => ["UM-POLL-LONG"]: "a long poll returns a running job after half the requested timeout";
    LongPollOverstays = "long-poll-overstays" => ["UM-POLL-LONG"]: "a long poll on a job that turns terminal answers only at the timeout";
    UnknownKey500 = "unknown-key-500" => ["UM-KEY-UNKNOWN"]: "an unknown job key gets 500 instead of 404";
    KeysNeedEscaping = "keys-need-escaping" => ["UM-KEY-OPAQUE"]: "keys with ':' are found only when the ':' is percent-encoded";
    ForgetFinished = "forget-finished" => ["UM-KEY-RETAINED"]: "finished jobs are forgotten 1 s (target time) after they end";
    JobsWritable = "jobs-writable" => ["UM-JOBS-READONLY"]: "DELETE on a job answers 204 and removes it";
    ListNumRecordsWrong = "list-num-records-wrong" => ["UM-LIST-SHAPE"]: "num_records is one more than the records returned";
    ListOldestFirst = "list-oldest-first" => ["UM-LIST-ORDER"]: "the job list comes oldest first";
    ListDefaultAll = "list-default-all" => ["UM-LIST-DEFAULT"]: "without max_records, every job comes back";
    PagesOverlap = "pages-overlap" => ["UM-LIST-PAGES"]: "_links.next repeats the last record of the page";
    ListIgnoresFilters = "list-ignores-filters" => ["UM-LIST-FILTER"]: "key, state and status filters are ignored";
}

/// The README's deviation table (Markdown), one row per deviation with the rules it breaks, each
/// rule's level, and the exit code a run against the deviating mock gives (1 for a MUST rule; 0,
/// or 1 under `--strict`, for a SHOULD rule). Generated, so the README cannot drift: the deviation
/// matrix test compares it with the README.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| deviation | breaks | level | exit (`--strict`) | what the mock does |\n|---|---|---|---|---|\n",
    );
    for d in ALL {
        let levels: Vec<crate::contract::Level> = d
            .rules
            .iter()
            .filter_map(|r| crate::contract::rule(r).map(|r| r.level))
            .collect();
        let must = levels.contains(&crate::contract::Level::Must);
        let level = if must { "MUST" } else { "SHOULD" };
        let exit = if must { "1 (1)" } else { "0 (1)" };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            d.name,
            d.rules
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", "),
            level,
            exit,
            d.does.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deviation_has_one_entry_and_round_trips_by_name() {
        assert_eq!(ALL.len(), Deviation::ALL.len());
        for (e, d) in ALL.iter().zip(Deviation::ALL) {
            assert_eq!(e.deviation, *d);
            assert_eq!(d.name().parse::<Deviation>().ok(), Some(*d));
            assert_eq!(find(d.name()).map(|e| e.deviation), Some(*d));
            assert_eq!(serde_json::to_value(d).ok(), Some(d.name().into()));
            assert!(!d.rules().is_empty(), "{d}");
        }
        let names: std::collections::BTreeSet<&str> = ALL.iter().map(|e| e.name).collect();
        assert_eq!(names.len(), ALL.len(), "a name twice");
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_listing_hint() {
        let e = "purge-everything"
            .parse::<Deviation>()
            .expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown deviation \"purge-everything\" (see `jobconform deviations`)"
        );
        let listed = serde_json::to_value(find("racy-purge")).ok();
        assert_eq!(
            listed.as_ref().and_then(|v| v.get("name")),
            Some(&"racy-purge".into())
        );
        assert!(listed.is_some_and(|v| v.get("deviation").is_none()));
    }
}
