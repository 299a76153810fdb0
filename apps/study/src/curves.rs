//! curves.svg: test accuracy per epoch, one panel per student.
//!
//! In each panel the student alone and the same student distilled share one colour — solid alone,
//! dashed distilled — each the mean over the seeds that finished, in a shaded band of ± one
//! standard deviation over them; the teacher's final test accuracy is a grey dotted reference
//! line. Each panel has its own y axis, fitted to its bands and the teacher: the question a panel
//! answers is alone against distilled, and a weak student's first epochs must not flatten a
//! strong student's curves. The legend stands to the right, outside every plot, so it never hides
//! a curve. Only the test set is drawn: the
//! validation split is another set and would be another line, never joined to this one.
//!
//! Plain SVG text, so that a report folder is readable in any browser without a plotting library.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::EpochRecord;

/// A metric per epoch over several seeds: the mean and the standard deviation at each epoch, in %.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Band {
    /// Test accuracy (%) per epoch over `runs` (as long as the shortest; empty without runs).
    pub fn test_accuracy(runs: &[&[EpochRecord]]) -> Band {
        let epochs = runs.iter().map(|r| r.len()).min().unwrap_or(0);
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for e in 0..epochs {
            let values: Vec<f64> = runs
                .iter()
                .map(|r| r[e].eval.map_or(f64::NAN, |v| 100.0 * v.accuracy))
                .collect();
            let m = MeanStd::of(&values);
            mean.push(m.mean);
            std.push(m.std);
        }
        Band { mean, std }
    }
}

/// One student's panel.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The student's description ("mlp:32,32").
    pub title: String,
    pub alone: Band,
    pub distilled: Band,
}

/// The whole picture.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub panels: Vec<Panel>,
    /// The teacher's final test accuracy, %.
    pub teacher: f64,
}

// The layout, in SVG pixels: each plot area is PLOT_W × PLOT_H, with room on its left for the y
// labels, above it for the panel's title, below it for the epochs and the axis name.
const PLOT_W: f64 = 300.0;
const PLOT_H: f64 = 220.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 55.0;
const GAP: f64 = 30.0;
const LEGEND_W: f64 = 230.0;
const LEGEND_H: f64 = 100.0;
const PER_ROW: usize = 3;
/// Okabe and Ito's palette, told apart by readers with any common colour blindness.
const COLOURS: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
];

/// Where panel `i`'s plot area lies: its left and top edges.
fn plot_origin(i: usize) -> (f64, f64) {
    let (row, col) = (i / PER_ROW, i % PER_ROW);
    (
        LEFT + col as f64 * (PLOT_W + LEFT + GAP),
        TOP + row as f64 * (PLOT_H + TOP + BOTTOM),
    )
}

/// The value range of a panel's y axis and its tick step: every band edge and the teacher,
/// widened to whole ticks.
pub fn y_range(panel: &Panel, teacher: f64) -> (f64, f64, f64) {
    let mut values = vec![teacher];
    for band in [&panel.alone, &panel.distilled] {
        for (m, s) in band.mean.iter().zip(&band.std) {
            values.extend([m - s, m + s]);
        }
    }
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (0.0, 100.0)
    };
    // About five ticks, on a step of 1, 2 or 5 times a power of ten.
    let raw = ((high - low) / 5.0).max(0.1);
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power);
    let low = ((low / step).floor() * step).max(0.0);
    let high = ((high / step).ceil() * step).min(100.0).max(low + step);
    (low, high, step)
}

/// The SVG of `chart`.
pub fn curves_svg(chart: &Chart) -> String {
    let panels = chart.panels.len().max(1);
    let cols = panels.min(PER_ROW);
    let rows = panels.div_ceil(PER_ROW);
    let legend_x = plot_origin(cols - 1).0 + PLOT_W + GAP;
    // The title must fit too: about 8 px a character at 15 px.
    let title_w = LEFT + 8.0 * chart.title.chars().count() as f64;
    let width = (legend_x + LEGEND_W + 10.0).max(title_w);
    let height = TOP + rows as f64 * (PLOT_H + TOP + BOTTOM) - TOP + 10.0;
    let epochs = chart
        .panels
        .iter()
        .flat_map(|p| [p.alone.mean.len(), p.distilled.mean.len()])
        .max()
        .unwrap_or(0)
        .max(2);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"24\" font-size=\"15\">{}</text>\n",
        escape(&chart.title)
    );
    for (i, panel) in chart.panels.iter().enumerate() {
        let (x0, y0) = plot_origin(i);
        let (low, high, step) = y_range(panel, chart.teacher);
        let x = |e: usize| x0 + PLOT_W * e as f64 / (epochs - 1) as f64;
        let y = |v: f64| y0 + PLOT_H * (high - v) / (high - low);
        let colour = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            s,
            "<g class=\"panel\">\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
             font-size=\"13\" font-weight=\"bold\">{}</text>",
            x0 + PLOT_W / 2.0,
            y0 - 12.0,
            escape(&panel.title)
        );
        // Grid and y labels.
        let ticks = ((high - low) / step).round() as usize;
        for k in 0..=ticks {
            let v = low + step * k as f64;
            let _ = writeln!(
                s,
                "<line x1=\"{x0}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{2}\" y=\"{3:.1}\" text-anchor=\"end\">{v}</text>",
                y(v),
                x0 + PLOT_W,
                x0 - 6.0,
                y(v) + 4.0
            );
        }
        // Epoch labels: at most about eight, so that long runs stay legible.
        let every = epochs.div_ceil(8);
        for e in (0..epochs).filter(|e| e % every == 0 || *e == epochs - 1) {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(e),
                y0 + PLOT_H + 16.0,
                e + 1
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">epoch</text>\n\
             <text transform=\"translate({:.1},{:.1}) rotate(-90)\" text-anchor=\"middle\">test accuracy (%)</text>",
            x0 + PLOT_W / 2.0,
            y0 + PLOT_H + 36.0,
            x0 - 46.0,
            y0 + PLOT_H / 2.0
        );
        for (band, dash) in [
            (&panel.alone, ""),
            (&panel.distilled, " stroke-dasharray=\"7 4\""),
        ] {
            if band.mean.is_empty() {
                continue;
            }
            let upper = band.mean.iter().zip(&band.std).map(|(m, s)| m + s);
            let lower = band.mean.iter().zip(&band.std).map(|(m, s)| m - s);
            let mut edge: Vec<String> = upper
                .enumerate()
                .map(|(e, v)| format!("{:.2},{:.2}", x(e), y(v)))
                .collect();
            let back: Vec<String> = lower
                .enumerate()
                .map(|(e, v)| format!("{:.2},{:.2}", x(e), y(v)))
                .collect();
            edge.extend(back.into_iter().rev());
            let line: Vec<String> = band
                .mean
                .iter()
                .enumerate()
                .map(|(e, &v)| format!("{:.2},{:.2}", x(e), y(v)))
                .collect();
            let _ = writeln!(
                s,
                "<polygon class=\"band\" fill=\"{colour}\" fill-opacity=\"0.16\" points=\"{}\"/>\n\
                 <polyline class=\"mean\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
                edge.join(" "),
                line.join(" ")
            );
        }
        if chart.teacher.is_finite() {
            let _ = writeln!(
                s,
                "<line class=\"teacher\" x1=\"{x0}\" y1=\"{0:.2}\" x2=\"{1}\" y2=\"{0:.2}\" \
                 stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>",
                y(chart.teacher),
                x0 + PLOT_W
            );
        }
        let _ = writeln!(
            s,
            "<rect class=\"plot\" x=\"{x0}\" y=\"{y0}\" width=\"{PLOT_W}\" height=\"{PLOT_H}\" \
             fill=\"none\" stroke=\"#333\"/>\n</g>"
        );
    }
    legend(&mut s, legend_x, TOP, chart.teacher);
    s.push_str("</svg>\n");
    s
}

/// The legend at (`x`, `y`): what the line styles and the band mean (the colour only tells the
/// panels apart, so the samples are drawn in black).
fn legend(s: &mut String, x: f64, y: f64, teacher: f64) {
    let _ = writeln!(
        s,
        "<g class=\"legend\">\n<rect class=\"legend\" x=\"{x}\" y=\"{y}\" width=\"{LEGEND_W}\" \
         height=\"{LEGEND_H}\" fill=\"white\" stroke=\"#bbb\"/>"
    );
    let teacher_text = if teacher.is_finite() {
        format!("teacher, final ({teacher:.2} %)")
    } else {
        "teacher, final".to_string()
    };
    let items = [
        ("stroke=\"#000\" stroke-width=\"2\"", "student alone, mean"),
        (
            "stroke=\"#000\" stroke-width=\"2\" stroke-dasharray=\"7 4\"",
            "student distilled, mean",
        ),
        (
            "stroke=\"#000\" stroke-opacity=\"0.16\" stroke-width=\"10\"",
            "± 1 std over seeds",
        ),
        (
            "stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"",
            teacher_text.as_str(),
        ),
    ];
    for (k, (style, text)) in items.iter().enumerate() {
        let ly = y + 20.0 + 22.0 * k as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" {style}/><text x=\"{}\" y=\"{}\">{}</text>",
            x + 10.0,
            x + 44.0,
            x + 52.0,
            ly + 4.0,
            escape(text)
        );
    }
    s.push_str("</g>\n");
}

/// Text inside SVG: the three characters XML gives a meaning to.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(mean: &[f64], std: &[f64]) -> Band {
        Band {
            mean: mean.to_vec(),
            std: std.to_vec(),
        }
    }

    fn chart(students: usize) -> Chart {
        Chart {
            title: "a <b> & c".into(),
            panels: (0..students)
                .map(|i| Panel {
                    title: format!("mlp:{i}"),
                    alone: band(&[80.0, 85.0, 88.0], &[1.0, 0.5, 0.25]),
                    distilled: band(&[82.0, 86.0, 90.0], &[2.0, 1.0, 0.0]),
                })
                .collect(),
            teacher: 93.0,
        }
    }

    /// The numbers of attribute `name` in every element that starts with `tag`.
    fn attribute(svg: &str, tag: &str, name: &str) -> Vec<String> {
        svg.split('<')
            .filter(|e| e.starts_with(tag))
            .map(|e| {
                let start =
                    e.find(&format!(" {name}=\"")).expect("has the attribute") + name.len() + 3;
                e[start..start + e[start..].find('"').unwrap()].to_string()
            })
            .collect()
    }

    /// Every element opened is closed in order (or closes itself), and text holds no bare `<`/`&`.
    fn assert_well_formed(svg: &str) {
        let mut open: Vec<&str> = Vec::new();
        for piece in svg.split('<').skip(1) {
            let tag_end = piece.find('>').expect("every tag ends");
            let (tag, text) = (&piece[..tag_end], &piece[tag_end + 1..]);
            assert!(!text.contains('>'), "stray '>' in {text:?}");
            let amp_ok = text
                .split('&')
                .skip(1)
                .all(|t| t.starts_with("amp;") || t.starts_with("lt;") || t.starts_with("gt;"));
            assert!(amp_ok, "bare & in {text:?}");
            let name = tag
                .trim_start_matches('/')
                .split([' ', '\n'])
                .next()
                .unwrap();
            if let Some(closing) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(closing.trim()), "misnested </{closing}>");
            } else if !tag.ends_with('/') {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "left open: {open:?}");
    }

    #[test]
    fn one_panel_per_student_well_formed_with_escaped_text() {
        for students in [1, 2, 4] {
            let svg = curves_svg(&chart(students));
            assert_well_formed(&svg);
            assert_eq!(svg.matches("<g class=\"panel\">").count(), students);
            assert_eq!(attribute(&svg, "rect class=\"plot\"", "x").len(), students);
            // Alone and distilled in each panel: a solid and a dashed mean, in the panel's colour.
            let means = attribute(&svg, "polyline class=\"mean\"", "stroke");
            assert_eq!(means.len(), 2 * students);
            for pair in means.chunks(2) {
                assert_eq!(pair[0], pair[1], "alone and distilled share a colour");
            }
            assert_eq!(
                svg.matches("stroke-dasharray=\"7 4\" points").count(),
                students
            );
            assert_eq!(svg.matches("class=\"teacher\"").count(), students);
            assert!(svg.contains("a &lt;b&gt; &amp; c"));
            assert!(svg.contains(">epoch</text>") && svg.contains("test accuracy (%)"));
        }
    }

    #[test]
    fn the_band_covers_mean_plus_and_minus_one_std() {
        let c = chart(1);
        let svg = curves_svg(&c);
        let (low, high, _) = y_range(&c.panels[0], c.teacher);
        let y0: f64 = attribute(&svg, "rect class=\"plot\"", "y")[0]
            .parse()
            .unwrap();
        let value = |py: f64| high - (py - y0) / PLOT_H * (high - low);
        let bands = attribute(&svg, "polygon class=\"band\"", "points");
        for (band, points) in [&c.panels[0].alone, &c.panels[0].distilled]
            .iter()
            .zip(&bands)
        {
            let ys: Vec<f64> = points
                .split(' ')
                .map(|p| value(p.split(',').nth(1).unwrap().parse().unwrap()))
                .collect();
            let n = band.mean.len();
            assert_eq!(ys.len(), 2 * n, "an upper and a lower edge");
            for e in 0..n {
                // Coordinates are written with two decimals: 0.005 px is about 0.0005 points here.
                let (upper, lower) = (ys[e], ys[2 * n - 1 - e]);
                assert!(
                    (upper - (band.mean[e] + band.std[e])).abs() < 1e-2,
                    "{upper}"
                );
                assert!(
                    (lower - (band.mean[e] - band.std[e])).abs() < 1e-2,
                    "{lower}"
                );
            }
        }
        // The axis holds every band edge and the teacher: 79 (80 − 1) to 93.
        assert!(
            low <= 79.0 && (93.0..=100.0).contains(&high),
            "{low}..{high}"
        );
    }

    #[test]
    fn the_legend_stands_outside_every_plot() {
        for students in [1, 3, 5] {
            let svg = curves_svg(&chart(students));
            let num = |tag: &str, name: &str| -> Vec<f64> {
                attribute(&svg, tag, name)
                    .iter()
                    .map(|v| v.parse().unwrap())
                    .collect()
            };
            let legend = [
                num("rect class=\"legend\"", "x")[0],
                num("rect class=\"legend\"", "y")[0],
                num("rect class=\"legend\"", "width")[0],
                num("rect class=\"legend\"", "height")[0],
            ];
            let (xs, ys) = (
                num("rect class=\"plot\"", "x"),
                num("rect class=\"plot\"", "y"),
            );
            for (x, y) in xs.iter().zip(&ys) {
                let apart = legend[0] >= x + PLOT_W
                    || legend[0] + legend[2] <= *x
                    || legend[1] >= y + PLOT_H
                    || legend[1] + legend[3] <= *y;
                assert!(
                    apart,
                    "the legend {legend:?} overlaps the plot at ({x}, {y})"
                );
            }
            let width: f64 = attribute(&svg, "svg", "width")[0].parse().unwrap();
            assert!(legend[0] + legend[2] <= width, "the legend is cut off");
        }
    }

    #[test]
    fn bands_average_the_runs_per_epoch() {
        use kd::{Evaluation, LossMeans};
        let record = |accuracy| EpochRecord {
            epoch: 0,
            lr: 0.1,
            train_loss: LossMeans::default(),
            train_accuracy: 0.0,
            eval: Some(Evaluation {
                loss: 0.0,
                accuracy,
                errors: 0,
                samples: 1,
            }),
            validation: None,
            seconds: 0.0,
        };
        let a = vec![record(0.80), record(0.90)];
        let b = vec![record(0.82), record(0.94), record(0.99)];
        let band = Band::test_accuracy(&[&a, &b]);
        // By hand: means 81 and 92; sample std of {80, 82} is √2, of {90, 94} is 2√2.
        assert_eq!(band.mean.len(), 2, "as long as the shortest run");
        assert!((band.mean[0] - 81.0).abs() < 1e-9 && (band.mean[1] - 92.0).abs() < 1e-9);
        assert!((band.std[0] - 2f64.sqrt()).abs() < 1e-9);
        assert!((band.std[1] - 2.0 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(Band::test_accuracy(&[]), Band::default());
    }
}
