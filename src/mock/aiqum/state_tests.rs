//! Unit tests of the job table's bookkeeping: the key index after removals (`jobs-writable`) and
//! `settle` applying effects once, in completion order, never for a removed job. Test-only.

use serde_json::json;

use super::super::clock::Clock;
use super::super::script::Outcome;
use super::*;

fn finishing_at(ms: u64, outcome: Outcome) -> JobScript {
    JobScript {
        steps: vec![step(ms, "running")],
        outcome,
        result_type: None,
        result: None,
        error: None,
        name: None,
        faults: Vec::new(),
    }
}

fn create(s: &mut AiqumState, name: &str, ms: u64, outcome: Outcome) -> String {
    let effect = Effect::Create(Kind::Lun, name.to_string(), json!({"name": name}));
    s.push_job(
        name.into(),
        name.into(),
        0,
        finishing_at(ms, outcome),
        Origin::Call,
        Some(effect),
    )
}

#[test]
fn the_index_follows_removals_and_settle_applies_each_effect_once() {
    let config = MockConfig::default();
    let mut s = AiqumState::new(&config, &Clock::new(1.0));
    let a = create(&mut s, "a", 300, Outcome::Success);
    let b = create(&mut s, "b", 100, Outcome::Success);
    let c = create(&mut s, "c", 200, Outcome::Failure);
    let d = create(&mut s, "d", 200, Outcome::Warning);
    let e = create(&mut s, "e", 50, Outcome::Success);
    assert!(s.remove_job(&e));
    assert!(!s.remove_job(&e));
    assert!(s.job(&e).is_none());
    for k in [&a, &b, &c, &d] {
        assert_eq!(s.job(k).map(|j| &j.key), Some(k));
        assert_eq!(s.job_mut(k).map(|j| j.key.clone()).as_ref(), Some(k));
    }
    s.settle(99);
    assert!(s.objects(Kind::Lun).is_empty());
    s.settle(200);
    assert!(s.object(Kind::Lun, "b").is_some() && s.object(Kind::Lun, "d").is_some());
    assert!(s.object(Kind::Lun, "c").is_none() && s.object(Kind::Lun, "e").is_none());
    s.objects.remove(&(Kind::Lun, "b".to_string()));
    s.settle(1_000);
    assert!(
        s.object(Kind::Lun, "b").is_none(),
        "an effect is applied once"
    );
    assert!(s.object(Kind::Lun, "a").is_some());
    assert!(
        s.object(Kind::Lun, "e").is_none(),
        "a removed job has no effect"
    );
    assert!(s.job(&a).is_some_and(|j| j.applied) && s.job(&c).is_some_and(|j| !j.applied));
}
