//! Detectors, one behaviour per test, on messages built directly (no capture): recall and precision.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use plainsight::detect::{
    Config, Finding, Found, LeakKind, SecretClass, detect_request, detect_response, jwt::Validity,
};
use plainsight::http::{Body, Request, RequestLine, Response};
use plainsight::time::Timestamp;
use plainsight_synth::jwt;

const NOW: i64 = 1_795_000_000;

fn req(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
    Request {
        method: method.into(),
        target: target.into(),
        version: 1,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect(),
        body: Body { data: body.as_bytes().to_vec(), ..Body::default() },
        ts: Timestamp::from_secs(NOW),
        seq: 0,
    }
}

fn resp(headers: &[(&str, &str)], body: &str) -> Response {
    Response {
        status: 200,
        reason: "OK".into(),
        version: 1,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect(),
        body: Body { data: body.as_bytes().to_vec(), ..Body::default() },
        ts: Timestamp::from_secs(NOW),
    }
}

fn on_req(r: &Request) -> Vec<Finding> {
    let mut out = Found::default();
    detect_request(&Config::default(), r, Timestamp::from_secs(NOW), &mut out);
    for f in &out.findings {
        assert!(!f.evidence.contains(f.secret.expose()), "evidence contains the secret: {}", f.evidence);
    }
    out.findings
}

fn on_resp(r: &Response) -> Vec<Finding> {
    let mut out = Found::default();
    let line = RequestLine { method: "POST".into(), target: "/login".into(), host: Some("h".into()), seq: 0 };
    detect_response(&Config::default(), r, Some(&line), Timestamp::from_secs(NOW), &mut out);
    out.findings
}

fn kinds(f: &[Finding]) -> Vec<LeakKind> {
    f.iter().map(|x| x.kind).collect()
}

#[test]
fn bearer_scheme_in_any_case_with_jwt_or_opaque_token() {
    let t = jwt(&format!(r#"{{"sub":"alice","exp":{}}}"#, NOW + 600));
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let f = on_req(&req("GET", "/", &[("Authorization", &format!("{scheme} {t}"))], ""));
        assert_eq!(kinds(&f), vec![LeakKind::BearerJwt]);
        assert_eq!(f[0].plain_user().as_deref(), Some("alice"));
    }
    let f = on_req(&req("GET", "/", &[("Authorization", "Bearer mF_9.B5f-4.1JqM")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::BearerOpaque]);
    assert_eq!(f[0].secret.expose(), "mF_9.B5f-4.1JqM");
}

#[test]
fn basic_is_decoded_split_at_first_colon_and_tolerates_extra_spaces() {
    let b = base64::engine::general_purpose::STANDARD.encode("bob:pa:ss word");
    let f = on_req(&req("GET", "/", &[("Authorization", &format!("Basic   {b}"))], ""));
    assert_eq!(kinds(&f), vec![LeakKind::BasicAuth]);
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("bob"), "pa:ss word"));
    assert_eq!(f[0].class, SecretClass::Password);
}

#[test]
fn digest_ntlm_and_unknown_schemes_are_other_auth() {
    let f = on_req(&req("GET", "/", &[("Authorization", r#"Digest username="carol", realm="r", response="abc""#)], ""));
    assert_eq!(kinds(&f), vec![LeakKind::OtherAuth]);
    assert_eq!(f[0].plain_user().as_deref(), Some("carol"));
    assert_eq!(f[0].class, SecretClass::Material);
    let f = on_req(&req("GET", "/", &[("Proxy-Authorization", "NTLM TlRMTVNTUAADAAAAGAAYAEAAAAA=")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::OtherAuth]);
    let f = on_req(&req("GET", "/", &[("Authorization", "Turbo customAuthDataHere")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::OtherAuth]);
}

#[test]
fn bare_token_without_scheme_is_a_bearer_token() {
    let f = on_req(&req("GET", "/", &[("Authorization", "d41d8cd98f00b204e9800998ecf8427e")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::BearerOpaque]);
}

#[test]
fn api_key_headers_and_jwt_in_any_header() {
    let f = on_req(&req("GET", "/", &[("x-api-key", "k-0123456789"), ("X-Auth-Token", "tok-abcdef123456")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::ApiKeyHeader, LeakKind::ApiKeyHeader]);
    let t = jwt(r#"{"sub":"svc"}"#);
    let f = on_req(&req("GET", "/", &[("X-Forwarded-Identity", &format!("token={t}"))], ""));
    assert_eq!(kinds(&f), vec![LeakKind::ApiKeyHeader]);
    assert_eq!(f[0].secret.expose(), t);
    assert!(f[0].jwt.is_some());
}

#[test]
fn csrf_headers_are_not_credentials() {
    let f = on_req(&req(
        "POST",
        "/",
        &[("X-CSRF-Token", "c5f1e0d2a9b8c7d6e5f4"), ("X-XSRF-TOKEN", "a1b2c3d4e5f6a7b8")],
        "",
    ));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn session_cookies_found_tracking_and_csrf_cookies_ignored() {
    let f = on_req(&req(
        "GET",
        "/",
        &[(
            "Cookie",
            "_ga=GA1.2.3.4; __utma=1.2.3; theme=dark; csrftoken=abcdef123456; XSRF-TOKEN=abcdef123456; PHPSESSID=8a7b6c5d4e3f2a1b; JSESSIONID=ABCDEF0123456789; connect.sid=s%3Aabcdefgh.ijkl",
        )],
        "",
    ));
    let names: Vec<&str> = f.iter().map(|x| x.location.as_str()).collect();
    assert_eq!(names, vec!["cookie PHPSESSID", "cookie JSESSIONID", "cookie connect.sid"]);
    let t = jwt(r#"{"sub":"x"}"#);
    let f = on_req(&req("GET", "/", &[("Cookie", &format!("prefs={t}"))], ""));
    assert_eq!(kinds(&f), vec![LeakKind::CookieToken], "a JWT value makes any cookie a credential");
    let f = on_req(&req("GET", "/", &[("Cookie", "sid=1; security=low; remember=0")], ""));
    let names: Vec<&str> = f.iter().map(|x| x.location.as_str()).collect();
    assert_eq!(names, vec!["cookie sid"], "a short session id is one; short flags are not secrets");
}

#[test]
fn set_cookie_without_secure_is_its_own_finding_noting_flags() {
    let f = on_resp(&resp(&[("Set-Cookie", "session=abcdef0123456789; Path=/; HttpOnly")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::SetCookieInsecure]);
    assert!(f[0].evidence.contains("HttpOnly set") && f[0].evidence.contains("SameSite missing"), "{}", f[0].evidence);
    let f = on_resp(&resp(&[("Set-Cookie", "session=abcdef0123456789; Secure; SameSite=Strict")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::CookieToken]);
    let f = on_resp(&resp(
        &[
            ("Set-Cookie", "session=; Max-Age=0"),
            ("Set-Cookie", "token=deletedvalue0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        ],
        "",
    ));
    assert!(f.is_empty(), "deleting cookies are not leaks: {f:?}");
}

#[test]
fn urlencoded_login_with_user_beside_the_password() {
    let f = on_req(&req(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "email=a%40b.c&pwd=s%C3%A9cret%21&csrf_token=zzz",
    ));
    assert_eq!(kinds(&f), vec![LeakKind::FormLogin]);
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("a@b.c"), "sécret!"));
}

#[test]
fn json_login_nested_two_levels() {
    let f = on_req(&req(
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        r#"{"data":{"user":{"email":"e@x.io","password":"pw-123456"}}}"#,
    ));
    assert_eq!(kinds(&f), vec![LeakKind::JsonLogin]);
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("e@x.io"), "pw-123456"));
}

#[test]
fn multipart_login() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"login\"\r\n\r\nmike\r\n--XyZ\r\nContent-Disposition: form-data; name=\"passwd\"\r\n\r\nm1ke-pass\r\n--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n\x7fPNG\r\n--XyZ--\r\n";
    let f = on_req(&req("POST", "/login", &[("Content-Type", "multipart/form-data; boundary=XyZ")], body));
    assert_eq!(kinds(&f), vec![LeakKind::FormLogin]);
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("mike"), "m1ke-pass"));
}

#[test]
fn graphql_login_variables() {
    let body = r#"{"query":"mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { token } }","variables":{"username":"nina","password":"n1na-gql"}}"#;
    let f = on_req(&req("POST", "/graphql", &[("Content-Type", "application/json")], body));
    assert_eq!(kinds(&f), vec![LeakKind::JsonLogin]);
    assert!(f[0].evidence.contains("GraphQL"));
}

#[test]
fn oauth_password_grant_and_client_secret() {
    let f = on_req(&req(
        "POST",
        "/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "grant_type=password&username=olga&password=olga-pw&client_id=app&client_secret=cs-0123456789",
    ));
    assert_eq!(kinds(&f), vec![LeakKind::FormLogin, LeakKind::FormLogin]);
    assert_eq!(f[0].class, SecretClass::Password);
    assert!(f[0].evidence.contains("OAuth2 password grant"));
    assert_eq!((f[1].class, f[1].secret.expose()), (SecretClass::Token, "cs-0123456789"));
}

#[test]
fn empty_password_and_attack_payloads_are_not_credentials() {
    let f = on_req(&req(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "uname=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D&password=",
    ));
    assert!(f.is_empty(), "{f:?}");
    let f = on_req(&req("GET", "/search?q=x&pass=;cat%20/etc/passwd", &[], ""));
    assert!(f.is_empty(), "{f:?}");
    let mut out = Found::default();
    detect_request(
        &Config { include_low_confidence: true },
        &req("GET", "/search?pass=;cat%20/etc/passwd", &[], ""),
        Timestamp(0),
        &mut out,
    );
    assert_eq!(out.findings.len(), 1, "with --include-low the payload is reported, at low confidence");
}

#[test]
fn password_reset_links_and_hint_fields_are_not_passwords() {
    let f = on_req(&req(
        "POST",
        "/account",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "password_hint=pet&forgot_password=1&passwordless=true",
    ));
    assert!(f.is_empty(), "{f:?}");
    let f = on_req(&req("GET", "/password_reset?email=a@b.c", &[], ""));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn tokens_in_urls_and_in_location_headers() {
    let f = on_req(&req("GET", "/cb?access_token=at-9f8e7d6c5b&state=xyz&nextToken=page2abcdef", &[], ""));
    assert_eq!(kinds(&f), vec![LeakKind::UrlToken]);
    assert_eq!(f[0].secret.expose(), "at-9f8e7d6c5b");
    let f = on_req(&req("GET", "/login.php?user=u&PASSWORD=00000000", &[], ""));
    assert_eq!((kinds(&f), f[0].class), (vec![LeakKind::UrlToken], SecretClass::Password));
    let f = on_resp(&Response { status: 302, ..resp(&[("Location", "https://app/cb#x?id_token=abc.def.ghi123")], "") });
    assert_eq!(kinds(&f), vec![LeakKind::UrlToken]);
}

#[test]
fn login_response_tokens_nested_and_jwts_in_response_headers() {
    let t = jwt(&format!(r#"{{"sub":"p","exp":{}}}"#, NOW + 3600));
    let f = on_resp(&resp(
        &[("Content-Type", "application/json")],
        &format!(r#"{{"data":{{"session":{{"accessToken":"{t}"}},"refresh_token":"rt-0123456789"}}}}"#),
    ));
    assert_eq!(kinds(&f), vec![LeakKind::LoginResponseToken, LeakKind::LoginResponseToken]);
    let jwt_finding = f.iter().find(|x| x.jwt.is_some()).expect("the JWT");
    assert!(matches!(
        jwt_finding.jwt.as_ref().map(|j| &j.validity),
        Some(Validity::Valid { remaining_secs: 3600, .. })
    ));
    let f = on_resp(&resp(&[("X-Auth-Result", &t)], ""));
    assert_eq!(kinds(&f), vec![LeakKind::LoginResponseToken]);
}

#[test]
fn words_in_html_json_and_documentation_examples_are_not_leaks() {
    let html = r#"<p>Enter your password. Send Authorization: Bearer &lt;token&gt;.</p><pre>eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c</pre>"#;
    assert!(on_resp(&resp(&[("Content-Type", "text/html")], html)).is_empty());
    assert!(
        on_resp(&resp(
            &[("Content-Type", "application/json")],
            r#"{"message":"password is required","token_type":"Bearer"}"#
        ))
        .is_empty()
    );
    let example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    assert!(
        on_resp(&resp(
            &[("Content-Type", "application/json")],
            &format!(r#"{{"example_token":"x","token":"{example}"}}"#)
        ))
        .is_empty(),
        "the jwt.io example is documentation"
    );
}

#[test]
fn jwt_elsewhere_is_found_by_shape_once() {
    let t = jwt(r#"{"sub":"q"}"#);
    let f = on_req(&req(
        "POST",
        &format!("/verify/{t}"),
        &[("Content-Type", "text/plain")],
        &format!("see {t} and eyJnotajwt.eyJx.y"),
    ));
    assert_eq!(kinds(&f), vec![LeakKind::JwtOther]);
    // Claimed by a specific detector: not reported again as jwt_other.
    let f = on_req(&req("GET", &format!("/x?access_token={t}"), &[("Authorization", &format!("Bearer {t}"))], ""));
    assert_eq!(kinds(&f), vec![LeakKind::BearerJwt, LeakKind::UrlToken]);
}

#[test]
fn alg_none_and_jwe_are_analysed() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#));
    let f = on_req(&req("GET", "/", &[("Authorization", &format!("Bearer {none}"))], ""));
    assert!(f[0].jwt.as_ref().is_some_and(|j| j.alg_none));
    let jwe = format!("{}.a2V5.aXY.Y2lwaGVy.dGFn", URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A128GCM"}"#));
    let f = on_req(&req("GET", "/", &[("Authorization", &format!("Bearer {jwe}"))], ""));
    assert_eq!(kinds(&f), vec![LeakKind::BearerJwt]);
    assert!(f[0].jwt.as_ref().is_some_and(|j| j.encrypted));
}

#[test]
fn well_known_key_formats_are_found_whatever_the_parameter_name() {
    let f = on_req(&req("GET", "/complete/search?client=x&sugkey=AIzaSyBOti4mM-6x9WDnZIjIeyEU21OpBXqWBgw", &[], ""));
    assert_eq!(kinds(&f), vec![LeakKind::UrlToken]);
    assert!(f[0].evidence.contains("Google API key"));
    let f = on_req(&req("GET", "/", &[("X-Custom", "ghp_0123456789abcdefghijABCDEFGHIJ012345")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::ApiKeyHeader]);
    assert!(on_req(&req("GET", "/?q=AIzaShort", &[], "")).is_empty());
}

#[test]
fn swift_tempauth_login_is_a_header_password_and_its_token_a_login_response_token() {
    let f = on_req(&req("GET", "/auth/v1.0", &[("X-Auth-User", "test:tester"), ("X-Auth-Key", "testing")], ""));
    assert_eq!(kinds(&f), vec![LeakKind::HeaderPassword]);
    assert_eq!(
        (f[0].class, f[0].plain_user().as_deref(), f[0].secret.expose()),
        (SecretClass::Password, Some("test:tester"), "testing")
    );
    let f = on_resp(&resp(
        &[
            ("X-Storage-Url", "http://s/v1/AUTH_test"),
            ("X-Auth-Token", "AUTH_tk0f1e2d3c4b5a69788796a5b4"),
            ("X-Storage-Token", "AUTH_tk0f1e2d3c4b5a69788796a5b4"),
        ],
        "",
    ));
    assert_eq!(kinds(&f), vec![LeakKind::LoginResponseToken], "one token, said twice: one finding");
}

#[test]
fn vault_login_response_token_nested_at_auth_client_token() {
    let body = r#"{"request_id":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","auth":{"client_token":"hvs.CAESIGq2Xb7mZ0pQ","accessor":"a1b2c3d4e5f6","token_policies":["default"],"token_type":"service","lease_duration":2764800}}"#;
    let f = on_resp(&resp(&[("Content-Type", "application/json")], body));
    assert_eq!(kinds(&f), vec![LeakKind::LoginResponseToken]);
    assert_eq!(
        (f[0].location.as_str(), f[0].secret.expose()),
        ("json field auth.client_token", "hvs.CAESIGq2Xb7mZ0pQ")
    );
}

#[test]
fn general_rule_finds_credential_named_headers_and_json_keys_but_not_their_properties() {
    let f = on_req(&req(
        "POST",
        "/v1/objects",
        &[("X-Storage-Token", "AUTH_tk0f1e2d3c4b5a6978"), ("Content-Type", "application/json")],
        r#"{"apiKey":"ak-7f3c9a12e4b8d6f0","session_id":"analytics-12345678","key":"photos/2024/img1.jpg","author":"x9y8z7w6v5"}"#,
    ));
    assert_eq!(kinds(&f), vec![LeakKind::ApiKeyHeader, LeakKind::JsonLogin]);
    assert_eq!(f[1].secret.expose(), "ak-7f3c9a12e4b8d6f0");
    let f = on_req(&req(
        "GET",
        "/",
        &[
            ("X-Request-Id", "550e8400-e29b-41d4-a716-446655440000"),
            ("X-Session-Count", "3"),
            ("Keep-Alive", "timeout=5, max=100"),
            ("X-Author", "jdoe1234abcd"),
            ("Content-Security-Policy", "default-src 'self'; script-src 'nonce-2726c7f26c'"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("X-Session-Enabled", "true"),
        ],
        "",
    ));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn an_aws_signed_request_exposes_only_its_access_key_id_as_info() {
    let f = on_req(&req(
        "GET",
        "/bucket/key.txt",
        &[
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            ),
            ("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ],
        "",
    ));
    assert_eq!(kinds(&f), vec![LeakKind::AwsAccessKeyId]);
    assert_eq!((f[0].class, f[0].secret.expose()), (SecretClass::Identifier, "AKIAIOSFODNN7EXAMPLE"));
}

#[test]
fn weather_station_camera_and_router_query_passwords_name_their_user() {
    let f = on_req(&req(
        "GET",
        "/weatherstation/updateweatherstation.php?ID=KXXTEST1&PASSWORD=Wx-pass-77&tempf=70.1&action=updateraw",
        &[],
        "",
    ));
    assert_eq!(kinds(&f), vec![LeakKind::UrlToken]);
    assert_eq!(
        (f[0].class, f[0].plain_user().as_deref(), f[0].secret.expose()),
        (SecretClass::Password, Some("KXXTEST1"), "Wx-pass-77")
    );
    let f = on_req(&req("GET", "/cgi-bin/snapshot.cgi?usr=admin&pwd=cam-123", &[], ""));
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("admin"), "cam-123"));
}

#[test]
fn vault_userpass_login_names_its_user_in_the_path() {
    let f = on_req(&req(
        "POST",
        "/v1/auth/userpass/login/alice",
        &[("Content-Type", "application/json")],
        r#"{"password":"Vault-alice-pw1"}"#,
    ));
    assert_eq!(kinds(&f), vec![LeakKind::JsonLogin]);
    assert_eq!((f[0].plain_user().as_deref(), f[0].secret.expose()), (Some("alice"), "Vault-alice-pw1"));
    let f =
        on_req(&req("POST", "/v1/auth/login", &[("Content-Type", "application/json")], r#"{"password":"x-pw-123"}"#));
    assert_eq!(f[0].plain_user(), None, "no user segment after login");
}
