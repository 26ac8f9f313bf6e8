//! The trends chart, drawn on the server as SVG: one panel per class of target, a solid
//! line with round markers for critical and a dashed line with square markers for high,
//! so the two differ by more than colour. The same numbers are in a table under it.

use holdfast_store::{TrendCounts, TrendDay};
use serde::Serialize;

/// Drawing area of one panel, in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 10.0;

/// Picks one class's counts from a day.
type ClassPick = fn(&TrendDay) -> TrendCounts;

/// One line of a panel.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// `critical` or `high`.
    pub name: &'static str,
    /// `x,y x,y ...` for a polyline.
    pub points: String,
    /// Marker positions.
    pub markers: Vec<(f64, f64)>,
}

/// One class of targets over the window.
#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    /// `Images`, `Containers`, `Hosts`.
    pub title: &'static str,
    /// The y-axis maximum.
    pub max: i64,
    /// Critical, then high.
    pub series: Vec<Series>,
    /// Today's critical and high.
    pub today: TrendCounts,
    /// Y of the axis' top label and of zero.
    pub y_top: f64,
    /// Y of the x-axis.
    pub y_zero: f64,
}

/// The three panels for `days`.
pub fn panels(days: &[TrendDay]) -> Vec<Panel> {
    let classes: [(&'static str, ClassPick); 3] = [
        ("Images", |d| d.images),
        ("Containers", |d| d.containers),
        ("Hosts", |d| d.hosts),
    ];
    classes
        .into_iter()
        .map(|(title, pick)| {
            let values: Vec<TrendCounts> = days.iter().map(pick).collect();
            let max = values
                .iter()
                .map(|c| c.critical.max(c.high))
                .max()
                .unwrap_or(0)
                .max(1);
            let x = |i: usize| {
                let span = (values.len().max(2) - 1) as f64;
                LEFT + (WIDTH - LEFT - 10.0) * i as f64 / span
            };
            let y = |v: i64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v as f64 / max as f64);
            let line = |name: &'static str, get: fn(&TrendCounts) -> i64| {
                let markers: Vec<(f64, f64)> = values
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (
                            (x(i) * 10.0).round() / 10.0,
                            (y(get(c)) * 10.0).round() / 10.0,
                        )
                    })
                    .collect();
                Series {
                    name,
                    points: markers
                        .iter()
                        .map(|(a, b)| format!("{a},{b}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    markers,
                }
            };
            Panel {
                title,
                max,
                series: vec![line("critical", |c| c.critical), line("high", |c| c.high)],
                today: values.last().copied().unwrap_or_default(),
                y_top: TOP,
                y_zero: HEIGHT - BOTTOM,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_span_the_panel_and_scale_to_the_maximum() {
        let days: Vec<TrendDay> = (0..3)
            .map(|i| TrendDay {
                day: i,
                images: TrendCounts {
                    critical: i * 2,
                    high: 1,
                },
                ..Default::default()
            })
            .collect();
        let p = &panels(&days)[0];
        assert_eq!(p.max, 4);
        let crit = &p.series[0];
        assert_eq!(crit.markers.len(), 3);
        assert_eq!(crit.markers[0], (LEFT, HEIGHT - BOTTOM), "zero on the axis");
        assert_eq!(
            crit.markers[2],
            (WIDTH - 10.0, TOP),
            "the maximum at the top"
        );
        assert_eq!(p.today.critical, 4);
        assert_eq!(panels(&days)[1].max, 1, "an empty class still has an axis");
    }
}
