//! Snapshot files: a suspended program, to resume later or elsewhere (`sleepy resume FILE`).
//!
//! The file is a magic line, a signature line (HMAC-SHA256 of everything after it, with a key
//! kept in the user's config directory), one line of JSON (the [`Header`]: what, when, which
//! Python, the sources' hashes, the stack in brief) and the payload: the program's state as
//! `sleepy_snapshot.py` pickled it. Resuming unpickles the payload, which can run code, so a
//! file is checked before anything is unpickled: its signature, its format, its Python version
//! and that the program's sources are those it was suspended with. The header is readable
//! without Python, so `sleepy inspect` never runs program code. Files are written whole or not
//! at all: a temporary file next to the target (mode 0600), fsync'd, renamed over it, and the
//! directory fsync'd. The format: docs/snapshot-format.md.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The first line of every snapshot file.
pub const MAGIC: &[u8] = b"SLEEPY-SNAPSHOT 2\n";

/// Bumped when the layout changes; an older or newer file is refused.
pub const FORMAT: u32 = 2;

/// The signature line: this prefix, 64 hex digits, a newline.
const SIGNATURE_PREFIX: &[u8] = b"hmac-sha256:";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

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
    /// Each of the program's source files involved (its modules'), with the SHA-256 of its
    /// bytes when it was suspended: resuming against other sources would rebuild wrong frames.
    #[serde(default)]
    pub sources: Vec<(String, String)>,
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
        "{path} is not signed with this machine's snapshot key ({key}): it was changed after it was written, or written with another key (copy that key here, or pass it with --key FILE). Nothing in it was loaded"
    )]
    BadSignature { path: PathBuf, key: String },
    #[error("{path}: the program's source changed since it was suspended: {file} {what}")]
    SourceChanged {
        path: PathBuf,
        file: String,
        what: String,
    },
    #[error("the snapshot key {path}: {why}")]
    Key { path: PathBuf, why: String },
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
    /// Whether the signature matched the key it was checked with (`inspect` reads files it
    /// cannot verify, and says so).
    pub signed: bool,
}

/// The key snapshots are signed with: 32 random bytes in a file of the user's only.
pub struct Key {
    bytes: Vec<u8>,
    pub path: PathBuf,
}

impl Key {
    /// `~/.config/sleepy/snapshot.key` (or `$SLEEPY_SNAPSHOT_KEY`), or the given file.
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("SLEEPY_SNAPSHOT_KEY") {
            return PathBuf::from(p);
        }
        dirs::config_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("sleepy")
            .join("snapshot.key")
    }

    /// Reads the key, making one (0600, atomically: two sessions starting at once end up
    /// with the same key) if there is none at the default place.
    pub fn load_or_create(given: Option<&Path>) -> Result<Key, SnapshotError> {
        match given {
            Some(path) => Key::at(path, false),
            None => Key::at(&Key::default_path(), true),
        }
    }

    /// The key in `path`; with `create`, made there if missing.
    fn at(path: &Path, create: bool) -> Result<Key, SnapshotError> {
        let path = path.to_path_buf();
        let err = |why: String| SnapshotError::Key {
            path: path.clone(),
            why,
        };
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() >= 16 => return Ok(Key { bytes, path }),
            Ok(_) => return Err(err("it is too short to be a key (at least 16 bytes)".into())),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound || !create => {
                return Err(err(e.to_string()));
            }
            Err(_) => {}
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| err(e.to_string()))?;
        let mut bytes = vec![0u8; 32];
        rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
            .map_err(|e| err(format!("no random bytes: {e}")))?;
        // Named by its own random bytes: two makers (processes or threads) never share it.
        let tmp = dir.join(format!(".snapshot.key.{}.tmp", hex(&bytes[..8])));
        let made = (|| {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            // A link fails if the key appeared meanwhile: then that one is the key.
            std::fs::hard_link(&tmp, &path)
        })();
        let _ = std::fs::remove_file(&tmp);
        match made {
            Ok(()) => Ok(Key { bytes, path }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Key::at(&path, false),
            Err(e) => Err(err(e.to_string())),
        }
    }

    fn sign(&self, data: &[u8]) -> String {
        use hmac::Mac;
        let mut mac = match HmacSha256::new_from_slice(&self.bytes) {
            Ok(m) => m,
            // HMAC takes keys of any length.
            Err(_) => return String::new(),
        };
        mac.update(data);
        hex(&mac.finalize().into_bytes())
    }

    fn verify(&self, data: &[u8], signature: &str) -> bool {
        use hmac::Mac;
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.bytes) else {
            return false;
        };
        mac.update(data);
        let Some(expected) = unhex(signature) else {
            return false;
        };
        // Constant time, as a MAC check should be.
        mac.verify_slice(&expected).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The SHA-256 of a file's bytes, in hex.
pub fn file_hash(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path)?;
    Ok(hex(&sha2::Sha256::digest(&bytes)))
}

/// Refuses a snapshot whose program sources are gone or changed.
pub fn check_sources(path: &Path, header: &Header) -> Result<(), SnapshotError> {
    for (file, hash) in &header.sources {
        let what = match file_hash(Path::new(file)) {
            Ok(h) if &h == hash => continue,
            Ok(_) => "has changed".to_string(),
            Err(e) => format!("cannot be read ({e}); resuming needs the program's sources"),
        };
        return Err(SnapshotError::SourceChanged {
            path: path.to_path_buf(),
            file: file.clone(),
            what,
        });
    }
    Ok(())
}

/// `3.11.7` -> `3.11`.
pub fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Reads a snapshot file and checks, before anything in it is used, that it can be resumed by
/// a sleepy embedding `python` (`major.minor[.micro]`): signed with `key`, the same Python minor
/// version, and the program's sources unchanged.
pub fn read(path: &Path, python: &str, key: &Key) -> Result<Snapshot, SnapshotError> {
    let snapshot = read_with(path, Some(key))?;
    if !snapshot.signed {
        return Err(SnapshotError::BadSignature {
            path: path.to_path_buf(),
            key: key.path.display().to_string(),
        });
    }
    let wrote = &snapshot.header.python;
    if minor(wrote) != minor(python) {
        return Err(SnapshotError::Python {
            path: path.to_path_buf(),
            wrote: wrote.clone(),
            here: python.to_string(),
            wrote_minor: minor(wrote),
        });
    }
    check_sources(path, &snapshot.header)?;
    Ok(snapshot)
}

/// Reads a snapshot file whatever Python wrote it, checking the signature if a key is given
/// (for `inspect`, which runs nothing and says whether the file is signed).
pub fn read_any(path: &Path, key: Option<&Key>) -> Result<Snapshot, SnapshotError> {
    read_with(path, key)
}

fn read_with(path: &Path, key: Option<&Key>) -> Result<Snapshot, SnapshotError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|cause| SnapshotError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
    parse(path, &bytes, key)
}

fn parse(path: &Path, bytes: &[u8], key: Option<&Key>) -> Result<Snapshot, SnapshotError> {
    let damaged = |why: &str| SnapshotError::Damaged {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        if bytes.starts_with(b"SLEEPY-SNAPSHOT ") {
            return Err(SnapshotError::Format {
                path: path.to_path_buf(),
                found: bytes
                    .get(16..17)
                    .and_then(|d| std::str::from_utf8(d).ok())
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0),
            });
        }
        return Err(SnapshotError::NotASnapshot {
            path: path.to_path_buf(),
        });
    };
    let line_end = rest
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| damaged("its signature line is cut short"))?;
    let line = rest[..line_end]
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(|s| std::str::from_utf8(s).ok())
        .ok_or_else(|| damaged("it is not signed (no signature line)"))?;
    let (signature, length) = line
        .split_once(" length:")
        .and_then(|(sig, n)| Some((sig.to_string(), n.parse::<usize>().ok()?)))
        .ok_or_else(|| damaged("its signature line does not parse"))?;
    let signed_part = &rest[line_end + 1..];
    if signed_part.len() != length {
        return Err(damaged(&format!(
            "it is truncated: {} of its {length} bytes are there",
            signed_part.len()
        )));
    }
    let signed = key.is_some_and(|k| k.verify(signed_part, &signature));
    if key.is_some() && !signed {
        // Nothing past the signature is trusted, not even the header's JSON.
        return Ok(Snapshot {
            header: unverified_header(path, signed_part)?,
            payload: Vec::new(),
            signed: false,
        });
    }
    let end = signed_part
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| damaged("its header is cut short"))?;
    let header: Header = serde_json::from_slice(&signed_part[..end])
        .map_err(|e| damaged(&format!("its header does not parse: {e}")))?;
    if header.format != FORMAT {
        return Err(SnapshotError::Format {
            path: path.to_path_buf(),
            found: header.format,
        });
    }
    let payload = signed_part[end + 1..].to_vec();
    if payload.is_empty() {
        return Err(damaged("it holds no program state"));
    }
    Ok(Snapshot {
        header,
        payload,
        signed,
    })
}

/// The header of a file whose signature did not match, for `inspect` to show (plain JSON: no
/// program code can run from it).
fn unverified_header(path: &Path, signed_part: &[u8]) -> Result<Header, SnapshotError> {
    let end = signed_part
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(signed_part.len());
    serde_json::from_slice(&signed_part[..end]).map_err(|e| SnapshotError::Damaged {
        path: path.to_path_buf(),
        why: format!("its header does not parse: {e}"),
    })
}

/// Writes a snapshot atomically: all of it or, if anything fails, nothing (an older file at
/// `path` stays as it was).
pub fn write(path: &Path, header: &Header, payload: &[u8], key: &Key) -> Result<(), SnapshotError> {
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
        let mut signed = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        signed.push(b'\n');
        signed.extend_from_slice(payload);
        file.write_all(MAGIC)?;
        file.write_all(SIGNATURE_PREFIX)?;
        file.write_all(key.sign(&signed).as_bytes())?;
        file.write_all(format!(" length:{}\n", signed.len()).as_bytes())?;
        file.write_all(&signed)?;
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
        format!(
            "  signature: {}",
            if snapshot.signed {
                "valid (this machine's snapshot key)"
            } else {
                "NOT VALID with this machine's key: changed since it was written, or written with another key; `resume` refuses it"
            }
        ),
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
            sources: vec![],
        }
    }

    fn key(dir: &Path) -> Key {
        Key::load_or_create(Some(&make_key(dir))).unwrap()
    }

    fn make_key(dir: &Path) -> PathBuf {
        let path = dir.join("test.key");
        if !path.exists() {
            std::fs::write(&path, [7u8; 32]).unwrap();
        }
        path
    }

    #[test]
    fn a_written_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        let key = key(dir.path());
        write(&path, &header(), b"payload", &key).unwrap();
        let s = read(&path, "3.11.2", &key).unwrap();
        assert_eq!(s.header, header());
        assert_eq!(s.payload, b"payload");
        assert!(s.signed);
        // No temporary file is left behind, and only the owner may read it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn another_minor_version_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        let key = key(dir.path());
        write(&path, &header(), b"payload", &key).unwrap();
        let e = read(&path, "3.12.1", &key).err().unwrap().to_string();
        assert!(
            e.contains("Python 3.11.7") && e.contains("Python 3.12.1"),
            "{e}"
        );
    }

    #[test]
    fn not_a_snapshot_and_damaged_files_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sleepy");
        let key = key(dir.path());
        std::fs::write(&path, b"print('hi')\n").unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(e.contains("is not a sleepy snapshot file"), "{e}");
        std::fs::write(&path, [MAGIC, b"{\"format\": 1"].concat()).unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(e.contains("is damaged"), "{e}");
        let e = read(&dir.path().join("none.sleepy"), "3.11.7", &key)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
        // Truncated, tampered, and signed with another key: each says so.
        let good = dir.path().join("good.sleepy");
        write(&good, &header(), b"payload bytes", &key).unwrap();
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(e.contains("is truncated"), "{e}");
        let mut tampered = bytes.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        std::fs::write(&path, &tampered).unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(
            e.contains("is not signed with this machine's snapshot key"),
            "{e}"
        );
        let other_dir = tempfile::tempdir().unwrap();
        let other = other_dir.path().join("other.key");
        std::fs::write(&other, [9u8; 32]).unwrap();
        let other = Key::load_or_create(Some(&other)).unwrap();
        let e = read(&good, "3.11.7", &other).err().unwrap().to_string();
        assert!(e.contains("is not signed"), "{e}");
        // inspect can still read the header, and says the signature does not hold.
        let s = read_any(&good, Some(&other)).unwrap();
        assert!(!s.signed);
        assert_eq!(s.header, header());
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.sleepy");
        let key = key(dir.path());
        write(&path, &header(), b"old", &key).unwrap();
        let bad = dir.path().join("no-such-dir").join("job.sleepy");
        assert!(write(&bad, &header(), b"new", &key).is_err());
        assert_eq!(read(&path, "3.11.7", &key).unwrap().payload, b"old");
    }

    #[test]
    fn a_changed_source_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = key(dir.path());
        let src = dir.path().join("job.py");
        std::fs::write(&src, "print(1)\n").unwrap();
        let mut h = header();
        h.sources = vec![(src.display().to_string(), file_hash(&src).unwrap())];
        let path = dir.path().join("job.sleepy");
        write(&path, &h, b"payload", &key).unwrap();
        assert!(read(&path, "3.11.7", &key).is_ok());
        std::fs::write(&src, "print(2)\n").unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(
            e.contains("source changed") && e.contains("job.py has changed"),
            "{e}"
        );
        std::fs::remove_file(&src).unwrap();
        let e = read(&path, "3.11.7", &key).err().unwrap().to_string();
        assert!(e.contains("cannot be read"), "{e}");
    }

    #[test]
    fn a_new_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("snapshot.key");
        // Sessions starting at once all end up with the same key.
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| Key::at(&path, true).unwrap().bytes))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 32));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A key named on the command line must exist, and be a key.
        assert!(Key::load_or_create(Some(&dir.path().join("none.key"))).is_err());
        std::fs::write(dir.path().join("short.key"), b"short").unwrap();
        let e = Key::load_or_create(Some(&dir.path().join("short.key")))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("too short"), "{e}");
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
