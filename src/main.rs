//! The `sleepy` binary: the front end, or the agent when started as `sleepy __agent`.

use std::process::ExitCode;

use sleepy::cli::{self, Invocation};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let invocation = match cli::parse(&args, &cwd) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("sleepy: {e}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let status = match invocation {
        Invocation::Agent => sleepy::agent::main(),
        Invocation::Help => {
            println!("{}", cli::USAGE);
            0
        }
        Invocation::Version => {
            println!(
                "sleepy {} (embeds Python {}: {})",
                env!("CARGO_PKG_VERSION"),
                sleepy::agent::interpreter::BUILD_VERSION,
                sleepy::agent::interpreter::BUILD_EXECUTABLE
            );
            0
        }
        Invocation::Debug {
            program,
            options,
            batch: None,
        } if !options.line_mode && on_a_terminal() => report(sleepy::tui::run(program, options)),
        Invocation::Debug {
            program,
            options,
            batch,
        } => report(sleepy::batch::run(sleepy::batch::BatchRun {
            program,
            options,
            commands: batch,
        })),
        Invocation::Run { program, options } => report(sleepy::run::run(program, options)),
    };
    ExitCode::from(u8::try_from(status & 0xff).unwrap_or(1))
}

/// The TUI needs a terminal both ways; otherwise (a pipe, a file) line mode serves.
fn on_a_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn report(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(status) => status,
        Err(e) => {
            eprintln!("sleepy: {e:#}");
            2
        }
    }
}
