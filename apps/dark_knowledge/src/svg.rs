//! The experiments' pictures, as plain SVG text: the temperature view's bars, the regulariser's
//! accuracy curves and the tree student's decision regions. No plotting crate: a few shapes, positioned by hand.

use std::fmt::Write as _;

/// The teacher, the student alone, the student distilled: the same three colours in every picture.
const COLOURS: [&str; 3] = ["#444444", "#e6862e", "#2e6fbf"];

fn header(width: f64, height: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"16\" y=\"24\" font-size=\"15\">{}</text>\n",
        escape(title)
    )
}

/// Text inside SVG: the three characters XML gives a meaning to.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One entry of a legend: a name, its colour (an index into `COLOURS`), dashed or not.
struct Entry<'a> {
    name: &'a str,
    colour: usize,
    dashed: bool,
}

/// A legend: one coloured mark and name per entry, in a row at `(x, y)`.
fn legend(s: &mut String, x: f64, y: f64, entries: &[Entry]) {
    let mut at = x;
    for &Entry {
        name,
        colour,
        dashed,
    } in entries
    {
        let colour = COLOURS[colour % COLOURS.len()];
        if dashed {
            let _ = writeln!(
                s,
                "<line x1=\"{at:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
                y - 4.0,
                at + 14.0,
                y - 4.0
            );
        } else {
            let _ = writeln!(
                s,
                "<rect x=\"{at:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>",
                y - 10.0
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            at + 18.0,
            escape(name)
        );
        at += legend_step(name);
    }
}

/// The width a legend entry takes (about 7 px a character at 12 px, and its mark).
fn legend_step(name: &str) -> f64 {
    30.0 + 7.0 * name.chars().count() as f64
}

/// What the temperature view draws: for each image, its pixels, then one panel per temperature
/// with each model's probability of each class as bars side by side.
pub struct Softening<'a> {
    pub images: &'a [usize],
    pub labels: &'a [usize],
    /// Each image's 28 × 28 pixels in [0, 1]: MNIST's ink intensity, 0 drawn white, 1 black.
    pub pixels: &'a [Vec<f32>],
    pub temperatures: &'a [f32],
    pub models: &'a [String],
    /// `[image][model][temperature][class]`.
    pub probabilities: &'a [Vec<Vec<Vec<f32>>>],
}

const PIXEL: f64 = 3.0;
const PANEL_W: f64 = 200.0;
const PANEL_H: f64 = 110.0;
const ROW_H: f64 = PANEL_H + 50.0;
const TOP: f64 = 60.0;
const LEFT: f64 = 16.0;

pub fn softening(chart: &Softening) -> String {
    let image_w = 28.0 * PIXEL + 24.0;
    let width = LEFT + image_w + chart.temperatures.len() as f64 * (PANEL_W + 16.0) + 10.0;
    let height = TOP + chart.images.len() as f64 * ROW_H + 10.0;
    let mut s = header(
        width,
        height,
        "The temperature view: softmax(logits / T) for each class",
    );
    let entries: Vec<Entry> = (chart.models.iter().enumerate())
        .map(|(i, name)| Entry {
            name,
            colour: i,
            dashed: false,
        })
        .collect();
    legend(&mut s, LEFT, 46.0, &entries);
    for (row, &index) in chart.images.iter().enumerate() {
        let y0 = TOP + row as f64 * ROW_H + 20.0;
        // The image, as ink (dark) on paper (white): MNIST's values are ink intensities.
        let _ = writeln!(
            s,
            "<text x=\"{LEFT}\" y=\"{:.1}\">test image {index} (a {})</text>",
            y0 - 6.0,
            chart.labels[row]
        );
        for (i, &v) in chart.pixels[row].iter().enumerate() {
            let shade = (255.0 * (1.0 - v.clamp(0.0, 1.0))).round() as u8;
            if shade == 255 {
                continue;
            }
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{PIXEL}\" height=\"{PIXEL}\" \
                 fill=\"rgb({shade},{shade},{shade})\"/>",
                LEFT + (i % 28) as f64 * PIXEL,
                y0 + (i / 28) as f64 * PIXEL
            );
        }
        let _ = writeln!(
            s,
            "<rect x=\"{LEFT}\" y=\"{y0:.1}\" width=\"{0}\" height=\"{0}\" fill=\"none\" \
             stroke=\"#bbbbbb\"/>",
            28.0 * PIXEL
        );
        for (k, &t) in chart.temperatures.iter().enumerate() {
            let x0 = LEFT + image_w + k as f64 * (PANEL_W + 16.0);
            panel(&mut s, x0, y0, t, &chart.probabilities[row], k);
        }
    }
    s.push_str("</svg>\n");
    s
}

/// One temperature's panel: probability 0 to 1 upwards, one group of bars per class.
fn panel(s: &mut String, x0: f64, y0: f64, t: f32, models: &[Vec<Vec<f32>>], k: usize) {
    let classes = models[0][k].len();
    let group = PANEL_W / classes as f64;
    let bar = (group - 2.0) / models.len() as f64;
    let y = |p: f64| y0 + PANEL_H * (1.0 - p);
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">T = {t}</text>\n\
         <line x1=\"{x0:.1}\" y1=\"{2:.1}\" x2=\"{3:.1}\" y2=\"{2:.1}\" stroke=\"#999999\"/>\n\
         <line x1=\"{x0:.1}\" y1=\"{4:.1}\" x2=\"{3:.1}\" y2=\"{4:.1}\" stroke=\"#e4e4e4\"/>",
        x0 + PANEL_W / 2.0,
        y0 - 6.0,
        y(0.0),
        x0 + PANEL_W,
        y(1.0)
    );
    for (m, model) in models.iter().enumerate() {
        for (c, &p) in model[k].iter().enumerate() {
            let x = x0 + c as f64 * group + 1.0 + m as f64 * bar;
            let top = y(p as f64);
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" \
                 fill=\"{}\"/>",
                y(0.0) - top,
                COLOURS[m % COLOURS.len()]
            );
        }
    }
    s.push('\n');
    for c in 0..classes {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{c}</text>",
            x0 + (c as f64 + 0.5) * group,
            y(0.0) + 12.0
        );
    }
    s.push('\n');
}

/// One line of the regulariser's chart: a value per epoch.
pub struct Line {
    pub name: String,
    /// 0 the teacher's colour, 1 the hard targets', 2 the soft targets'.
    pub colour: usize,
    pub dashed: bool,
    pub values: Vec<f64>,
}

/// Accuracy (%) per epoch for each line, with `low` to 100 upwards.
pub fn accuracy_curves(title: &str, lines: &[Line], low: f64) -> String {
    let (plot_w, plot_h, left, top): (f64, f64, f64, f64) = (520.0, 300.0, 70.0, 70.0);
    let legend_w: f64 = lines.iter().map(|l| legend_step(&l.name)).sum();
    let width = (left + plot_w + 20.0).max(left + legend_w);
    let height = top + plot_h + 60.0;
    let mut s = header(width, height, title);
    let entries: Vec<Entry> = lines
        .iter()
        .map(|l| Entry {
            name: &l.name,
            colour: l.colour,
            dashed: l.dashed,
        })
        .collect();
    legend(&mut s, left, 46.0, &entries);
    let epochs = lines
        .iter()
        .map(|l| l.values.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let x = |e: usize| left + plot_w * e as f64 / (epochs - 1) as f64;
    let y = |v: f64| top + plot_h * (100.0 - v.clamp(low, 100.0)) / (100.0 - low);
    let step = if 100.0 - low > 40.0 { 10.0 } else { 5.0 };
    let mut v = (low / step).ceil() * step;
    while v <= 100.0 {
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{2}\" y=\"{3:.1}\" text-anchor=\"end\">{v}</text>",
            y(v),
            left + plot_w,
            left - 6.0,
            y(v) + 4.0
        );
        v += step;
    }
    let every = epochs.div_ceil(10);
    for e in (0..epochs).filter(|e| e % every == 0 || *e == epochs - 1) {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(e),
            top + plot_h + 16.0,
            e + 1
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">epoch</text>\n\
         <text transform=\"translate({:.1},{:.1}) rotate(-90)\" text-anchor=\"middle\">accuracy (%)</text>",
        left + plot_w / 2.0,
        top + plot_h + 36.0,
        left - 46.0,
        top + plot_h / 2.0
    );
    for line in lines {
        let points: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .map(|(e, &v)| format!("{:.1},{:.1}", x(e), y(v)))
            .collect();
        let dash = if line.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
            points.join(" "),
            COLOURS[line.colour % COLOURS.len()]
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One model's decision regions: the class it predicts in each cell of a square grid, row by
/// row from the top.
pub struct Panel {
    pub title: String,
    pub classes: Vec<usize>,
}

/// Region fills and point colours for two classes.
const REGION_FILLS: [&str; 2] = ["#cfe0f3", "#f7dcc2"];
const POINT_COLOURS: [&str; 2] = ["#2e6fbf", "#c8641a"];

/// Panels of decision regions side by side over the square `[−half_width, half_width]²`, each
/// `grid × grid` cells, with the same `points` (x₁, x₂, class) and the curve `boundary` drawn on
/// every one. Runs of equal cells in a row are drawn as one rectangle.
pub fn regions(
    title: &str,
    panels: &[Panel],
    grid: usize,
    half_width: f64,
    points: &[(f64, f64, usize)],
    boundary: &[(f64, f64)],
) -> String {
    let (size, gap, top) = (300.0, 24.0, 60.0);
    let width = 16.0 + panels.len() as f64 * (size + gap);
    let mut s = header(width, top + size + 24.0, title);
    let cell = size / grid as f64;
    let to_px = |x0: f64, x1: f64, x2: f64| {
        (
            x0 + (x1 + half_width) / (2.0 * half_width) * size,
            top + (half_width - x2) / (2.0 * half_width) * size,
        )
    };
    for (p, panel) in panels.iter().enumerate() {
        let x0 = 16.0 + p as f64 * (size + gap);
        let _ = writeln!(
            s,
            "<text x=\"{x0:.1}\" y=\"{:.1}\">{}</text>",
            top - 8.0,
            escape(&panel.title)
        );
        for row in 0..grid {
            let cells = &panel.classes[row * grid..(row + 1) * grid];
            let mut start = 0;
            while start < grid {
                let class = cells[start];
                let end = (start..grid).find(|&c| cells[c] != class).unwrap_or(grid);
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.2}\" fill=\"{}\"/>",
                    x0 + start as f64 * cell,
                    top + row as f64 * cell,
                    (end - start) as f64 * cell,
                    cell + 0.05,
                    REGION_FILLS[class % REGION_FILLS.len()]
                );
                start = end;
            }
        }
        for &(x1, x2, class) in points {
            let (x, y) = to_px(x0, x1, x2);
            let _ = writeln!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.3\" fill=\"{}\"/>",
                POINT_COLOURS[class % POINT_COLOURS.len()]
            );
        }
        let path: Vec<String> = boundary
            .iter()
            .map(|&(x1, x2)| {
                let (x, y) = to_px(x0, x1, x2);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/>",
            path.join(" ")
        );
        let _ = writeln!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{size:.0}\" height=\"{size:.0}\" \
             fill=\"none\" stroke=\"#888888\"/>"
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_is_as_tall_as_its_probability() {
        let probabilities = vec![vec![vec![vec![0.25, 0.75]]]];
        let chart = Softening {
            images: &[0],
            labels: &[1],
            pixels: &[vec![0.0; 784]],
            temperatures: &[1.0],
            models: &["teacher".into()],
            probabilities: &probabilities,
        };
        let svg = softening(&chart);
        // The panel is PANEL_H tall: 0.25 of it and 0.75 of it.
        assert!(
            svg.contains(&format!("height=\"{:.1}\"", 0.25 * PANEL_H)),
            "{svg}"
        );
        assert!(
            svg.contains(&format!("height=\"{:.1}\"", 0.75 * PANEL_H)),
            "{svg}"
        );
        assert!(svg.ends_with("</svg>\n"));
    }
}
