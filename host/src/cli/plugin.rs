//! `vitals plugin inspect`: what Vitals sees in a plugin (a check or a notifier): its
//! description, WIT version, configuration keys and imports. `vitals plugin run`: one
//! run from the command line. `vitals plugin test`: recorded cases, replayed. `vitals plugin
//! list`: the built-ins and the plugins a config uses.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::exit;
use super::{
    Cli, DocsArgs, InspectArgs, InspectFormat, Lang, ListArgs, NewArgs, PluginRunArgs, PluginTestArgs, TestFormat,
};
use super::{render, stdout};
use crate::app::Failure;
use crate::app::kit::{self, OneCheck};
use crate::app::scaffold;
use crate::plan::PluginRef;
use crate::plan::describe::PluginDescription;
use crate::runtime::{LoadError, NotifierPlugin, Plugin, builtin_names, exports_notifier};

/// A plugin of either kind.
enum Loaded {
    Check(Arc<Plugin>),
    Notifier(Arc<NotifierPlugin>),
}

#[derive(Serialize)]
struct Inspection<'a> {
    plugin: &'a str,
    /// `check` or `notifier`.
    kind: &'a str,
    wit_version: &'a str,
    size_bytes: usize,
    #[serde(flatten)]
    description: &'a PluginDescription,
    /// Whether the plugin checks its own config (exports `validator`, WIT 0.1.2).
    validates_config: bool,
    imports: &'a [String],
}

/// A plugin named on the command line: a path (made absolute) or a built-in name.
fn reference(text: &str) -> PluginRef {
    if text.ends_with(".wasm") || text.contains('/') {
        let path = PathBuf::from(text);
        PluginRef::File(std::path::absolute(&path).unwrap_or(path))
    } else {
        PluginRef::Builtin(text.to_string())
    }
}

/// `vitals plugin new`.
pub fn new(args: &NewArgs) -> Result<u8, Failure> {
    let lang = match args.lang {
        Lang::Rust => scaffold::Lang::Rust,
        Lang::Python => scaffold::Lang::Python,
        Lang::Js => scaffold::Lang::Js,
    };
    let created = scaffold::create(&args.name, lang, &args.dir, args.sdk.as_deref())?;
    let mut out = format!("created {}:\n", created.dir.display());
    for file in &created.files {
        out.push_str(&format!("  {}\n", file.display()));
    }
    out.push_str(&format!(
        "\nnext: cd {} and follow README.md (build, then `vitals plugin test`)\n",
        created.dir.display()
    ));
    stdout::write(out.as_bytes())?;
    Ok(exit::OK)
}

/// `vitals plugin run`.
pub async fn run(cli: &Cli, args: &PluginRunArgs) -> Result<u8, Failure> {
    let plugin = reference(&args.plugin);
    let mut config = toml::Table::new();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Failure::usage(format!("--config {pair:?}: write KEY=VALUE, e.g. --config expect_status=200")));
        };
        config.insert(key.trim().to_string(), config_value(value));
    }
    let check = OneCheck {
        plugin: plugin.to_string(),
        name: "plugin-run".into(),
        target: args.target.clone(),
        config,
        allow: args.allow.clone(),
        timeout: args.timeout.clone(),
    };
    let runtime = cli.context().runtime()?;
    let (result, label) = kit::run_one(&runtime, &plugin, &check).await?;
    match args.format {
        InspectFormat::Text => stdout::write(format!("{}\n", result.plugin_line(&label)).as_bytes())?,
        InspectFormat::Json => {
            let text = serde_json::to_string_pretty(&result).map_err(|e| Failure::internal(e.to_string()))?;
            stdout::write_plain(format!("{text}\n").as_bytes())?;
        }
    }
    Ok(result.status.exit_code())
}

/// A `--config` value: TOML when it is one (`5`, `true`, `["a"]`, `"text"`), else the text.
fn config_value(text: &str) -> toml::Value {
    match format!("v = {text}").parse::<toml::Table>() {
        Ok(mut table) => table.remove("v").unwrap_or_else(|| toml::Value::String(text.to_string())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

/// `vitals plugin test`.
pub async fn test(cli: &Cli, args: &PluginTestArgs) -> Result<u8, Failure> {
    let plugin = reference(&args.plugin);
    let text = std::fs::read_to_string(&args.cases)
        .map_err(|e| Failure::data(format!("cannot read the cases file {}: {e}", args.cases.display())))?;
    let mut file = kit::parse_cases(&args.cases, &text)?;
    if let Some(filter) = &args.filter {
        file.cases.retain(|c| c.name.contains(filter.as_str()));
    }
    if file.cases.is_empty() {
        return Err(Failure::usage(format!(
            "{} has no case to run{}; a case starts with [[case]] (docs/plugin-guide.md)",
            args.cases.display(),
            if args.filter.is_some() { " matching --filter" } else { "" }
        )));
    }
    let runtime = cli.context().runtime()?;
    let (runs, recorded) = kit::test_cases(&runtime, &plugin, &file, args.record).await?;
    if args.record {
        let updated = kit::write_recorded(&text, &recorded)?;
        write_atomically(&args.cases, &updated)?;
        eprintln!("recorded the answers of {} case(s) into {}", recorded.len(), args.cases.display());
    }
    let out = match args.format {
        TestFormat::Tap => kit::tap(&runs),
        TestFormat::Junit => {
            let suite = args.cases.file_stem().map_or("cases".into(), |s| s.to_string_lossy().into_owned());
            kit::junit(&suite, &runs)?
        }
    };
    stdout::write_plain(out.as_bytes())?;
    Ok(if runs.iter().all(kit::CaseRun::passed) { exit::OK } else { exit::FAILED })
}

/// Replaces `path` with `text` whole: written beside it, then renamed over it.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::store(format!("cannot write {}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".writing");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Loads `reference` as a check plugin, or else as a notifier plugin.
async fn load_any(runtime: &crate::runtime::Runtime, reference: &PluginRef) -> Result<Loaded, Failure> {
    let failure = |e: LoadError| match e {
        LoadError::UnknownBuiltin { .. } => Failure::usage(e.to_string()),
        _ => Failure::data(e.to_string()),
    };
    match runtime.load(reference).await {
        Ok(plugin) => Ok(Loaded::Check(plugin)),
        // Not a check plugin, but maybe a notifier plugin.
        Err(LoadError::NotAPlugin { exports, .. }) if exports_notifier(exports.split(", ")) => {
            Ok(Loaded::Notifier(runtime.load_notifier(reference).await.map_err(failure)?))
        }
        Err(e) => Err(failure(e)),
    }
}

/// One line of `vitals plugin list`.
#[derive(Serialize)]
struct Listed {
    /// The built-in's name or the file's path.
    plugin: String,
    /// `built-in` or `file`.
    source: &'static str,
    /// `check` or `notifier`, when it loaded.
    kind: Option<&'static str>,
    /// Its own name and version, when it loaded.
    name: Option<String>,
    version: Option<String>,
    /// The WIT version it was built against, when it loaded.
    wit_version: Option<String>,
    /// The checks and notifiers of the config that use it.
    used_by: Vec<String>,
    /// Why it could not be loaded.
    error: Option<String>,
}

/// `vitals plugin list`: every built-in, then every other plugin the config names (when
/// there is a config), each with what uses it. Exit 65 when one cannot be loaded.
pub async fn list(cli: &Cli, args: &ListArgs) -> Result<u8, Failure> {
    let context = cli.context();
    let plan = if cli.config.exists() { Some(context.load_plan()?) } else { None };
    let mut references: Vec<(PluginRef, Vec<String>)> =
        builtin_names().map(|name| (PluginRef::Builtin(name.to_string()), Vec::new())).collect();
    let uses = plan.iter().flat_map(|plan| {
        let checks = plan.checks.iter().map(|c| (&c.plugin, format!("check {}", c.name)));
        checks.chain(plan.notifiers.iter().map(|n| (&n.plugin, format!("notifier {}", n.name))))
    });
    for (plugin, user) in uses {
        match references.iter_mut().find(|(r, _)| r == plugin) {
            Some((_, users)) => users.push(user),
            None => references.push((plugin.clone(), vec![user])),
        }
    }
    let runtime = context.runtime()?;
    let mut listed = Vec::with_capacity(references.len());
    for (reference, used_by) in references {
        let source = if matches!(reference, PluginRef::Builtin(_)) { "built-in" } else { "file" };
        let mut entry = Listed {
            plugin: reference.to_string(),
            source,
            kind: None,
            name: None,
            version: None,
            wit_version: None,
            used_by,
            error: None,
        };
        match load_any(&runtime, &reference).await {
            Ok(Loaded::Check(p)) => {
                entry.kind = Some("check");
                (entry.name, entry.version) = (Some(p.description.name.clone()), Some(p.description.version.clone()));
                entry.wit_version = Some(p.wit_version.clone());
            }
            Ok(Loaded::Notifier(p)) => {
                entry.kind = Some("notifier");
                (entry.name, entry.version) = (Some(p.description.name.clone()), Some(p.description.version.clone()));
                entry.wit_version = Some(p.wit_version.clone());
            }
            Err(e) => entry.error = Some(e.message().to_string()),
        }
        listed.push(entry);
    }
    match args.format {
        InspectFormat::Json => {
            let text = serde_json::to_string_pretty(&listed).map_err(|e| Failure::internal(e.to_string()))?;
            stdout::write_plain(format!("{text}\n").as_bytes())?;
        }
        InspectFormat::Text => {
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
            let rows: Vec<[String; 6]> = listed
                .iter()
                .map(|l| {
                    [
                        l.plugin.clone(),
                        l.kind.unwrap_or("-").to_string(),
                        dash(&l.version),
                        dash(&l.wit_version),
                        l.source.to_string(),
                        match &l.error {
                            Some(e) => format!("cannot load: {e}"),
                            None if l.used_by.is_empty() => "-".to_string(),
                            None => l.used_by.join(", "),
                        },
                    ]
                })
                .collect();
            let headers = ["PLUGIN", "KIND", "VERSION", "WIT", "SOURCE", "USED BY"];
            let widths: Vec<usize> = (0..headers.len())
                .map(|i| rows.iter().map(|r| r[i].chars().count()).fold(headers[i].len(), usize::max))
                .collect();
            let line = |cells: &[String]| {
                let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| format!("{c:<w$}")).collect();
                format!("{}\n", padded.join("  ").trim_end())
            };
            let mut out = line(&headers.map(str::to_string));
            for row in &rows {
                out.push_str(&line(row));
            }
            stdout::write(out.as_bytes())?;
        }
    }
    Ok(if listed.iter().any(|l| l.error.is_some()) { exit::DATA } else { exit::OK })
}

/// Runs the command.
pub async fn inspect(cli: &Cli, args: &InspectArgs) -> Result<u8, Failure> {
    let reference = reference(&args.plugin);
    let runtime = cli.context().runtime()?;
    let loaded = load_any(&runtime, &reference).await?;
    let validates = matches!(&loaded, Loaded::Check(p) if p.validates());
    let (label, wit_version, size, d, plugin_imports, kind, table) = match &loaded {
        Loaded::Check(p) => (&p.label, &p.wit_version, p.size, &p.description, &p.imports, "check", "[check.config]"),
        Loaded::Notifier(p) => {
            (&p.label, &p.wit_version, p.size, &p.description, &p.imports, "notifier", "[notifier.config]")
        }
    };
    match args.format {
        InspectFormat::Json => {
            let view = Inspection {
                plugin: label,
                kind,
                wit_version,
                size_bytes: size,
                description: d,
                validates_config: validates,
                imports: plugin_imports,
            };
            let text = serde_json::to_string_pretty(&view).map_err(|e| Failure::internal(e.to_string()))?;
            stdout::write_plain(format!("{text}\n").as_bytes())?;
        }
        InspectFormat::Text => {
            use std::fmt::Write as _;
            let mut out = String::new();
            let _ = writeln!(out, "{} {} ({kind} plugin, {label})", d.name, d.version);
            let _ = writeln!(out, "  built against vitals:plugin@{wit_version}, {size} bytes");
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", render::wrap(&d.summary, 88, "  "));
            let _ = writeln!(out);
            let checked = if validates { "; the plugin also checks them itself (validate)" } else { "" };
            let _ = writeln!(out, "config keys ({table}{checked}):");
            if d.config.is_empty() {
                let _ = writeln!(out, "  (none)");
            }
            for key in &d.config {
                let default = key.default.as_deref().map(|v| format!(", default {v}")).unwrap_or_default();
                let required = if key.required { ", required" } else { "" };
                let _ = writeln!(out, "  {:<16} {}{default}{required}", key.name, key.kind.as_str());
                let _ = writeln!(out, "  {:<16} {}", "", key.doc);
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "imports:");
            for import in plugin_imports {
                let _ = writeln!(out, "  {import}");
            }
            if matches!(reference, PluginRef::Builtin(_)) {
                let _ = writeln!(out);
                let _ = writeln!(out, "built-in plugins: {}", builtin_names().collect::<Vec<_>>().join(", "));
            }
            stdout::write(out.as_bytes())?;
        }
    }
    Ok(exit::OK)
}

/// A plugin's description, WIT version, whether it validates, its imports and its kind.
type Described = (crate::plan::describe::PluginDescription, String, bool, Vec<String>, &'static str);

/// `vitals plugin docs`: one plugin's reference page on stdout, or every built-in's into
/// a directory.
pub async fn docs(cli: &Cli, args: &DocsArgs) -> Result<u8, Failure> {
    use crate::app::reference;
    let runtime = cli.context().runtime()?;
    let facts = |loaded: &Loaded| -> Described {
        match loaded {
            Loaded::Check(p) => {
                (p.description.clone(), p.wit_version.clone(), p.validates(), p.imports.clone(), "check")
            }
            Loaded::Notifier(p) => (p.description.clone(), p.wit_version.clone(), false, p.imports.clone(), "notifier"),
        }
    };
    let Some(dir) = args.dir.as_ref().filter(|_| args.all) else {
        let name = args.plugin.as_deref().ok_or_else(|| Failure::usage("name a plugin, or give --all --dir DIR"))?;
        let reference = reference(name);
        let builtin = matches!(reference, PluginRef::Builtin(_));
        let loaded = load_any(&runtime, &reference).await?;
        let (d, wit, validates, imports, kind) = facts(&loaded);
        let page =
            reference::page(&d, reference::Facts { kind, wit_version: &wit, validates, imports: &imports, builtin });
        stdout::write_plain(page.as_bytes())?;
        return Ok(exit::OK);
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::store(format!("cannot create {}: {e}", dir.display())))?;
    let mut described = Vec::new();
    for name in builtin_names() {
        let loaded = load_any(&runtime, &PluginRef::Builtin(name.to_string())).await?;
        described.push(facts(&loaded));
    }
    for (d, wit, validates, imports, kind) in &described {
        let facts = reference::Facts { kind, wit_version: wit, validates: *validates, imports, builtin: true };
        write_atomically(&dir.join(format!("{}.md", d.name)), &reference::page(d, facts))?;
    }
    let listed: Vec<(&crate::plan::describe::PluginDescription, &str)> =
        described.iter().map(|(d, _, _, _, kind)| (d, *kind)).collect();
    write_atomically(&dir.join("README.md"), &reference::index(&listed))?;
    Ok(exit::OK)
}
