//! `vitals plugin inspect`: what Vitals sees in a plugin (a check or a notifier): its
//! description, WIT version, configuration keys and imports.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::exit;
use super::{Cli, InspectArgs, InspectFormat};
use super::{render, stdout};
use crate::app::Failure;
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
    imports: &'a [String],
}

/// Runs the command.
pub async fn inspect(cli: &Cli, args: &InspectArgs) -> Result<u8, Failure> {
    let reference = if args.plugin.ends_with(".wasm") || args.plugin.contains('/') {
        PluginRef::File(PathBuf::from(&args.plugin))
    } else {
        PluginRef::Builtin(args.plugin.clone())
    };
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
            let _ = writeln!(out, "config keys ({table}):");
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
