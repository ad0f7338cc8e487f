//! `completions` and `man`: the command line described for shells and for `man`.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::Failure;

/// Print the completion script of `shell`.
pub fn completions(shell: Shell, out: &mut impl Write) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "ddcnm", out);
    Ok(())
}

/// Print the man page, in roff: the tool's page, then a section per command with its
/// options, defaults and examples (what `ddcnm COMMAND --help` says).
pub fn man(out: &mut impl Write) -> Result<(), Failure> {
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands() {
        let name = sub.get_name();
        writeln!(out, ".SH \"DDCNM {}\"", name.to_uppercase())?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", roff_text(&about.to_string()))?;
        }
        let heading = format!("{name} options");
        let options = sub
            .clone()
            .disable_help_flag(true)
            .mut_args(|arg| arg.help_heading(heading.clone()));
        if options.get_arguments().next().is_some() {
            clap_mangen::Man::new(options).render_options_section(out)?;
        }
        if let Some(after) = sub.get_after_help() {
            writeln!(out, ".PP\n.nf")?;
            for line in after.to_string().lines() {
                writeln!(out, "{}", roff_text(line))?;
            }
            writeln!(out, ".fi")?;
        }
    }
    Ok(())
}

/// A line of text as roff shows it verbatim: backslashes escaped, and a leading `.` or `'`
/// (which roff would take for a request) protected.
fn roff_text(line: &str) -> String {
    let escaped = line.replace('\\', "\\e");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
