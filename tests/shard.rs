//! `run --shard K/N` and `jobconform merge`, end to end through the binary: for n = 1..5 the
//! shards' trial lists partition the unsharded list (the embedded mock, and a profile of three
//! `serve` processes); the merged verdict of a split run equals the unsplit run's in outcomes,
//! rule table, summary and exit code (by trial on the mock, by target and by trial on the
//! profile) and `diff` reads it; merge refuses mismatched, missing and duplicated verdicts, each
//! with its message; a property test covers the partition for random n, targets and case sets.
//! Every server is started here on 127.0.0.1 port 0.

#[path = "cli/support.rs"]
#[expect(dead_code)]
mod support;

#[path = "common/seed.rs"]
mod seed;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use jobconform::runner::shard::{By, CaseKey, Shard, share};
use proptest::prelude::*;
use serde_json::Value;

use support::*;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// The trial names `run --list` prints for these arguments.
fn listed(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut all = vec!["run", "--list"];
    all.extend_from_slice(args);
    let o = jobconform(&all)
        .envs(env.iter().copied())
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all:?}\n{out}\n{err}");
    out.lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// For n = 1..5: the shards' lists are disjoint and together the unsharded list.
fn assert_shards_partition(args: &[&str], env: &[(&str, &str)]) {
    let mut whole = listed(args, env);
    assert!(!whole.is_empty());
    whole.sort();
    for n in 1..=5 {
        let mut union = Vec::new();
        for k in 1..=n {
            let spec = format!("{k}/{n}");
            let mut a = args.to_vec();
            a.extend(["--shard", &spec]);
            union.extend(listed(&a, env));
        }
        union.sort();
        let distinct: BTreeSet<&String> = union.iter().collect();
        assert_eq!(
            distinct.len(),
            union.len(),
            "n = {n}: a trial in two shards"
        );
        assert_eq!(
            union, whole,
            "n = {n}: the shards' union is not the unsharded list"
        );
    }
}

/// Three `serve` mocks (one breaking a MUST list rule, one a SHOULD rule) and a profile naming
/// them; the profile file lives in `dir`.
fn fleet(dir: &Path) -> (Vec<Served>, PathBuf) {
    let mocks = vec![
        Served::start(&["--time-scale", "50"]),
        Served::start(&["--time-scale", "50", "--deviation", "list-oldest-first"]),
        Served::start(&["--time-scale", "50", "--deviation", "errors-as-http-500"]),
    ];
    let mut toml = String::new();
    for (m, name) in mocks.iter().zip(["alpha", "bravo", "charlie"]) {
        toml.push_str(&format!(
            "[targets.{name}]\nelement = \"{}\"\naiqum = \"{}\"\npassword_env = \"JC_RUN_PW\"\n\n",
            m.url("element"),
            m.url("aiqum")
        ));
    }
    let p = dir.join("fleet.toml");
    std::fs::write(&p, toml).expect("write the profile");
    (mocks, p)
}

const PW: [(&str, &str); 1] = [("JC_RUN_PW", SECRET)];

#[test]
fn shard_lists_partition_the_trials_on_the_mock_and_on_three_served_targets() {
    assert_shards_partition(&[], &[]);
    let dir = tmp();
    let (_mocks, profile) = fleet(dir.path());
    assert_shards_partition(&["--profile", s(&profile)], &PW);
}

fn run_cmd(args: &[&str], report: &Path, env: &[(&str, &str)]) -> Command {
    let mut all = vec!["run", "--snapshots", "off", "--report-json", s(report)];
    all.extend_from_slice(args);
    let mut c = jobconform(&all);
    c.envs(env.iter().copied());
    c
}

/// Runs the unsplit run, then the n shards as n processes at once (as a CI matrix would);
/// returns the unsplit verdict's path and exit code, and the shards' paths.
fn split_run(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    n: u32,
) -> (PathBuf, i32, Vec<PathBuf>) {
    let whole = dir.join("whole.json");
    let o = run_cmd(args, &whole, env).output().expect("run");
    let code = o.status.code().expect("exit code");
    let mut children = Vec::new();
    let mut paths = Vec::new();
    for k in 1..=n {
        let p = dir.join(format!("shard-{k}-of-{n}.json"));
        let spec = format!("{k}/{n}");
        let mut a = args.to_vec();
        a.extend(["--shard", &spec]);
        let child = run_cmd(&a, &p, env)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn a shard");
        children.push(child);
        paths.push(p);
    }
    for mut c in children {
        let st = wait_bounded(&mut c, Duration::from_secs(300)).expect("a shard ends");
        assert!(
            matches!(st.code(), Some(0..=1)),
            "a shard ended with {st:?}"
        );
    }
    (whole, code, paths)
}

fn merge(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["merge"];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend(["-o", s(out)]);
    args.extend_from_slice(extra);
    jobconform(&args).output().expect("merge")
}

/// What must be equal between an unsplit and a merged verdict: each trial's outcome and finding
/// rules, the rule table, the summary, the targets and the exit code (durations and transcripts
/// aside).
fn essence(doc: &Value) -> Value {
    let trials: BTreeMap<String, Value> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let mut rules: Vec<&str> = c["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter_map(|f| f["rule"].as_str())
                .collect();
            rules.sort();
            let t = c["trial"].as_str().expect("trial").to_string();
            (t, serde_json::json!([c["outcome"], rules]))
        })
        .collect();
    let targets: Vec<&Value> = doc["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| &t["name"])
        .collect();
    serde_json::json!({
        "trials": trials, "rules": doc["rules"], "summary": doc["summary"],
        "exit_code": doc["exit_code"], "targets": targets, "strict": doc["strict"],
    })
}

/// Splits a run n ways, merges it, and checks the merge against the unsplit run.
fn assert_merge_equals_unsplit(dir: &Path, args: &[&str], env: &[(&str, &str)], n: u32) -> Value {
    let (whole, code, shards) = split_run(dir, args, env, n);
    let merged = dir.join(format!("merged-{n}.json"));
    let junit = dir.join(format!("merged-{n}.xml"));
    let o = merge(&shards, &merged, &["--junit", s(&junit)]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(code), "merge exit = the run's\n{err}");
    let a = validate_report(&whole);
    let b = validate_report(&merged);
    assert_eq!(essence(&a), essence(&b), "n = {n}: merged != unsplit");
    assert_eq!(b["plan"]["trials"], a["plan"]["trials"]);
    assert!(
        b["plan"].get("shard").is_none(),
        "a merged verdict is one run's"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(check_xml(&xml), a["cases"].as_array().expect("cases").len());
    // `diff` reads a merged verdict: nothing broken or fixed against the unsplit run.
    let o = jobconform(&["diff", s(&whole), s(&merged)])
        .output()
        .expect("diff");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("broken 0, fixed 0"), "{out}");
    b
}

#[test]
fn merged_shards_equal_the_unsplit_run_on_the_mock() {
    let dir = tmp();
    // Time scale 10 as in the other full runs of a debug build on a shared machine.
    let args = ["--mock-time-scale", "10"];
    let merged = assert_merge_equals_unsplit(dir.path(), &args, &[], 3);
    assert_eq!(merged["exit_code"], 0);
    let shard: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("shard-2-of-3.json")).expect("read"),
    )
    .expect("JSON");
    assert_eq!(
        shard["plan"]["shard"]["by"], "trial",
        "one target, three shards"
    );
}

#[test]
fn merged_shards_equal_the_unsplit_run_on_three_served_targets() {
    let dir = tmp();
    let (_mocks, profile) = fleet(dir.path());
    let args = ["--profile", s(&profile)];
    for n in [2, 5] {
        let sub = dir.path().join(format!("n{n}"));
        std::fs::create_dir(&sub).expect("mkdir");
        let merged = assert_merge_equals_unsplit(&sub, &args, &PW, n);
        assert_eq!(merged["exit_code"], 1, "bravo breaks a MUST rule");
        let shard: Value = serde_json::from_str(
            &std::fs::read_to_string(
                sub.join("shard-1-of-".to_string() + &n.to_string() + ".json"),
            )
            .expect("read"),
        )
        .expect("JSON");
        let by = if n <= 3 { "target" } else { "trial" };
        assert_eq!(shard["plan"]["shard"]["by"], by, "n = {n}");
        if n == 2 {
            // By target, a shard fingerprints and cleans only its own targets.
            let own = shard["targets"].as_array().expect("targets").len();
            assert!(own < 3, "shard 1/2 holds {own} targets");
        }
    }
}

/// Writes `doc` with `edit` applied to a new file.
fn edited(dir: &Path, name: &str, from: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(from).expect("read")).expect("JSON");
    edit(&mut doc);
    let p = dir.join(name);
    std::fs::write(&p, doc.to_string()).expect("write");
    p
}

fn refused(inputs: &[PathBuf], out: &Path) -> String {
    let o = merge(inputs, out, &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!out.exists(), "nothing is written when merge refuses");
    err
}

#[test]
fn merge_refuses_mismatched_missing_and_duplicate_verdicts() {
    let dir = tmp();
    let d = dir.path();
    let filter = ["element/keep-result"];
    let (_, code, shards) = split_run(d, &filter, &[], 2);
    assert_eq!(code, 0);
    let out = d.join("all.json");
    let (one, two) = (shards[0].clone(), shards[1].clone());

    let err = refused(std::slice::from_ref(&one), &out);
    assert!(
        err.contains("missing: shard 2/2 has no verdict among the inputs"),
        "{err}"
    );
    let copy = edited(d, "copy.json", &one, |_| {});
    let err = refused(&[one.clone(), copy.clone(), two.clone()], &out);
    assert!(
        err.contains(&format!(
            "duplicate: shard 1/2 is both {} and {}",
            s(&one),
            s(&copy)
        )),
        "{err}"
    );
    let other = edited(d, "contract.json", &two, |v| {
        v["plan"]["contract"] = "0123456789abcdef".into();
    });
    let err = refused(&[one.clone(), other.clone()], &out);
    assert!(err.contains("different contract versions"), "{err}");
    assert!(err.contains(s(&one)) && err.contains(s(&other)), "{err}");
    let other = edited(d, "cases.json", &two, |v| {
        v["plan"]["cases"] = "0123456789abcdef".into();
    });
    let err = refused(&[one.clone(), other.clone()], &out);
    assert!(err.contains("different case sets"), "{err}");
    // A shard that lost a trial.
    let short = edited(d, "short.json", &two, |v| {
        v["cases"].as_array_mut().expect("cases").pop();
    });
    let err = refused(&[one.clone(), short.clone()], &out);
    assert!(
        err.contains("missing: ") && err.contains(s(&short)),
        "{err}"
    );
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{\"rules\": []}").expect("write");
    let err = refused(&[one.clone(), junk], &out);
    assert!(err.contains("not a jobconform verdict"), "{err}");
    // The two shards merge.
    let o = merge(&[two, one], &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
}

#[test]
fn bad_shard_values_are_one_line_and_exit_2() {
    for bad in ["0/3", "4/3", "x", "1/0", "2/"] {
        let o = jobconform(&["run", "--shard", bad]).output().expect("run");
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad}: {err}");
        assert!(err.contains("--shard"), "{err}");
    }
}

#[test]
fn a_shard_with_no_trial_exits_0_and_merges() {
    let dir = tmp();
    let args = [
        "mock/element/version/getapi",
        "--exact",
        "--mock-time-scale",
        "10",
    ];
    let (_, code, shards) = split_run(dir.path(), &args, &[], 3);
    assert_eq!(code, 0);
    let out = dir.path().join("all.json");
    let o = merge(&shards, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let doc = validate_report(&out);
    assert_eq!(doc["cases"].as_array().expect("cases").len(), 1);
}

fn case_name() -> impl Strategy<Value = String> {
    "[a-z]{1,3}/[a-z]{1,6}"
}

proptest! {
    #![proptest_config(seed::seeded(ProptestConfig { cases: 128, ..ProptestConfig::default() }))]

    /// Every trial falls to exactly one shard, shares add up, whole-list cases of a target stay
    /// together, by target iff there are at least n targets (then no shard is empty), and adding
    /// a case moves no existing trial.
    #[test]
    fn shards_partition_every_trial_and_adding_a_case_moves_none(
        n in 1u32..9,
        targets in 1usize..7,
        cases in proptest::collection::btree_map(case_name(), any::<bool>(), 1..40),
        extra in (case_name(), any::<bool>()),
    ) {
        let targets: Vec<String> = (0..targets).map(|i| format!("t{i}")).collect();
        let keys: Vec<CaseKey<'_>> = cases.iter()
            .map(|(name, whole)| CaseKey { name, whole_target: *whole }).collect();
        let shares: Vec<_> = (1..=n)
            .map(|k| share(Shard { index: k, count: n }, &targets, &keys, |_| true)).collect();
        let owner = |shares: &[jobconform::runner::shard::Share], trial: &str| -> Vec<u32> {
            shares.iter().filter(|s| s.runs(trial)).map(|s| s.shard.index).collect()
        };
        for t in &targets {
            let mut list_shards = BTreeSet::new();
            for (c, whole) in &cases {
                let trial = format!("{t}/{c}");
                let o = owner(&shares, &trial);
                prop_assert_eq!(o.len(), 1, "{} runs in {:?}", trial, o);
                if *whole { list_shards.insert(o[0]); }
            }
            prop_assert!(list_shards.len() <= 1, "list cases of {} in {:?}", t, list_shards);
        }
        let total = targets.len() * cases.len();
        for s in &shares {
            prop_assert_eq!(s.total, total);
            prop_assert_eq!(s.sizes.iter().sum::<usize>(), total);
        }
        let by = if targets.len() >= n as usize { By::Target } else { By::Trial };
        prop_assert_eq!(shares[0].by, by);
        if by == By::Target {
            prop_assert!(shares[0].sizes.iter().all(|z| *z > 0), "{:?}", shares[0].sizes);
        }
        if !cases.contains_key(&extra.0) {
            let mut more = keys.clone();
            more.push(CaseKey { name: &extra.0, whole_target: extra.1 });
            let grown: Vec<_> = (1..=n)
                .map(|k| share(Shard { index: k, count: n }, &targets, &more, |_| true)).collect();
            for t in &targets {
                // A new list case joins its target's list unit, which does not move either.
                for c in cases.keys() {
                    let trial = format!("{t}/{c}");
                    prop_assert_eq!(owner(&shares, &trial), owner(&grown, &trial), "{} moved", trial);
                }
            }
        }
    }
}
