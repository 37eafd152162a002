//! Percentiles and medians. Percentiles are by nearest rank over every
//! sample: the p99 of 1,000 calls is the 990th fastest.

use std::time::Duration;

/// The latency figures of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Latencies {
    /// Half the calls took at most this.
    pub(crate) p50: Duration,
    /// 99 in 100 calls took at most this.
    pub(crate) p99: Duration,
    /// The slowest call.
    pub(crate) max: Duration,
}

/// The figures of `samples` (nanoseconds); `None` when there are none.
pub(crate) fn summarize(mut samples: Vec<u64>) -> Option<Latencies> {
    samples.sort_unstable();
    let rank = |fraction: f64| {
        let rank = (fraction * samples.len() as f64).ceil() as usize;
        Duration::from_nanos(samples[rank.clamp(1, samples.len()) - 1])
    };
    let max = *samples.last()?;
    Some(Latencies { p50: rank(0.50), p99: rank(0.99), max: Duration::from_nanos(max) })
}

/// The median of `values` (the lower middle one for an even count);
/// `None` when there are none.
pub(crate) fn median<T: Copy + PartialOrd>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let nanos = Duration::from_nanos;
        let summary = summarize((1..=1000).rev().collect());
        let expected = Latencies { p50: nanos(500), p99: nanos(990), max: nanos(1000) };
        assert_eq!(summary, Some(expected));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let seven = Duration::from_nanos(7);
        assert_eq!(summarize(vec![7]), Some(Latencies { p50: seven, p99: seven, max: seven }));
        assert_eq!(summarize(Vec::new()), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3, 1, 2]), Some(2));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        assert_eq!(median::<u32>(&[]), None);
    }
}
