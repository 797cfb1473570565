//! Order statistics of a sample of timings: the median and the spread the report shows.

use serde::Serialize;

/// A sample summarised. Times are in milliseconds wherever this is used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// `None` for an empty sample.
    pub fn of(sample: &[f64]) -> Option<Self> {
        if sample.is_empty() {
            return None;
        }
        let mut sorted = sample.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            n: sorted.len(),
            min: sorted[0],
            p10: percentile(&sorted, 10.0),
            median: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }
}

/// The `q`-th percentile (0–100) of an ascending, non-empty sample, interpolating linearly
/// between the two nearest ranks (the "R-7" rule of numpy's default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of an empty sample");
    let rank = (q / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&s, 0.0), 1.0);
        assert_eq!(percentile(&s, 50.0), 2.5);
        assert_eq!(percentile(&s, 100.0), 4.0);
        assert!((percentile(&s, 10.0) - 1.3).abs() < 1e-12);
        assert!((percentile(&s, 90.0) - 3.7).abs() < 1e-12);
    }

    #[test]
    fn one_value_is_every_percentile() {
        let s = Summary::of(&[7.5]).unwrap();
        assert_eq!(
            (s.n, s.min, s.p10, s.median, s.p99, s.max, s.mean),
            (1, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5)
        );
    }

    #[test]
    fn summary_sorts_its_input() {
        let s = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.mean), (1.0, 3.0, 5.0, 3.0));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn p99_of_a_hundred_values_sits_near_the_top() {
        let sample: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&sample).unwrap();
        assert!((s.p99 - 99.01).abs() < 1e-9, "{}", s.p99);
        assert!((s.median - 50.5).abs() < 1e-9);
    }
}
