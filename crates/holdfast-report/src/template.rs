//! `-f template --template FILE`: the user's minijinja template, rendered with the JSON
//! result as its context (`targets`, `summary`, `tool`, ... exactly as in `-f json`).

use std::io::Write;

use holdfast_model::ScanResult;
use minijinja::{Environment, Value};

use crate::ReportError;

/// A user template, checked to parse when it is loaded.
#[derive(Debug, Clone)]
pub struct UserTemplate {
    name: String,
    source: String,
}

/// The message for a minijinja error: the template's name and line, then what is wrong.
pub(crate) fn describe(e: &minijinja::Error, fallback_name: &str) -> String {
    let name = e.name().unwrap_or(fallback_name);
    let what = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    match e.line() {
        Some(line) => format!("template `{name}`, line {line}: {what}"),
        None => format!("template `{name}`: {what}"),
    }
}

impl UserTemplate {
    /// Parses `source`; `name` (the file name) appears in error messages.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Result<Self, ReportError> {
        let t = UserTemplate {
            name: name.into(),
            source: source.into(),
        };
        t.environment()?;
        Ok(t)
    }

    /// The environment the template runs in, holding it parsed: autoescape for names
    /// ending in `.html`/`.xml`, as minijinja decides by default, and strict about
    /// undefined variables so a typo in a field name is an error rather than an empty
    /// string (`{% if f.package %}` still works for fields a finding leaves out).
    fn environment(&self) -> Result<Environment<'_>, ReportError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        env.add_template(&self.name, &self.source).map_err(|e| {
            ReportError::Template(format!("cannot parse {}", describe(&e, &self.name)))
        })?;
        Ok(env)
    }

    /// The template's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders the result through the template.
    pub fn render(&self, result: &ScanResult, out: &mut dyn Write) -> Result<(), ReportError> {
        let env = self.environment()?;
        let tmpl = env
            .get_template(&self.name)
            .map_err(|e| ReportError::Template(describe(&e, &self.name)))?;
        let ctx = Value::from_serialize(result);
        tmpl.render_captured_to(ctx, &mut *out).map_err(|e| {
            ReportError::Template(format!("cannot render {}", describe(&e, &self.name)))
        })?;
        Ok(())
    }
}
