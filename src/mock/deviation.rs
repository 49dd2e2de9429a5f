//! Named deviations: each makes the mock break one rule of CONTRACT.md in one named way. This list
//! is the single source of truth (`jobconform deviations`, the README table and the deviation
//! matrix test all read it). The behaviour lives where the rule is served (`element.rs`,
//! `aiqum.rs`); this file only names them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One deviation: its name, the rule(s) it breaks, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deviation {
    /// CLI name (`--deviation NAME`).
    pub name: &'static str,
    /// The rule IDs it breaks (usually exactly one).
    pub rules: &'static [&'static str],
    /// What the mock does differently.
    pub does: &'static str,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Looks a deviation up by name.
pub fn find(name: &str) -> Option<&'static Deviation> {
    ALL.iter().find(|d| d.name == name)
}

impl FromStr for &'static Deviation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        find(s).ok_or_else(|| format!("unknown deviation {s:?} (see `jobconform deviations`)"))
    }
}

macro_rules! deviations {
    ($($name:literal => [$($rule:literal),+] : $does:literal;)+) => {
        /// Every deviation the mock knows.
        pub const ALL: &[Deviation] = &[$(Deviation { name: $name, rules: &[$($rule),+], does: $does }),+];
    };
}

deviations! {
    // Element transport
    "id-not-echoed" => ["EL-RPC-ENVELOPE"]: "answers with an id different from the request's";
    "error-code-string" => ["EL-RPC-ERROR-SHAPE"]: "method errors carry code as a string (\"500\")";
    "errors-as-http-500" => ["EL-RPC-ERROR-HTTP"]: "method errors arrive with HTTP 500 instead of 200";
    "element-no-auth" => ["EL-RPC-AUTH"]: "Element requests without or with wrong credentials are served";
    "unknown-method-wrong-name" => ["EL-RPC-UNKNOWN-METHOD"]: "unknown methods get an error named xInvalidAPIMethod";
    "reject-unknown-params" => ["EL-RPC-UNUSED-PARAMS"]: "an unrecognised parameter fails the call with xInvalidParameter";
    "getapi-missing-url-version" => ["EL-VER-GETAPI"]: "GetAPI's supportedVersions leaves out the URL's version";
    "cluster-version-number" => ["EL-VER-CLUSTER"]: "GetClusterVersionInfo's clusterVersion is a JSON number";
    // GetAsyncResult shape
    "gar-missing-handle-result" => ["EL-GAR-PARAMS"]: "GetAsyncResult without asyncHandle answers with an empty result object";
    "status-completed" => ["EL-GAR-STATUS"]: "a finished handle reports status \"completed\" instead of \"complete\"";
    "running-with-result" => ["EL-GAR-RUNNING"]: "a running handle carries an empty result object";
    "running-without-details" => ["EL-GAR-DETAILS"]: "a running handle has no details member";
    "details-when-complete" => ["EL-GAR-COMPLETE"]: "a complete handle still carries details";
    "both-result-and-error" => ["EL-GAR-COMPLETE"]: "a failed operation carries both result and error";
    "async-error-without-name" => ["EL-GAR-ASYNC-ERROR"]: "a nested async error has no name member";
    "times-without-z" => ["EL-GAR-TIMES"]: "GetAsyncResult's createTime and lastUpdateTime lack the trailing Z";
    "last-update-backwards" => ["EL-GAR-STABLE"]: "lastUpdateTime of a complete handle moves back 1 s on each later poll (never before createTime)";
    "unknown-handle-wrong-code" => ["EL-GAR-UNKNOWN"]: "an unknown handle gets code 404 and name xNotFound";
    // keepResult and handles
    "purge-running" => ["EL-KEEP-RUNNING"]: "querying a running handle without keepResult invalidates it";
    "purge-despite-keep" => ["EL-KEEP-TRUE"]: "keepResult: true is ignored on complete handles (they are purged)";
    "keep-absent-ignored" => ["EL-KEEP-DEFAULT"]: "a complete handle fetched without keepResult is not purged";
    "keep-false-ignored" => ["EL-KEEP-FALSE"]: "a complete handle fetched with keepResult: false is not purged";
    "purge-on-failed-call" => ["EL-KEEP-FAILED-CALL"]: "a GetAsyncResult call that fails on a bad parameter (keepResult of the wrong type) still purges the integer handle it names";
    "racy-purge" => ["EL-KEEP-ONCE"]: "concurrent fetches of one complete handle all get the result (check-then-purge race: the purge waits 50 ms of real time for fetches in flight)";
    "reuse-handles" => ["EL-HANDLE-UNIQUE"]: "a new asynchronous call reuses the newest handle while it is still queryable";
    // ListAsyncResults and CloneVolume
    "list-completed-as-string" => ["EL-LIST-SHAPE"]: "ListAsyncResults entries carry completed as a string";
    "list-ignores-filter" => ["EL-LIST-FILTER"]: "asyncResultTypes is ignored: every entry comes back";
    "list-purges" => ["EL-LIST-NO-PURGE"]: "ListAsyncResults invalidates the complete handles it lists";
    "list-data-differs" => ["EL-LIST-AGREES"]: "a successful entry's data differs from GetAsyncResult's result (an extra listedOnly member)";
    "list-keeps-purged" => ["EL-LIST-PURGED"]: "invalidated handles stay listed";
    "clone-result-wrong-id" => ["EL-CLONE-START"]: "a finished clone's result names a different cloneID (the real one + 1000)";
    // AIQUM
    "aiqum-no-auth" => ["UM-AUTH"]: "AIQUM requests without or with wrong credentials are served";
    "jobs-text-plain" => ["UM-JSON"]: "job responses are sent as text/plain";
    "errors-html" => ["UM-ERROR-SHAPE"]: "4xx/5xx answers are HTML pages";
    "accept-200" => ["UM-ACCEPT-202"]: "asynchronous calls answer 200 instead of 202";
    "accept-no-key" => ["UM-ACCEPT-202"]: "the 202 body has no job.key";
    "accept-link-wrong-key" => ["UM-ACCEPT-LINK"]: "the 202 body's job._links.self.href names another key";
    "accept-404-window" => ["UM-ACCEPT-READABLE"]: "a new job answers 404 for its first 500 ms (target time)";
    "job-without-links" => ["UM-JOB-SHAPE"]: "job objects have no _links";
    "status-success" => ["UM-JOB-STATUS"]: "a job that finished normally has status \"success\" (literal dialect: state \"SUCCESS\"), outside the four values";
    "complete-before-submit" => ["UM-JOB-TIMES"]: "complete_time is earlier than submit_time";
    "job-never-ends" => ["UM-TERMINAL"]: "jobs started by asynchronous calls never reach a terminal state";
    "terminal-flaps" => ["UM-TERMINAL-ABSORBING"]: "a terminal job's status changes on later reads (every second read of it flips normal and warning)";
    "state-backwards" => ["UM-STATE-FORWARD"]: "a running job's state goes back to queued (the second half of each running step; split dialect)";
    "warning-terminal" => ["UM-WARNING"]: "a job that reaches WARNING mid-run is served as finished with WARNING from then on";
    "failed-job-500" => ["UM-FAILED-IS-200"]: "a failed job is read with HTTP 500 (the body is still the job, plus an error object)";
    "no-job-results" => ["UM-RESULTS"]: "finished jobs have no job_results";
    "standard-poll-blocks" => ["UM-POLL-STANDARD"]: "a plain GET of a running job blocks until the job changes";
    "long-poll-early" => ["UM-POLL-LONG"]: "a long poll returns a running job after half the requested timeout";
    "long-poll-overstays" => ["UM-POLL-LONG"]: "a long poll on a job that turns terminal answers only at the timeout";
    "unknown-key-500" => ["UM-KEY-UNKNOWN"]: "an unknown job key gets 500 instead of 404";
    "keys-need-escaping" => ["UM-KEY-OPAQUE"]: "keys with ':' are found only when the ':' is percent-encoded";
    "forget-finished" => ["UM-KEY-RETAINED"]: "finished jobs are forgotten 1 s (target time) after they end";
    "jobs-writable" => ["UM-JOBS-READONLY"]: "DELETE on a job answers 204 and removes it";
    "list-num-records-wrong" => ["UM-LIST-SHAPE"]: "num_records is one more than the records returned";
    "list-oldest-first" => ["UM-LIST-ORDER"]: "the job list comes oldest first";
    "list-default-all" => ["UM-LIST-DEFAULT"]: "without max_records, every job comes back";
    "pages-overlap" => ["UM-LIST-PAGES"]: "_links.next repeats the last record of the page";
    "list-ignores-filters" => ["UM-LIST-FILTER"]: "key, state and status filters are ignored";
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
