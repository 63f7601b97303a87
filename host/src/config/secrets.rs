//! `${env:NAME}` references: read from the environment when the config is loaded, and
//! remembered so that their values can be redacted from everything Vitals writes.

/// A string value after expansion, with the secrets it now contains.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// The value with every reference replaced.
    pub value: String,
    /// The values substituted, to redact later.
    pub secrets: Vec<String>,
}

/// Why a reference could not be expanded; `offset` is the byte offset of `${` in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretError {
    /// Byte offset of the reference within the string.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// Replaces every `${env:NAME}` in `text` with the variable's value, looked up with `lookup`.
/// `$${` is a literal `${`.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Expanded, SecretError> {
    let mut value = String::with_capacity(text.len());
    let mut secrets = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(pos) = rest.find("${") {
        if rest[..pos].ends_with('$') {
            value.push_str(&rest[..pos - 1]);
            value.push_str("${");
            consumed += pos + 2;
            rest = &rest[pos + 2..];
            continue;
        }
        value.push_str(&rest[..pos]);
        let offset = consumed + pos;
        let Some(end) = rest[pos..].find('}') else {
            return Err(SecretError {
                offset,
                message: "unclosed `${` in string".into(),
                help: "write `${env:NAME}`, or `$${` for a literal `${`".into(),
            });
        };
        let inner = &rest[pos + 2..pos + end];
        let Some(name) = inner.strip_prefix("env:") else {
            return Err(SecretError {
                offset,
                message: format!("unknown reference `${{{inner}}}`"),
                help: "only environment variables are supported: `${env:NAME}`".into(),
            });
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SecretError {
                offset,
                message: format!("invalid environment variable name `{name}`"),
                help: "names are made of letters, digits and `_`".into(),
            });
        }
        let Some(secret) = lookup(name) else {
            return Err(SecretError {
                offset,
                message: format!("environment variable `{name}` is not set"),
                help: format!("export {name}=... before running vitals, or remove the reference"),
            });
        };
        value.push_str(&secret);
        if !secret.is_empty() {
            secrets.push(secret);
        }
        consumed += pos + end + 1;
        rest = &rest[pos + end + 1..];
    }
    value.push_str(rest);
    Ok(Expanded { value, secrets })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".into()),
            "USER" => Some("ops".into()),
            _ => None,
        }
    }

    #[test]
    fn references_expand_and_are_remembered_as_secrets() {
        let e = expand("Bearer ${env:TOKEN} for ${env:USER}", env).unwrap();
        assert_eq!(e.value, "Bearer s3cr3t for ops");
        assert_eq!(e.secrets, vec!["s3cr3t".to_string(), "ops".to_string()]);
    }

    #[test]
    fn a_missing_variable_is_an_error_at_its_offset() {
        let err = expand("x ${env:NOPE}", env).unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("`NOPE` is not set"));
    }

    #[test]
    fn dollar_dollar_is_a_literal_and_plain_text_is_untouched() {
        assert_eq!(expand("a $${env:TOKEN} b", env).unwrap().value, "a ${env:TOKEN} b");
        assert_eq!(expand("no refs", env).unwrap(), Expanded { value: "no refs".into(), secrets: vec![] });
    }

    #[test]
    fn other_reference_kinds_and_unclosed_ones_are_refused() {
        assert!(expand("${file:/etc/passwd}", env).unwrap_err().message.contains("unknown reference"));
        assert!(expand("${env:TOKEN", env).unwrap_err().message.contains("unclosed"));
    }
}
