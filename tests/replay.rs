//! Replay hints right for their kind: what an attacker on the path runs with each stolen secret,
//! checked on the bundled captures against their truth files (what the generators sent).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures").join(name)
}

fn truth(name: &str) -> Vec<Value> {
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(capture(&format!("{name}.truth.json"))).unwrap()).unwrap();
    t["leaks"].as_array().unwrap().clone()
}

fn replay_of(alerts: &[Value], secret: &str) -> String {
    let a = alerts.iter().find(|a| a["secret"] == secret).unwrap_or_else(|| panic!("no alert for {secret}"));
    a["replay"].as_str().unwrap().to_string()
}

#[test]
fn a_refresh_token_is_replayed_at_the_token_endpoint_and_a_client_secret_as_client_credentials() {
    let alerts = alerts_of(&capture("kinds.pcap"), &["--reveal"]);
    let t = truth("kinds");
    // The alert at that location, whose secret the generator sent (independent of plainsight's output).
    let find = |loc: &str| {
        let a = alerts.iter().find(|a| a["location"].as_str().unwrap().ends_with(loc)).expect(loc);
        let secret = a["secret"].as_str().unwrap().to_string();
        assert!(t.iter().any(|l| l["secret"] == secret.as_str()), "{loc}: not in the truth");
        secret
    };
    let refresh = find("refresh_token");
    assert_eq!(
        replay_of(&alerts, &refresh),
        format!("curl -d grant_type=refresh_token -d 'refresh_token={refresh}' 'http://shop.lab/oauth/token'")
    );
    let client_secret = find("client_secret");
    let r = replay_of(&alerts, &client_secret);
    assert!(r.starts_with("curl -d grant_type=client_credentials"), "{r}");
    assert!(
        r.contains(&format!("'client_secret={client_secret}'")) && r.ends_with("'http://shop.lab/oauth/token'"),
        "{r}"
    );
}

#[test]
fn an_snmp_v1_community_is_replayed_with_v1_and_a_v2c_one_with_v2c() {
    let alerts = alerts_of(&capture("snmp.pcap"), &["--reveal"]);
    let mut seen = 0;
    for a in &alerts {
        let community = a["secret"].as_str().unwrap();
        let want = if a["location"] == "community v1" { "-v1" } else { "-v2c" };
        let r = a["replay"].as_str().unwrap();
        assert!(r.starts_with(&format!("snmpwalk {want} -c '{community}' ")), "{r}");
        seen += 1;
    }
    assert_eq!(seen, truth("snmp").len());
    assert!(alerts.iter().any(|a| a["location"] == "community v1"), "the capture has a v1 community");
}

#[test]
fn a_token_in_a_redirect_is_replayed_at_the_location_it_was_sent_to_query_and_all() {
    let alerts = alerts_of(&capture("kinds.pcap"), &["--reveal"]);
    let a =
        alerts.iter().find(|a| a["location"].as_str().unwrap().starts_with("header Location")).expect("location token");
    let secret = a["secret"].as_str().unwrap();
    assert!(truth("kinds").iter().any(|l| l["secret"] == secret), "the generator sent it");
    assert_eq!(a["replay"].as_str().unwrap(), format!("curl 'http://shop.lab/cb?token={secret}'"));
}
