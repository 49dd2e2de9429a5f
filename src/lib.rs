//! jobconform: a conformance harness for the asynchronous-operation contracts of NetApp's storage
//! management APIs (SolidFire Element JSON-RPC `GetAsyncResult`, and Active IQ Unified Manager REST
//! jobs). The contract, rule by rule, is data (`schemas/`, `cases/`, `src/contract/rules.json`);
//! this crate is the small engine that runs it.
//!
//! Reading order, from the data inwards:
//!
//! - [`contract`]: the rule registry (IDs, levels, text), the compiled JSON Schema set, and the
//!   job vocabulary every module reads the same way (`contract::jobs`: terminal states per
//!   dialect, what is transient).
//! - [`case`]: the case model (the step language) and its strict loader.
//! - [`secret`]: the password type that never prints (a leaf shared by `transport` and `mock`).
//! - [`transport`]: send one request, record the exchange; never judges.
//! - [`check`]: pure judging: exchanges in, [`check::Finding`]s out.
//! - [`poll`]: the reference poller (standard and long polling, backoff, deadline).
//! - [`exec`]: runs one case against one target, step by step.
//! - [`ledger`]: the per-target record of objects a run created (shared by `target`, `exec` and
//!   `cleanup`, importing none of them).
//! - [`cleanup`]: removal of what the ledger holds, whatever happened.
//! - [`target`]: where a run goes: the embedded mock, or live targets from flags or a profile.
//! - [`mock`]: the reference server (Element + AIQUM), scriptable, with named deviations.
//! - [`snapshot`]: normalization, redaction and insta settings.
//! - [`report`]: JSON verdict, JUnit XML, terminal summary.
//! - [`runner`]: the only module that knows libtest-mimic: cases x targets -> trials (all of
//!   them, or one shard's share with `--shard K/N`).
//! - [`merge`]: the verdicts of a split run put back together as one run's.
//! - [`diff`]: what changed between two snapshot labels or two verdicts.
//! - [`traffic`]: judging traffic that flowed anyway (a proxy's view, a recording, a HAR file).
//! - [`proxy`]: `jobconform proxy`, forwarding clients to a real server and judging as it goes.

pub mod case;
pub mod check;
pub mod cleanup;
pub mod contract;
pub mod diff;
pub mod exec;
pub mod ledger;
pub mod merge;
pub mod mock;
pub mod poll;
pub mod proxy;
pub mod report;
pub mod runner;
pub mod secret;
pub mod snapshot;
pub mod target;
pub mod traffic;
pub mod transport;
