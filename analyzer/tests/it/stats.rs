//! The comparison statistics on small hand-made samples with known answers.

use analyzer::rng::Rng;
use analyzer::stats::{
    bootstrap_median_diff, cliffs_delta, mann_whitney, quantile_sorted, resampled_median, PMethod,
};

#[test]
fn mann_whitney_exact_textbook_values() {
    // Complete separation of 3 vs 3: one arrangement of C(6,3) = 20 on each side.
    let t = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
    assert_eq!((t.u, t.method), (0.0, PMethod::Exact));
    assert!((t.p_value - 2.0 / 20.0).abs() < 1e-12);
    // 5 vs 5: 2 / C(10,5) = 2 / 252.
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [6.0, 7.0, 8.0, 9.0, 10.0];
    let t = mann_whitney(&y, &x).unwrap();
    assert_eq!(t.u, 25.0);
    assert!((t.p_value - 2.0 / 252.0).abs() < 1e-12);
    // U = 1 of 3 vs 3: P(U <= 1) = 2/20, two-sided 0.2.
    let t = mann_whitney(&[1.0, 2.0, 5.0], &[3.0, 4.0, 6.0]).unwrap();
    assert_eq!(t.u, 2.0);
    // P(U <= 2) = (1 + 1 + 2) / 20 = 0.2, two-sided 0.4.
    assert!((t.p_value - 0.4).abs() < 1e-12);
    // Identical samples without ties between them cannot be told apart.
    let t = mann_whitney(&[1.0, 4.0], &[2.0, 3.0]).unwrap();
    assert!((t.p_value - 1.0).abs() < 1e-12);
}

#[test]
fn mann_whitney_normal_approximation_with_ties() {
    // x = 1 1 2 2 3, y = 2 3 3 4 4. Average ranks: 1s 1.5, 2s 4, 3s 7, 4s 9.5, so
    // R_x = 18 and U = 18 - 15 = 3. Ties 2,3,3,2: sum(t^3 - t) = 60.
    // var = 25/12 * (11 - 60/90) = 21.527777..., z = (|3 - 12.5| - 0.5) / sqrt(var).
    // p = erfc(z / sqrt 2) = 0.052412... (computed with Python's math.erfc).
    let t = mann_whitney(&[1.0, 1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0, 4.0]).unwrap();
    assert_eq!((t.u, t.method), (3.0, PMethod::Normal));
    assert!((t.p_value - 0.052_412).abs() < 2e-6, "p = {}", t.p_value);
    // Everything tied: no evidence at all.
    let t = mann_whitney(&[2.0, 2.0], &[2.0, 2.0, 2.0]).unwrap();
    assert_eq!(t.p_value, 1.0);
}

#[test]
fn cliffs_delta_counts_dominance() {
    let x = [5.0, 6.0, 7.0];
    let y = [1.0, 6.0];
    // Pairs: 5>1, 5<6, 6>1, 6=6, 7>1, 7>6 -> (4 - 1) / 6.
    let u = mann_whitney(&x, &y).unwrap().u;
    assert!((cliffs_delta(&x, &y, u) - 0.5).abs() < 1e-12);
    let u = mann_whitney(&y, &x).unwrap().u;
    assert!((cliffs_delta(&y, &x, u) + 0.5).abs() < 1e-12);
}

/// The distribution of the median of n draws with replacement, by enumerating all n^n draws.
fn exact_resample_medians(xs: &[f64]) -> Vec<(f64, f64)> {
    let n = xs.len();
    let total = n.pow(n as u32);
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    let mut idx = vec![0usize; n];
    for _ in 0..total {
        let mut v: Vec<f64> = idx.iter().map(|&i| xs[i]).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let m = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        *counts.entry((m * 1000.0) as i64).or_default() += 1;
        for d in idx.iter_mut() {
            *d += 1;
            if *d < n {
                break;
            }
            *d = 0;
        }
    }
    counts
        .into_iter()
        .map(|(k, c)| (k as f64 / 1000.0, c as f64 / total as f64))
        .collect()
}

fn sampled_distribution(xs: &[f64], draws: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng::new(42);
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for _ in 0..draws {
        *counts
            .entry((resampled_median(xs, &mut rng) * 1000.0) as i64)
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(k, c)| (k as f64 / 1000.0, c as f64 / draws as f64))
        .collect()
}

#[test]
fn resampled_median_has_the_bootstrap_distribution() {
    // n = 3: P(median = 1) = P(at least two draws are 1) = (3·2 + 1) / 27 = 7/27.
    let d = sampled_distribution(&[1.0, 2.0, 3.0], 200_000);
    let want = [(1.0, 7.0 / 27.0), (2.0, 13.0 / 27.0), (3.0, 7.0 / 27.0)];
    for ((v, p), (wv, wp)) in d.iter().zip(want) {
        assert_eq!(*v, wv);
        assert!((p - wp).abs() < 0.005, "P({v}) = {p}, want {wp}");
    }
    // Odd and even sizes against full enumeration of every resample.
    for xs in [
        vec![1.0, 2.0, 4.0, 8.0, 16.0],
        vec![3.0, 1.0, 4.0, 1.5, 5.0, 9.0],
    ] {
        let mut sorted = xs.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let exact = exact_resample_medians(&sorted);
        let got = sampled_distribution(&sorted, 300_000);
        for (v, p) in &exact {
            let q = got.iter().find(|(g, _)| g == v).map_or(0.0, |x| x.1);
            assert!(
                (p - q).abs() < 0.005,
                "n={}: P({v}) = {q}, want {p}",
                xs.len()
            );
        }
        assert!(got.iter().all(|(v, _)| exact.iter().any(|(e, _)| e == v)));
    }
}

#[test]
fn bootstrap_interval_known_cases() {
    // Constant samples: every resample differs by exactly 3.
    assert_eq!(
        bootstrap_median_diff(&[5.0; 3], &[2.0; 4], 1000, 1),
        Some((3.0, 3.0))
    );
    // Separated samples: the interval lies within the range of possible differences and
    // covers the observed one; it is the same for the same seed.
    let x = [10.0, 11.0, 12.0, 13.0, 14.0];
    let y = [0.0, 1.0, 2.0, 3.0, 4.0];
    let (lo, hi) = bootstrap_median_diff(&x, &y, 5000, 7).unwrap();
    assert!(
        (6.0..=10.0).contains(&lo) && (10.0..=14.0).contains(&hi),
        "{lo}..{hi}"
    );
    assert_eq!(bootstrap_median_diff(&x, &y, 5000, 7), Some((lo, hi)));
    assert_eq!(bootstrap_median_diff(&[], &y, 10, 7), None);
    // Percentiles interpolate like numpy.
    assert!((quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9).unwrap() - 4.6).abs() < 1e-12);
}
