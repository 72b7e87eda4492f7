//! sleepy speaks pdb: for the same program and the same commands, `sleepy --batch` prints what
//! `python3 -m pdb` prints, line for line. The differences are deliberate and few, and the
//! comparison removes exactly those:
//! - pdb's prompt is not followed by the command (it reads it), sleepy's transcript echoes it;
//! - pdb's `where` shows its own bdb frames under the program's;
//! - at the end pdb restarts the program, sleepy reports the exit code.

mod common;

use common::{LIMIT, programs, python, run_with, sleepy};
use std::process::Command;

/// pdb's output, one entry per prompt: what the command before it printed.
fn pdb_blocks(commands: &str, args: &[&str]) -> Vec<String> {
    let mut cmd = Command::new(python());
    cmd.current_dir(programs()).args(["-m", "pdb"]).args(args);
    let out = run_with(cmd, commands.as_bytes(), LIMIT);
    let text = out
        .stdout
        .split("The program finished and will be restarted")
        .next()
        .unwrap()
        .to_string();
    let mut blocks: Vec<String> = text.split("(Pdb) ").map(strip_bdb_frames).collect();
    // What follows the last prompt is the restart banner or nothing.
    if text.contains("(Pdb) ") && !out.stdout.contains("The program finished") {
        blocks.pop();
    }
    blocks
}

fn strip_bdb_frames(block: &str) -> String {
    let mut out = Vec::new();
    let mut lines = block.lines().peekable();
    while let Some(line) = lines.next() {
        if line.contains("/bdb.py(") {
            lines.next_if(|l| l.starts_with("-> exec(cmd"));
            continue;
        }
        if line.starts_with("  <string>(1)<module>()") {
            continue;
        }
        out.push(line);
    }
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// sleepy's transcript, one entry per echoed command.
fn sleepy_blocks(commands: &str, args: &[&str]) -> Vec<String> {
    let mut cmd = sleepy();
    cmd.current_dir(programs())
        .args(["--batch", "-"])
        .args(args);
    let out = run_with(cmd, commands.as_bytes(), LIMIT);
    let text = out
        .stdout
        .split("The program exited with code")
        .next()
        .unwrap()
        .to_string();
    let mut blocks = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("(sleepy) ") {
            blocks.push(String::new());
        } else {
            blocks.last_mut().unwrap().push_str(&format!("{line}\n"));
        }
    }
    blocks
}

#[track_caller]
fn same_as_pdb(commands: &str, args: &[&str]) {
    let pdb = pdb_blocks(commands, args);
    let ours = sleepy_blocks(commands, args);
    let n = pdb.len().min(ours.len());
    assert!(
        n > 3,
        "too little output to compare:\npdb: {pdb:?}\nsleepy: {ours:?}"
    );
    let cmds: Vec<&str> = commands.lines().collect();
    for i in 0..n {
        let label = if i == 0 {
            "(start)".to_string()
        } else {
            cmds.get(i - 1).unwrap_or(&"?").to_string()
        };
        pretty_assertions::assert_eq!(ours[i], pdb[i], "after command #{i}: {label}");
    }
}

#[test]
fn stepping_into_over_and_out_of_calls() {
    same_as_pdb(
        "b main\nc\nn\nn\ns\ns\nr\nn\nn\ns\nn\nn\nr\nn\nn\nn\n",
        &["shapes.py"],
    );
}

#[test]
fn until_runs_loops_to_their_end() {
    same_as_pdb(
        "b count_up\nc\nn\nn\nn\nn\nn\nunt\np total, i\nunt 7\nuntil 3\nuntil x\nunt\nn\nn\n",
        &["loops.py"],
    );
}

#[test]
fn breakpoint_management() {
    same_as_pdb(
        "b geometry.py:2\nb\nb fact, n == 2\ntbreak safe_div\ndisable 1\nb\nc\nw\nup\np n\nup 2\ndown\ndown 9\n\
         c\nenable 1\nignore 1 1\ncondition 2\nb\nignore 2 2\ncondition 2 n < 0\nb\ncl 2\nb\n",
        &["shapes.py"],
    );
}

#[test]
fn inspecting_a_frame() {
    same_as_pdb(
        "b geometry.py:2\nc\nargs\na\nl\nl\nl 1, 3\nl 40\nl\nll\nwhatis a\nwhatis area\nwhatis 3\nup\n\
         whatis Counter\nwhatis c.bump\nwhatis triple\np c.n\npp {'k': list(range(30)), 'b': 'x' * 50}\ndown\nn\nn\nrv\n\
         display a\ndisplay h\ndisplay\nundisplay a\nundisplay zz\np a\n!a = 99\np a\nx = 3\np x\n\
         cl 1\ncl 9\ncl x\nclear geometry.py:2\n",
        &["shapes.py"],
    );
}

#[test]
fn displays_show_changes_at_each_stop() {
    same_as_pdb(
        "b count_up\nc\ndisplay total\ndisplay i\nn\nn\nn\nn\nn\nn\nn\nundisplay\nn\nn\n",
        &["loops.py"],
    );
}

#[test]
fn exceptions_while_stepping() {
    same_as_pdb("b safe_div\nc\nn\nn\nn\nn\nn\nn\n", &["shapes.py"]);
}

#[test]
fn generators_are_stepped_like_pdb() {
    // (Not one step further: on the next resume pdb shows a stale `->4` from the f_locals
    // entry it wrote at the yield; sleepy does not write into the program's frames.)
    same_as_pdb("b gen\nc\nn\nn\nn\nw\nn\nn\ns\n", &["loops.py"]);
}

#[test]
fn double_semicolons_and_blank_lines() {
    same_as_pdb("b count_up\nc\nn;;p total\n\n\nl\n\n", &["loops.py"]);
}

#[test]
fn queued_commands_and_the_stop_location() {
    // pdb 3.13 prints a stop's location after the commands queued behind `;;` (and never for a
    // stop one of them moved on from); 3.11 and 3.12 print it as the stop happens.
    same_as_pdb(
        "b gen\nc\nn;;n\nn;;p i;;p n\ndisplay i;;n;;n\nn\ntbreak count_up;;c;;p n\nn\n",
        &["loops.py"],
    );
}
