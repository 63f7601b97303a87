//! `vitals plugin new`: a plugin project from the templates embedded in the binary
//! (`templates/<lang>/`), with the WIT this host speaks and, for Python and JavaScript,
//! the helper module, so the project builds and passes its own test out of the box.

use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};

use super::Failure;

/// The project templates, one directory per language.
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../templates");
/// The WIT package, as the host speaks it.
const WIT: &str = include_str!("../../../wit/plugin.wit");
/// The Python helper layer.
const PYTHON_HELPER: &str = include_str!("../../../plugins/python/vitals_check.py");
/// The JavaScript helper layer.
const JS_HELPER: &str = include_str!("../../../plugins/js/vitals-check.js");
/// The SDK's version: the WIT version it targets.
const SDK_VERSION: &str = "0.1.3";

/// A project's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust, on the vitals-sdk crate.
    Rust,
    /// Python, with componentize-py.
    Python,
    /// JavaScript, with componentize-js.
    Js,
}

impl Lang {
    fn dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        }
    }
}

/// What `plugin new` wrote.
#[derive(Debug)]
pub struct Created {
    /// The project's directory.
    pub dir: PathBuf,
    /// Every file written, relative to it.
    pub files: Vec<PathBuf>,
}

/// Writes the project `name` in `lang` into `parent/name`. `sdk` is the vitals-sdk to
/// depend on (Rust); by default the SDK of the source tree this binary was built from
/// when it is still there, else the released crate.
pub fn create(name: &str, lang: Lang, parent: &Path, sdk: Option<&Path>) -> Result<Created, Failure> {
    check_name(name)?;
    let dir = parent.join(name);
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::usage(format!("{} exists and is not empty; pick another name or --dir", dir.display())));
    }
    let template = TEMPLATES
        .get_dir(lang.dir())
        .ok_or_else(|| Failure::internal(format!("no {} template in this build", lang.dir())))?;
    let sdk_fields = sdk_dependency(sdk)?;
    let vars = [
        ("{{name}}", name.to_string()),
        ("{{module}}", name.replace('-', "_")),
        ("{{sdk}}", format!("{{ {sdk_fields} }}")),
        ("{{sdk_inline}}", sdk_fields.clone()),
        ("{{vitals_version}}", env!("CARGO_PKG_VERSION").to_string()),
    ];
    let mut files = Vec::new();
    let mut write = |relative: PathBuf, text: &str| -> Result<(), Failure> {
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cannot_write(parent, &e))?;
        }
        std::fs::write(&path, text).map_err(|e| cannot_write(&path, &e))?;
        if path.extension().is_some_and(|e| e == "sh") {
            make_executable(&path)?;
        }
        files.push(relative);
        Ok(())
    };
    let mut stack = vec![template];
    while let Some(d) = stack.pop() {
        for entry in d.entries() {
            match entry {
                DirEntry::Dir(sub) => stack.push(sub),
                DirEntry::File(file) => {
                    let relative = file.path().strip_prefix(lang.dir()).unwrap_or(file.path()).to_path_buf();
                    // `Cargo.toml.tmpl`: a manifest cargo must not take for a package of ours.
                    let relative = match relative.to_str().and_then(|p| p.strip_suffix(".tmpl")) {
                        Some(stripped) => PathBuf::from(stripped),
                        None => relative,
                    };
                    let text = file.contents_utf8().ok_or_else(|| {
                        Failure::internal(format!("template file {} is not UTF-8", file.path().display()))
                    })?;
                    let text = vars.iter().fold(text.to_string(), |t, (k, v)| t.replace(k, v));
                    write(relative, &text)?;
                }
            }
        }
    }
    write(PathBuf::from("wit/plugin.wit"), WIT)?;
    match lang {
        Lang::Rust => {}
        Lang::Python => write(PathBuf::from("vitals_check.py"), PYTHON_HELPER)?,
        Lang::Js => write(PathBuf::from("vitals-check.js"), JS_HELPER)?,
    }
    files.sort();
    Ok(Created { dir, files })
}

/// A plugin name: lower-case letters, digits and `-`, starting with a letter, at most 64.
fn check_name(name: &str) -> Result<(), Failure> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && name.len() <= 64 && !name.ends_with('-') {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{name:?} is not a plugin name: use lower-case letters, digits and `-`, starting with a letter \
             (e.g. `json-field`)"
        )))
    }
}

/// The fields of the `vitals-sdk = { ... }` dependency of a Rust project's manifest.
fn sdk_dependency(sdk: Option<&Path>) -> Result<String, Failure> {
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
    let path = match sdk {
        Some(path) if path.join("Cargo.toml").is_file() => Some(path.to_path_buf()),
        Some(path) => {
            return Err(Failure::usage(format!("--sdk {}: no Cargo.toml there", path.display())));
        }
        None if source_tree.join("Cargo.toml").is_file() => Some(source_tree),
        None => None,
    };
    Ok(match path {
        Some(path) => {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let quoted = toml::Value::String(path.display().to_string()).to_string();
            format!("version = \"{SDK_VERSION}\", path = {quoted}")
        }
        None => format!("version = \"{SDK_VERSION}\""),
    })
}

fn cannot_write(path: &Path, e: &std::io::Error) -> Failure {
    Failure::store(format!("cannot write {}: {e}", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| cannot_write(path, &e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), Failure> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["demo", "json-field", "a1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Demo", "1a", "a_b", "a-", "../x", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_language_has_a_template_with_a_readme() {
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            let dir = TEMPLATES.get_dir(lang.dir()).unwrap_or_else(|| panic!("{} template", lang.dir()));
            assert!(dir.get_file(format!("{}/README.md", lang.dir())).is_some(), "{} README", lang.dir());
            assert!(dir.get_file(format!("{}/cases.toml", lang.dir())).is_some(), "{} cases", lang.dir());
        }
    }
}
