//! WebSocket messages (`http::WsMessage`, text or binary, either direction): the ways today's clients
//! authenticate once the connection is upgraded.
//!
//! - JSON messages, at any depth (`{"type":"auth","token":...}`, `{"action":"login","password":...}`):
//!   password-like keys are logins (`websocket_login`), token-like keys are tokens (`websocket_token`),
//!   an `Authorization` value by its scheme (Bearer, Basic decoded), by the rules of the HTTP detectors
//!   ([`super::common`], the token keys of [`super::response_token`]).
//! - GraphQL over WebSocket (`graphql-ws`, `subscriptions-transport-ws`): the `connection_init` payload
//!   (`authToken`, `Authorization`, `headers`...), walked as JSON.
//! - Socket.IO (v5 over Engine.IO v4): `40{"token":...}` (a CONNECT with its auth payload, after an
//!   optional namespace) and events (`42["login",{...}]`), their JSON walked.
//! - STOMP over WebSocket: a `CONNECT` or `STOMP` frame with `login` and `passcode` headers is a login,
//!   its verdict given by the server's `CONNECTED` or `ERROR` frame ([`stomp_answer`], held by the
//!   pipeline as HTTP logins are, [`super::verdict`]); token headers (`Authorization: Bearer`) of the
//!   frame are tokens.
//! - JWTs anywhere else in a message, by shape.
//!
//! Spans are in [`Field::Body`], the message's kept bytes: [`excerpt`] shows the message with a slot on
//! each. A token handed out by the server in a message is reported as one sent by the client is (the
//! evidence says who sent it). Detection is linear in the message.

use std::ops::Range;

use super::common::{is_password_name, is_user_name, looks_like_token, norm, password_finding, short, token_finding};
use super::json::{self, Json};
use super::{Field, Finding, Found, LeakKind, LoginInfo, Span, TlsNote, Verdict, jwt};
use crate::http::WsMessage;
use crate::reassembly::Side;
use crate::secret::Text;

/// The request numbers a WebSocket login is held under in [`super::verdict::Awaiting`] (beside the
/// HTTP requests of its connection, whose numbers never come near): this plus its message number.
pub const SEQ_BASE: u64 = 1 << 62;

/// The number a client message's login is held under (its answer settles it).
pub fn seq_of(message: u64) -> u64 {
    SEQ_BASE.saturating_add(message)
}

/// Keys whose string value is a token (normalised, see [`norm`]), beyond the response-token keys.
const MORE_TOKEN_KEYS: &[&str] = &["authorization", "auth", "xauthtoken", "xapikey", "xaccesstoken", "bearer"];

fn is_token_key(k: &str) -> bool {
    let n = norm(k);
    super::response_token::TOKEN_KEYS.contains(&n.as_str()) || MORE_TOKEN_KEYS.contains(&n.as_str())
}

/// Run the WebSocket detectors on one message.
pub fn detect(cfg: &super::Config, from: Side, msg: &WsMessage<'_>, out: &mut Found) {
    let start = out.findings.len();
    let data = msg.data;
    let by = if from == Side::Server { ", sent by the server" } else { "" };
    let cx = Cx { ts: msg.ts, by };
    if !stomp_connect(data, &cx, out) {
        if let Some((at, label)) = json_start(data) {
            // A document cut by the kept prefix still gives what was complete before the cut.
            if let Some(v) = json::parse(&data[at..]) {
                let label = match label {
                    Some(l) => l,
                    None if v.get("type").and_then(Json::as_str) == Some("connection_init") => {
                        "GraphQL over WebSocket connection_init payload"
                    }
                    None => "JSON WebSocket message",
                };
                walk(&v, "", at, label, &cx, out);
            }
        }
    }
    jwts(data, start, &cx, out);
    super::finish(cfg, out, start);
}

/// What every finding of a message shares.
struct Cx {
    ts: crate::time::Timestamp,
    by: &'static str,
}

fn body(r: Range<usize>) -> Span {
    Span::new(Field::Body, r)
}

/// Where a JSON document starts in a message: the message itself, or after a Socket.IO packet's type,
/// namespace and acknowledgement id. With the Socket.IO packet's name.
fn json_start(data: &[u8]) -> Option<(usize, Option<&'static str>)> {
    let first = data.iter().position(|b| !b.is_ascii_whitespace())?;
    if matches!(data[first], b'{' | b'[') {
        return Some((first, None));
    }
    // Engine.IO message (4), then the Socket.IO packet type.
    if data.len() < 3 || data[0] != b'4' || !data[1].is_ascii_digit() {
        return None;
    }
    let label = match data[1] {
        b'0' => "Socket.IO CONNECT auth payload",
        b'2' | b'3' | b'5' | b'6' => "Socket.IO event",
        b'4' => "Socket.IO connect error",
        _ => "Socket.IO packet",
    };
    let mut i = 2;
    if data[i] == b'/' {
        // A namespace, up to its comma (a name is short).
        let comma = data[i..data.len().min(i + 256)].iter().position(|&c| c == b',')?;
        i += comma + 1;
    }
    while i < data.len() && data[i].is_ascii_digit() && i < 32 {
        i += 1;
    }
    matches!(data.get(i), Some(b'{' | b'[')).then_some((i, Some(label)))
}

/// The user beside a password in a JSON object, or in an object beside it.
fn json_user(m: &[(String, Json)]) -> Option<&str> {
    let here = m.iter().find(|(k, v)| is_user_name(k) && v.as_str().is_some_and(|s| !s.is_empty()));
    here.and_then(|(_, v)| v.as_str()).or_else(|| {
        m.iter().find_map(|(_, v)| match v {
            Json::Object(inner) => {
                inner.iter().find(|(k, v)| is_user_name(k) && v.as_str().is_some()).and_then(|(_, v)| v.as_str())
            }
            _ => None,
        })
    })
}

/// Walk a JSON document found at offset `base` of the message.
fn walk(v: &Json, path: &str, base: usize, label: &str, cx: &Cx, out: &mut Found) {
    match v {
        Json::Object(m) => {
            let user = json_user(m);
            for (k, val) in m {
                let p = if path.is_empty() { short(k, 64) } else { format!("{path}.{}", short(k, 64)) };
                match val {
                    Json::Str(s, r) if is_password_name(k) => {
                        let r = base + r.start..base + r.end;
                        out.masks.push(body(r.clone()));
                        if s.is_empty() {
                            continue;
                        }
                        let ev = format!("{label} with a password field{}", cx.by);
                        let f = password_finding(
                            LeakKind::WebsocketLogin,
                            s,
                            user,
                            format!("websocket json field {p}"),
                            ev,
                        );
                        out.push(f.at(body(r)));
                    }
                    Json::Str(s, r) if is_token_key(k) => {
                        let r = base + r.start..base + r.end;
                        out.masks.push(body(r.clone()));
                        // The wire form is the decoded one when nothing was escaped: a scheme is then
                        // cut off the span too.
                        let plain = s.len() == r.len();
                        token_value(s, r, plain, user, &format!("websocket json field {p}"), label, cx, out);
                    }
                    _ => walk(val, &p, base, label, cx, out),
                }
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate().take(256) {
                walk(x, &format!("{path}[{i}]"), base, label, cx, out);
            }
        }
        _ => {}
    }
}

/// A token-bearing value (`r` its span, `plain` when the span holds exactly `s`): `Bearer x` and
/// `Basic b64` by their scheme, otherwise the value itself when it looks like a token.
#[allow(clippy::too_many_arguments)]
fn token_value(
    s: &str,
    r: Range<usize>,
    plain: bool,
    user: Option<&str>,
    loc: &str,
    label: &str,
    cx: &Cx,
    out: &mut Found,
) {
    let t = s.trim();
    let (scheme, rest) = match t.split_once(char::is_whitespace) {
        Some((a, b)) if matches!(a.to_ascii_lowercase().as_str(), "bearer" | "basic" | "token" | "jwt") => {
            (a.to_ascii_lowercase(), b.trim())
        }
        _ => (String::new(), t),
    };
    // The span of `rest` on the wire when it can be told.
    let span = match (plain, s.find(rest)) {
        (true, Some(k)) if !rest.is_empty() => r.start + k..r.start + k + rest.len(),
        _ => r,
    };
    if scheme == "basic" {
        let decoded = crate::proto::sasl::b64(rest.as_bytes()).map(|d| String::from_utf8_lossy(&d).into_owned());
        if let Some((u, pw)) = decoded.as_deref().and_then(|d| d.split_once(':')).filter(|(_, pw)| !pw.is_empty()) {
            let ev = format!("{label} with Basic credentials (base64 of user:password){}", cx.by);
            out.push(password_finding(LeakKind::WebsocketLogin, pw, Some(u), loc.to_string(), ev).at(body(span)));
        }
        return;
    }
    if rest.len() < 8 || rest.contains(char::is_whitespace) || !(jwt::is_jwt(rest) || looks_like_token(rest)) {
        return;
    }
    let what = if scheme.is_empty() { "token" } else { "Bearer token" };
    let ev = format!("{what} in a {label}{}", cx.by);
    let f = token_finding(
        LeakKind::WebsocketToken,
        LeakKind::WebsocketToken,
        rest,
        super::common::user_text(user.filter(|u| !u.is_empty() && *u != rest)),
        loc.to_string(),
        &ev,
        cx.ts,
    );
    out.push(f.at(body(span)));
}

/// One line of a STOMP frame head from `at`: its range without the line break, and where the next
/// line starts.
fn stomp_line(data: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    if at >= data.len() || data[at] == 0 {
        return None;
    }
    let nl = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |k| at + k);
    let end = if nl > at && data[nl - 1] == b'\r' { nl - 1 } else { nl };
    Some((at..end, nl + 1))
}

/// A STOMP `CONNECT` or `STOMP` frame: its `login`/`passcode` and token headers. Whether the message is
/// one.
fn stomp_connect(data: &[u8], cx: &Cx, out: &mut Found) -> bool {
    // Heart-beats (end-of-lines) may come first.
    let mut at = data.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(data.len());
    let Some((cmd, next)) = stomp_line(data, at) else { return false };
    if !matches!(&data[cmd], b"CONNECT" | b"STOMP") {
        return false;
    }
    at = next;
    let (mut login, mut passcode) = (None, None);
    let mut lines = 0;
    while let Some((line, next)) = stomp_line(data, at) {
        at = next;
        lines += 1;
        if line.is_empty() || lines > 64 {
            break;
        }
        let Some(colon) = memchr::memchr(b':', &data[line.clone()]) else { continue };
        let name = String::from_utf8_lossy(&data[line.start..line.start + colon]);
        let vr = line.start + colon + 1..line.end;
        let value = String::from_utf8_lossy(&data[vr.clone()]);
        match name.as_ref() {
            "login" => login = login.or(Some(value.into_owned())),
            "passcode" => {
                out.masks.push(body(vr.clone()));
                passcode = passcode.or(Some((value.into_owned(), vr)));
            }
            n => {
                let nn = norm(n);
                if nn == "authorization" || nn.contains("token") || nn.contains("apikey") {
                    out.masks.push(body(vr.clone()));
                    let loc = format!("websocket stomp header {}", short(n, 64));
                    token_value(&value, vr, true, login.as_deref(), &loc, "STOMP CONNECT frame", cx, out);
                }
            }
        }
    }
    if let Some((pw, r)) = passcode.filter(|(pw, _)| !pw.is_empty()) {
        let ev = format!("STOMP CONNECT login with passcode{}", cx.by);
        let mut f = password_finding(
            LeakKind::WebsocketLogin,
            &pw,
            login.as_deref(),
            "websocket stomp header passcode".into(),
            ev,
        );
        f.login = Some(LoginInfo {
            mechanism: "STOMP CONNECT",
            verdict: Verdict::Unknown,
            tls: TlsNote::NotOffered,
            transcript: Vec::new(),
            material: None,
        });
        out.push(f.at(body(r)));
    }
    true
}

/// JWTs anywhere in the message that no other rule claimed.
fn jwts(data: &[u8], start: usize, cx: &Cx, out: &mut Found) {
    if data.len() < 16 || memchr::memmem::find(data, b"eyJ").is_none() {
        return;
    }
    for (s, e) in jwt::find_all(data) {
        let tok = String::from_utf8_lossy(&data[s..e]);
        if out.findings[start..].iter().any(|f| f.secret.expose().contains(tok.as_ref())) {
            continue;
        }
        let ev = format!("JWT in a WebSocket message{}", cx.by);
        let f = token_finding(
            LeakKind::WebsocketToken,
            LeakKind::WebsocketToken,
            &tok,
            None,
            "websocket message".into(),
            &ev,
            cx.ts,
        );
        out.push(f.at(body(s..e)));
    }
}

/// Whether a finding waits for the server's answer for its verdict (a STOMP login).
pub fn awaits_answer(f: &Finding) -> bool {
    f.kind == LeakKind::WebsocketLogin && f.login.as_ref().is_some_and(|l| l.mechanism == "STOMP CONNECT")
}

/// The server's answer to a STOMP `CONNECT`, as the HTTP status that settles a login the same way
/// ([`super::verdict::settle`]): `CONNECTED` is 200 (accepted), `ERROR` 401 (refused).
pub fn stomp_answer(data: &[u8]) -> Option<u16> {
    let at = data.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
    let (cmd, _) = stomp_line(data, at)?;
    match &data[cmd] {
        b"CONNECTED" => Some(200),
        b"ERROR" => Some(401),
        _ => None,
    }
}

/// The message as it crossed: the upgrade's target, which side sent what, and the message on one line
/// with a slot on every secret.
pub fn excerpt(from: Side, msg: &WsMessage<'_>, found: &Found) -> Vec<Text> {
    let mut first = Text::lit("GET ");
    first.push_text(&super::excerpt::target_alone(msg.target));
    first.push_lit(" HTTP/1.1 (upgraded to WebSocket)");
    vec![first, message_line(from, msg), super::excerpt::body_line(msg.data, found)]
}

/// Which side sent what: `client text message #3 (96 bytes, permessage-deflate):` (also the line the
/// follow view keeps of a message from before the leak).
pub fn message_line(from: Side, msg: &WsMessage<'_>) -> Text {
    let who = if from == Side::Client { "client" } else { "server" };
    let what = if msg.text { "text" } else { "binary" };
    // The message's own length, never its compressed one: how well a message compresses depends on
    // the secret in it, and a redacted output tells only the secret's length.
    let size = if msg.truncated {
        format!("first {} bytes kept", msg.data.len())
    } else {
        format!("{} bytes", msg.data.len())
    };
    let mut notes = vec![size];
    if msg.compressed {
        notes.push("permessage-deflate".to_string());
    }
    if msg.incomplete {
        notes.push("cut short".to_string());
    }
    Text::lit(format!("{who} {what} message #{} ({}):", msg.seq + 1, notes.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Reveal;
    use crate::time::Timestamp;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl";

    fn msg(data: &[u8]) -> WsMessage<'_> {
        WsMessage {
            text: true,
            data,
            truncated: false,
            incomplete: false,
            compressed: false,
            wire_len: data.len() as u64,
            ts: Timestamp::ZERO,
            seq: 0,
            peer_messages: 0,
            target: "/ws",
            host: Some("ws.lab"),
        }
    }

    fn found(data: &[u8]) -> Found {
        let mut f = Found::default();
        detect(&super::super::Config::default(), Side::Client, &msg(data), &mut f);
        f
    }

    /// (kind, secret, user, location) of each finding.
    fn summary(f: &Found) -> Vec<(&'static str, String, Option<String>, String)> {
        f.findings
            .iter()
            .map(|x| {
                (
                    x.kind.as_str(),
                    x.secret.expose().to_string(),
                    x.user.as_ref().map(|u| u.render(Reveal::Full)),
                    x.location.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_token_in_a_json_message_at_any_depth() {
        let data = format!(r#"{{"type":"auth","token":"{JWT}"}}"#);
        let f = found(data.as_bytes());
        assert_eq!(
            summary(&f),
            [("websocket_token", JWT.into(), Some("alice".into()), "websocket json field token".into())]
        );
        assert!(f.findings[0].evidence.contains("token in a JSON WebSocket message"), "{}", f.findings[0].evidence);
        let deep =
            r#"{"op":"hello","d":{"properties":{"os":"linux"},"auth":{"access_token":"op4que-T0ken-abcdef123"}}}"#;
        assert_eq!(summary(&found(deep.as_bytes()))[0].1, "op4que-T0ken-abcdef123");
    }

    #[test]
    fn graphql_connection_init_with_an_auth_token_or_a_bearer_authorization() {
        let data = format!(r#"{{"type":"connection_init","payload":{{"authToken":"{JWT}"}}}}"#);
        let f = found(data.as_bytes());
        assert_eq!(f.findings.len(), 1);
        assert!(f.findings[0].evidence.contains("GraphQL over WebSocket connection_init"));
        let data = r#"{"type":"connection_init","payload":{"headers":{"Authorization":"Bearer s3cr3t-opaque-tok"}}}"#;
        let f = found(data.as_bytes());
        assert_eq!(summary(&f)[0].1, "s3cr3t-opaque-tok");
        // The span is the token alone, after the scheme.
        let r = f.findings[0].span.clone().unwrap().range;
        assert_eq!(&data[r], "s3cr3t-opaque-tok");
        assert!(f.findings[0].evidence.contains("Bearer token"));
    }

    #[test]
    fn socket_io_connect_auth_and_login_events() {
        let data = format!(r#"40{{"token":"{JWT}"}}"#);
        let f = found(data.as_bytes());
        assert_eq!(f.findings.len(), 1);
        assert!(f.findings[0].evidence.contains("Socket.IO CONNECT auth payload"));
        let f = found(br#"40/admin,{"token":"abcdef0123456789"}"#);
        assert_eq!(summary(&f)[0].1, "abcdef0123456789");
        let f = found(br#"421["login",{"username":"bob","password":"Hunter2!"}]"#);
        assert_eq!(
            summary(&f),
            [("websocket_login", "Hunter2!".into(), Some("bob".into()), "websocket json field [1].password".into())]
        );
        assert!(f.findings[0].evidence.contains("Socket.IO event"));
    }

    #[test]
    fn a_stomp_connect_with_login_and_passcode_and_a_bearer_header() {
        let data = b"\nCONNECT\naccept-version:1.2\nhost:/\nlogin:guest-user\npasscode:G0-stomp!\nAuthorization:Bearer opaque-stomp-token-1\n\n\0";
        let f = found(data);
        assert_eq!(
            summary(&f),
            [
                (
                    "websocket_token",
                    "opaque-stomp-token-1".into(),
                    Some("guest-user".into()),
                    "websocket stomp header Authorization".into()
                ),
                (
                    "websocket_login",
                    "G0-stomp!".into(),
                    Some("guest-user".into()),
                    "websocket stomp header passcode".into()
                ),
            ]
        );
        assert!(awaits_answer(&f.findings[1]) && !awaits_answer(&f.findings[0]));
        assert_eq!(stomp_answer(b"CONNECTED\nversion:1.2\n\n\0"), Some(200));
        assert_eq!(stomp_answer(b"\r\nERROR\nmessage:Bad credentials\n\n\0"), Some(401));
        assert_eq!(stomp_answer(b"MESSAGE\n\n\0"), None);
        // A SEND whose body says passcode: is not a login.
        assert!(found(b"SEND\ndestination:/q\n\nlogin:a\npasscode:b\0").findings.is_empty());
    }

    #[test]
    fn chat_about_tokens_and_binary_noise_are_not_credentials() {
        for neg in [
            &br#"{"type":"chat","text":"did you get my token? the password is on the wiki"}"#[..],
            br#"{"type":"token","token":"short"}"#,
            br#"{"type":"auth","token":"not a token at all"}"#,
            b"42[\"typing\",{\"user\":\"bob\"}]",
            &[0u8, 1, 2, 0xff, b'{', b'"', 0x80][..],
        ] {
            assert!(found(neg).findings.is_empty(), "{}", String::from_utf8_lossy(neg));
        }
    }

    #[test]
    fn the_excerpt_shows_the_message_with_slots_never_the_secrets() {
        let data = format!(r#"{{"type":"auth","token":"{JWT}","password":"pw-in-ws-1"}}"#);
        let f = found(data.as_bytes());
        let ex = excerpt(Side::Client, &msg(data.as_bytes()), &f);
        let red: Vec<String> = ex.iter().map(|t| t.render(Reveal::Redacted)).collect();
        assert_eq!(red[0], "GET /ws HTTP/1.1 (upgraded to WebSocket)");
        assert!(red[1].starts_with("client text message #1"), "{red:?}");
        assert!(!red[2].contains(JWT) && !red[2].contains("pw-in-ws-1"), "{red:?}");
        assert!(red[2].starts_with(r#"{"type":"auth","token":"…["#), "{red:?}");
        let full: Vec<String> = ex.iter().map(|t| t.render(Reveal::Full)).collect();
        assert_eq!(full[2], data);
    }

    #[test]
    fn the_excerpt_of_a_compressed_message_tells_its_length_never_its_compressed_size() {
        // How well a message compresses depends on the secret in it: two secrets of one length must give
        // the same redacted excerpt.
        let render = |secret: &str, wire_len: u64| {
            let data = format!(r#"{{"type":"auth","token":"{secret}"}}"#);
            let m = WsMessage { compressed: true, wire_len, ..msg(data.as_bytes()) };
            let f = found(data.as_bytes());
            let ex: Vec<String> = excerpt(Side::Client, &m, &f).iter().map(|t| t.render(Reveal::Redacted)).collect();
            let fp = f.findings[0].secret.fingerprint();
            ex.iter().map(|l| l.replace(&fp, "FP")).collect::<Vec<_>>()
        };
        assert_eq!(render("aaaaaaaaaaaaaaaaaaaa", 30), render("q8Zr2LmX0vKp7TfWn4Yc", 55));
        assert!(
            render("aaaaaaaaaaaaaaaaaaaa", 30)[1].contains("(46 bytes, permessage-deflate)"),
            "the message's own length"
        );
    }
}
