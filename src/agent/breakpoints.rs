//! The breakpoint table, with pdb's numbering, hit counts, ignore counts and messages.
//!
//! The trace hook never searches this table on a line event: each code object caches the lines
//! of its file that carry an enabled breakpoint, and refreshes that cache only when the table's
//! `generation` has moved (see `tracer.rs`).

use crate::protocol::BreakpointInfo;

#[derive(Debug, Clone)]
pub struct Breakpoint {
    pub number: u32,
    /// Index in the tracer's file table.
    pub file: u32,
    pub path: String,
    pub line: u32,
    pub temporary: bool,
    pub enabled: bool,
    pub condition: Option<String>,
    pub ignore: u32,
    pub hits: u32,
    /// `break FUNC`: the function's `co_name`; `line` is then its `def` line.
    pub function: Option<String>,
    /// pdb's rule: a function breakpoint stops at the first line the function executes.
    pub function_first_line: Option<i32>,
}

impl Breakpoint {
    pub fn info(&self) -> BreakpointInfo {
        BreakpointInfo {
            number: self.number,
            file: self.path.clone(),
            line: self.line,
            temporary: self.temporary,
            enabled: self.enabled,
            condition: self.condition.clone(),
            ignore: self.ignore,
            hits: self.hits,
            function: self.function.clone(),
        }
    }
}

#[derive(Debug, Default)]
pub struct BreakpointTable {
    /// Indexed by number - 1; deleted breakpoints leave a hole, as in pdb.
    slots: Vec<Option<Breakpoint>>,
    generation: u64,
}

pub struct NewBreakpoint {
    pub file: u32,
    pub path: String,
    pub line: u32,
    pub temporary: bool,
    pub condition: Option<String>,
    pub function: Option<String>,
}

impl BreakpointTable {
    /// Changes whenever the set of enabled breakpoint locations changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn touch(&mut self) {
        self.generation += 1;
    }

    pub fn any_enabled(&self) -> bool {
        self.iter().any(|b| b.enabled)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Breakpoint> {
        self.slots.iter().flatten()
    }

    pub fn add(&mut self, new: NewBreakpoint) -> BreakpointInfo {
        let number = u32::try_from(self.slots.len() + 1).unwrap_or(u32::MAX);
        let bp = Breakpoint {
            number,
            file: new.file,
            path: new.path,
            line: new.line,
            temporary: new.temporary,
            enabled: true,
            condition: new.condition,
            ignore: 0,
            hits: 0,
            function: new.function,
            function_first_line: None,
        };
        let info = bp.info();
        self.slots.push(Some(bp));
        self.touch();
        info
    }

    /// Replaces the table with breakpoints as another process had them (numbers, hit and
    /// ignore counts kept); each comes with its file's index in this process's file table.
    pub fn restore(&mut self, entries: Vec<(u32, BreakpointInfo)>, next: u32) {
        self.slots.clear();
        self.slots
            .resize(next.saturating_sub(1) as usize, None::<Breakpoint>);
        for (file, info) in entries {
            let index = info.number.saturating_sub(1) as usize;
            if self.slots.len() <= index {
                self.slots.resize(index + 1, None);
            }
            self.slots[index] = Some(Breakpoint {
                number: info.number,
                file,
                path: info.file,
                line: info.line,
                temporary: info.temporary,
                enabled: info.enabled,
                condition: info.condition,
                ignore: info.ignore,
                hits: info.hits,
                function: info.function,
                function_first_line: None,
            });
        }
        self.touch();
    }

    /// Lines with an enabled line breakpoint in a file, sorted.
    pub fn lines_in(&self, file: u32) -> Vec<u32> {
        let mut lines: Vec<u32> = self
            .iter()
            .filter(|b| b.enabled && b.file == file && b.function.is_none())
            .map(|b| b.line)
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }

    /// Is there an enabled function breakpoint on this code object? A function breakpoint's
    /// line is its `def` line (pdb 3.11, 3.12) or its first executable line (pdb 3.13, which
    /// sleepy_inspect follows there): either way not before `def_line`. The tests here may
    /// also accept a same-named function later in the file; `candidates` then decides.
    pub fn names_function(&self, file: u32, def_line: i32, name: &str) -> bool {
        self.iter().any(|b| {
            b.enabled
                && b.file == file
                && i64::from(b.line) >= i64::from(def_line)
                && b.function.as_deref() == Some(name)
        })
    }

    /// Numbers of the enabled breakpoints that may fire here, in number order (pdb's
    /// `effective()` considers line breakpoints at the line and function breakpoints of the
    /// function whose `def` is at `def_line`; pdb 3.13 keys a function breakpoint at the
    /// function's first executable line instead, so it is met at that line).
    pub fn candidates(&self, file: u32, line: u32, def_line: i32, function: &str) -> Vec<u32> {
        self.iter()
            .filter(|b| b.enabled && b.file == file)
            .filter(|b| match &b.function {
                None => b.line == line,
                Some(name) => {
                    (i64::from(b.line) == i64::from(def_line) || b.line == line) && name == function
                }
            })
            .map(|b| b.number)
            .collect()
    }

    pub fn get_mut(&mut self, number: u32) -> Option<&mut Breakpoint> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.slots.get_mut(index)?.as_mut()
    }

    /// pdb's `get_bpbynumber`, with its messages.
    pub fn lookup(&self, arg: &str) -> Result<u32, String> {
        let arg = arg.trim();
        if arg.is_empty() {
            return Err("Breakpoint number expected".into());
        }
        let number: i64 = arg
            .parse()
            .map_err(|_| format!("Non-numeric breakpoint number {arg}"))?;
        let index = usize::try_from(number - 1)
            .ok()
            .filter(|i| *i < self.slots.len());
        match index {
            None => Err(format!("Breakpoint number {number} out of range")),
            Some(i) if self.slots[i].is_none() => {
                Err(format!("Breakpoint {number} already deleted"))
            }
            Some(_) => u32::try_from(number)
                .map_err(|_| format!("Breakpoint number {number} out of range")),
        }
    }

    pub fn delete(&mut self, number: u32) -> Option<BreakpointInfo> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        let bp = self.slots.get_mut(index)?.take()?;
        self.touch();
        Some(bp.info())
    }

    pub fn delete_all(&mut self) -> Vec<BreakpointInfo> {
        let all: Vec<BreakpointInfo> = self.iter().map(Breakpoint::info).collect();
        self.slots.iter_mut().for_each(|s| *s = None);
        self.touch();
        all
    }

    /// Deletes the breakpoints at a file's line; pdb's message when there are none.
    pub fn delete_at(
        &mut self,
        file: u32,
        path: &str,
        line: u32,
    ) -> Result<Vec<BreakpointInfo>, String> {
        let numbers: Vec<u32> = self
            .iter()
            .filter(|b| b.file == file && b.line == line)
            .map(|b| b.number)
            .collect();
        if numbers.is_empty() {
            if !self.iter().any(|b| b.file == file) {
                return Err(format!("There are no breakpoints in {path}"));
            }
            return Err(format!("There is no breakpoint at {path}:{line}"));
        }
        Ok(numbers.into_iter().filter_map(|n| self.delete(n)).collect())
    }

    pub fn set_enabled(&mut self, number: u32, enabled: bool) -> Option<BreakpointInfo> {
        let bp = self.get_mut(number)?;
        bp.enabled = enabled;
        let info = bp.info();
        self.touch();
        Some(info)
    }

    pub fn list(&self) -> Vec<BreakpointInfo> {
        self.iter().map(Breakpoint::info).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(table: &mut BreakpointTable, file: u32, line: u32) -> u32 {
        table
            .add(NewBreakpoint {
                file,
                path: format!("/f{file}.py"),
                line,
                temporary: false,
                condition: None,
                function: None,
            })
            .number
    }

    #[test]
    fn numbers_are_never_reused_and_lookup_speaks_pdb() {
        let mut t = BreakpointTable::default();
        assert_eq!(bp(&mut t, 0, 3), 1);
        assert_eq!(bp(&mut t, 0, 5), 2);
        t.delete(1);
        assert_eq!(bp(&mut t, 0, 7), 3);
        assert_eq!(t.lookup("1"), Err("Breakpoint 1 already deleted".into()));
        assert_eq!(
            t.lookup("9"),
            Err("Breakpoint number 9 out of range".into())
        );
        assert_eq!(t.lookup("x"), Err("Non-numeric breakpoint number x".into()));
        assert_eq!(t.lookup(""), Err("Breakpoint number expected".into()));
        assert_eq!(t.lookup("2"), Ok(2));
    }

    #[test]
    fn disabled_breakpoints_leave_the_line_cache_and_move_the_generation() {
        let mut t = BreakpointTable::default();
        bp(&mut t, 1, 10);
        bp(&mut t, 1, 4);
        bp(&mut t, 2, 4);
        assert_eq!(t.lines_in(1), vec![4, 10]);
        let g = t.generation();
        t.set_enabled(2, false);
        assert!(t.generation() > g);
        assert_eq!(t.lines_in(1), vec![10]);
        assert_eq!(t.candidates(1, 10, 1, "f"), vec![1]);
        assert!(t.candidates(1, 4, 1, "f").is_empty());
    }

    #[test]
    fn function_breakpoints_match_by_def_line_and_name() {
        let mut t = BreakpointTable::default();
        t.add(NewBreakpoint {
            file: 0,
            path: "/a.py".into(),
            line: 7,
            temporary: true,
            condition: None,
            function: Some("work".into()),
        });
        assert!(t.names_function(0, 7, "work"));
        assert!(!t.names_function(0, 7, "other"));
        assert_eq!(t.candidates(0, 9, 7, "work"), vec![1]);
        assert!(t.lines_in(0).is_empty());
    }

    #[test]
    fn a_function_breakpoint_at_its_first_executable_line_matches_there() {
        // pdb 3.13's `break work` for `def work` at line 7 whose body starts at line 8.
        let mut t = BreakpointTable::default();
        t.add(NewBreakpoint {
            file: 0,
            path: "/a.py".into(),
            line: 8,
            temporary: false,
            condition: None,
            function: Some("work".into()),
        });
        assert!(t.names_function(0, 7, "work"));
        assert!(!t.names_function(0, 9, "work"));
        assert_eq!(t.candidates(0, 8, 7, "work"), vec![1]);
        assert!(t.candidates(0, 9, 7, "work").is_empty());
        assert!(t.candidates(0, 8, 7, "other").is_empty());
    }

    #[test]
    fn clearing_a_line_without_breakpoints_is_pdbs_error() {
        let mut t = BreakpointTable::default();
        assert_eq!(
            t.delete_at(0, "/a.py", 3),
            Err("There are no breakpoints in /a.py".into())
        );
        bp(&mut t, 0, 3);
        assert_eq!(
            t.delete_at(0, "/a.py", 4),
            Err("There is no breakpoint at /a.py:4".into())
        );
        bp(&mut t, 0, 3);
        assert_eq!(t.delete_at(0, "/a.py", 3).unwrap().len(), 2);
    }
}
