//! Small text renderings every step shares, so each is written (and fixed) once: file
//! sizes for people, column-aligned tables for a terminal, and Markdown table cells that
//! untrusted text cannot break out of.

/// `1.2 MiB`, `812 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `text` as one Markdown table cell: a `|` cannot end the cell, a line break cannot end
/// the row, and a `<` cannot open HTML.
pub fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// `text` as Markdown inline code inside a table cell: [`markdown_cell`], and a backtick
/// (which would end the code span) shown as `'`.
pub fn markdown_code_cell(text: &str) -> String {
    format!("`{}`", markdown_cell(&text.replace('`', "'")))
}

/// A table for a terminal: the header, then one line per row, each cell padded to the
/// widest cell of its column (counted in characters), columns two spaces apart, no space
/// at the end of a line.
pub fn aligned_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|cell| cell.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut lines = vec![line(&mut header.into_iter())];
    lines.extend(
        rows.iter()
            .map(|row| line(&mut row.iter().map(String::as_str))),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_aligns_its_columns_by_characters() {
        let rows = [
            [
                "sample-1.0.tar.gz".to_owned(),
                "sdist".to_owned(),
                String::new(),
            ],
            ["é".to_owned(), "wheel".to_owned(), "x".to_owned()],
        ];
        assert_eq!(
            aligned_table(["FILE", "KIND", "DETAIL"], &rows),
            "FILE               KIND   DETAIL\n\
             sample-1.0.tar.gz  sdist\n\
             é                  wheel  x"
        );
        assert_eq!(aligned_table(["A", "B"], &[]), "A  B");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(17 * 1024 * 1024), "17.0 MiB");
        assert_eq!(human_size(1_258_291), "1.2 MiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024 * 1024), "3.0 TiB");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(markdown_cell("a|b\nc<script>"), "a\\|b c&lt;script>");
        assert_eq!(markdown_code_cell("a`|b"), "`a'\\|b`");
    }
}
