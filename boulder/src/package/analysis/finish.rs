//! Turning a package's analysed bucket into its final relations: own providers
//! satisfy own dependencies, then rundeps are added and the recipe's exclude
//! regexes and conflicts applied.

use std::collections::BTreeSet;

use regex::Regex;

use super::options::PackageSettings;
use super::AnalysisError;
use crate::package::relation::Relation;

/// A package's final relations in `kind(name)` text form.
pub struct FinalRelations {
    pub depends: BTreeSet<String>,
    pub provides: BTreeSet<String>,
    pub conflicts: BTreeSet<String>,
}

/// Computes the final relations of `package`.
pub fn relations(
    package: &str,
    settings: &PackageSettings,
    analysed_depends: BTreeSet<Relation>,
    analysed_provides: BTreeSet<Relation>,
) -> Result<FinalRelations, AnalysisError> {
    let rundeps_exclude = compile(package, &settings.rundeps_exclude)?;
    let provides_exclude = compile(package, &settings.provides_exclude)?;

    let mut depends: BTreeSet<String> = analysed_depends
        .difference(&analysed_provides)
        .map(Relation::to_string)
        .collect();
    for text in &settings.rundeps {
        depends.insert(parse(package, text)?.to_string());
    }
    depends.retain(|dep| !rundeps_exclude.iter().any(|re| re.is_match(dep)));

    let provides = analysed_provides
        .iter()
        .map(Relation::to_string)
        .filter(|provider| !provides_exclude.iter().any(|re| re.is_match(provider)))
        .collect();

    let conflicts = settings
        .conflicts
        .iter()
        .map(|text| parse(package, text).map(|r| r.to_string()))
        .collect::<Result<_, _>>()?;
    Ok(FinalRelations {
        depends,
        provides,
        conflicts,
    })
}

fn compile(package: &str, patterns: &[String]) -> Result<Vec<Regex>, AnalysisError> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|source| AnalysisError::BadRegex {
                package: package.to_string(),
                pattern: pattern.clone(),
                source,
            })
        })
        .collect()
}

fn parse(package: &str, text: &str) -> Result<Relation, AnalysisError> {
    Relation::parse(text).map_err(|source| AnalysisError::BadRelation {
        package: package.to_string(),
        source,
    })
}
