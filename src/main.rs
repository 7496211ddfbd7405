//! `plainsight` command line: parses arguments and hands them to the command runners in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("plainsight: error: {e:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
