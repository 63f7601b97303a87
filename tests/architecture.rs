//! The one-way house, kept one way: every room of `host/src` (a folder, or a file at the
//! crate root) may import only the rooms below it in [`LAYERS`], so no two rooms import
//! each other and a result's path (config → plan → schedule → runtime → result → store →
//! report/gate/serve) shows in the imports. Test code is left out: a file named `tests.rs`
//! or `*_tests.rs`, and everything after a `#[cfg(test)]`.
//!
//! `docs/architecture.md` draws the same picture; change both together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each room with the rooms it may import. A room not listed here fails the test, so a
/// new room has to say where it stands.
const LAYERS: &[(&str, &[&str])] = &[
    ("plan", &[]),
    ("result", &["plan"]),
    ("config", &["plan"]),
    ("runtime", &["plan", "result"]),
    ("store", &["plan", "result"]),
    ("schedule", &["plan", "result", "runtime"]),
    ("report", &["plan", "result", "store"]),
    ("gate", &["plan", "result", "store", "report"]),
    ("serve", &["plan", "result", "schedule"]),
    ("app", &["plan", "result", "config", "runtime", "store", "schedule", "report", "gate", "serve"]),
    ("cli", &["plan", "result", "config", "runtime", "store", "schedule", "report", "gate", "serve", "app"]),
];

/// Rooms that are files at the crate root and import nothing.
const ROOT_FILES: &[&str] = &["lib", "main"];

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name == "tests.rs" || name.ends_with("_tests.rs")
}

/// The room a file belongs to: its first path component under `src/`, without `.rs`.
fn room_of(root: &Path, path: &Path) -> String {
    let first = path.strip_prefix(root).ok().and_then(|p| p.components().next()).expect("a file under src/");
    first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
}

/// The rooms a source text names through `crate::room` paths (also inside `use crate::{…}`).
fn imported_rooms(source: &str) -> BTreeSet<String> {
    let mut rooms = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    rooms.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                rooms.insert(name);
            }
        }
    }
    rooms
}

/// Room → (imported room → the files that import it), test code left out.
fn imports() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let room = room_of(&root, file);
        let shown = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        let entry = graph.entry(room.clone()).or_default();
        for imported in imported_rooms(code) {
            if imported != room {
                entry.entry(imported).or_default().insert(shown.clone());
            }
        }
    }
    graph
}

#[test]
fn every_room_imports_only_the_rooms_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (room, imported) in imports() {
        if ROOT_FILES.contains(&room.as_str()) {
            continue;
        }
        let Some(below) = allowed.get(room.as_str()) else {
            wrong.push(format!(
                "host/src/{room} is not in LAYERS (tests/architecture.rs): say which rooms it may import"
            ));
            continue;
        };
        for (other, files) in imported {
            if !below.contains(&other.as_str()) {
                let files: Vec<_> = files.into_iter().collect();
                wrong.push(format!("{room} imports {other} (in {}), but may import only {below:?}", files.join(", ")));
            }
        }
    }
    assert!(wrong.is_empty(), "the house is no longer one-way:\n  {}", wrong.join("\n  "));
}

#[test]
fn no_two_rooms_import_each_other() {
    let graph = imports();
    let mut pairs = Vec::new();
    for (a, imported) in &graph {
        for b in imported.keys() {
            if a < b && graph.get(b).is_some_and(|theirs| theirs.contains_key(a)) {
                pairs.push(format!("host/src/{a} <-> host/src/{b}"));
            }
        }
    }
    assert!(pairs.is_empty(), "rooms that import each other:\n  {}", pairs.join("\n  "));
}

#[test]
fn the_layers_themselves_are_one_way() {
    // Each room may import only rooms listed before it, so the table cannot hide a cycle.
    for (i, (room, below)) in LAYERS.iter().enumerate() {
        for other in *below {
            let position = LAYERS.iter().position(|(r, _)| r == other);
            assert!(position.is_some_and(|p| p < i), "{room} may import {other}, which is not listed before it");
        }
    }
}

#[test]
fn the_import_reader_sees_grouped_and_nested_paths() {
    let found = imported_rooms("use crate::{plan::Plan, result};\nlet x = crate::store::open(p);");
    assert_eq!(found, ["plan", "result", "store"].into_iter().map(String::from).collect());
}
