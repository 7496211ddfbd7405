//! `plainsight completions SHELL` and `plainsight manpage`: what a package installs beside the binary,
//! generated from the same clap definitions as the parser, so they never disagree with it.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;

use super::Cli;

/// Completions for `shell` on standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "plainsight", &mut out);
    write_stdout(&out)
}

/// The manual page (roff) on standard output; with `dir`, one page per command written there
/// (`plainsight.1`, `plainsight-read.1`, `plainsight-live.1`...), as a package installs them.
pub fn manpage(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command();
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        clap_mangen::generate_to(cmd, dir).with_context(|| format!("cannot write the pages into {}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).context("cannot render the manual page")?;
    write_stdout(&out)
}

/// A closed pipe (`| head`) is a clean exit, as everywhere else.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}
