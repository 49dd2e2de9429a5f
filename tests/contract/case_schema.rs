//! The case schema against the serde case model: a valid case validates and deserializes; what
//! serde refuses the schema refuses; an expectation carries exactly one assertion.

use rstest::rstest;
use serde_json::{Value, json};

use crate::{assert_invalid, assert_valid, with};

fn valid_case() -> Value {
    json!({
        "description": "A complete handle fetched without keepResult is gone afterwards.",
        "api": "element",
        "rules": ["EL-KEEP-DEFAULT", "EL-GAR-UNKNOWN"],
        "needs": "scripted",
        "steps": [
            {"start": {"as": "h", "work": {"scripted": {"steps": [{"ms": 100, "details": {"percentComplete": 50}}], "outcome": "success"}}}},
            {"poll": {"job": "${h}", "keep_result": true, "deadline_ms": 5000, "deadline_rule": "EL-GAR-STATUS",
                      "expect": [{"rule": "EL-GAR-COMPLETE", "schema": "element/get-async-result.json#/$defs/response"}]}},
            {"rpc": {"method": "GetAsyncResult", "params": {"asyncHandle": "${h}"},
                     "expect": [
                        {"rule": "EL-KEEP-DEFAULT", "pointer": "/result/status", "equals": "complete"},
                        {"rule": "EL-RPC-ERROR-HTTP", "status": [200]}
                     ],
                     "capture": {"status": "/result/status"}}},
            {"repeat": {"times": 2, "steps": [
                {"rpc": {"method": "GetAsyncResult", "params": {"asyncHandle": "${h}"},
                         "expect": [{"rule": "EL-GAR-UNKNOWN", "pointer": "/error/name", "one_of": ["xAsyncHandleDoesNotExist", "xDBNoSuchPath"]}]}}
            ]}},
            {"wait": {"ms": 10}},
            {"check": {"name": "distinct", "rule": "EL-HANDLE-UNIQUE"}}
        ],
        "cleanup": [
            {"concurrent": {"times": 2, "rpc": {"method": "ListAsyncResults"}, "check": {"rule": "EL-LIST-SHAPE", "name": "exactly-one-result"}}}
        ]
    })
}

#[test]
fn valid_case_validates_and_deserializes() {
    let case = valid_case();
    assert_valid("case.schema.json", &case);
    let parsed: jobconform::case::Case = serde_json::from_value(case).expect("serde agrees");
    assert_eq!(parsed.rules, ["EL-KEEP-DEFAULT", "EL-GAR-UNKNOWN"]);
    assert_eq!(parsed.steps.len(), 6);
    assert_eq!(parsed.cleanup.len(), 1);

    let aiqum = json!({
        "description": "A 202 names a job that reaches a terminal state.",
        "api": "aiqum", "rules": ["UM-ACCEPT-202"], "needs": "mutations", "requires": ["long-poll"],
        "snapshot": false,
        "expect_failure": {"rules": ["UM-ACCEPT-202"], "reason": "the doc-literal dialect omits the key"},
        "steps": [
            {"start": {"as": "k", "work": "call", "expect": [{"rule": "UM-ACCEPT-202", "status": 202}]}},
            {"http": {"method": "GET", "path": "/management-server/jobs/${k}", "query": {"poll_timeout": 5},
                      "auth": "wrong", "expect": [{"rule": "UM-AUTH", "status": 401}, {"rule": "UM-JSON", "content_type": "application/json"},
                      {"rule": "UM-POLL-STANDARD", "max_ms": 2000}, {"rule": "UM-JOB-SHAPE", "pointer": "/key", "type": "string"},
                      {"rule": "UM-JOB-SHAPE", "pointer": "/missing", "absent": true},
                      {"rule": "UM-JOB-SHAPE", "pointer": "/_links", "present": true},
                      {"rule": "UM-JOB-SHAPE", "check": "key-has-colon"}]}},
            {"poll": {"job": "${k}", "mode": "long"}}
        ]
    });
    assert_valid("case.schema.json", &aiqum);
    serde_json::from_value::<jobconform::case::Case>(aiqum).expect("serde agrees");
}

#[rstest]
#[case::unknown_top_level_field(with(valid_case(), |m| { m.insert("$schema".into(), json!("x")); }))]
#[case::unknown_step_field(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"wait": {"ms": 1, "why": "x"}}]));
}))]
#[case::unknown_step_kind(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"sleep": {"ms": 1}}]));
}))]
#[case::two_step_kinds_in_one(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"wait": {"ms": 1}, "check": {"name": "x", "rule": "EL-GAR-STATUS"}}]));
}))]
#[case::unknown_work(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"start": {"as": "h", "work": "bulk"}}]));
}))]
#[case::unknown_script_field(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"start": {"as": "h", "work": {"scripted": {"outcome": "success", "speed": 2}}}}]));
}))]
#[case::missing_description(with(valid_case(), |m| { m.remove("description"); }))]
#[case::unknown_api(with(valid_case(), |m| { m.insert("api".into(), json!("ontap")); }))]
fn cases_serde_refuses_are_refused(#[case] case: Value) {
    assert_invalid("case.schema.json", &case);
    assert!(
        serde_json::from_value::<jobconform::case::Case>(case).is_err(),
        "serde accepted what the schema refuses"
    );
}

fn with_expect(expect: Value) -> Value {
    with(valid_case(), |m| {
        m.insert(
            "steps".into(),
            json!([{"rpc": {"method": "GetAPI", "expect": [expect]}}]),
        );
    })
}

#[rstest]
#[case::two_assertions(json!({"rule": "EL-VER-GETAPI", "status": 200, "schema": "element/get-api.json"}))]
#[case::no_assertion(json!({"rule": "EL-VER-GETAPI"}))]
#[case::pointer_without_assertion(json!({"rule": "EL-VER-GETAPI", "pointer": "/result"}))]
#[case::pointer_with_two(json!({"rule": "EL-VER-GETAPI", "pointer": "/result", "present": true, "type": "object"}))]
#[case::equals_without_pointer(json!({"rule": "EL-VER-GETAPI", "equals": 1}))]
#[case::equals_null(json!({"rule": "EL-VER-GETAPI", "pointer": "/id", "equals": null}))]
#[case::absent_false(json!({"rule": "EL-VER-GETAPI", "pointer": "/error", "absent": false}))]
#[case::no_rule(json!({"status": 200}))]
#[case::bad_rule_id(json!({"rule": "keep-default", "status": 200}))]
#[case::bad_pointer(json!({"rule": "EL-VER-GETAPI", "pointer": "result", "present": true}))]
fn expectations_carry_exactly_one_assertion(#[case] expect: Value) {
    assert_invalid("case.schema.json", &with_expect(expect));
}

#[test]
fn case_rules_must_be_a_non_empty_list_of_ids() {
    assert_invalid(
        "case.schema.json",
        &with(valid_case(), |m| {
            m.insert("rules".into(), json!([]));
        }),
    );
    assert_invalid(
        "case.schema.json",
        &with(valid_case(), |m| {
            m.insert("rules".into(), json!(["el-gar-status"]));
        }),
    );
}

/// The keys of an expectation and, for each, a valid value and a wrong one; `serde_refuses` says
/// whether serde rejects the wrong one (`equals: null` it reads as absent; `absent: false` and
/// `present: false` the expectation type refuses).
/// `(key, valid value, wrong value, serde refuses the wrong one)`.
type KeyCase = (&'static str, fn() -> Value, fn() -> Value, bool);

const KEYS: &[KeyCase] = &[
    ("status", || json!([200, 404]), || json!("200"), true),
    (
        "content_type",
        || json!("application/json"),
        || json!(1),
        true,
    ),
    (
        "schema",
        || json!("element/get-api.json"),
        || json!(true),
        true,
    ),
    ("max_ms", || json!(100), || json!(-1), true),
    ("check", || json!("key-has-colon"), || json!(5), true),
    ("pointer", || json!("/a"), || json!(5), true),
    ("equals", || json!(1), || Value::Null, false),
    ("one_of", || json!([1, "x"]), || json!("x"), true),
    ("absent", || json!(true), || json!(false), true),
    ("present", || json!(true), || json!(false), true),
    ("type", || json!("string"), || json!("text"), true),
];
const TOP: &[&str] = &[
    "status",
    "content_type",
    "schema",
    "max_ms",
    "check",
    "pointer",
];
const AT_POINTER: &[&str] = &["equals", "one_of", "absent", "present", "type"];

proptest::proptest! {
    #![proptest_config(crate::seed::seeded(proptest::prelude::ProptestConfig::with_cases(256)))]

    /// Over every combination of keys (absent, valid, wrong): serde accepts the expectations with
    /// a rule and exactly one assertion among the members it reads as present, and the schema
    /// accepts exactly those with no wrong value at all.
    #[test]
    fn expect_schema_is_serde_plus_one_assertion(
        has_rule in proptest::bool::ANY,
        choice in proptest::collection::vec(0u8..3, KEYS.len()),
    ) {
        let mut expect = serde_json::Map::new();
        if has_rule {
            expect.insert("rule".into(), json!("EL-VER-GETAPI"));
        }
        let (mut wrong, mut serde_wrong) = (false, false);
        for ((key, good, bad, refuses), c) in KEYS.iter().zip(&choice) {
            match c {
                1 => { expect.insert((*key).into(), good()); }
                2 => {
                    expect.insert((*key).into(), bad());
                    wrong = true;
                    serde_wrong |= *refuses;
                }
                _ => {}
            }
        }
        let shape = |present: &dyn Fn(&str) -> bool| {
            let count = |set: &[&str]| set.iter().filter(|k| present(k)).count();
            let at_pointer = count(AT_POINTER);
            count(TOP) == 1 && if present("pointer") { at_pointer == 1 } else { at_pointer == 0 }
        };
        let shape_ok = shape(&|k| expect.contains_key(k));
        // serde reads an explicit null as absent.
        let serde_shape_ok = shape(&|k| expect.get(k).is_some_and(|v| !v.is_null()));
        let case = with_expect(Value::Object(expect.clone()));

        let schema_ok = errors_of(&case).is_empty();
        let serde_ok = serde_json::from_value::<jobconform::case::Case>(case).is_ok();
        proptest::prop_assert_eq!(serde_ok, has_rule && !serde_wrong && serde_shape_ok, "serde on {:?}", expect);
        proptest::prop_assert_eq!(schema_ok, has_rule && !wrong && shape_ok, "schema on {:?}", expect);
        proptest::prop_assert!(!schema_ok || serde_ok);
    }
}

fn errors_of(case: &Value) -> Vec<jobconform::contract::SchemaError> {
    crate::errors("case.schema.json", case)
}
