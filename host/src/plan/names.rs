//! Finding checks by the names and tags a person typed (`vitals check NAME`, `--check`,
//! `--tag`): a name the plan does not have is an error that says the nearest one it has.

use std::fmt;
use std::path::PathBuf;

use super::{CheckPlan, Plan, suggest};

/// What a name given on the command line was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// The name of a `[[check]]`.
    Check,
    /// A tag of some check.
    Tag,
}

/// A check name or a tag that no check of the configuration has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// A check name or a tag.
    pub kind: NameKind,
    /// The name as given.
    pub name: String,
    /// The configuration file it was looked for in.
    pub file: PathBuf,
    /// Every name of that kind the configuration has, in file order (checks) or sorted (tags).
    pub known: Vec<String>,
}

impl UnknownName {
    /// What to do about it: the nearest name when there is one, and the names there are.
    pub fn help(&self) -> String {
        let known: Vec<&str> = self.known.iter().map(String::as_str).collect();
        match (self.kind, known.is_empty()) {
            (NameKind::Tag, true) => "no check has tags; add tags = [\"web\"] to a [[check]]".to_string(),
            (NameKind::Tag, false) => suggest(&self.name, &known, "the tags are"),
            (NameKind::Check, _) => suggest(&self.name, &known, "the checks are"),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            NameKind::Check => write!(f, "no check is called `{}` in {}", self.name, self.file.display()),
            NameKind::Tag => write!(f, "no check has the tag `{}` in {}", self.name, self.file.display()),
        }
    }
}

impl std::error::Error for UnknownName {}

impl Plan {
    /// The check called `name`.
    pub fn check(&self, name: &str) -> Result<&CheckPlan, UnknownName> {
        self.checks.iter().find(|c| c.name == name).ok_or_else(|| UnknownName {
            kind: NameKind::Check,
            name: name.to_string(),
            file: self.source.path.clone(),
            known: self.checks.iter().map(|c| c.name.clone()).collect(),
        })
    }

    /// Every tag some check has, sorted, once each.
    pub fn tags(&self) -> Vec<&str> {
        let mut tags: Vec<&str> = self.checks.iter().flat_map(|c| c.tags.iter().map(String::as_str)).collect();
        tags.sort_unstable();
        tags.dedup();
        tags
    }

    /// The checks with one of `tags` (every check when `tags` is empty), in file order; a tag
    /// that no check has is an error rather than a selection that quietly runs nothing.
    pub fn tagged<'a>(&'a self, tags: &'a [String]) -> Result<Vec<&'a CheckPlan>, UnknownName> {
        let known = self.tags();
        if let Some(unknown) = tags.iter().find(|t| !known.contains(&t.as_str())) {
            return Err(UnknownName {
                kind: NameKind::Tag,
                name: unknown.clone(),
                file: self.source.path.clone(),
                known: known.into_iter().map(str::to_string).collect(),
            });
        }
        Ok(self.select(tags).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::SourceFile;

    fn plan() -> Plan {
        let text = "[[check]]\nname = \"api-health\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:1/\"\n\
                    tags = [\"web\", \"api\"]\n\n[[check]]\nname = \"db\"\nplugin = \"tcp\"\n\
                    target = \"127.0.0.1:5432\"\ntags = [\"database\"]\n";
        crate::config::parse(SourceFile::new("checks.toml", text), &|_| None).expect("a valid plan")
    }

    #[test]
    fn a_misspelt_check_name_is_refused_with_the_nearest_name() {
        let plan = plan();
        assert_eq!(plan.check("db").map(|c| c.name.as_str()), Ok("db"));
        let e = plan.check("api-heath").expect_err("no such check");
        assert_eq!(e.to_string(), "no check is called `api-heath` in checks.toml");
        assert_eq!(e.help(), "did you mean `api-health`? (the checks are `api-health`, `db`)");
    }

    #[test]
    fn an_unknown_tag_is_refused_with_the_known_tags_and_the_nearest() {
        let plan = plan();
        assert_eq!(plan.tags(), ["api", "database", "web"]);
        let e = plan.tagged(&["web".into(), "databse".into()]).expect_err("no such tag");
        assert_eq!(e.to_string(), "no check has the tag `databse` in checks.toml");
        assert_eq!(e.help(), "did you mean `database`? (the tags are `api`, `database`, `web`)");
        let names = |tags: &[String]| -> Vec<String> {
            plan.tagged(tags).expect("known tags").iter().map(|c| c.name.clone()).collect()
        };
        assert_eq!(names(&["database".into()]), ["db"]);
        assert_eq!(names(&[]), ["api-health", "db"], "no tag selects every check");
    }
}
