//! `vitals plugin inspect`: what Vitals sees in a plugin: its description, WIT version,
//! configuration keys and imports.

use std::path::PathBuf;

use serde::Serialize;

use super::context::{self, Failure};
use super::render;
use super::{Cli, InspectArgs, InspectFormat};
use crate::describe::PluginDescription;
use crate::exit;
use crate::plan::PluginRef;
use crate::runtime::{LoadError, registry};

#[derive(Serialize)]
struct Inspection<'a> {
    plugin: &'a str,
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
    let runtime = context::runtime(cli)?;
    let plugin = runtime.load(&reference).await.map_err(|e| match e {
        LoadError::UnknownBuiltin { .. } => Failure::usage(e.to_string()),
        _ => Failure::data(e.to_string()),
    })?;
    let d = &plugin.description;
    match args.format {
        InspectFormat::Json => {
            let view = Inspection {
                plugin: &plugin.label,
                wit_version: &plugin.wit_version,
                size_bytes: plugin.size,
                description: d,
                imports: &plugin.imports,
            };
            let text = serde_json::to_string_pretty(&view).map_err(|e| Failure::internal(e.to_string()))?;
            println!("{text}");
        }
        InspectFormat::Text => {
            println!("{} {} ({})", d.name, d.version, plugin.label);
            println!("  built against vitals:plugin@{}, {} bytes", plugin.wit_version, plugin.size);
            println!();
            println!("{}", render::wrap(&d.summary, 88, "  "));
            println!();
            println!("config keys ([check.config]):");
            if d.config.is_empty() {
                println!("  (none)");
            }
            for key in &d.config {
                let default = key.default.as_deref().map(|v| format!(", default {v}")).unwrap_or_default();
                let required = if key.required { ", required" } else { "" };
                println!("  {:<16} {}{default}{required}", key.name, key.kind.as_str());
                println!("  {:<16} {}", "", key.doc);
            }
            println!();
            println!("imports:");
            for import in &plugin.imports {
                println!("  {import}");
            }
            if matches!(reference, PluginRef::Builtin(_)) {
                println!();
                println!("built-in plugins: {}", registry::builtin_names().collect::<Vec<_>>().join(", "));
            }
        }
    }
    Ok(exit::OK)
}
