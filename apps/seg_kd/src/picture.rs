//! A few test scenes as one SVG: for each, the input, the ground truth, and the predictions of
//! the teacher, the student alone and the student distilled. Pixels are drawn as rectangles, each
//! run of equal colour in a row as one.

use std::fmt::Write as _;

use crate::scenes::IGNORE;

/// A colour per class: background white-ish, one hue per digit; ignored pixels grey.
const CLASS_COLOURS: [&str; 11] = [
    "#f4f4f4", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#393b79", "#bcbd22", "#17becf",
];
const IGNORE_COLOUR: &str = "#c8c8c8";

/// One column of the picture: its title and, per scene, one value per pixel (a brightness in
/// [0, 1] for the input, a label otherwise).
pub enum Column {
    Input(Vec<Vec<f32>>),
    Labels(Vec<Vec<u8>>),
}

/// `columns` side by side, `scenes` rows, each scene `size × size` pixels drawn at `cell` px.
pub fn scenes_svg(title: &str, headers: &[String], columns: &[Column], size: usize) -> String {
    let cell = 3.0;
    let side = size as f64 * cell;
    let (gap, top) = (12.0, 56.0);
    let rows = match &columns[0] {
        Column::Input(v) => v.len(),
        Column::Labels(v) => v.len(),
    };
    let width = 16.0 + columns.len() as f64 * (side + gap);
    let height = top + rows as f64 * (side + gap) + 8.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n<text x=\"16\" y=\"22\" font-size=\"15\">{title}</text>\n"
    );
    for (c, (header, column)) in headers.iter().zip(columns).enumerate() {
        let x0 = 16.0 + c as f64 * (side + gap);
        let _ = writeln!(
            s,
            "<text x=\"{x0:.1}\" y=\"{:.1}\">{header}</text>",
            top - 8.0
        );
        for r in 0..rows {
            let y0 = top + r as f64 * (side + gap);
            let colours: Vec<String> = match column {
                // Eight grey levels, so that runs of equal colour merge.
                Column::Input(v) => v[r]
                    .iter()
                    .map(|&p| {
                        let level = 255 - ((p.clamp(0.0, 1.0) * 7.0).round() as u32 * 255 / 7);
                        format!("#{level:02x}{level:02x}{level:02x}")
                    })
                    .collect(),
                Column::Labels(v) => v[r]
                    .iter()
                    .map(|&l| match l {
                        IGNORE => IGNORE_COLOUR.to_string(),
                        l => CLASS_COLOURS[usize::from(l) % CLASS_COLOURS.len()].to_string(),
                    })
                    .collect(),
            };
            for (y, row) in colours.chunks(size).enumerate() {
                let mut start = 0;
                while start < size {
                    let end = (start..size)
                        .find(|&x| row[x] != row[start])
                        .unwrap_or(size);
                    let _ = writeln!(
                        s,
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                        x0 + start as f64 * cell,
                        y0 + y as f64 * cell,
                        (end - start) as f64 * cell,
                        cell + 0.05,
                        row[start]
                    );
                    start = end;
                }
            }
        }
    }
    // The legend: one swatch per digit class.
    for d in 0..10 {
        let x = width - 16.0 - (10 - d) as f64 * 26.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"12\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" \
             y=\"22\">{d}</text>",
            CLASS_COLOURS[d + 1],
            x + 12.0
        );
    }
    s.push_str("</svg>\n");
    s
}
