//! One probe per rule of CONTRACT.md §1-3: each runs on a freshly reset mock and says whether
//! the rule held. A probe that depends on another rule's behaviour (for example EL-KEEP-ONCE on
//! plain fetches purging at all) checks only its own rule, so each deviation breaks exactly the
//! rules it names.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::support::*;

/// Runs one probe per rule of CONTRACT.md §1-3 (each on a freshly reset mock) and returns the IDs
/// of the rules the mock broke.
pub async fn broken_rules(t: &T) -> BTreeSet<&'static str> {
    let mut broken = BTreeSet::new();
    for (id, probe) in PROBES {
        t.control("/reset", json!({})).await;
        if !probe(t).await {
            broken.insert(*id);
        }
    }
    broken
}

type Probe = for<'a> fn(&'a T) -> futures_util::future::BoxFuture<'a, bool>;

macro_rules! probe {
    ($id:literal, |$t:ident| $body:block) => {
        ($id, {
            fn probe($t: &T) -> futures_util::future::BoxFuture<'_, bool> {
                Box::pin(async move $body)
            }
            probe as Probe
        })
    };
}

static PROBES: &[(&str, Probe)] = &[
    probe!("EL-RPC-ENVELOPE", |t| {
        let mut ok = true;
        for id in [json!(7), json!("abc-1")] {
            for method in ["GetAPI", "NoSuchMethod"] {
                let req = json!({"method": method, "params": {}, "id": id});
                let (_, b) = t.call_at("12.5", req).await;
                ok &= b["id"] == id && (b.get("result").is_some() != b.get("error").is_some());
            }
        }
        ok
    }),
    probe!("EL-RPC-ERROR-SHAPE", |t| {
        let b = t.call("GetAsyncResult", json!({"asyncHandle": "x"})).await;
        let e = &b["error"];
        e["code"].as_u64() == Some(500) && e["name"].is_string() && e["message"].is_string()
    }),
    probe!("EL-RPC-ERROR-HTTP", |t| {
        let req = json!({"method": "GetAsyncResult", "params": {"asyncHandle": "x"}, "id": 1});
        let (status, b) = t.call_at("12.5", req).await;
        status == 200 && is_error(&b)
    }),
    probe!("EL-RPC-AUTH", |t| {
        let body = json!({"method": "GetAPI", "params": {}, "id": 1}).to_string();
        let (none, _) = t.raw("/json-rpc/12.5", body.clone(), None).await;
        let (wrong, _) = t.raw("/json-rpc/12.5", body, Some((USER, "wrong"))).await;
        none == 401 && wrong == 401
    }),
    probe!("EL-RPC-UNKNOWN-METHOD", |t| {
        let b = t.call("NoSuchMethod", json!({})).await;
        b["error"]["name"] == "xUnknownAPIMethod"
    }),
    probe!("EL-RPC-UNUSED-PARAMS", |t| {
        let b = t.call("GetLimits", json!({"bogus": 1})).await;
        b["result"]["unusedParameters"]["bogus"] == 1 && b["result"]["volumeSizeMin"].is_u64()
    }),
    probe!("EL-VER-GETAPI", |t| {
        let mut ok = true;
        for v in ["12.5", "9.0", "1.0"] {
            let (_, b) = t
                .call_at(v, json!({"method": "GetAPI", "params": {}, "id": 1}))
                .await;
            let r = &b["result"];
            ok &= r.get("currentVersion").is_some() && version_in(&r["supportedVersions"], v);
        }
        ok
    }),
    probe!("EL-VER-CLUSTER", |t| {
        let r = t.result("GetClusterVersionInfo", json!({})).await;
        r["clusterAPIVersion"].is_string() && r["clusterVersion"].is_string()
    }),
    probe!("EL-GAR-PARAMS", |t| {
        let h = t.done_job().await;
        let mut ok = true;
        // A numeric string is register E7's (looked up or refused), not a bad parameter.
        for params in [
            json!({}),
            json!({"asyncHandle": format!("handle-{h}")}),
            json!({"asyncHandle": 1.5}),
        ] {
            let b = t.call("GetAsyncResult", params).await;
            ok &= is_error(&b) && code_500(&b);
        }
        ok
    }),
    probe!("EL-GAR-STATUS", |t| {
        let h = t.job(&[1000], "success", "Clone").await;
        let a = t.gar(h, Some(true)).await;
        sleep_ms(1500).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["status"] == "running" && b["result"]["status"] == "complete"
    }),
    probe!("EL-GAR-RUNNING", |t| {
        let h = t.job(&[1000], "failure", "Clone").await;
        let r = &t.gar(h, Some(true)).await["result"];
        r["status"] == "running" && r.get("result").is_none() && r.get("error").is_none()
    }),
    probe!("EL-GAR-DETAILS", |t| {
        let h = t.job(&[1000, 1000], "success", "Clone").await;
        let a = t.gar(h, Some(true)).await;
        sleep_ms(1200).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["details"].is_object() && b["result"]["details"]["percentComplete"] == 50
    }),
    probe!("EL-GAR-COMPLETE", |t| {
        let mut ok = true;
        for (outcome, want_result) in [("success", true), ("failure", false)] {
            let h = t.job(&[500], outcome, "Clone").await;
            sleep_ms(600).await;
            let r = &t.gar(h, Some(true)).await["result"];
            if r["status"] == "complete" {
                ok &= r.get("result").is_some() == want_result
                    && r.get("error").is_some() != want_result
                    && r.get("details").is_none();
            }
        }
        ok
    }),
    probe!("EL-GAR-ASYNC-ERROR", |t| {
        let h = t.job(&[500], "failure", "BulkVolume").await;
        sleep_ms(600).await;
        let e = &t.gar(h, Some(true)).await["result"]["error"];
        e["name"].is_string() && e["message"].is_string()
    }),
    probe!("EL-GAR-TIMES", |t| {
        let h = t.job(&[1500, 1500], "success", "Clone").await;
        sleep_ms(1000).await;
        let a = t.gar(h, Some(true)).await["result"].clone();
        sleep_ms(2500).await;
        let b = t.gar(h, Some(true)).await["result"].clone();
        [a, b].iter().all(|r| {
            r["resultType"].is_string()
                && is_iso_z(&r["createTime"])
                && is_iso_z(&r["lastUpdateTime"])
                && r["lastUpdateTime"].as_str() >= r["createTime"].as_str()
        })
    }),
    probe!("EL-GAR-STABLE", |t| {
        let h = t.job(&[1000, 1000, 1000], "success", "Clone").await;
        let mut seen: Vec<Value> = Vec::new();
        for _ in 0..7 {
            let b = t.gar(h, Some(true)).await;
            if let Some(r) = b.get("result") {
                seen.push(r.clone());
            }
            sleep_ms(700).await;
        }
        let first = &seen[0];
        let mut ok = true;
        for w in seen.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            ok &= b["createTime"] == first["createTime"] && b["resultType"] == first["resultType"];
            ok &= b["lastUpdateTime"].as_str() >= a["lastUpdateTime"].as_str();
            ok &= !(a["status"] != "running" && b["status"] == "running");
            if a["status"] != "running" {
                ok &= a.get("result") == b.get("result") && a.get("error") == b.get("error");
            }
        }
        ok
    }),
    probe!("EL-GAR-UNKNOWN", |t| {
        let b = t.gar(999_999_999, None).await;
        let name = b["error"]["name"].as_str().unwrap_or("");
        code_500(&b) && ["xAsyncHandleDoesNotExist", "xDBNoSuchPath"].contains(&name)
    }),
    probe!("EL-KEEP-RUNNING", |t| {
        let h = t.job(&[2000], "success", "Clone").await;
        let a = t.gar(h, None).await;
        let b = t.gar(h, Some(false)).await;
        let c = t.gar(h, Some(true)).await;
        [a, b, c].iter().all(|x| x["result"]["status"] == "running")
    }),
    probe!("EL-KEEP-TRUE", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, Some(true)).await;
        let b = t.gar(h, Some(true)).await;
        let c = t.gar(h, Some(true)).await;
        a.get("result").is_some()
            && [&b, &c]
                .iter()
                .all(|x| x["result"]["result"] == a["result"]["result"])
    }),
    probe!("EL-KEEP-DEFAULT", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, None).await;
        let b = t.gar(h, None).await;
        let c = t.gar(h, Some(true)).await;
        a["result"]["result"].is_object() && is_error(&b) && is_error(&c)
    }),
    probe!("EL-KEEP-FALSE", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, Some(false)).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["result"].is_object() && is_error(&b)
    }),
    probe!("EL-KEEP-FAILED-CALL", |t| {
        let h = t.done_job().await;
        let bad = json!({"asyncHandle": h, "keepResult": "yes"});
        let a = t.call("GetAsyncResult", bad).await;
        let b = t.gar(h, Some(true)).await;
        is_error(&a) && b["result"]["result"].is_object()
    }),
    probe!("EL-KEEP-ONCE", |t| {
        let h = t.done_job().await;
        let answers = futures_util::future::join_all((0..8).map(|_| t.gar(h, None))).await;
        let got = answers.iter().filter(|b| b.get("result").is_some()).count();
        // Only meaningful where a plain fetch purges at all (EL-KEEP-DEFAULT).
        let purges = is_error(&t.gar(h, None).await);
        !purges || got == 1
    }),
    probe!("EL-HANDLE-UNIQUE", |t| {
        let a = t.job(&[5000], "success", "Clone").await;
        let b = t.job(&[5000], "success", "Clone").await;
        a != b
    }),
    probe!("EL-LIST-SHAPE", |t| {
        t.job(&[1000], "success", "Clone").await;
        t.job(&[], "failure", "BulkVolume").await;
        let r = t.result("ListAsyncResults", json!({})).await;
        r["asyncHandles"].as_array().is_some_and(|l| {
            !l.is_empty()
                && l.iter().all(|e| {
                    e["asyncResultID"].is_u64()
                        && e["completed"].is_boolean()
                        && e["createTime"].is_string()
                        && e["lastUpdateTime"].is_string()
                        && e["resultType"].is_string()
                        && e["success"].is_boolean()
                        && e["data"].is_object()
                })
        })
    }),
    probe!("EL-LIST-FILTER", |t| {
        t.job(&[], "success", "Clone").await;
        t.job(&[], "failure", "BulkVolume").await;
        let r = t
            .result(
                "ListAsyncResults",
                json!({"asyncResultTypes": ["BulkVolume"]}),
            )
            .await;
        let l = r["asyncHandles"].as_array().cloned().unwrap_or_default();
        !l.is_empty() && l.iter().all(|e| e["resultType"] == "BulkVolume")
    }),
    probe!("EL-LIST-NO-PURGE", |t| {
        let h = t.done_job().await;
        t.result("ListAsyncResults", json!({})).await;
        t.gar(h, Some(true)).await["result"]["result"].is_object()
    }),
    probe!("EL-LIST-AGREES", |t| {
        let good = t.job(&[500], "success", "Clone").await;
        let bad = t.job(&[500], "failure", "Clone").await;
        let running = t.job(&[5000], "success", "Clone").await;
        sleep_ms(600).await;
        let mut gars = std::collections::BTreeMap::new();
        for h in [good, bad, running] {
            gars.insert(h, t.gar(h, Some(true)).await["result"].clone());
        }
        let list = t.result("ListAsyncResults", json!({})).await;
        let mut ok = true;
        for e in list["asyncHandles"].as_array().cloned().unwrap_or_default() {
            let Some(g) = e["asyncResultID"].as_u64().and_then(|h| gars.get(&h)) else {
                continue;
            };
            if g.is_null() {
                continue;
            }
            let complete = g["status"] != "running";
            if let Some(c) = e["completed"].as_bool() {
                ok &= c == complete;
            }
            if complete {
                let success = g.get("result").is_some() && g.get("error").is_none();
                ok &= e["success"].as_bool() == Some(success);
                if success {
                    ok &= e["data"] == g["result"];
                }
            }
        }
        ok
    }),
    probe!("EL-LIST-PURGED", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, None).await;
        let list = t.result("ListAsyncResults", json!({})).await;
        let listed = list["asyncHandles"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["asyncResultID"] == h));
        // Only meaningful where the fetch invalidated the handle (EL-KEEP-DEFAULT).
        let invalidated = is_error(&t.gar(h, Some(true)).await);
        a.get("result").is_some() && !(invalidated && listed)
    }),
    probe!("EL-CLONE-START", |t| {
        let acct = t.result("AddAccount", json!({"username": "probe"})).await;
        let size = 1_000_000_000u64;
        let params = json!({"name": "src", "accountID": acct["accountID"], "totalSize": size});
        let vol = t.result("CreateVolume", params).await;
        let c = t
            .result(
                "CloneVolume",
                json!({"volumeID": vol["volumeID"], "name": "dst"}),
            )
            .await;
        let (Some(h), Some(clone_id)) = (c["asyncHandle"].as_u64(), c["cloneID"].as_u64()) else {
            return false;
        };
        sleep_ms(4500).await;
        let r = &t.gar(h, Some(true)).await["result"];
        c["volumeID"].is_u64()
            && r["status"] != "running"
            && r["resultType"] == "Clone"
            && r["result"]["cloneID"].as_u64() == Some(clone_id)
    }),
];
