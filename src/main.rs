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
        Invocation::Inspect { file, key } => match sleepy::snapshot::read_any(
            &file,
            sleepy::snapshot::Key::load_or_create(key.as_deref())
                .ok()
                .as_ref(),
        ) {
            Ok(snapshot) => {
                for line in sleepy::snapshot::describe(&file, &snapshot) {
                    println!("{line}");
                }
                0
            }
            Err(e) => {
                eprintln!("sleepy: {e}");
                2
            }
        },
        Invocation::Resume {
            file,
            run,
            options,
            batch,
        } => report(resume(file, run, options, batch)),
    };
    ExitCode::from(u8::try_from(status & 0xff).unwrap_or(1))
}

/// `sleepy resume FILE`: the program the file saved, continued headless or in the debugger.
fn resume(
    file: std::path::PathBuf,
    run: bool,
    mut options: sleepy::cli::Options,
    batch: Option<sleepy::cli::CommandSource>,
) -> anyhow::Result<i32> {
    let key = sleepy::snapshot::Key::load_or_create(options.key.as_deref())?;
    let snapshot = sleepy::snapshot::read(&file, sleepy::agent::interpreter::BUILD_VERSION, &key)?;
    let p = &snapshot.header.program;
    let target = if p.kind == "module" {
        sleepy::protocol::Target::Module {
            name: p.target.clone(),
        }
    } else {
        sleepy::protocol::Target::Script {
            path: p.target.clone().into(),
            argv0: p.argv0.clone(),
        }
    };
    let program = sleepy::cli::Program {
        target,
        args: p.args.iter().map(std::ffi::OsString::from).collect(),
    };
    options.resume = Some(file);
    if options.rewrite.is_empty() {
        options.rewrite = p.rewrite_globs.clone();
    }
    if options.trace.is_empty() {
        options.trace = p.trace.clone();
    }
    if run {
        return sleepy::run::run(program, options);
    }
    if batch.is_none() && !options.line_mode && on_a_terminal() {
        return sleepy::tui::run(program, options);
    }
    sleepy::batch::run(sleepy::batch::BatchRun {
        program,
        options,
        commands: batch,
    })
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
