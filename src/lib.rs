//! sleepy: a time-traveling debugger for CPython programs.
//!
//! Two processes: the front end (the batch driver, `sleepy run`, later the TUI; no Python in it)
//! and the agent (the debuggee, embedding CPython). They talk through [`protocol`] over a private
//! socketpair; the program's terminal is a pseudo-terminal the front end owns.
//!
//! - [`cli`]: the command line.
//! - [`commands`]: the one command table (names, aliases, help, keys) and the command parser.
//! - [`debugger`]: the front end's model of a session, shared by the batch driver and the TUI.
//! - [`session`]: spawning the agent, its channel and the program's terminal.
//! - [`batch`]: `sleepy --batch` transcripts (and line mode).
//! - [`run`]: headless `sleepy run`.
//! - [`agent`]: the debuggee side: CPython, the native trace hook, stepping and breakpoints.
//! - [`rewrite`]: the rewriter that makes every line jumpable, its import hook and runtime.
#![deny(unsafe_code)]

pub mod agent;
pub mod batch;
pub mod cli;
pub mod commands;
pub mod debugger;
pub mod protocol;
pub mod rewrite;
pub mod run;
pub mod session;
pub mod snapshot;
pub mod tui;
