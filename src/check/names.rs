//! The names of the named checks, as closed enums: [`Response`] (in an `expect`), [`Group`] (over
//! a `concurrent` step's answers) and the step checks of a `check` step, split by whether they do
//! I/O: [`PureStep`] (judged in `check::named`) and [`IoStep`] (run by `exec::named`), joined as
//! [`StepCheck`] for the case model. Each name is the kebab-case string a case file writes; the
//! variant's doc says what the check judges. Names only: no judging here, no I/O.
//!
//! Adding a check is one variant here (with its name in the `names!` list) plus the arms the
//! compiler then asks for in `check::named` or `exec::named`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A check name that is not one of its kind's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownCheck {
    /// Which kind of check was asked for (`response check`, `group check`, `step check`).
    pub kind: &'static str,
    /// The name given.
    pub name: String,
}

/// Gives a closed enum of check names its name table: `ALL`, `name()`, `FromStr` (refusing an
/// unknown name with [`UnknownCheck`]), `Display` and serde as the name. The `match` in `name()`
/// is exhaustive, so a variant without a name does not compile.
macro_rules! names {
    ($ty:ident, $kind:literal, { $($v:ident $(($($arg:ident)::+))? => $name:literal;)+ }) => {
        impl $ty {
            /// Every check of this kind, in the order of the documentation.
            pub const ALL: &'static [$ty] = &[$($ty::$v $(($($arg)::+))?),+];

            /// The name a case file writes (kebab-case).
            pub const fn name(self) -> &'static str {
                match self {
                    $($ty::$v $(($($arg)::+))? => $name,)+
                }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownCheck;
            fn from_str(s: &str) -> Result<Self, UnknownCheck> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|c| c.name() == s)
                    .ok_or_else(|| UnknownCheck {
                        kind: $kind,
                        name: s.to_string(),
                    })
            }
        }

        named_serde!($ty);
    };
}

/// `Display`, `Serialize` and `Deserialize` through `name()` and `FromStr`.
macro_rules! named_serde {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The outcome a `status-<outcome>` check wants a finished AIQUM job to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `NORMAL`.
    Normal,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `PARTIAL_FAILURES`.
    PartialFailures,
}

impl Outcome {
    /// The outcome value as AIQUM writes it (compared without case).
    pub const fn value(self) -> &'static str {
        match self {
            Outcome::Normal => "NORMAL",
            Outcome::Warning => "WARNING",
            Outcome::Error => "ERROR",
            Outcome::PartialFailures => "PARTIAL_FAILURES",
        }
    }
}

/// A response check (`{"rule": R, "check": NAME}` in an `expect`; the body is the answer's JSON,
/// or the final job for a `poll` step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Response {
    /// `unknown-handle-error`: the answer is a method error, no result, code 500 (the string
    /// `"500"` is left to EL-RPC-ERROR-SHAPE), name `xAsyncHandleDoesNotExist` or `xDBNoSuchPath`
    /// (register E1: the name served is recorded).
    UnknownHandleError,
    /// `gone-handle-error`: like `unknown-handle-error` for a handle that should have been
    /// invalidated; if the answer is still a result, that is another rule's failure (EL-KEEP-*),
    /// so the case is inconclusive.
    GoneHandleError,
    /// `error-500`: a method error (not a result) with code 500 (EL-GAR-PARAMS).
    Error500,
    /// `getapi-versions`: `currentVersion` and `supportedVersions` present, versions numbers or
    /// numeric strings (E5), and the URL's version among `supportedVersions` (EL-VER-GETAPI).
    GetapiVersions,
    /// `async-list-shape`: `asyncHandles` is an array of entries with the documented fields and
    /// types (EL-LIST-SHAPE).
    AsyncListShape,
    /// `async-list-filter`: every entry's `resultType` is among the request's
    /// `asyncResultTypes` (EL-LIST-FILTER).
    AsyncListFilter,
    /// `accept-link`: `job._links.self.href`, when present, ends in
    /// `/api[/v2]/management-server/jobs/<job.key>` (UM-ACCEPT-LINK).
    AcceptLink,
    /// `um-error-body`: a JSON body with a top-level `error` object holding a string `message`
    /// (UM-ERROR-SHAPE).
    UmErrorBody,
    /// `um-list-shape`: `records` array, `num_records == len(records)`, `total_records >=
    /// num_records`, `_links` object (UM-LIST-SHAPE).
    UmListShape,
    /// `newest-first`: records' `submit_time` never increases down the list (UM-LIST-ORDER).
    NewestFirst,
    /// `default-page-size`: at most 20 records (UM-LIST-DEFAULT).
    DefaultPageSize,
    /// `list-filter-only`: every record matches the request's `key`/`state`/`status` query
    /// filters, compared without case (UM-LIST-FILTER).
    ListFilterOnly,
    /// `job-results-shape`: a job that finished NORMAL has `job_results`, an array of `{name:
    /// str, value: str}`; other outcomes make the case inconclusive (UM-RESULTS).
    JobResultsShape,
    /// `status-normal`, `status-warning`, `status-error`, `status-partial-failures`: the job's
    /// outcome value (`status`, or `state` in the literal dialect) is that one, compared without
    /// case.
    Status(Outcome),
    /// `status-not-warning`: the final outcome is not WARNING (UM-WARNING: a job whose script
    /// goes on past a mid-run warning must not end on it; a wrong value otherwise is
    /// UM-JOB-STATUS's).
    StatusNotWarning,
    /// `terminal`: the job is terminal by register U1/U2.
    Terminal,
    /// Precondition `is-running`: GetAsyncResult's `result.status` is `running`.
    IsRunning,
    /// Precondition `is-complete`: GetAsyncResult's `result.status` is `complete`.
    IsComplete,
    /// Precondition `is-error`: the JSON-RPC answer is a method error.
    IsError,
    /// Precondition `is-result`: the JSON-RPC answer is a result.
    IsResult,
    /// Precondition `um-running`: the job is not terminal.
    UmRunning,
    /// Precondition `um-terminal`: the job is terminal.
    UmTerminal,
    /// Precondition `um-failed`: the job's outcome is ERROR or PARTIAL_FAILURES (a failing call
    /// did fail).
    UmFailed,
    /// Precondition `key-has-colon`: the job key at `/key`, `/job/key` or `/records/0/key`
    /// contains `:`.
    KeyHasColon,
    /// Precondition `has-entries`: ListAsyncResults' `asyncHandles` is not an empty array (an
    /// empty list is well-shaped, but leaves no entry to judge).
    HasEntries,
    /// `unused-parameters`: the call returned a result, and `unusedParameters` (at the top level
    /// or inside `result`: register E6, the place seen is noted) names every `harness*`
    /// parameter sent (EL-RPC-UNUSED-PARAMS).
    UnusedParameters,
}

names!(Response, "response check", {
    UnknownHandleError => "unknown-handle-error";
    GoneHandleError => "gone-handle-error";
    Error500 => "error-500";
    GetapiVersions => "getapi-versions";
    AsyncListShape => "async-list-shape";
    AsyncListFilter => "async-list-filter";
    AcceptLink => "accept-link";
    UmErrorBody => "um-error-body";
    UmListShape => "um-list-shape";
    NewestFirst => "newest-first";
    DefaultPageSize => "default-page-size";
    ListFilterOnly => "list-filter-only";
    JobResultsShape => "job-results-shape";
    Status(Outcome::Normal) => "status-normal";
    Status(Outcome::Warning) => "status-warning";
    Status(Outcome::Error) => "status-error";
    Status(Outcome::PartialFailures) => "status-partial-failures";
    StatusNotWarning => "status-not-warning";
    Terminal => "terminal";
    IsRunning => "is-running";
    IsComplete => "is-complete";
    IsError => "is-error";
    IsResult => "is-result";
    UmRunning => "um-running";
    UmTerminal => "um-terminal";
    UmFailed => "um-failed";
    KeyHasColon => "key-has-colon";
    HasEntries => "has-entries";
    UnusedParameters => "unused-parameters";
});

/// A group check, over the answers of a `concurrent` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `exactly-one-result`: among the answers exactly one has a `result`, every other one is an
    /// error (EL-KEEP-ONCE; the error's shape is EL-GAR-UNKNOWN's).
    ExactlyOneResult,
}

names!(Group, "group check", {
    ExactlyOneResult => "exactly-one-result";
});

/// A step check judged without I/O, on its arguments alone (`check::named::step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PureStep {
    /// `distinct`: `args.values` are pairwise different (EL-HANDLE-UNIQUE).
    Distinct,
}

names!(PureStep, "step check", {
    Distinct => "distinct";
});

/// A step check that sends requests or reads the run's observations (`exec::named`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoStep {
    /// `list-walk`: following `_links.next` from `max_records` pages never repeats a job and no
    /// page is too long (UM-LIST-PAGES).
    ListWalk,
    /// `list-agrees`: a handle's ListAsyncResults entry agrees with GetAsyncResult
    /// (EL-LIST-AGREES).
    ListAgrees,
    /// `not-listed`: an invalidated handle is not listed (EL-LIST-PURGED).
    NotListed,
    /// `readable-at-once`: a new job is readable by key at once (UM-ACCEPT-READABLE).
    ReadableAtOnce,
    /// `long-poll-timing`: one long poll, judged against its timeout (UM-POLL-LONG).
    LongPollTiming,
    /// `answers-at-once`: a plain GET of a running job answers at once (UM-POLL-STANDARD).
    AnswersAtOnce,
    /// `seen-running`: precondition, a running observation of the job was made.
    SeenRunning,
    /// `client-audit`: the mock's audit of jobconform's own polling of one job (CL-*).
    ClientAudit,
}

names!(IoStep, "step check", {
    ListWalk => "list-walk";
    ListAgrees => "list-agrees";
    NotListed => "not-listed";
    ReadableAtOnce => "readable-at-once";
    LongPollTiming => "long-poll-timing";
    AnswersAtOnce => "answers-at-once";
    SeenRunning => "seen-running";
    ClientAudit => "client-audit";
});

/// The name of a `check` step: a pure check or one with I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepCheck {
    /// Judged in `check::named`.
    Pure(PureStep),
    /// Run by `exec::named`.
    Io(IoStep),
}

impl StepCheck {
    /// Every step check: the pure ones, then those with I/O.
    pub const ALL: [StepCheck; PureStep::ALL.len() + IoStep::ALL.len()] = {
        let mut all =
            [StepCheck::Pure(PureStep::Distinct); PureStep::ALL.len() + IoStep::ALL.len()];
        let mut i = 0;
        while i < PureStep::ALL.len() {
            all[i] = StepCheck::Pure(PureStep::ALL[i]);
            i += 1;
        }
        let mut k = 0;
        while k < IoStep::ALL.len() {
            all[i + k] = StepCheck::Io(IoStep::ALL[k]);
            k += 1;
        }
        all
    };

    /// The name a case file writes.
    pub const fn name(self) -> &'static str {
        match self {
            StepCheck::Pure(c) => c.name(),
            StepCheck::Io(c) => c.name(),
        }
    }
}

impl FromStr for StepCheck {
    type Err = UnknownCheck;
    fn from_str(s: &str) -> Result<Self, UnknownCheck> {
        s.parse()
            .map(StepCheck::Pure)
            .or_else(|_| s.parse().map(StepCheck::Io))
    }
}

named_serde!(StepCheck);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr + Serialize,
        T::Err: fmt::Debug,
    {
        let mut names = std::collections::BTreeSet::new();
        for c in all {
            let name = c.to_string();
            assert!(names.insert(name.clone()), "{name} twice");
            assert_eq!(name.parse::<T>().ok(), Some(*c), "{name}");
            assert_eq!(serde_json::to_value(c).ok(), Some(name.clone().into()));
            let kebab = name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            assert!(kebab, "{name} is not kebab-case");
        }
    }

    #[test]
    fn every_name_round_trips_once() {
        round_trips(Response::ALL);
        round_trips(Group::ALL);
        round_trips(&StepCheck::ALL);
        assert_eq!(Response::ALL.len(), 29);
        assert_eq!(StepCheck::ALL.len(), 9);
    }

    #[test]
    fn an_unknown_name_says_which_kind() {
        let e = "nope".parse::<Response>().expect_err("unknown");
        assert_eq!(e.to_string(), "unknown response check \"nope\"");
        let e = "distinct".parse::<Group>().expect_err("not a group check");
        assert_eq!(e.to_string(), "unknown group check \"distinct\"");
        let e = "nope".parse::<StepCheck>().expect_err("unknown");
        assert_eq!(e.to_string(), "unknown step check \"nope\"");
        let e = serde_json::from_value::<Response>("nope".into()).expect_err("unknown");
        assert_eq!(e.to_string(), "unknown response check \"nope\"");
    }
}
