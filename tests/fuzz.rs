//! Arbitrary input never panics the harness: property tests feed arbitrary JSON (and arbitrary
//! text) to the case loader, and arbitrary answers (any JSON body, any status, non-JSON text) to
//! every response check, the per-observation checks, the sequence checks and the group check.
//! Each either returns findings or an error; none may panic.

#[path = "common/seed.rs"]
mod seed;

use std::path::Path;

use jobconform::check::{self, aiqum as um, element as el, expect, named, names};
use jobconform::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// Arbitrary JSON, biased towards the members the checks look at.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("result".to_string()),
        Just("error".to_string()),
        Just("status".to_string()),
        Just("state".to_string()),
        Just("id".to_string()),
        Just("name".to_string()),
        Just("code".to_string()),
        Just("details".to_string()),
        Just("createTime".to_string()),
        Just("lastUpdateTime".to_string()),
        Just("records".to_string()),
        Just("job".to_string()),
        Just("key".to_string()),
        Just("asyncHandles".to_string()),
        Just("steps".to_string()),
        Just("rpc".to_string()),
        Just("expect".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("running".to_string()),
            Just("complete".to_string()),
            Just("completed".to_string()),
            Just("2016-01-01T22:29:18Z".to_string()),
            Just("NORMAL".to_string()),
            Just("${h}".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn exchange(status: u16, body: Body) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: "POST".into(),
            url: "http://127.0.0.1:1/json-rpc/12.5?max_records=2&state=running".into(),
            auth: AuthMode::Default,
            body: Some(json!({"method": "GetAsyncResult", "params": {"asyncHandle": 1}, "id": 1})),
        },
        response: Ok(ResponseRecord {
            status,
            content_type: Some("application/json".into()),
            body,
            elapsed_ms: 5,
        }),
    }
}

fn runner() -> TestRunner {
    TestRunner::new(seed::seeded(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }))
}

#[test]
fn the_case_loader_never_panics_on_arbitrary_json() {
    runner()
        .run(&json_value(), |v| {
            let text = serde_json::to_string(&v).expect("serialize");
            let _ = jobconform::case::load::load_str(
                "fuzz/case",
                Path::new("cases/fuzz/case.json"),
                &text,
            );
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn the_case_loader_never_panics_on_arbitrary_text() {
    runner()
        .run(&".{0,200}", |text| {
            let _ = jobconform::case::load::load_str(
                "fuzz/text",
                Path::new("cases/fuzz/text.json"),
                &text,
            );
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn every_check_survives_arbitrary_answers() {
    let statuses = prop_oneof![Just(200u16), Just(202), Just(404), Just(500), 100u16..600];
    let bodies = prop_oneof![
        json_value().prop_map(Body::Json),
        ".{0,40}".prop_map(|t| Body::Text {
            text: t,
            error: "not JSON".into()
        }),
        Just(Body::Empty),
        Just(Body::TooLarge { limit: 10 }),
    ];
    runner()
        .run(
            &(statuses, bodies, json_value(), json_value()),
            |(status, body, prev, next)| {
                let ex = exchange(status, body);
                let json = ex.json().cloned();
                let _ = el::envelope(&ex, Some(&json!(1)));
                let _ = el::envelope(&ex, None);
                if let Some(b) = &json {
                    let _ = el::error_shape(b);
                    let _ = el::gar_answer(b);
                    let _ = el::observation(b, "/result");
                    let _ = um::dialect(b);
                    let _ = um::outcome(b);
                    let _ = um::is_job(b);
                }
                let _ = um::job_answer("06a6148bf9e862df:-2611856e:16e8d47e722:-7f87", &ex);
                let _ = el::stable(std::slice::from_ref(&prev), &next);
                let _ = um::sequence(&[prev], &next);
                for check in names::Response::ALL {
                    let _ = named::response(*check, "EL-GAR-STATUS", &ex, json.as_ref());
                }
                for check in names::Group::ALL {
                    let _ = named::group(*check, "EL-KEEP-ONCE", &[(0, &ex), (1, &ex)]);
                }
                let _ = check::parse_utc(&next.to_string());
                let subject = expect::Subject::answer(&ex, 0, 50.0);
                use jobconform::case::{Expect, ExpectKind, PointerAssert};
                let expects: Vec<Expect> = vec![
                    Expect {
                        rule: "EL-GAR-STATUS".into(),
                        kind: ExpectKind::Pointer {
                            pointer: "/result/status".into(),
                            assert: PointerAssert::Equals(next.clone()),
                        },
                    },
                    Expect {
                        rule: "EL-GAR-RUNNING".into(),
                        kind: ExpectKind::Schema(
                            "element/get-async-result.json#/$defs/response".into(),
                        ),
                    },
                    Expect {
                        rule: "UM-JSON".into(),
                        kind: ExpectKind::MaxMs(1),
                    },
                ];
                let _ = expect::evaluate(&expects, &subject);
                Ok(())
            },
        )
        .expect("no panic");
}
