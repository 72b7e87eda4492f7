//! Snapshot files: a suspended program, to resume later or elsewhere (`sleepy resume FILE`).
//!
//! The file is a magic line, one line of JSON (the [`Header`]: what, when, which Python, the
//! stack in brief) and the payload: the program's state as `sleepy_snapshot.py` pickled it.
//! The header is readable without Python, so `sleepy inspect` and the version check never run
//! program code. Files are written whole or not at all: a temporary file next to the target,
//! fsync'd, renamed over it, and the directory fsync'd.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The first line of every snapshot file.
pub const MAGIC: &[u8] = b"SLEEPY-SNAPSHOT 1\n";

/// Bumped when the payload's layout changes; an older or newer file is refused.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format: u32,
    /// `major.minor.micro` of the Python that wrote it; resuming needs the same minor version.
    pub python: String,
    pub sleepy: String,
    /// Seconds since the epoch.
    pub created: u64,
    /// Why it was written: `quota`, `checkpoint`, `sigterm`, `suspend`, `crash`.
    pub reason: String,
    /// The program as started: the script's path (or `-m module`) and its arguments.
    pub program: SavedProgram,
    pub tick: u64,
    /// The user's frames, oldest first.
    pub stack: Vec<SavedFrame>,
    /// For a post-mortem file: the exception, as the traceback's last line says it.
    #[serde(default)]
    pub exception: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedProgram {
    /// `script` or `module`.
    pub kind: String,
    /// The script's absolute path, or the module's name.
    pub target: String,
    pub argv0: String,
    pub args: Vec<String>,
    pub cwd: String,
    pub rewrite: bool,
    pub rewrite_globs: Vec<String>,
    pub trace: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedFrame {
    pub qualname: String,
    pub file: String,
    pub line: u32,
    /// Each local: name, type and a bounded repr made when the file was written.
    pub locals: Vec<(String, String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not a sleepy snapshot file (it does not start with {:?})", String::from_utf8_lossy(MAGIC).trim())]
    NotASnapshot { path: PathBuf },
    #[error("{path} is damaged: {why}")]
    Damaged { path: PathBuf, why: String },
    #[error(
        "{path} was written in snapshot format {found}; this sleepy reads format {FORMAT} (use the sleepy that wrote it)"
    )]
    Format { path: PathBuf, found: u32 },
    #[error(
        "{path} was written by Python {wrote}; this sleepy embeds Python {here}: a program resumes only under the same minor version (build sleepy with PYO3_PYTHON pointing to a {wrote_minor} interpreter)"
    )]
    Python {
        path: PathBuf,
        wrote: String,
        here: String,
        wrote_minor: String,
    },
    #[error("cannot write {path}: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// A snapshot read back: its header and the pickled state.
pub struct Snapshot {
    pub header: Header,
    pub payload: Vec<u8>,
}

/// `3.11.7` -> `3.11`.
pub fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Reads a snapshot file and checks it can be resumed by a sleepy embedding `python`
/// (`major.minor.micro`).
pub fn read(path: &Path, python: &str) -> Result<Snapshot, SnapshotError> {
    let snapshot = read_any(path)?;
    let wrote = &snapshot.header.python;
    if minor(wrote) != minor(python) {
        return Err(SnapshotError::Python {
            path: path.to_path_buf(),
            wrote: wrote.clone(),
            here: python.to_string(),
            wrote_minor: minor(wrote),
        });
    }
    Ok(snapshot)
}

/// Reads a snapshot file whatever Python wrote it (for `inspect`, which runs nothing).
pub fn read_any(path: &Path) -> Result<Snapshot, SnapshotError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|cause| SnapshotError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| SnapshotError::NotASnapshot {
            path: path.to_path_buf(),
        })?;
    let end = rest
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| SnapshotError::Damaged {
            path: path.to_path_buf(),
            why: "its header is cut short".into(),
        })?;
    let header: Header =
        serde_json::from_slice(&rest[..end]).map_err(|e| SnapshotError::Damaged {
            path: path.to_path_buf(),
            why: format!("its header does not parse: {e}"),
        })?;
    if header.format != FORMAT {
        return Err(SnapshotError::Format {
            path: path.to_path_buf(),
            found: header.format,
        });
    }
    let payload = rest[end + 1..].to_vec();
    if payload.is_empty() {
        return Err(SnapshotError::Damaged {
            path: path.to_path_buf(),
            why: "it holds no program state".into(),
        });
    }
    Ok(Snapshot { header, payload })
}

/// Writes a snapshot atomically: all of it or, if anything fails, nothing (an older file at
/// `path` stays as it was).
pub fn write(path: &Path, header: &Header, payload: &[u8]) -> Result<(), SnapshotError> {
    let err = |cause| SnapshotError::Write {
        path: path.to_path_buf(),
        cause,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        // A snapshot holds the program's data (its variables, what it read): the owner's only.
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?
        };
        file.write_all(MAGIC)?;
        serde_json::to_writer(&mut file, header).map_err(std::io::Error::other)?;
        file.write_all(b"\n")?;
        file.write_all(payload)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        // The rename itself must reach the disk, or a crash could leave the old name.
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// What `sleepy inspect` prints: the header and the stack with its locals.
pub fn describe(path: &Path, snapshot: &Snapshot) -> Vec<String> {
    let h = &snapshot.header;
    let mut out = vec![
        format!("{}: a sleepy snapshot", path.display()),
        format!(
            "  program: {} {}",
            if h.program.kind == "module" {
                format!("-m {}", h.program.target)
            } else {
                h.program.target.clone()
            },
            h.program.args.join(" ")
        )
        .trim_end()
        .to_string(),
        format!(
            "  written: {} ({}), tick {}",
            created(h.created),
            h.reason,
            h.tick
        ),
        format!("  by: sleepy {}, Python {}", h.sleepy, h.python),
        format!("  payload: {} bytes", snapshot.payload.len()),
    ];
    if let Some(e) = &h.exception {
        out.push(format!("  exception: {e}"));
    }
    out.push("stack (most recent call last):".into());
    for f in &h.stack {
        out.push(format!("  {}:{} in {}", f.file, f.line, f.qualname));
        for (name, kind, value) in &f.locals {
            out.push(format!("      {name} ({kind}) = {value}"));
        }
    }
    out
}

/// A date for people: `2026-11-26 00:53:42 UTC`.
fn created(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `<script stem>.sleepy` in the current directory (the default for `run` and `resume`); for
/// `-m pkg.mod`, `mod.sleepy`.
pub fn default_path(target: &str, module: bool, cwd: &Path) -> PathBuf {
    let stem = if module {
        target.rsplit('.').next().unwrap_or(target).to_string()
    } else {
        Path::new(target)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "program".into())
    };
    cwd.join(format!("{stem}.sleepy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: FORMAT,
            python: "3.11.7".into(),
            sleepy: "0.1.0".into(),
            created: 1_764_118_422,
            reason: "quota".into(),
            program: SavedProgram {
                kind: "script".into(),
                target: "/work/job.py".into(),
                argv0: "job.py".into(),
                args: vec!["--fast".into()],
                cwd: "/work".into(),
                rewrite: true,
                rewrite_globs: vec![],
                trace: vec![],
            },
            tick: 1234,
            stack: vec![SavedFrame {
                qualname: "main".into(),
                file: "/work/job.py".into(),
                line: 12,
                locals: vec![("n".into(), "int".into(), "3".into())],
            }],
            exception: None,
        }
    }

    #[test]
    fn a_written_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        write(&path, &header(), b"payload").unwrap();
        let s = read(&path, "3.11.2").unwrap();
        assert_eq!(s.header, header());
        assert_eq!(s.payload, b"payload");
        // No temporary file is left behind, and only the owner may read it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn another_minor_version_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        write(&path, &header(), b"payload").unwrap();
        let e = read(&path, "3.12.1").err().unwrap().to_string();
        assert!(
            e.contains("Python 3.11.7") && e.contains("Python 3.12.1"),
            "{e}"
        );
    }

    #[test]
    fn not_a_snapshot_and_damaged_files_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sleepy");
        std::fs::write(&path, b"print('hi')\n").unwrap();
        let e = read(&path, "3.11.7").err().unwrap().to_string();
        assert!(e.contains("is not a sleepy snapshot file"), "{e}");
        std::fs::write(&path, [MAGIC, b"{\"format\": 1"].concat()).unwrap();
        let e = read(&path, "3.11.7").err().unwrap().to_string();
        assert!(e.contains("is damaged"), "{e}");
        let e = read(&dir.path().join("none.sleepy"), "3.11.7")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        write(&path, &header(), b"old").unwrap();
        let bad = dir.path().join("no-such-dir").join("job.sleepy");
        assert!(write(&bad, &header(), b"new").is_err());
        assert_eq!(read(&path, "3.11.7").unwrap().payload, b"old");
    }

    #[test]
    fn dates_and_default_paths() {
        assert_eq!(created(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(created(1_764_118_422), "2025-11-26 00:53:42 UTC");
        assert_eq!(
            default_path("/a/b/job.py", false, Path::new("/cwd")),
            PathBuf::from("/cwd/job.sleepy")
        );
        assert_eq!(
            default_path("pkg.mod", true, Path::new("/cwd")),
            PathBuf::from("/cwd/mod.sleepy")
        );
    }
}
