//! `boulder macros [NAME]` and `boulder doc macros`: show the macro library.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use miette::{miette, IntoDiagnostic, Result};

use crate::macros::{render_reference, MacroLibrary, TargetMacros};
use crate::suggest::closest_name;

#[derive(Debug, Args)]
pub struct MacrosArgs {
    /// Show one macro (`cmake`, `%cmake`, `%(libdir)`) or tuning group in full.
    pub name: Option<String>,
    /// Build target whose macros to show (default: this machine's).
    #[arg(long)]
    pub target: Option<String>,
    /// Extra data directory holding `macros/{arch,actions}`; repeatable, later wins.
    /// `$XDG_DATA_HOME/boulder` is used first when it has a `macros/` directory.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DocArgs {
    #[command(subcommand)]
    pub what: DocCommand,
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Generate the macro reference chapter of the book from the embedded macros.
    Macros {
        /// Write to FILE instead of standard output
        /// (the book's copy is `book/src/reference/macros.md`).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn load(data_dirs: &[PathBuf]) -> Result<MacroLibrary> {
    let library = MacroLibrary::with_data_dirs(data_dirs)
        .map_err(|error| miette!("cannot load the macro files:\n{error}"))?;
    for warning in library.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(library)
}

pub fn run(args: MacrosArgs) -> Result<()> {
    let library = load(&args.data_dirs)?;
    let target = match &args.target {
        Some(name) => library.target(name).ok_or_else(|| {
            let hint = closest_name(name, library.targets())
                .map(|t| format!(" (did you mean `{t}`?)"))
                .unwrap_or_default();
            let known: Vec<&str> = library.targets().collect();
            miette!(
                "unknown target `{name}`{hint}; known targets: {}",
                known.join(", ")
            )
        })?,
        None => library.host_target(),
    };
    match args.name {
        None => {
            print!("{}", listing(target));
            Ok(())
        }
        Some(name) => {
            print!("{}", details(target, &name)?);
            Ok(())
        }
    }
}

pub fn run_doc(args: DocArgs) -> Result<()> {
    match args.what {
        DocCommand::Macros { output } => {
            // Only the embedded files: the book documents what boulder ships.
            let library = MacroLibrary::embedded()
                .map_err(|error| miette!("cannot load the macro files:\n{error}"))?;
            let text = render_reference(&library);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .into_diagnostic()
                    .map_err(|e| e.wrap_err(format!("cannot write {}", path.display()))),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn listing(target: &TargetMacros) -> String {
    let mut out = format!("Actions ({}):\n", target.name());
    for action in target.actions() {
        out.push_str(&format!(
            "  %{:<28} {}\n",
            action.name,
            first_line(&action.description)
        ));
    }
    out.push_str("\nDefinitions:\n");
    for definition in target.definitions() {
        let shown = format!("%({})", definition.name);
        out.push_str(&format!(
            "  {shown:<29} {}\n",
            first_line(&definition.value)
        ));
    }
    out.push_str("\nTuning groups (* = on by default):\n");
    for group in target.tuning_groups() {
        let default = target.default_tuning_groups().contains(&group.name);
        let options: Vec<String> = group
            .options
            .iter()
            .map(|o| {
                if group.default.as_deref() == Some(o.name.as_str()) {
                    format!("{}*", o.name)
                } else {
                    o.name.clone()
                }
            })
            .collect();
        let options = if options.is_empty() {
            String::new()
        } else {
            format!("options: {}", options.join(", "))
        };
        let mark = if default { "*" } else { " " };
        let line = format!("  {:<28}{mark} {options}", group.name);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn details(target: &TargetMacros, query: &str) -> Result<String> {
    let name = query
        .trim()
        .trim_start_matches('%')
        .trim_start_matches('(')
        .trim_end_matches(')');
    let mut out = String::new();
    if let Some(action) = target.action(name) {
        out.push_str(&format!(
            "Action %{}  ({})\n\n{}\n",
            action.name, action.source, action.description
        ));
        if let Some(example) = &action.example {
            out.push_str(&format!("\nExample:\n{}\n", indent(example)));
        }
        if let Some(tip) = &action.tip {
            out.push_str(&format!("\nTip: {tip}\n"));
        }
        if !action.dependencies.is_empty() {
            out.push_str(&format!(
                "\nDependencies: {}\n",
                action.dependencies.join(", ")
            ));
        }
        out.push_str(&format!("\nCommand:\n{}\n", indent(&action.command)));
    }
    if let Some(definition) = target.definition(name) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "Definition %({})  ({})\n\n{}\n",
            definition.name,
            definition.source,
            indent(&definition.value)
        ));
    }
    if let Some(group) = target.tuning_group(name) {
        if !out.is_empty() {
            out.push('\n');
        }
        let default = target.default_tuning_groups().contains(&group.name);
        out.push_str(&format!(
            "Tuning group {}  ({}){}\n",
            group.name,
            group.source,
            if default { ", on by default" } else { "" }
        ));
        if !group.enabled.is_empty() {
            out.push_str(&format!("  enabled flags: {}\n", group.enabled.join(", ")));
        }
        if !group.disabled.is_empty() {
            out.push_str(&format!(
                "  disabled flags: {}\n",
                group.disabled.join(", ")
            ));
        }
        for option in &group.options {
            let mark = if group.default.as_deref() == Some(option.name.as_str()) {
                " (default)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  option {}{mark}: {}\n",
                option.name,
                option.enabled.join(", ")
            ));
        }
    }
    if out.is_empty() {
        let candidates = target
            .actions()
            .map(|a| a.name.as_str())
            .chain(target.definitions().map(|d| d.name.as_str()))
            .chain(target.tuning_groups().map(|g| g.name.as_str()));
        let hint = closest_name(name, candidates)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(miette!("no macro or tuning group named `{name}`{hint}"));
    }
    Ok(out)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
