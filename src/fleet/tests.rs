use super::*;
use crate::alert::{AlertBook, Collector, Context};
use crate::detect::{Finding, LeakKind};

/// An alert as a sensor's book makes it: a Bearer token with the token in the path too.
fn sensor_alert(token: &str, count: u64) -> Alert {
    let f = Finding {
        kind: LeakKind::BearerOpaque,
        class: SecretClass::Token,
        confidence: Confidence::High,
        secret: Secret::new(token),
        user: Some(Text::user("alice")),
        location: "header Authorization".into(),
        evidence: "Bearer, opaque token".into(),
        jwt: None,
        login: None,
        span: None,
    };
    let mut path = Text::lit("/api?access_token=");
    path.push_secret(Secret::new(token));
    let ctx = Context {
        ts: Timestamp::from_secs(1_795_000_000),
        client: "10.0.0.1:40000".parse().unwrap(),
        server: "10.0.0.2:80".parse().unwrap(),
        host: Some("shop.lab".into()),
        method: Some("GET".into()),
        path: Some(path),
        capture: Arc::from("x.pcap"),
        excerpt: Arc::from(Vec::<Text>::new()),
        conversation: None,
        packet: 3,
    };
    let mut book = AlertBook::default();
    let mut sink = Collector::default();
    for _ in 0..count {
        book.record(&f, &ctx, &mut sink);
    }
    book.alerts()[0].clone()
}

/// The event a sensor writes (native with the fleet fields).
fn event(a: &Alert, reveal: Reveal, sensor: &str, update: bool) -> String {
    let mut v = serde_json::to_value(a.record(reveal)).unwrap();
    let o = v.as_object_mut().unwrap();
    o.insert("sensor".into(), sensor.into());
    o.insert("run_id".into(), "r1".into());
    o.insert("event_id".into(), format!("{sensor}/r1/{}", a.id.0).into());
    o.insert("event".into(), if update { "update" } else { "new" }.into());
    v.to_string()
}

#[test]
fn a_redacted_event_renders_exactly_as_the_sensors_own_redacted_output() {
    let a = sensor_alert("tok-0123456789abcdef", 1);
    let ev = parse(&event(&a, Reveal::Redacted, "s1", false), Reveal::Full).unwrap();
    // Even --reveal cannot show what a redacted event never carried.
    for reveal in [Reveal::Redacted, Reveal::Full] {
        assert_eq!(ev.alert.shown_secret(reveal), a.shown_secret(Reveal::Redacted));
        assert_eq!(ev.alert.replay_command(reveal), a.replay_command(Reveal::Redacted));
    }
    assert_eq!(ev.alert.fingerprint(), a.fingerprint());
    assert_eq!(ev.sensor, "s1");
    assert!(!ev.alert.replay_command(Reveal::Full).contains("tok-0123"));
}

#[test]
fn one_token_seen_by_two_sensors_is_one_leak_with_both_and_updates_replace_counts() {
    let a = sensor_alert("tok-shared-between-segments", 2);
    let mut fleet = Fleet::default();
    let c = fleet.on_line(&event(&a, Reveal::Redacted, "segment-a", false), Reveal::Redacted).unwrap();
    assert!(c.new);
    assert_eq!(c.alert.count, 2);
    let c = fleet.on_line(&event(&a, Reveal::Redacted, "segment-b", false), Reveal::Redacted).unwrap();
    assert!(!c.new);
    assert_eq!(c.sensors, ["segment-a", "segment-b"]);
    assert_eq!(c.alert.count, 4);
    // segment-a's update: its count is now 5, not 5 more.
    let later = sensor_alert("tok-shared-between-segments", 5);
    let c = fleet.on_line(&event(&later, Reveal::Redacted, "segment-a", true), Reveal::Redacted).unwrap();
    assert_eq!(c.alert.count, 7);
    assert_eq!(fleet.leaks(), 1);
    // Another token is another leak.
    let other = sensor_alert("tok-only-on-segment-b", 1);
    assert!(fleet.on_line(&event(&other, Reveal::Redacted, "segment-b", false), Reveal::Redacted).unwrap().new);
    assert_eq!(fleet.leaks(), 2);
}

#[test]
fn a_revealed_event_watched_without_reveal_shows_no_secret_anywhere() {
    let a = sensor_alert("tok-revealed-by-a-lab-sensor", 1);
    let line = event(&a, Reveal::Full, "lab", false);
    assert!(line.contains("tok-revealed-by-a-lab-sensor"));
    let ev = parse(&line, Reveal::Redacted).unwrap();
    let r = ev.alert.record(Reveal::Redacted);
    let out = serde_json::to_string(&r).unwrap();
    assert!(!out.contains("tok-revealed"), "{out}");
    assert_eq!(r.secret, a.shown_secret(Reveal::Redacted));
    assert!(r.path.is_none(), "the path quoted the token: withheld");
    // With --reveal, in full.
    let ev = parse(&line, Reveal::Full).unwrap();
    assert_eq!(ev.alert.shown_secret(Reveal::Full), "tok-revealed-by-a-lab-sensor");
}

#[test]
fn lines_that_are_not_events_are_counted_and_skipped() {
    let a = sensor_alert("tok-x", 1);
    let good = event(&a, Reveal::Full, "s", false);
    let forged = good.replace(&a.fingerprint(), "000000000000");
    let mut fleet = Fleet::default();
    for l in ["", "not json", "{}", "[1,2]", "{\"kind\":\"bearer_opaque\"}", forged.as_str()] {
        assert!(fleet.on_line(l, Reveal::Full).is_none(), "{l}");
    }
    assert_eq!(fleet.skipped, 5, "blank lines are not counted");
    assert_eq!(parse(&forged, Reveal::Full).unwrap_err(), EventError::Field("secret (its fingerprint does not match)"));
}

#[test]
fn an_eve_or_ecs_event_is_read_from_its_plainsight_object() {
    let a = sensor_alert("tok-in-eve", 1);
    let mut inner = serde_json::to_value(a.record(Reveal::Redacted)).unwrap();
    inner.as_object_mut().unwrap().insert("event_id".into(), "e1".into());
    let eve = serde_json::json!({"timestamp": "x", "event_type": "alert", "host": "probe-7", "plainsight": inner});
    let ev = parse(&eve.to_string(), Reveal::Redacted).unwrap();
    assert_eq!(ev.sensor, "probe-7", "Suricata's sensor name field");
    assert_eq!(ev.event_id, "e1");
    let ecs = serde_json::json!({"observer": {"name": "probe-8"}, "plainsight": inner});
    assert_eq!(parse(&ecs.to_string(), Reveal::Redacted).unwrap().sensor, "probe-8");
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any line, however made, is an event or an error: never a panic, and never a secret shown
        /// that the line did not carry in full.
        #[test]
        fn any_line_is_an_event_or_an_error_never_a_panic(line in ".{0,400}") {
            let mut fleet = Fleet::default();
            let _ = fleet.on_line(&line, Reveal::Redacted);
            let _ = fleet.on_line(&line, Reveal::Full);
        }

        /// A real event with one field replaced by anything of any JSON type: an event or an error.
        #[test]
        fn a_real_event_with_any_field_mangled_never_panics(
            field in prop::sample::select(vec![
                "kind", "severity", "confidence", "class", "first_seen", "last_seen", "count", "client",
                "server", "secret", "redacted", "fingerprint", "jwt", "verdict", "users", "sensor", "event",
            ]),
            value in prop_oneof![
                Just(serde_json::Value::Null),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<u64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                ".{0,40}".prop_map(serde_json::Value::from),
                Just(serde_json::json!({"state": "valid"})),
                Just(serde_json::json!([1, "x", null])),
            ],
        ) {
            let a = sensor_alert("tok-mangled-0123456789", 3);
            let mut v: serde_json::Value = serde_json::from_str(&event(&a, Reveal::Redacted, "s", false)).unwrap();
            v[field] = value;
            let mut fleet = Fleet::default();
            // The same event from two sensors too: counts from anywhere are summed without overflow.
            let mut other = v.clone();
            other["sensor"] = "t".into();
            other["event_id"] = "t/1".into();
            let _ = fleet.on_line(&other.to_string(), Reveal::Full);
            if let Some(c) = fleet.on_line(&v.to_string(), Reveal::Full) {
                // Whatever was accepted renders, and shows no secret it was never given.
                let rec = c.alert.record(Reveal::Full);
                prop_assert!(!serde_json::to_string(&rec).unwrap().contains("tok-mangled-0123456789"));
            }
        }
    }
}

#[test]
fn sensors_hosts_views_are_summed_by_service_the_latest_of_each_run_replacing_the_one_before() {
    use crate::output::event::{EventFormat, EventMeta, render_hosts};
    use crate::pipeline::HostStats;
    let web = |requests, tls| HostStats {
        name: "shop.lab".into(),
        service: "http".into(),
        addr: "10.0.0.2:80".parse().ok(),
        http_requests: requests,
        credentials: 2,
        https_redirects: 0,
        tls_flows: tls,
    };
    let meta = |s: &str| EventMeta { sensor: Arc::from(s), run_id: Arc::from("r"), iface: None };
    let mut fleet = Fleet::default();
    assert!(!fleet.has_traffic());
    for (fmt, sensor, h) in [
        (EventFormat::Eve, "a", web(10, 1)),
        (EventFormat::Ecs, "b", web(5, 4)),
        // a's next view replaces its first
        (EventFormat::Native, "a", web(30, 5)),
    ] {
        let line = render_hosts(&[h], fmt, &meta(sensor), Timestamp::from_secs(1_795_000_000));
        assert!(fleet.on_line(&line, Reveal::Redacted).is_none());
        assert!(fleet.take_hosts_changed());
    }
    assert_eq!(fleet.skipped, 0);
    let hosts = fleet.hosts();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!((hosts[0].http_requests, hosts[0].tls_flows, hosts[0].credentials), (35, 9, 4));
    // A leak of a service no sensor's view names still has its row.
    let a = sensor_alert("tok-elsewhere", 1);
    let mut ev: serde_json::Value = serde_json::from_str(&event(&a, Reveal::Redacted, "c", false)).unwrap();
    ev["host"] = "api.lab".into();
    fleet.on_line(&ev.to_string(), Reveal::Redacted).unwrap();
    assert!(fleet.hosts().iter().any(|h| h.name == "api.lab"), "{:?}", fleet.hosts());
}

#[test]
fn events_of_near_a_mebibyte_fill_the_fleets_bytes_not_memory_past_them_and_are_counted() {
    // Whoever can write to the engine chooses the events: 200 of them with 100 KiB evidence each.
    let mut fleet = Fleet::with_max_bytes(1 << 20);
    for i in 0..200 {
        let mut a = sensor_alert(&format!("tok-{i:06}-abcdefghijklmnop"), 1);
        a.evidence = "e".repeat(100 << 10);
        fleet.on_line(&event(&a, Reveal::Redacted, "s", false), Reveal::Redacted);
    }
    assert!(fleet.leaks() >= 5 && fleet.leaks() < 11, "{} leaks kept", fleet.leaks());
    assert_eq!(fleet.leaks() as u64 + fleet.dropped, 200);
    assert!(fleet.quota.used() <= 1 << 20);
    // Without a bound (the count alone), all of them.
    let mut all = Fleet::default();
    for i in 0..20 {
        let mut a = sensor_alert(&format!("tok-{i:06}-abcdefghijklmnop"), 1);
        a.evidence = "e".repeat(100 << 10);
        all.on_line(&event(&a, Reveal::Redacted, "s", false), Reveal::Redacted);
    }
    assert_eq!((all.leaks(), all.dropped), (20, 0));
}

#[test]
fn user_names_an_update_brings_past_the_leaks_eight_are_counted() {
    let mut fleet = Fleet::default();
    let a = sensor_alert("tok-users-0123456789", 1);
    fleet.on_line(&event(&a, Reveal::Redacted, "s", false), Reveal::Redacted);
    let mut later = a.clone();
    later.users = (0..12).map(|i| Text::user(&format!("user{i}"))).collect();
    fleet.on_line(&event(&later, Reveal::Redacted, "s", true), Reveal::Redacted);
    let (merged, _) = fleet.alerts().next().unwrap();
    assert_eq!(merged.users.len(), crate::alert::MAX_USERS);
    // alice (the first event's) and user0..user6 kept: user7..user11 not.
    assert_eq!(fleet.users_not_kept, 5);
}
