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
        // Told apart by their modifiers too: without colour (NO_COLOR, --color never) they still differ.
        Severity::Critical => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        Severity::High => Style::default().fg(Color::LightRed).add_modifier(Modifier::BOLD),
        Severity::Medium => Style::default().fg(Color::Yellow),
        Severity::Low | Severity::Info => Style::default().fg(Color::DarkGray).add_modifier(Modifier::DIM),
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
    let t = a.last_seen.rfc3339();
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
        View::Follow => draw_follow(f, body, st),
        View::Hosts => draw_hosts(f, body, st),
        View::Story => draw_story(f, body, st),
        View::Help => draw_help(f, body),
    }
    draw_footer(f, footer, st);
    if !st.color {
        without_colour(f.buffer_mut());
    }
}

/// No colour (NO_COLOR, `--color never`): every colour goes, what was marked by a background (the
/// state badge, the footer) is shown reversed, and modifiers stay (bold, underlined, the selected row
/// reversed across its whole width).
fn without_colour(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if cell.bg != Color::Reset {
            cell.modifier.insert(Modifier::REVERSED);
        }
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
    }
}

fn draw_header(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let state = match (st.paused, st.run) {
        (true, _) => Span::styled(" PAUSED ", Style::default().fg(Color::Black).bg(Color::Yellow)),
        (false, RunState::Capturing) => Span::styled(" CAPTURING ", Style::default().fg(Color::Black).bg(Color::Green)),
        (false, RunState::Watching) => Span::styled(" WATCHING ", Style::default().fg(Color::Black).bg(Color::Green)),
        (false, RunState::Reading) => Span::styled(" READING ", Style::default().fg(Color::Black).bg(Color::Cyan)),
        (false, RunState::Finished) => Span::styled(" FINISHED ", Style::default().fg(Color::Black).bg(Color::Gray)),
    };
    let s = &st.stats;
    let progress = s.progress.map(|p| format!(" {:.0}%", p * 100.0)).unwrap_or_default();
    let line1 = Line::from(vec![
        Span::styled("plainsight ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!("{} ", clean(&st.source, term::NAME))),
        state,
        Span::raw(format!("{progress}  {}", fmt_elapsed(st.elapsed()))),
    ]);
    // The leak count first: it stays on screen at any width. Crackable material is counted apart.
    let material = st.rows.iter().filter(|r| r.alert.class.is_material()).count();
    let leaks = format!(
        "leaks {}{} ({} sightings)",
        st.rows.len() - material,
        if material > 0 { format!(", material {material}") } else { String::new() },
        s.snapshot.sightings.max(st.rows.len() as u64),
    );
    // The other figures in order of priority: what does not fit goes whole, never cut mid-word.
    let mut rest = vec![format!("TLS flows {}", s.snapshot.engine.tls_flows)];
    if st.fleet {
        // Watching sensors: their number, not this process's traffic.
        let mut sensors: Vec<&str> = st.rows.iter().flat_map(|r| r.sensors.iter().map(String::as_str)).collect();
        sensors.sort_unstable();
        sensors.dedup();
        rest = vec![format!("sensors {}", sensors.len())];
    }
    // Leaks the screen could not list (a flood of distinct secrets): said first, they are leaks too.
    if st.rows_not_listed > 0 {
        rest.insert(0, format!("+{} not listed", st.rows_not_listed));
    }
    if let (Some(k), Some(a)) = (s.kernel_drops, s.analysis_drops) {
        rest.push(format!("drops kernel {k} analysis {a}"));
    }
    if !st.fleet {
        rest.push(format!("{:.0} pkt/s", st.pps));
        rest.push(format!("{:.1} MB/s", st.mbps));
        rest.push(format!("flows {} ({} seen)", s.snapshot.active_flows, s.snapshot.reassembly.flows_created));
    }
    let mut text = leaks;
    for part in rest {
        if text.chars().count() + 2 + part.chars().count() <= usize::from(area.width) {
            text.push_str("  ");
            text.push_str(&part);
        }
    }
    let line2 = Line::from(text);
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
    // Crackable material (hash-only exchanges) is counted apart from cleartext leaks.
    let material = rows.iter().filter(|r| r.alert.class.is_material()).count();
    let title = format!(
        " Leaks: {} shown{}, sorted by {}{}{} ",
        rows.len(),
        if material > 0 { format!(" ({material} hash material)") } else { String::new() },
        st.sort.label(),
        if st.reversed { " (reversed)" } else { "" },
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
    // Every cell as text first: the columns are sized from what they hold.
    let cells: Vec<[String; COLS]> = rows
        .iter()
        .map(|r| {
            let a = &r.alert;
            let rec_path = a.shown_path(st.reveal).unwrap_or_default();
            let hostpath = if matches!(a.kind.protocol(), "http" | "websocket") {
                format!("{}{}", clean(a.host.as_deref().unwrap_or(""), term::HOST), clean(&rec_path, term::PATH))
            } else {
                // Other protocols have no host or path: the protocol and how the login was sent.
                format!("{} {}", a.kind.protocol(), clean(&a.location, term::NAME))
            };
            let marker = if st.is_new(r) { "*" } else { " " };
            [
                format!("{marker}{}", clock(a)),
                // Material is medium by rule; its marker says what matters more: no cleartext.
                if a.class.is_material() { "HASH".to_string() } else { sev_short(a.severity).to_string() },
                a.kind.as_str().to_string(),
                a.client.to_string(),
                a.server.to_string(),
                clean(&r.sensors.join(","), term::NAME),
                hostpath,
                clean(&a.shown_user(st.reveal).unwrap_or_default(), term::USER),
                clean(&a.shown_secret(st.reveal), term::SECRET),
                a.count.to_string(),
                match st.left(r) {
                    Some(left) if left > 0 => format!("{} left", short_dur(left)),
                    Some(_) => "expired".into(),
                    None => jwt_short(a),
                },
            ]
        })
        .collect();
    // Inside the borders, one column of spacing between columns.
    let widths = column_widths(&cells, area.width.saturating_sub(2), st.fleet);
    let shown: Vec<usize> = (0..COLS).filter(|&c| widths[c] > 0).collect();
    let header: Vec<String> = shown.iter().map(|&c| fit(COLUMNS[c].title, widths[c])).collect();
    let table_rows: Vec<TRow> = rows
        .iter()
        .zip(&cells)
        .map(|(r, text)| {
            let row_cells: Vec<Cell> = shown
                .iter()
                .map(|&c| {
                    let cell = Cell::from(fit(&text[c], widths[c]));
                    match c {
                        1 if r.alert.class.is_material() => {
                            cell.style(Style::default().fg(Color::Cyan).add_modifier(Modifier::ITALIC))
                        }
                        1 => cell.style(sev_style(r.alert.severity)),
                        _ => cell,
                    }
                })
                .collect();
            let mut row = TRow::new(row_cells);
            if st.is_new(r) {
                row = row.style(Style::default().add_modifier(Modifier::BOLD));
            }
            row
        })
        .collect();
    let constraints: Vec<Constraint> = shown.iter().map(|&c| Constraint::Length(widths[c])).collect();
    let table = Table::new(table_rows, constraints)
        .header(TRow::new(header).style(Style::default().add_modifier(Modifier::UNDERLINED)))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut ts = TableState::default().with_selected(Some(st.selected.min(rows.len().saturating_sub(1))));
    f.render_stateful_widget(table, area, &mut ts);
}

/// Columns of the leaks table, in display order.
const COLS: usize = 11;
/// The sensors column: shown only when watching a fleet.
const SENSORS: usize = 5;

struct Column {
    title: &'static str,
    /// Lower goes first when the terminal is narrow; `None` is never dropped.
    drop_rank: Option<u8>,
    /// Whether the cell may be shortened (with an ellipsis); others are shown whole or not at all.
    cut: bool,
    /// Widest it gets, however long its cells.
    max: u16,
}

const COLUMNS: [Column; COLS] = [
    Column { title: "Time", drop_rank: Some(5), cut: false, max: 9 },
    Column { title: "Sev", drop_rank: None, cut: false, max: 4 },
    Column { title: "Kind", drop_rank: None, cut: false, max: 32 },
    Column { title: "Client", drop_rank: Some(1), cut: false, max: 47 },
    Column { title: "Server", drop_rank: None, cut: false, max: 47 },
    Column { title: "Sensors", drop_rank: Some(2), cut: true, max: 24 },
    Column { title: "Host/Path", drop_rank: Some(4), cut: true, max: 60 },
    Column { title: "User", drop_rank: Some(3), cut: true, max: 16 },
    Column { title: "Secret", drop_rank: Some(0), cut: true, max: 40 },
    Column { title: "#", drop_rank: Some(6), cut: false, max: 8 },
    Column { title: "Status", drop_rank: Some(2), cut: true, max: 24 },
];

/// Width of `s` on a terminal.
fn width(s: &str) -> u16 {
    u16::try_from(unicode_width::UnicodeWidthStr::width(s)).unwrap_or(u16::MAX)
}

/// `s` in at most `w` columns: whole, or cut with an ellipsis.
fn fit(s: &str, w: u16) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0u16;
    for c in s.chars() {
        let cw = u16::try_from(unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// Width of each column (0: dropped) for a table `avail` columns wide. Every column wants its widest
/// cell (title included, up to its max); a column that may be cut needs 6 at least. While the wants do
/// not fit, Secret goes; while even the needs do not fit, the next column by rank goes (Client, Status,
/// User, Host/Path, Time, #). What is left goes to the columns that were cut, narrowest want first.
/// Sev, Kind and Server are never dropped or cut: an address keeps its port, a kind its name.
fn column_widths(cells: &[[String; COLS]], avail: u16, fleet: bool) -> [u16; COLS] {
    let mut want = [0u16; COLS];
    for (c, col) in COLUMNS.iter().enumerate() {
        let widest = cells.iter().map(|r| width(&r[c])).max().unwrap_or(0);
        want[c] = widest.max(width(col.title)).min(col.max);
    }
    let need = |c: usize| if COLUMNS[c].cut { want[c].min(6) } else { want[c] };
    let mut shown = [true; COLS];
    shown[SENSORS] = fleet;
    let total = |shown: &[bool; COLS], f: &dyn Fn(usize) -> u16| -> u16 {
        let n = shown.iter().filter(|&&s| s).count() as u16;
        (0..COLS).filter(|&c| shown[c]).map(f).sum::<u16>() + n.saturating_sub(1)
    };
    let mut ranks: Vec<(u8, usize)> = COLUMNS
        .iter()
        .enumerate()
        .filter(|&(c, _)| shown[c])
        .filter_map(|(c, col)| col.drop_rank.map(|r| (r, c)))
        .collect();
    ranks.sort();
    for (r, c) in ranks {
        let fits = if r == 0 { total(&shown, &|c| want[c]) <= avail } else { total(&shown, &need) <= avail };
        if fits {
            if r > 0 {
                break;
            }
            continue;
        }
        shown[c] = false;
    }
    let mut w = [0u16; COLS];
    for c in (0..COLS).filter(|&c| shown[c]) {
        w[c] = need(c);
    }
    let mut left = avail.saturating_sub(total(&shown, &|c| w[c]));
    // The narrowest wants first (a status or a user name whole is worth more than a few more
    // characters of a long path); never-dropped columns are never cut, so they are already whole.
    let mut order: Vec<usize> = (0..COLS).filter(|&c| shown[c] && COLUMNS[c].cut).collect();
    order.sort_by_key(|&c| want[c]);
    for c in order {
        let more = (want[c] - w[c]).min(left);
        w[c] += more;
        left -= more;
    }
    w
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
        LeakKind::WebsocketToken | LeakKind::WebsocketLogin => {
            "Over wss:// (WebSocket over TLS) every message would be encrypted: a sniffer sees only the server name (SNI)."
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
    if !r.sensors.is_empty() {
        lines.push(Line::from(format!("seen by sensors: {}", clean(&r.sensors.join(", "), term::LINE))));
    }
    if a.class.is_material() {
        lines.push(Line::styled(
            "class: material (a hash or challenge response, no password in clear: crackable offline, --export-hashes)",
            Style::default().fg(Color::Cyan),
        ));
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
    draw_scrolled(f, area, st, lines, format!(" Leak #{} (f follow stream, Esc back) ", a.id.0));
}

/// A view of text that scrolls (the detail, the follow view): wrapped at the inner width, scrolled by
/// the state, with where it stands in the bottom border.
fn draw_scrolled(f: &mut Frame<'_>, area: Rect, st: &UiState, lines: Vec<Line<'_>>, title: String) {
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    // Wrapped at the inner width (borders take two columns and two rows).
    let inner_h = area.height.saturating_sub(2);
    let total = p.line_count(area.width.saturating_sub(2));
    let max = u16::try_from(total.saturating_sub(usize::from(inner_h))).unwrap_or(u16::MAX);
    st.detail_max.set(max);
    let top = st.detail_scroll.min(max);
    let more = match (top > 0, top < max) {
        (false, false) => String::new(),
        (true, true) => format!(" ↑↓ {}/{} ", top, max),
        (false, true) => " ↓ more (arrows, PgDn, End) ".to_string(),
        (true, false) => " ↑ (Home) ".to_string(),
    };
    f.render_widget(Clear, area);
    f.render_widget(
        p.scroll((top, 0))
            .block(Block::default().borders(Borders::ALL).title(title).title_bottom(Line::from(more).right_aligned())),
        area,
    );
}

/// Follow stream: the selected leak's connection, message by message as it crossed (Wireshark's
/// Follow TCP Stream), the client's messages and the server's in two colours, every credential a slot.
/// Another protocol's leak shows its login exchange (what its parser keeps of the connection).
fn draw_follow(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let Some(r) = st.selected_row() else {
        f.render_widget(Paragraph::new("No leak selected.").block(Block::default().borders(Borders::ALL)), area);
        return;
    };
    let a = &r.alert;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let (client_style, server_style) = (Style::default().fg(Color::Red), Style::default().fg(Color::Blue));
    let mut lines: Vec<Line> = Vec::new();
    match &a.conversation {
        Some(c) => {
            let (turns, not_kept, earlier) = c.snapshot();
            if earlier > 0 {
                let s = if earlier == 1 { "" } else { "s" };
                lines.push(Line::styled(
                    format!("({earlier} earlier request{s} on this connection, not shown, carried no credential)"),
                    Style::default().add_modifier(Modifier::DIM),
                ));
            }
            let dim = Style::default().add_modifier(Modifier::DIM);
            let mut before = false;
            for t in &turns {
                // Messages from before the leak: their first line only, hollow arrows, dimmed.
                if t.head_only && !before {
                    lines.push(Line::styled("before the leak (first lines):", dim));
                } else if !t.head_only && before {
                    lines.push(Line::styled("the leak, and what followed:", dim));
                }
                before = t.head_only;
                let (arrow, from, to, style) = match (t.from_client, t.head_only) {
                    (true, false) => ("▶", a.client, a.server, client_style),
                    (false, false) => ("◀", a.server, a.client, server_style),
                    (true, true) => ("▷", a.client, a.server, client_style.add_modifier(Modifier::DIM)),
                    (false, true) => ("◁", a.server, a.client, server_style.add_modifier(Modifier::DIM)),
                };
                lines.push(Line::styled(format!("{arrow} {}  {from} -> {to}", t.ts.rfc3339()), bold));
                for l in t.lines.iter() {
                    lines.push(Line::styled(format!("  {}", clean(&l.render(st.reveal), term::LINE)), style));
                }
            }
            if not_kept > 0 {
                lines.push(Line::styled(
                    format!("… {not_kept} more messages not kept (follow_not_kept in --stats)"),
                    Style::default().add_modifier(Modifier::DIM),
                ));
            }
        }
        None => {
            lines.push(Line::styled(
                format!(
                    "{} exchange on {} -> {}, as it crossed:",
                    a.kind.protocol().to_uppercase(),
                    a.client,
                    a.server
                ),
                bold,
            ));
            for l in a.excerpt.iter() {
                lines.push(Line::styled(format!("  {}", clean(&l.render(st.reveal), term::LINE)), client_style));
            }
        }
    }
    draw_scrolled(f, area, st, lines, format!(" Follow stream: leak #{} (Esc back) ", a.id.0));
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
            // TLS share of the service: its TLS connections against what crossed in clear (requests for
            // a web site, logins for another service).
            let clear = if h.service == "http" { h.http_requests } else { h.credentials };
            let share = (h.tls_flows * 100).checked_div(h.tls_flows + clear).unwrap_or(0);
            let creds = Cell::from(h.credentials.to_string()).style(if h.credentials > 0 {
                sev_style(Severity::Critical)
            } else {
                Style::default()
            });
            let web = h.service == "http";
            TRow::new(vec![
                Cell::from(clean(&h.name, term::HOST)),
                Cell::from(clean(&h.service, term::NAME)),
                Cell::from(h.addr.map(|a| a.to_string()).unwrap_or_default()),
                Cell::from(if web && !st.stats.traffic_unknown { h.http_requests.to_string() } else { "-".into() }),
                creds,
                Cell::from(if !web {
                    "-"
                } else if h.https_redirects > 0 {
                    "yes"
                } else {
                    "no"
                }),
                // Sensors' events carry their leaks, not their traffic: no TLS share for a fleet.
                Cell::from(if st.stats.traffic_unknown { "-".to_string() } else { h.tls_flows.to_string() }),
                Cell::from(if st.stats.traffic_unknown { "-".to_string() } else { format!("{share}%") }),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Length(22),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Length(5),
        ],
    )
    .header(
        TRow::new(vec!["Host", "Service", "Address", "HTTP", "Creds", "->HTTPS", "TLS", "TLS%"])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
    )
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(" Hosts: one row per service, credentials in clear, HTTPS redirects, TLS share (Enter: its leaks) "),
    )
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut ts = TableState::default().with_selected(Some(st.host_selected.min(hosts.len() - 1)));
    f.render_stateful_widget(table, area, &mut ts);
}

/// The story view: login -> token handed out -> every request that replayed it, with times and the
/// replay window left. Secrets appear only as their fingerprints; every field through [`clean`].
fn draw_story(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let stories = st.stories();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = Vec::new();
    if stories.is_empty() {
        lines.push(Line::raw(
            "No token handed out in clear yet (a login response's token, a Set-Cookie without Secure).",
        ));
    }
    let at = |a: &Alert| {
        let host = clean(a.host.as_deref().unwrap_or(""), term::HOST);
        let path = clean(&a.shown_path(st.reveal).unwrap_or_default(), term::PATH);
        format!("{} {host}{path}", a.method.as_deref().unwrap_or("-"))
    };
    for s in &stories {
        let t = &s.token.alert;
        if let Some(l) = s.login {
            let a = &l.alert;
            lines.push(Line::from(vec![
                Span::styled(format!("{} login   ", clock(a)), bold),
                Span::raw(format!(
                    "{} {} as {} from {}",
                    a.kind.as_str(),
                    at(a),
                    clean(&a.shown_user(st.reveal).unwrap_or_default(), term::USER),
                    a.client
                )),
            ]));
        }
        let left = match st.left(s.token) {
            Some(l) if l > 0 => format!(", replayable for {} more", short_dur(l)),
            Some(_) => ", expired".into(),
            None => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{}  └ token ", clock(t)), bold),
            Span::raw(format!("{} {} fp {}{left}", t.kind.as_str(), at(t), t.secret.fingerprint())),
        ]));
        if s.replays.is_empty() {
            lines.push(Line::styled("            └ not seen reused yet", Style::default().fg(Color::DarkGray)));
        }
        for r in s.replays.iter() {
            let a = &r.alert;
            lines.push(Line::from(vec![
                Span::styled(format!("{}     └ reused ", clock(a)), sev_style(a.severity)),
                Span::raw(format!("{}x {} {} from {}", a.count, a.kind.as_str(), at(a), a.client)),
            ]));
        }
        lines.push(Line::raw(""));
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let inner_h = area.height.saturating_sub(2);
    let total = p.line_count(area.width.saturating_sub(2));
    let max = u16::try_from(total.saturating_sub(usize::from(inner_h))).unwrap_or(u16::MAX);
    st.detail_max.set(max);
    f.render_widget(
        p.scroll((st.detail_scroll.min(max), 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Story: login -> token handed out -> every request that reused it (Tab: next view) "),
        ),
        area,
    );
}

fn draw_help(f: &mut Frame<'_>, area: Rect) {
    let text = vec![
        Line::from("q / Ctrl-C  quit                 p      pause / resume updates"),
        Line::from("Up/Down j/k select               Enter  detail of the selected leak"),
        Line::from("in a detail: Up/Down j/k PgUp/PgDn Space Home/End g/G scroll, Esc back"),
        Line::from("f           follow stream: the leak's connection, message by message"),
        Line::from("/           filter (type, Enter) Esc    back / clear the filter"),
        Line::from("s           sort: severity, time, count, kind, server, user, status   r reverse"),
        Line::from("w           save the report to a file"),
        Line::from("Tab         Leaks / Hosts / Story  ?      this help"),
        Line::from(""),
        Line::from("Columns: Time last seen, Sev, Kind, Client, Server, Host/Path (or protocol and how the"),
        Line::from("login was sent), User, # sightings, Status (a JWT's time left, a login's verdict), Secret"),
        Line::from("(wide terminals). Narrower: Secret, Client, Status, User, Host/Path go first; cuts end in …"),
        Line::from(""),
        Line::from("* marks leaks seen in the last seconds. Severity: CRIT a password; HIGH a live token;"),
        Line::from("MED an expired token or non-replayable material; LOW low confidence."),
        Line::from("+N not listed: leaks the screen left out (past 20,000, or past its memory);"),
        Line::from("the alert file and the sinks have every one."),
    ];
    f.render_widget(Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Help ")), area);
}

fn draw_footer(f: &mut Frame<'_>, area: Rect, st: &UiState) {
    let keys = if st.filter_editing {
        "type to filter  Enter apply  Esc clear".to_string()
    } else if let Some(n) = &st.notice {
        format!("{}  (q quit)", clean(n, term::LINE))
    } else if st.view == super::state::View::Detail {
        "Esc back  f follow  ↑↓/jk PgUp/PgDn Home/End scroll  q quit".to_string()
    } else if st.view == super::state::View::Follow {
        "Esc back  ↑↓/jk PgUp/PgDn Home/End scroll  q quit".to_string()
    } else {
        "q quit  p pause  ↑↓/jk move  Enter detail  / filter  s/r sort  w save  Tab views  ? help".to_string()
    };
    f.render_widget(Paragraph::new(keys).style(Style::default().fg(Color::Black).bg(Color::Gray)), area);
}
