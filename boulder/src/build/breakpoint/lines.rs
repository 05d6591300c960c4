//! Which recipe line a line of a phase script came from, so a failing
//! command can be named by its place in the recipe.
//!
//! Macros are expanded in place, so the phase body keeps the recipe's order:
//! a recipe line without `%` appears verbatim, a line with macros becomes one
//! or more script lines. Aligning the two gives the mapping.

/// A map from script lines (1-based) to recipe lines (1-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMap {
    /// `(first script line, recipe line)`, ascending.
    starts: Vec<(u32, u32)>,
    /// The script's last line that belongs to the phase body.
    end: u32,
}

impl LineMap {
    /// Align the phase text as written in the recipe (`recipe_lines`: its
    /// lines with their recipe line numbers) with the rendered `script`, whose
    /// phase body starts at script line `body_start`.
    pub fn align<'a>(
        recipe_lines: impl IntoIterator<Item = (u32, &'a str)>,
        script: &str,
        body_start: u32,
    ) -> LineMap {
        let physical: Vec<&str> = script.lines().map(str::trim).collect();
        // Logical lines: a line ending in `\` continues on the next one, as a
        // multi-line macro expansion usually does.
        let mut logical: Vec<(usize, &str)> = Vec::new();
        for (i, line) in physical.iter().enumerate() {
            let continued = i > 0 && physical[i - 1].ends_with('\\');
            if !continued && i + 1 >= body_start.max(1) as usize {
                logical.push((i, line));
            }
        }
        let mut cursor = 0;
        let mut starts = Vec::new();
        for (number, text) in recipe_lines {
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let Some(&(here, _)) = logical.get(cursor) else {
                break;
            };
            if text.contains('%') {
                // Expanded in place: it starts here and takes a logical line
                // at least (the next literal line corrects a longer one).
                starts.push((here as u32 + 1, number));
                cursor += 1;
            } else if let Some(found) = logical[cursor..].iter().position(|(_, l)| *l == text) {
                starts.push((logical[cursor + found].0 as u32 + 1, number));
                cursor += found + 1;
            }
        }
        LineMap {
            starts,
            end: physical.len() as u32,
        }
    }

    /// The map of a script whose body starts at script line `body_line` and
    /// whose body lines came from `recipe_lines`, in order (as the script
    /// renderer records them).
    pub fn from_body(body_line: u32, recipe_lines: impl IntoIterator<Item = u32>) -> LineMap {
        let starts: Vec<(u32, u32)> = recipe_lines
            .into_iter()
            .enumerate()
            .map(|(i, recipe)| (body_line + i as u32, recipe))
            .collect();
        let end = starts.last().map_or(0, |(line, _)| *line);
        LineMap { starts, end }
    }

    /// The recipe line that produced script line `script_line`, if any.
    pub fn recipe_line(&self, script_line: u32) -> Option<u32> {
        if script_line > self.end {
            return None;
        }
        let at = self
            .starts
            .partition_point(|(start, _)| *start <= script_line);
        at.checked_sub(1).map(|i| self.starts[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_expanded_lines() {
        let recipe = [
            (20, "x=1"),
            (21, "%configure"),
            (22, "# a comment"),
            (23, "%make"),
            (24, "echo done"),
        ];
        let script =
            "set -e\nexport A=1\nx=1\n./configure \\\n  --prefix=/usr\nmake -j4\necho done\n";
        let map = LineMap::align(recipe, script, 3);
        assert_eq!(map.recipe_line(1), None);
        assert_eq!(map.recipe_line(2), None);
        assert_eq!(map.recipe_line(3), Some(20));
        assert_eq!(map.recipe_line(4), Some(21));
        assert_eq!(map.recipe_line(5), Some(21));
        assert_eq!(map.recipe_line(6), Some(23));
        assert_eq!(map.recipe_line(7), Some(24));
        assert_eq!(map.recipe_line(8), None);
    }

    #[test]
    fn empty_recipe_maps_nothing() {
        let map = LineMap::align([], "a\nb\n", 1);
        assert_eq!(map.recipe_line(1), None);
    }

    #[test]
    fn from_recorded_body_lines() {
        let map = LineMap::from_body(10, [30, 31, 31, 33]);
        assert_eq!(map.recipe_line(9), None);
        assert_eq!(map.recipe_line(10), Some(30));
        assert_eq!(map.recipe_line(12), Some(31));
        assert_eq!(map.recipe_line(13), Some(33));
        assert_eq!(map.recipe_line(14), None);
    }
}
