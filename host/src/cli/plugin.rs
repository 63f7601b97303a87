//! `vitals plugin inspect`: what Vitals sees in a plugin (a check or a notifier): its
//! description, WIT version, configuration keys and imports. `vitals plugin run`: one
//! run from the command line. `vitals plugin test`: recorded cases, replayed.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::exit;
use super::{Cli, InspectArgs, InspectFormat, Lang, NewArgs, PluginRunArgs, PluginTestArgs, TestFormat};
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
    tmp.push(".recording");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Runs the command.
pub async fn inspect(cli: &Cli, args: &InspectArgs) -> Result<u8, Failure> {
    let reference = reference(&args.plugin);
    let runtime = cli.context().runtime()?;
    let failure = |e: LoadError| match e {
        LoadError::UnknownBuiltin { .. } => Failure::usage(e.to_string()),
        _ => Failure::data(e.to_string()),
    };
    let loaded = match runtime.load(&reference).await {
        Ok(plugin) => Loaded::Check(plugin),
        // Not a check plugin, but maybe a notifier plugin.
        Err(LoadError::NotAPlugin { exports, .. }) if exports_notifier(exports.split(", ")) => {
            Loaded::Notifier(runtime.load_notifier(&reference).await.map_err(failure)?)
        }
        Err(e) => return Err(failure(e)),
    };
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
