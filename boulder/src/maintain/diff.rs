//! A unified diff of two versions of a text, as `diff -u` prints it, to
//! show what `recipe update` and `recipe bump` changed.

/// Lines of context around each change.
const CONTEXT: usize = 2;

/// The unified diff of `old` and `new` under the name `name`; empty when
/// they are equal.
pub fn unified(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    if ops.iter().all(|op| matches!(op, Op::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- {name}\n+++ {name}\n");
    // Group the operations into hunks: changes closer than 2×CONTEXT lines share one.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let start = i.saturating_sub(CONTEXT);
        let end = (i + CONTEXT + 1).min(ops.len());
        match groups.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => groups.push((start, end)),
        }
    }
    for (start, end) in groups {
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[start..end] {
            match *op {
                Op::Same(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    b_len += 1;
                    body.push_str(&format!(" {}\n", a[i]));
                }
                Op::Removed(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    body.push_str(&format!("-{}\n", a[i]));
                }
                Op::Added(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    b_len += 1;
                    body.push_str(&format!("+{}\n", b[j]));
                }
            }
        }
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n{body}",
            a_start.unwrap_or(0) + 1,
            b_start.unwrap_or(0) + 1
        ));
    }
    out
}

/// One step of the edit script; indices into the old and new lines (for an
/// added or removed line, the position in the other text).
#[derive(Debug, Clone, Copy)]
enum Op {
    Same(usize, usize),
    Removed(usize, usize),
    Added(usize, usize),
}

/// A longest-common-subsequence edit script. Recipes are a few hundred
/// lines, so the quadratic table is small.
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push(Op::Same(i, j));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(Op::Added(i, j));
            j += 1;
        } else {
            ops.push(Op::Removed(i, j));
            i += 1;
        }
    }
    // Show each removed line before the line that replaces it.
    for k in 1..ops.len() {
        if let (Op::Added(..), Op::Removed(..)) = (ops[k - 1], ops[k]) {
            let mut m = k;
            while m > 0 && matches!(ops[m - 1], Op::Added(..)) {
                ops.swap(m - 1, m);
                m -= 1;
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("f", "a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn changed_lines_show_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\nthree\n4\n5\n6\n7\n8\nnine\n";
        assert_eq!(
            unified("stone.yaml", old, new),
            "--- stone.yaml\n+++ stone.yaml\n\
             @@ -1,5 +1,5 @@\n 1\n 2\n-3\n+three\n 4\n 5\n\
             @@ -7,3 +7,3 @@\n 7\n 8\n-9\n+nine\n"
        );
    }
}
