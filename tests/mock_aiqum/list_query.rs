//! The job list's query forms (register U7) over HTTP: a parameter or filter the mock does not
//! serve is a 400 whose message names it, never silently ignored; the bare `order_by=asc|desc`
//! NetApp's AIQUM PowerShell module sends orders by submission time; `submit_time` and
//! `complete_time` filter on the served values.

use jobconform::mock::MockConfig;
use rstest::rstest;
use serde_json::Value;

use super::audit::keys;
use super::support::*;

const JOBS: &str = "/api/management-server/jobs";

fn records(r: &R) -> Vec<Value> {
    r.j()["records"].as_array().expect("records").clone()
}

#[rstest]
#[case("type=monitor_discover", "type")]
#[case("fields=*", "fields")]
#[case("return_timeout=10", "return_timeout")]
#[case("max_records=5&start.key=x", "start.key")]
#[tokio::test(start_paused = true)]
async fn unknown_parameters_are_400_naming_them(#[case] query: &str, #[case] name: &str) {
    let m = M::start(MockConfig::default()).await;
    let r = m.get(&format!("{JOBS}?{query}")).await;
    assert_error(&r, 400);
    let msg = r.j()["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains(&format!("\"{name}\"")), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn a_bare_direction_orders_by_submit_time() {
    let m = M::start(MockConfig::default()).await;
    let default = keys(&records(&m.get(&format!("{JOBS}?max_records=1000")).await));
    let desc = keys(&records(
        &m.get(&format!("{JOBS}?max_records=1000&order_by=desc"))
            .await,
    ));
    let asc = m
        .get(&format!("{JOBS}?max_records=1000&order_by=asc"))
        .await;
    assert_eq!(asc.status, 200);
    let mut asc = keys(&records(&asc));
    assert_eq!(desc, default, "desc is the default order, newest first");
    asc.reverse();
    assert_eq!(asc, default);
    let spelled = keys(&records(
        &m.get(&format!(
            "{JOBS}?max_records=1000&order_by=submit_time%20asc"
        ))
        .await,
    ));
    assert_eq!(
        spelled.iter().rev().collect::<Vec<_>>(),
        default.iter().collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn submit_and_complete_time_filter_on_the_served_values() {
    let m = M::start(MockConfig::default()).await;
    let all = records(&m.get(&format!("{JOBS}?max_records=1000")).await);
    assert!(all.len() >= 2, "history");
    for field in ["submit_time", "complete_time"] {
        let value = all[1][field]
            .as_str()
            .expect("a finished job has both times");
        let r = m.get(&format!("{JOBS}?{field}={}", enc(value))).await;
        assert_eq!(r.status, 200, "{field}: {:?}", r.json);
        let got = records(&r);
        assert!(!got.is_empty(), "{field}={value} matched nothing");
        assert!(
            got.iter().all(|j| j[field] == all[1][field]),
            "{field}: {got:?}"
        );
        let prefix = &value[..10];
        let r = m
            .get(&format!("{JOBS}?max_records=1000&{field}={prefix}*"))
            .await;
        assert!(
            records(&r)
                .iter()
                .all(|j| j[field].as_str().is_some_and(|t| t.starts_with(prefix)))
        );
    }
}
