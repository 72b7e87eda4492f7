//! The unit tests of the rewriter and its import hook (`src/rewrite/py/sleepy_rewrite.py` and
//! `src/rewrite/py/sleepy_import.py`), run with the interpreter sleepy is built against. The
//! tests themselves live in `src/rewrite/py/tests/` and run without cargo too:
//! `python3 -m unittest discover -s src/rewrite/py/tests -t src/rewrite/py -v`.

use std::process::Command;

#[test]
fn rewriter_unit_tests() {
    let python = env!("SLEEPY_PYTHON_EXECUTABLE");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(python)
        .current_dir(root)
        .args([
            "-m",
            "unittest",
            "discover",
            "-s",
            "src/rewrite/py/tests",
            "-t",
            "src/rewrite/py",
            "-v",
        ])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // Variables that would change what the tests compare with python3's own behaviour.
        .env_remove("PYTHONSAFEPATH")
        .env_remove("PYTHONBREAKPOINT")
        .env_remove("PYTHONSTARTUP")
        .env_remove("PYTHONWARNINGS")
        .env_remove("PYTHONOPTIMIZE")
        .env_remove("PYTHONPATH")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the rewriter's unit tests failed ({}) with {python}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    // unittest reports on stderr; an empty discovery would also exit 0.
    assert!(
        !stderr.contains("Ran 0 tests"),
        "no Python test was found:\n{stderr}"
    );
}
