//! The list never serves a stale job: the route remembers each job's rendered entry per segment
//! and prefix, so a job listed again and again while it moves along its timeline must show what
//! a plain read of it shows at that instant. Two jobs with one script start together; only the
//! second is ever read by key (a read forgets what the list remembered of that job), so the
//! first is listed from the memo alone. Both dialects and the deviations that reshape timelines;
//! and the content type the list is served with.

use jobconform::mock::AiqumDialect;
use rstest::rstest;
use serde_json::{Value, json};
use tokio::time::{Duration, sleep};

use super::support::*;

/// A job object without what differs between two jobs of one script started together.
fn shape(j: &Value) -> Value {
    let mut j = j.clone();
    if let Some(o) = j.as_object_mut() {
        o.remove("key");
        o.remove("_links");
    }
    j
}

fn entry<'a>(list: &'a Value, key: &str) -> &'a Value {
    let records = list["records"].as_array().expect("records");
    records
        .iter()
        .find(|r| r["key"] == json!(key))
        .unwrap_or(&Value::Null)
}

/// `changes`: the distinct (state, status, last_modified) the job's timeline shows, in turn.
#[rstest]
#[case::split(AiqumDialect::Split, &[], 5)]
#[case::literal(AiqumDialect::Literal, &[], 2)]
#[case::split_backwards(AiqumDialect::Split, &["state-backwards", "status-success"], 8)]
#[case::literal_frozen(AiqumDialect::Literal, &["warning-terminal", "complete-before-submit"], 2)]
#[case::split_frozen(AiqumDialect::Split, &["warning-terminal", "no-job-results"], 3)]
#[tokio::test(start_paused = true)]
async fn a_listed_job_shows_what_a_read_shows_at_every_instant(
    #[case] dialect: AiqumDialect,
    #[case] deviations: &[&'static str],
    #[case] changes: usize,
) {
    let m = M::start(cfg(dialect, deviations)).await;
    let script = json!({"steps": [{"ms": 1000, "state": "queued"}, {"ms": 1000},
                                  {"ms": 1000, "status": "warning"}, {"ms": 500}],
                        "outcome": "success", "result": [{"name": "k", "value": "v"}]});
    let listed = m.script(script.clone()).await;
    let read = m.script(script).await;
    let mut seen: Vec<Value> = Vec::new();
    for step in 0..20 {
        for prefix in ["/api", "/api/v2"] {
            let list = m
                .get(&format!("{prefix}/management-server/jobs?max_records=5"))
                .await;
            assert_eq!(list.status, 200, "{:?}", list.json);
            let mine = entry(list.j(), &listed);
            let href = mine["_links"]["self"]["href"].as_str().unwrap_or("");
            let wanted = format!("{prefix}/management-server/jobs/{listed}");
            assert_eq!(href, wanted);
            let other = m
                .get(&format!("{prefix}/management-server/jobs/{}", enc(&read)))
                .await;
            assert_eq!(other.status, 200, "{:?}", other.json);
            assert_eq!(shape(mine), shape(other.j()), "step {step} {prefix}");
            let served = json!([mine["state"], mine["status"], mine["last_modified"]]);
            if seen.last() != Some(&served) {
                seen.push(served);
            }
        }
        sleep(Duration::from_millis(250)).await;
    }
    // The entry moved along the timeline: every visible change seen, each once.
    assert_eq!(seen.len(), changes, "{seen:?}");
}

/// The list goes out as the bytes it always did: `application/json`, or `text/plain` under
/// `jobs-text-plain`, with the same JSON either way.
#[rstest]
#[case::json(&[], "application/json")]
#[case::text(&["jobs-text-plain"], "text/plain; charset=utf-8")]
#[tokio::test(start_paused = true)]
async fn the_list_keeps_its_content_type(
    #[case] deviations: &[&'static str],
    #[case] content_type: &str,
) {
    let m = M::start(cfg(AiqumDialect::Split, deviations)).await;
    let r = m.get("/api/management-server/jobs?max_records=3").await;
    assert_eq!((r.status, r.ct.as_str()), (200, content_type));
    assert_eq!(r.j()["num_records"], json!(3), "{:?}", r.json);
    assert_eq!(r.j()["records"].as_array().map(Vec::len), Some(3));
}
