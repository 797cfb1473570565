//! The layering docs/architecture.md describes, checked on the source text: what each layer may
//! import, errors that stay typed, and comments that cite only files that exist. Test modules
//! (from a `#[cfg(test)]` line on) are left out: a test may reach across layers to build what it
//! needs.

use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The layers below `api` and `handlers`: they speak the domain, never the wire or the state.
const BELOW_THE_WIRE: &[&str] = &[
    "domain",
    "policy",
    "hashing",
    "sessions",
    "store",
    "mail",
    "error.rs",
    "lockout.rs",
    "redirects.rs",
    "totp.rs",
    "credentials.rs",
    "startup.rs",
    "blocking.rs",
    "account_enumeration.rs",
    "clock.rs",
    "files.rs",
    "config.rs",
    "aws_calls.rs",
];

/// Every `.rs` file under `dir`, as (path relative to src, text without its test modules).
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(SRC).unwrap().to_string_lossy().into_owned();
                if rel == "test_support.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((rel, without_tests(&text)));
            }
        }
    }
    out.sort();
    out
}

fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}

fn in_layer(rel: &str, layer: &str) -> bool {
    rel == layer || rel.starts_with(&format!("{layer}/"))
}

/// The lines of `text` (numbered from 1) that are code, not comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// The code lines, as `file:line: text`, of the source files `in_scope` takes (by path relative
/// to src) that name any of `forbidden`.
fn imports_of(in_scope: impl Fn(&str) -> bool, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (rel, text) in sources(Path::new(SRC)) {
        if !in_scope(&rel) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if forbidden.iter().any(|f| line.contains(f)) {
                found.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn nothing_below_the_wire_imports_the_wire_the_handlers_or_the_state() {
    let found = imports_of(
        |rel| BELOW_THE_WIRE.iter().any(|layer| in_layer(rel, layer)),
        &[
            "crate::api",
            "crate::handlers",
            "crate::state",
            "crate::flows",
            "crate::app",
        ],
    );
    assert!(found.is_empty(), "imports across the layers:\n{}", found.join("\n"));
}

#[test]
fn the_wire_layer_does_not_import_the_handlers() {
    let found = imports_of(
        |rel| in_layer(rel, "api"),
        &["crate::handlers", "crate::ROUTES", "crate::flows"],
    );
    assert!(found.is_empty(), "api reaches up:\n{}", found.join("\n"));
}

/// What two endpoints share is a flow, a domain type or a wire object: only the route table
/// (and the module list) names handler modules.
#[test]
fn no_handler_imports_another_handler() {
    let found = imports_of(
        |rel| in_layer(rel, "handlers") && rel != "handlers/routes.rs" && rel != "handlers/mod.rs",
        &["crate::handlers", "super::", "crate::ROUTES"],
    );
    assert!(
        found.is_empty(),
        "a handler imports another handler:\n{}",
        found.join("\n")
    );
}

/// The flows sit below the handlers and know nothing of the wire: they take domain values and
/// answer records and domain errors.
#[test]
fn flows_import_neither_the_wire_nor_the_handlers() {
    let found = imports_of(
        |rel| in_layer(rel, "flows"),
        &["crate::api", "crate::handlers", "crate::ROUTES", "crate::app", "axum"],
    );
    assert!(found.is_empty(), "flows reach up:\n{}", found.join("\n"));
}

#[test]
fn errors_are_typed_not_strings() {
    let mut found = Vec::new();
    for (rel, text) in sources(Path::new(SRC)) {
        for (n, line) in code_lines(&text) {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.contains("Result<") && compact.contains(",String>") {
                found.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "Result<_, String>:\n{}", found.join("\n"));
}

/// A discarded error must say why it is discarded (a comment on one of the three lines above),
/// and there are few: a store error is never discarded, it is an outage or an outcome.
#[test]
fn discarded_errors_are_few_and_explained() {
    let mut all = Vec::new();
    let mut unexplained = Vec::new();
    for (rel, text) in sources(Path::new(SRC)) {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("//") || !line.contains("map_err(|_|") {
                continue;
            }
            all.push(format!("{rel}:{}", i + 1));
            let explained = lines[i.saturating_sub(3)..i]
                .iter()
                .any(|l| l.trim_start().starts_with("//"));
            if !explained {
                unexplained.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "map_err(|_| …) without a comment saying why:\n{}",
        unexplained.join("\n")
    );
    assert!(all.len() <= 6, "{} discarded errors (at most 6): {all:?}", all.len());
}

/// The repository-relative paths a line cites: `docs/…`, `scripts/…`, `shared/…` and so on.
fn cited_paths(line: &str) -> Vec<String> {
    const ROOTS: &[&str] = &[
        "docs/",
        "scripts/",
        "shared/",
        "tests/",
        "cli/",
        "functions/",
        "infra/",
        "bench/",
        ".ci/",
    ];
    const ENDINGS: &[&str] = &[".md", ".rs", ".sh", ".py", ".js", ".yaml", ".toml", ".json"];
    let mut out = Vec::new();
    for word in line.split(|c: char| c.is_whitespace() || "`'\"(),;[]<>".contains(c)) {
        let word = word.trim_end_matches(['.', ':']);
        let word = word.split("::").next().unwrap_or(word);
        let word = word.split('#').next().unwrap_or(word);
        if ROOTS.iter().any(|r| word.starts_with(r)) && ENDINGS.iter().any(|e| word.ends_with(e)) {
            out.push(word.to_string());
        }
    }
    out
}

#[test]
fn every_file_a_comment_cites_exists() {
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut missing = Vec::new();
    let mut cited = 0;
    for dir in [
        "shared/src",
        "cli/src",
        "functions/src",
        "tests/src",
        "tests/tests",
        "bench/src",
        "cli/tests",
    ] {
        let dir = root.join(dir);
        if !dir.exists() {
            continue;
        }
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let Some(comment) = line.find("//").map(|at| &line[at..]) else {
                        continue;
                    };
                    for cite in cited_paths(comment) {
                        cited += 1;
                        if !root.join(&cite).exists() {
                            missing.push(format!(
                                "{}:{}: {cite}",
                                path.strip_prefix(&root).unwrap().display(),
                                n + 1
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        cited > 20,
        "the citation scan found only {cited} citations: it is broken"
    );
    assert!(
        missing.is_empty(),
        "comments cite files that do not exist:\n{}",
        missing.join("\n")
    );
}
