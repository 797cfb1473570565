//! `login.svg`, written by hand: login throughput (with the hashing limit) and p50 latency (with
//! the ideal) against concurrency, two panels, concurrency on a log₂ axis.

use std::fmt::Write as _;

/// One concurrency level's figures.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub concurrency: usize,
    pub throughput_rps: f64,
    pub p50_ms: f64,
}

const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 300.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 50.0;
const GAP: f64 = 80.0;

/// A round step for about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

struct Panel {
    x0: f64,
    y_max: f64,
    x_max: f64,
}

impl Panel {
    fn x(&self, concurrency: usize) -> f64 {
        let pos = (concurrency.max(1) as f64).log2();
        self.x0 + MARGIN_L + pos / self.x_max.max(1.0) * (PANEL_W - MARGIN_L - 20.0)
    }

    fn y(&self, v: f64) -> f64 {
        MARGIN_T + (PANEL_H - MARGIN_T - MARGIN_B) * (1.0 - v / self.y_max)
    }

    fn axes(&self, out: &mut String, title: &str, unit: &str, levels: &[usize]) {
        let (left, right) = (self.x0 + MARGIN_L, self.x0 + PANEL_W - 20.0);
        let (top, bottom) = (MARGIN_T, PANEL_H - MARGIN_B);
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="22" font-size="15" font-weight="bold">{title}</text>"#,
            left
        );
        let _ = writeln!(
            out,
            r##"<path d="M{left:.1},{top:.1} V{bottom:.1} H{right:.1}" fill="none" stroke="#333"/>"##
        );
        let step = tick_step(self.y_max);
        let mut v = 0.0;
        while v <= self.y_max + 1e-9 {
            let y = self.y(v);
            let _ = writeln!(
                out,
                r##"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
                left - 6.0,
                y + 4.0,
                trim(v)
            );
            v += step;
        }
        for &c in levels {
            let x = self.x(c);
            let _ = writeln!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{c}</text>"#,
                bottom + 16.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">concurrency</text>"#,
            (left + right) / 2.0,
            bottom + 36.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">{unit}</text>"#,
            self.x0 + 16.0,
            (top + bottom) / 2.0,
            self.x0 + 16.0,
            (top + bottom) / 2.0
        );
    }

    fn series(&self, out: &mut String, points: &[(usize, f64)], colour: &str, dashed: bool) {
        let d: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (c, v))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, self.x(*c), self.y(*v)))
            .collect();
        let dash = if dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = writeln!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            d.join(" ")
        );
        if !dashed {
            for (c, v) in points {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"/>"#,
                    self.x(*c),
                    self.y(*v)
                );
            }
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn legend(out: &mut String, x: f64, y: f64, colour: &str, dashed: bool, text: &str) {
    let dash = if dashed { r#" stroke-dasharray="6 4""# } else { "" };
    let _ = writeln!(
        out,
        r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}" font-size="11">{text}</text>"#,
        x + 24.0,
        x + 30.0,
        y + 4.0
    );
}

/// The plot. `limit_rps` = cores ÷ one verify; `verify_ms` = one verify.
pub fn login_svg(points: &[Point], cores: usize, limit_rps: f64, verify_ms: f64) -> String {
    let levels: Vec<usize> = points.iter().map(|p| p.concurrency).collect();
    let x_max = levels.iter().map(|c| (*c.max(&1) as f64).log2()).fold(1.0, f64::max);
    let ideal = |c: usize| verify_ms * (c as f64 / cores.max(1) as f64).max(1.0);
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let t_max = points
        .iter()
        .map(|p| finite(p.throughput_rps))
        .fold(finite(limit_rps), f64::max)
        .max(1e-9)
        * 1.15;
    let l_max = points
        .iter()
        .map(|p| finite(p.p50_ms).max(finite(ideal(p.concurrency))))
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15;
    let width = 2.0 * PANEL_W + GAP;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{PANEL_H}" viewBox="0 0 {width} {PANEL_H}" font-family="sans-serif">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);

    let left = Panel {
        x0: 0.0,
        y_max: t_max,
        x_max,
    };
    left.axes(&mut out, "Login throughput", "logins per second", &levels);
    let limit: Vec<(usize, f64)> = levels.iter().map(|&c| (c, finite(limit_rps))).collect();
    left.series(&mut out, &limit, "#888", true);
    let measured: Vec<(usize, f64)> = points
        .iter()
        .map(|p| (p.concurrency, finite(p.throughput_rps)))
        .collect();
    left.series(&mut out, &measured, "#1f77b4", false);
    legend(
        &mut out,
        MARGIN_L + 10.0,
        PANEL_H - MARGIN_B - 30.0,
        "#1f77b4",
        false,
        "measured",
    );
    legend(
        &mut out,
        MARGIN_L + 10.0,
        PANEL_H - MARGIN_B - 14.0,
        "#888",
        true,
        "cores ÷ one verify",
    );

    let right = Panel {
        x0: PANEL_W + GAP,
        y_max: l_max,
        x_max,
    };
    right.axes(&mut out, "Login p50 latency", "milliseconds", &levels);
    let ideal_points: Vec<(usize, f64)> = levels.iter().map(|&c| (c, finite(ideal(c)))).collect();
    right.series(&mut out, &ideal_points, "#888", true);
    let p50: Vec<(usize, f64)> = points.iter().map(|p| (p.concurrency, finite(p.p50_ms))).collect();
    right.series(&mut out, &p50, "#d62728", false);
    let lx = right.x0 + MARGIN_L + 10.0;
    legend(&mut out, lx, MARGIN_T + 10.0, "#d62728", false, "measured p50");
    legend(
        &mut out,
        lx,
        MARGIN_T + 26.0,
        "#888",
        true,
        "one verify × max(1, concurrency ÷ cores)",
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<Point> {
        [(1, 78.0, 12.8), (2, 150.0, 13.1), (4, 152.0, 26.0), (16, 151.0, 105.0)]
            .into_iter()
            .map(|(concurrency, throughput_rps, p50_ms)| Point {
                concurrency,
                throughput_rps,
                p50_ms,
            })
            .collect()
    }

    #[test]
    fn one_marker_per_figure_and_no_invalid_numbers() {
        let svg = login_svg(&points(), 2, 160.0, 12.5);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 8);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        for label in ["concurrency", ">16<", "cores ÷ one verify"] {
            assert!(svg.contains(label), "{label}");
        }
    }

    #[test]
    fn a_failed_figure_still_draws() {
        let mut p = points();
        p[0].p50_ms = f64::NAN;
        let svg = login_svg(&p, 2, f64::NAN, f64::NAN);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(160.0), 50.0);
        assert_eq!(tick_step(12.0), 2.5);
        assert_eq!(tick_step(1.0), 0.2);
    }

    #[test]
    fn concurrency_axis_is_logarithmic() {
        let panel = Panel {
            x0: 0.0,
            y_max: 1.0,
            x_max: 4.0,
        };
        let (x1, x2, x4) = (panel.x(1), panel.x(2), panel.x(4));
        assert!((x2 - x1 - (x4 - x2)).abs() < 1e-9);
    }
}
