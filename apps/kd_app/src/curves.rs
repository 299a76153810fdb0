//! A metric per epoch as an SVG line chart: one polyline per model, a legend, axes in percent.
//! Plain SVG text, so that a report folder is readable in any browser without a plotting library.

use std::fmt::Write as _;

use kd::EpochRecord;

/// Test accuracy (%) after each epoch of one run (epochs without an evaluation are skipped).
pub fn test_accuracy_curve(epochs: &[EpochRecord]) -> Vec<f64> {
    epochs
        .iter()
        .filter_map(|e| e.eval.map(|v| 100.0 * v.accuracy))
        .collect()
}

/// Test accuracy (%) per epoch, averaged over several runs (as long as the shortest run).
pub fn mean_curve(runs: &[&[EpochRecord]]) -> Vec<f64> {
    let epochs = runs.iter().map(|r| r.len()).min().unwrap_or(0);
    (0..epochs)
        .map(|e| {
            let sum: f64 = runs
                .iter()
                .map(|r| r[e].eval.map_or(0.0, |v| v.accuracy))
                .sum();
            100.0 * sum / runs.len() as f64
        })
        .collect()
}

/// The chart: `series` are (legend, values in % per epoch), drawn in order; the y axis runs from
/// the lowest value (rounded down) to 100 %.
pub fn curves_svg(title: &str, series: &[(String, Vec<f64>)]) -> String {
    let (w, h, pad) = (720.0, 420.0, 60.0);
    let epochs = series
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let values: Vec<f64> = series.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let low = values
        .iter()
        .copied()
        .fold(100.0f64, f64::min)
        .floor()
        .max(0.0);
    let high = 100.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (epochs - 1) as f64;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - low) / (high - low).max(1e-9);
    let colours = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    ];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        w / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - pad,
        w - pad,
        h - pad
    );
    let _ = writeln!(
        s,
        "<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>",
        h - pad
    );
    for k in 0..=4 {
        let v = low + (high - low) * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1} %</text><line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#ddd\"/>",
            pad - 6.0, y(v) + 4.0, y(v), w - pad, y(v)
        );
    }
    // Label at most ~20 epochs on the axis, so that long runs stay legible.
    let every = epochs.div_ceil(20);
    for i in (0..epochs).filter(|i| i % every == 0) {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - pad + 18.0,
            i + 1
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>",
        w / 2.0,
        h - 14.0
    );
    for (k, (name, v)) in series.iter().enumerate() {
        let colour = colours[k % colours.len()];
        let points: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(i, &a)| format!("{:.1},{:.1}", x(i), y(a)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        let ly = pad + 16.0 * k as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{}</text>",
            w - pad - 230.0, w - pad - 210.0, w - pad - 205.0, ly + 4.0, escape(name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Text inside SVG: the three characters XML gives a meaning to.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
