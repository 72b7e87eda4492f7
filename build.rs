//! Finds the Python that sleepy embeds and makes the binary load *that* libpython at run time.
//!
//! pyo3 picks the interpreter (`PYO3_PYTHON`, else `python3` on PATH) and links its libpython, but
//! the dynamic loader would still find the first `libpython3.x.so` on its search path (on Debian:
//! /usr/lib's 3.11.2, with Debian's sys.path). An rpath to the chosen interpreter's LIBDIR fixes
//! that. The interpreter's facts are baked in so the agent can start CPython the way that
//! interpreter's `python3` starts.
//!
//! It also exports the libc functions that `agent::replay` defines (the record/replay layer), so
//! that libpython and extension modules, which call them through the PLT, bind to sleepy's.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    // sys.executable of the interpreter the user named (PYO3_PYTHON, else python3 on PATH): that
    // is what `python3 script.py` reports, and the path CPython's getpath starts from.
    let interpreter = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into());
    let executable = std::process::Command::new(&interpreter)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| config.executable().unwrap_or_default().to_string());
    let lib_dir = config.lib_dir().unwrap_or_default();
    println!("cargo:rustc-env=SLEEPY_PYTHON_EXECUTABLE={executable}");
    println!("cargo:rustc-env=SLEEPY_PYTHON_LIBDIR={lib_dir}");
    println!(
        "cargo:rustc-env=SLEEPY_PYTHON_VERSION={}.{}",
        config.version().major,
        config.version().minor
    );
    // The functions `agent::replay` defines (src/agent/interposed.rs is that module's list too).
    // Only the sleepy binary embeds CPython; tests call the definitions directly, without the export.
    let interposed: &[&str] = include!("src/agent/interposed.rs");
    for name in interposed {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={name}");
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/agent/interposed.rs");
}
