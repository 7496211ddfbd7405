//! Drawing: a pure function of the state. Usable at 80x24; wider terminals get more columns.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row as TRow, Table, TableState, Wrap};

use super::state::{RunState, UiState, View};
use crate::alert::{Alert, Reveal, Severity};
use crate::detect::LeakKind;
use crate::detect::jwt::Validity;
use crate::output::report::jwt_summary;
use crate::output::term::{self, clean};

fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::High => Style::default().fg(Color::LightRed),
        Severity::Medium => Style::default().fg(Color::Yellow),
        Severity::Low | Severity::Info => Style::default().fg(Color::DarkGray),
    }
}

fn sev_short(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// Time of day (UTC) of a capture timestamp.
fn clock(a: &Alert) -> String {
    let t = a.first_seen.rfc3339();
    t.get(11..19).unwrap_or("").to_string()
}

/// JWT validity, short: "59m left", "expired", "no exp".
pub fn jwt_short(a: &Alert) -> String {
    if a.jwt.is_none() {
        if let Some(v) = a.verdict() {
            // Logins: the server's verdict is what tells whether the secret works.
            return v.short().into();
        }
    }
    match a.jwt.as_ref().map(|j| &j.validity) {
        Some(Validity::Valid { remaining_secs, .. }) => format!("{} left", short_dur(*remaining_secs)),
        Some(Validity::Expired { .. }) => "expired".into(),
        Some(Validity::NotYetValid { .. }) => "not yet".into(),
        Some(Validity::NoExpiry { .. }) => "no exp".into(),
        None => String::new(),
    }
}

fn short_dur(s: i64) -> String {
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h{:02}", s / 3600, (s / 60) % 60)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn fmt_elapsed(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame<'_>, st: &UiState) {
    let area = f.area();
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    draw_header(f, header, st);
    match st.view {
        View::Leaks => draw_leaks(f, body, st),
        View::Detail => draw_detail(f, body, st),
        View::Hosts => draw_hosts(f, body, st),
        View::Help => draw_help(f, body),
    }
    draw_footer(f, footer, st);
}

fn draw_header(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let state = match (st.paused, st.run) {
        (true, _) => Span::styled(" PAUSED ", Style::default().fg(Color::Black).bg(Color::Yellow)),
        (false, RunState::Capturing) => Span::styled(" CAPTURING ", Style::default().fg(Color::Black).bg(Color::Green)),
        (false, RunState::Reading) => Span::styled(" READING ", Style::default().fg(Color::Black).bg(Color::Cyan)),
        (false, RunState::Finished) => Span::styled(" FINISHED ", Style::default().fg(Color::Black).bg(Color::Gray)),
    };
    let s = &st.stats;
    let drops = match (s.kernel_drops, s.analysis_drops) {
        (Some(k), Some(a)) => format!("drops kernel {k} analysis {a}"),
        _ => "drops n/a".into(),
    };
    let progress = s.progress.map(|p| format!(" {:.0}%", p * 100.0)).unwrap_or_default();
    let line1 = Line::from(vec![
        Span::styled("plainsight ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!("{} ", clean(&st.source, term::NAME))),
        state,
        Span::raw(format!("{progress}  {}", fmt_elapsed(s.elapsed))),
    ]);
    let line2 = Line::from(format!(
        "{:.0} pkt/s  {:.1} MB/s  flows {} ({} seen)  {drops}  TLS flows {}  leaks {} ({} sightings)",
        st.pps,
        st.mbps,
        s.snapshot.active_flows,
        s.snapshot.reassembly.flows_created,
        s.snapshot.engine.tls_flows,
        st.rows.len(),
        s.snapshot.sightings.max(st.rows.len() as u64)
    ));
    let mut lines = vec![line1, line2];
    if let Some(e) = &st.error {
        lines.push(Line::styled(format!("error: {}", clean(e, term::LINE)), Style::default().fg(Color::Red)));
    } else if st.reveal == Reveal::Full {
        lines.push(Line::styled("--reveal: secrets shown in full", Style::default().fg(Color::Magenta)));
    } else {
        lines.push(Line::styled("secrets redacted (length + fingerprint)", Style::default().fg(Color::DarkGray)));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn draw_leaks(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let rows = st.visible();
    let wide = area.width >= 150;
    let title = format!(
        " Leaks: {} shown, sorted by {}{} ",
        rows.len(),
        st.sort.label(),
        if st.filter.is_empty() && !st.filter_editing {
            String::new()
        } else {
            format!(", filter /{}{}", st.filter, if st.filter_editing { "_" } else { "" })
        }
    );
    if rows.is_empty() {
        let msg = if st.rows.is_empty() {
            "No credential seen in clear text yet. Anything sent without TLS (HTTP, FTP, Telnet, mail, LDAP, ...) will appear here."
        } else {
            "No leak matches the filter (Esc clears it)."
        };
        f.render_widget(
            Paragraph::new(msg).wrap(Wrap { trim: true }).block(Block::default().borders(Borders::ALL).title(title)),
            area,
        );
        return;
    }
    let mut header = vec!["Time", "Sev", "Kind", "Client -> Server", "Host/Path", "User"];
    if wide {
        header.push("Secret");
    }
    header.extend(["#", "Status"]);
    let table_rows: Vec<TRow> = rows
        .iter()
        .map(|r| {
            let a = &r.alert;
            let rec_path = a.shown_path(st.reveal).unwrap_or_default();
            let hostpath = if a.kind.protocol() == "http" {
                format!("{}{}", clean(a.host.as_deref().unwrap_or(""), term::HOST), clean(&rec_path, term::PATH))
            } else {
                // Other protocols have no host or path: the protocol and how the login was sent.
                format!("{} {}", a.kind.protocol(), clean(&a.location, term::NAME))
            };
            let ends = if wide {
                format!("{} -> {}", a.client, a.server)
            } else {
                format!("{} -> {}", a.client.ip(), a.server)
            };
            let marker = if st.is_new(r) { "*" } else { " " };
            let mut cells = vec![
                Cell::from(format!("{marker}{}", clock(a))),
                Cell::from(sev_short(a.severity)).style(sev_style(a.severity)),
                Cell::from(a.kind.as_str()),
                Cell::from(ends),
                Cell::from(hostpath),
                Cell::from(clean(&a.shown_user(st.reveal).unwrap_or_default(), term::USER)),
            ];
            if wide {
                cells.push(Cell::from(clean(&a.shown_secret(st.reveal), term::SECRET)));
            }
            cells.push(Cell::from(a.count.to_string()));
            cells.push(Cell::from(jwt_short(a)));
            let mut row = TRow::new(cells);
            if st.is_new(r) {
                row = row.style(Style::default().add_modifier(Modifier::BOLD));
            }
            row
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(if area.width >= 120 { 20 } else { 13 }),
        Constraint::Length(if wide { 44 } else { 26 }),
        Constraint::Fill(2),
        Constraint::Length(if wide { 14 } else { 8 }),
    ];
    if wide {
        widths.push(Constraint::Length(40));
    }
    widths.extend([Constraint::Length(5), Constraint::Length(9)]);
    let table = Table::new(table_rows, widths)
        .header(TRow::new(header).style(Style::default().add_modifier(Modifier::UNDERLINED)))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut ts = TableState::default().with_selected(Some(st.selected.min(rows.len().saturating_sub(1))));
    f.render_stateful_widget(table, area, &mut ts);
}

/// One line on what HTTPS would have changed for this kind of leak.
pub fn https_note(kind: LeakKind) -> &'static str {
    match kind {
        LeakKind::SetCookieInsecure => {
            "Over HTTPS with the Secure attribute, this cookie would never be sent or set in clear: a sniffer would see only the server name (SNI)."
        }
        LeakKind::UrlToken => {
            "Over HTTPS the whole URL, query included, is encrypted: a sniffer sees only the server name (SNI). The token would still reach server logs."
        }
        LeakKind::FormLogin | LeakKind::JsonLogin => {
            "Over HTTPS this login body would be encrypted: a sniffer sees only the server name (SNI) and sizes."
        }
        LeakKind::LoginResponseToken => "Over HTTPS the response handing out this token would be encrypted end to end.",
        LeakKind::SnmpCommunity => {
            "SNMPv3 with authPriv authenticates with a key and encrypts the request: no community string crosses the wire."
        }
        LeakKind::TelnetLogin => "Over SSH the whole session, login included, would be encrypted.",
        LeakKind::HttpProxyBasic => {
            "A proxy reached over TLS (an HTTPS proxy) would have kept this Proxy-Authorization header encrypted."
        }
        k if k.protocol() != "http" => {
            "Over TLS (STARTTLS, or the protocol's TLS port) this login would be encrypted: a sniffer sees only the handshake."
        }
        _ => {
            "Over HTTPS these headers would be encrypted: a sniffer on the path sees only the server name (SNI), never the credential."
        }
    }
}

fn draw_detail(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let Some(r) = st.selected_row() else {
        f.render_widget(Paragraph::new("No leak selected.").block(Block::default().borders(Borders::ALL)), area);
        return;
    };
    let a = &r.alert;
    let rec = a.record(st.reveal);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = vec![
        Line::from(vec![
            Span::styled(format!("{} ", a.severity.as_str().to_uppercase()), sev_style(a.severity)),
            Span::styled(a.kind.as_str(), bold),
            Span::raw(format!("  {} -> {}  seen {}x", a.client, a.server, a.count)),
        ]),
        Line::from(format!("{}  {}", clean(&a.location, term::NAME), clean(&rec.evidence, term::EVIDENCE))),
        Line::from(format!("secret {}  fingerprint {}", clean(&rec.secret, term::SECRET), rec.fingerprint)),
    ];
    if let Some(v) = a.verdict_line(st.reveal) {
        lines.push(Line::styled(format!("verdict: {}", clean(&v, term::LINE)), bold));
    }
    lines.extend([Line::raw(""), Line::styled("What an attacker on the network sees:", bold)]);
    for l in a.excerpt.iter() {
        lines.push(Line::styled(
            format!("  {}", clean(&l.render(st.reveal), term::LINE)),
            Style::default().fg(Color::Cyan),
        ));
    }
    if let Some(j) = &a.jwt {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("JWT: {}", clean(&jwt_summary(j), term::LINE)), bold));
        for l in j.header_json.lines().chain(j.claims_json.lines()).take(64) {
            lines.push(Line::raw(format!("  {}", clean(l, term::LINE))));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Replay:", bold));
    lines.push(Line::raw(format!("  {}", clean(&rec.replay, term::SECRET))));
    lines.push(Line::raw(""));
    lines.push(Line::styled(https_note(a.kind), Style::default().fg(Color::Green)));
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(format!(" Leak #{} (Esc back) ", a.id.0))),
        area,
    );
}

fn draw_hosts(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let hosts = &st.stats.hosts;
    if hosts.is_empty() {
        f.render_widget(
            Paragraph::new("No server seen yet.").block(Block::default().borders(Borders::ALL).title(" Hosts ")),
            area,
        );
        return;
    }
    let rows: Vec<TRow> = hosts
        .iter()
        .map(|h| {
            let share = (h.tls_flows * 100).checked_div(h.tls_flows + h.http_requests).unwrap_or(0);
            let creds = Cell::from(h.credentials.to_string()).style(if h.credentials > 0 {
                sev_style(Severity::Critical)
            } else {
                Style::default()
            });
            TRow::new(vec![
                Cell::from(clean(&h.name, term::HOST)),
                Cell::from(h.addr.map(|a| a.to_string()).unwrap_or_default()),
                Cell::from(h.http_requests.to_string()),
                creds,
                Cell::from(if h.https_redirects > 0 { "yes" } else { "no" }),
                Cell::from(h.tls_flows.to_string()),
                Cell::from(format!("{share}%")),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Length(22),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(5),
            Constraint::Length(6),
        ],
    )
    .header(
        TRow::new(vec!["Host", "Address", "HTTP", "Creds", "->HTTPS", "TLS", "TLS%"])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
    )
    .block(Block::default().borders(Borders::ALL).title(" Hosts: credentials in clear, HTTPS redirects, TLS share "));
    f.render_widget(table, area);
}

fn draw_help(f: &mut Frame<'_>, area: Rect) {
    let text = vec![
        Line::from("q / Ctrl-C  quit                 p      pause / resume updates"),
        Line::from("Up/Down j/k select               Enter  detail of the selected leak"),
        Line::from("/           filter (type, Enter) Esc    back / clear the filter"),
        Line::from("s           sort: severity, time, count"),
        Line::from("Tab         switch Leaks / Hosts ?      this help"),
        Line::from(""),
        Line::from("* marks leaks seen in the last seconds. Severity: CRIT a password; HIGH a live token;"),
        Line::from("MED an expired token or non-replayable material; LOW low confidence."),
    ];
    f.render_widget(Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Help ")), area);
}

fn draw_footer(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let keys = if st.filter_editing {
        "type to filter  Enter apply  Esc clear".to_string()
    } else {
        "q quit  p pause  ↑↓/jk move  Enter detail  / filter  s sort  Tab views  ? help".to_string()
    };
    f.render_widget(Paragraph::new(keys).style(Style::default().fg(Color::Black).bg(Color::Gray)), area);
}
