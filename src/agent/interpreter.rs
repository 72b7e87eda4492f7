//! Which `python3` the agent should behave as.
//!
//! The agent embeds the libpython sleepy was built against, but `sys.prefix`, `sys.path` and a
//! virtualenv's site-packages come from the *executable path* CPython is told it runs as. So the
//! agent looks for the interpreter `python3 script.py` would have used: an active virtualenv
//! (its `bin/` first on PATH, or `$VIRTUAL_ENV`) when that venv is of the same Python minor
//! version, otherwise the interpreter sleepy was built for.

use std::fs;
use std::path::{Path, PathBuf};

/// The interpreter sleepy was built against (from build.rs).
pub const BUILD_EXECUTABLE: &str = env!("SLEEPY_PYTHON_EXECUTABLE");
/// `major.minor` of the interpreter sleepy was built against.
pub const BUILD_VERSION: &str = env!("SLEEPY_PYTHON_VERSION");

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InterpreterError {
    #[error(
        "the active virtualenv {venv} uses Python {found}, but this sleepy embeds Python {built}; \
         rebuild sleepy with PYO3_PYTHON={venv}/bin/python3 (or deactivate the virtualenv)"
    )]
    VersionMismatch {
        venv: String,
        found: String,
        built: String,
    },
}

/// A virtualenv found from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Venv {
    pub root: PathBuf,
    pub python: PathBuf,
    /// `major.minor`, when pyvenv.cfg says.
    pub version: Option<String>,
}

/// Reads the Python version a venv was made with from its `pyvenv.cfg` (`version = 3.11.7` from
/// `venv`, `version_info = 3.11.7.final.0` from `virtualenv`), as `major.minor`.
pub fn venv_version(cfg_text: &str) -> Option<String> {
    for line in cfg_text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key == "version" || key == "version_info" {
            let mut parts = value.trim().split('.');
            let major = parts.next()?;
            let minor = parts.next()?;
            if major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
            {
                return Some(format!("{major}.{minor}"));
            }
        }
    }
    None
}

fn venv_at(root: &Path) -> Option<Venv> {
    let cfg = fs::read_to_string(root.join("pyvenv.cfg")).ok()?;
    let python = ["python3", "python"]
        .iter()
        .map(|n| root.join("bin").join(n))
        .find(|p| p.exists())?;
    Some(Venv {
        root: root.to_path_buf(),
        python,
        version: venv_version(&cfg),
    })
}

/// The virtualenv `python3` would run in: the first `python3` on PATH that lives in a venv's
/// `bin/`, else `$VIRTUAL_ENV`.
pub fn find_venv(path_var: Option<&str>, virtual_env: Option<&str>) -> Option<Venv> {
    if let Some(path_var) = path_var {
        for dir in path_var.split(':').filter(|d| !d.is_empty()) {
            let dir = Path::new(dir);
            if dir.join("python3").exists() {
                // The first python3 on PATH decides: a venv's, or not a venv at all.
                return dir
                    .parent()
                    .and_then(venv_at)
                    .or_else(|| virtual_env.and_then(|v| venv_at(Path::new(v))));
            }
        }
    }
    virtual_env.and_then(|v| venv_at(Path::new(v)))
}

/// The executable path to start CPython as.
pub fn choose(
    path_var: Option<&str>,
    virtual_env: Option<&str>,
) -> Result<PathBuf, InterpreterError> {
    if let Some(venv) = find_venv(path_var, virtual_env) {
        match &venv.version {
            Some(v) if v != BUILD_VERSION => {
                return Err(InterpreterError::VersionMismatch {
                    venv: venv.root.display().to_string(),
                    found: v.clone(),
                    built: BUILD_VERSION.to_string(),
                });
            }
            _ => return Ok(venv.python),
        }
    }
    Ok(PathBuf::from(BUILD_EXECUTABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_venv_and_virtualenv_configs() {
        assert_eq!(
            venv_version("home = /usr/bin\nversion = 3.11.7\n").as_deref(),
            Some("3.11")
        );
        assert_eq!(
            venv_version("version_info = 3.12.1.final.0\n").as_deref(),
            Some("3.12")
        );
        assert_eq!(venv_version("home = /x\n"), None);
    }

    fn make_venv(root: &Path, version: &str) {
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::write(root.join("bin/python3"), "").unwrap();
        fs::write(
            root.join("pyvenv.cfg"),
            format!("home = /x\nversion = {version}\n"),
        )
        .unwrap();
    }

    #[test]
    fn a_venv_first_on_path_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        make_venv(&venv, &format!("{BUILD_VERSION}.0"));
        let path = format!("{}:/usr/bin", venv.join("bin").display());
        assert_eq!(choose(Some(&path), None).unwrap(), venv.join("bin/python3"));
    }

    #[test]
    fn virtual_env_is_used_when_path_has_no_python() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        make_venv(&venv, &format!("{BUILD_VERSION}.3"));
        let chosen = choose(Some("/nonexistent"), Some(venv.to_str().unwrap())).unwrap();
        assert_eq!(chosen, venv.join("bin/python3"));
    }

    #[test]
    fn a_venv_of_another_minor_version_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("old");
        make_venv(&venv, "2.7.18");
        let path = format!("{}", venv.join("bin").display());
        let err = choose(Some(&path), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("uses Python 2.7"), "{text}");
        assert!(
            text.contains(&format!("embeds Python {BUILD_VERSION}")),
            "{text}"
        );
    }

    #[test]
    fn without_a_venv_the_build_interpreter_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        fs::write(bin.join("python3"), "").unwrap();
        let path = bin.display().to_string();
        assert_eq!(
            choose(Some(&path), None).unwrap(),
            PathBuf::from(BUILD_EXECUTABLE)
        );
    }
}
