//! The load bench's chart: an SVG (plotters, SVG backend only) of this client's ratios to the
//! raw baseline (CPU and instructions) and to Amplify JS (CPU), one group of bars per phase, on
//! a log axis around 1×.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{cpu_ratio, instr_ratio, Spread};
use crate::{Kind, Results};

/// Series: label, colour, and how to get the ratio for a phase.
type Series<'a> = (
    &'static str,
    RGBColor,
    Box<dyn Fn(&crate::Phase) -> Option<Spread> + 'a>,
);

/// Draws the ratios of `results` to `path`.
pub fn draw(results: &Results, path: &Path) -> Result<(), String> {
    let phases: Vec<&crate::Phase> = results
        .phases
        .iter()
        .filter(|p| p.kind != Kind::Idle)
        .collect();
    let series: Vec<Series<'_>> = vec![
        (
            "CPU, typed / raw",
            RGBColor(31, 119, 180),
            Box::new(|p| cpu_ratio(results, p, "appsync-typed", "raw")),
        ),
        (
            "CPU, untyped / raw",
            RGBColor(158, 199, 232),
            Box::new(|p| cpu_ratio(results, p, "appsync-untyped", "raw")),
        ),
        (
            "instructions, typed / raw",
            RGBColor(44, 160, 44),
            Box::new(|p| instr_ratio(results, &p.name, "appsync-typed", "raw")),
        ),
        (
            "instructions, untyped / raw",
            RGBColor(152, 223, 138),
            Box::new(|p| instr_ratio(results, &p.name, "appsync-untyped", "raw")),
        ),
        (
            "CPU, typed / Amplify JS",
            RGBColor(255, 127, 14),
            Box::new(|p| cpu_ratio(results, p, "appsync-typed", "amplify")),
        ),
        (
            "CPU, untyped / Amplify JS",
            RGBColor(255, 187, 120),
            Box::new(|p| cpu_ratio(results, p, "appsync-untyped", "amplify")),
        ),
    ];
    // The values, and an axis that holds them all (a decade at least on each side of 1×).
    let values: Vec<Vec<Option<Spread>>> = phases
        .iter()
        .map(|p| series.iter().map(|(_, _, f)| f(p)).collect())
        .collect();
    let all = values.iter().flatten().flatten();
    let lo = all.clone().map(|s| s.min).fold(0.1f64, f64::min).max(1e-4) * 0.7;
    let hi = all.map(|s| s.max).fold(10f64, f64::max) * 1.4;

    let rows = phases.len().max(1);
    let height = 140 + rows as u32 * 96;
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (used, quiet) = crate::report::used_rounds(results);
    let how = if results.smoke {
        "smoke run".to_owned()
    } else if quiet {
        format!("medians of {} quiet rounds", used.len())
    } else {
        format!("medians of {} rounds, noisy machine", used.len())
    };
    let title = format!(
        "appsync-rs vs a raw Rust client and Amplify JS v6: below 1× = less than the other ({how})"
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(250)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..rows as f64)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("ratio (log scale)")
        .x_label_formatter(&|x| format!("{}×", trim(*x)))
        .draw()
        .map_err(|e| e.to_string())?;

    let bar = 0.84 / series.len() as f64;
    for (i, (phase, vals)) in phases.iter().zip(&values).enumerate() {
        let top = (rows - i) as f64 - 0.08;
        let (px, py) = chart.backend_coord(&(lo, top - 0.42));
        let unit = if phase.kind == Kind::Query {
            "per request"
        } else {
            "per event"
        };
        for (k, line) in [phase.label.as_str(), unit].iter().enumerate() {
            root.draw(&Text::new(
                line.to_string(),
                (px - 8, py - 8 + 16 * k as i32),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(|e| e.to_string())?;
        }
        for (j, v) in vals.iter().enumerate() {
            let Some(v) = v else { continue };
            let y1 = top - j as f64 * bar;
            let y0 = y1 - bar * 0.9;
            let colour = series[j].1;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y0), (v.median, y1)],
                    colour.filled(),
                )))
                .map_err(|e| e.to_string())?;
            if v.max > v.min {
                // The range over rounds.
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(v.min, (y0 + y1) / 2.0), (v.max, (y0 + y1) / 2.0)],
                        BLACK.stroke_width(1),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.2}×", v.median),
                    (v.max.max(v.median) * 1.04, (y0 + y1) / 2.0),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(|e| e.to_string())?;
        }
    }
    // 1×: as much as the other.
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(1.0, 0.0), (1.0, rows as f64)],
            BLACK.stroke_width(2),
        )))
        .map_err(|e| e.to_string())?;
    for (label, colour, _) in &series {
        let colour = *colour;
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(|e| e.to_string())?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    drop(chart);
    drop(root);
    // A first line saying what the file is (XML allows a comment before the root element).
    let svg = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    std::fs::write(
        path,
        format!(
            "<!-- The load bench's ratios chart, written by bench/load/run.sh (bench/src/bin/load/chart.rs). -->\n{svg}"
        ),
    )
    .map_err(|e| e.to_string())
}

/// An axis value without trailing zeros.
fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
